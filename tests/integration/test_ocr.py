"""Real models on real images with known text (tests/data/doc_samples, Apache-2.0)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest

from luodi import OCR, OCROptions
from luodi.io import load_pages

pytestmark = pytest.mark.integration

WORDS = {
    "word_1.jpg": "韩国小馆",
    "word_2.jpg": "汉阳鹦鹉家居建材市场E区25-26号",
    "word_3.jpg": "电话：15952301928",
    "word_4.jpg": "实力活力",
    "word_5.jpg": "西湾监管",
}
NO_DET = OCROptions(use_det=False)


@pytest.fixture(scope="module")
def engine(require_bundle: Callable[[str], object]) -> OCR:
    require_bundle("pp-ocrv6-small")
    return OCR(model="pp-ocrv6-small")


@pytest.fixture(scope="module")
def words(doc_samples: Path) -> Path:
    return doc_samples / "paddleocr" / "imgs_words" / "ch"


def test_recognition_only(engine: OCR, doc_samples: Path, words: Path) -> None:
    assert engine(doc_samples / "rapidocr" / "text_rec.jpg", NO_DET).text == "韩国小馆"
    for name, text in WORDS.items():
        doc = engine(words / name, NO_DET)
        assert doc.text == text, name
        (line,) = doc.lines
        assert line.score > 0.9
        assert len(line.char_scores) == len(line.char_positions) == len(text)
        assert list(line.char_positions) == sorted(line.char_positions)


@pytest.mark.parametrize(
    "name", ["img_exif_orientation.jpg", "black_font_color_transparent.png", "white_font_color_transparent.png"]
)
def test_detection_through_exif_and_transparency(engine: OCR, doc_samples: Path, name: str) -> None:
    doc = engine(doc_samples / "rapidocr" / name)
    assert doc.text == "我是中国人"


def test_upside_down_needs_the_classifier(engine: OCR, doc_samples: Path) -> None:
    path = doc_samples / "rapidocr" / "text_cls.jpg"
    doc = engine(path)
    assert doc.text == "怪我咯"
    assert doc.lines[0].angle == 180
    without = engine(path, OCROptions(use_cls=False))
    assert without.text != "怪我咯"


def test_first_lines_of_a_product_page(engine: OCR, doc_samples: Path) -> None:
    doc = engine(doc_samples / "rapidocr" / "ch_en_num.jpg")
    assert [line.text for line in doc.lines[:3]] == ["正品促销", "大桶装更划算", "强力去污符合国标"]
    assert doc.timings.total >= doc.timings.det + doc.timings.rec > 0
    assert doc.source is not None and doc.source.endswith("ch_en_num.jpg")


def test_vertical_columns(engine: OCR, shared_doc_samples: Path) -> None:
    doc = engine(shared_doc_samples / "rapidocr" / "text_vertical_words.png")  # 1.1 MB: shared data only
    # classical vertical text: columns read right to left
    assert [line.text for line in doc.lines] == ["有評是是非非之士師也", "是非不得問之人要取之", "已取之時不參一人見而"]


def test_text_turned_90_degrees_is_read(engine: OCR, words: Path) -> None:
    (line_img,) = load_pages(words / "word_2.jpg")
    page = np.full((600, 200, 3), 255, dtype=np.uint8)
    turned = cv2.rotate(line_img, cv2.ROTATE_90_CLOCKWISE)  # now reads top to bottom
    page[100 : 100 + turned.shape[0], 80 : 80 + turned.shape[1]] = turned
    assert engine.run_pages([page]).text == WORDS["word_2.jpg"]


def test_long_lines_are_not_squashed(engine: OCR, words: Path) -> None:
    (line_img,) = load_pages(words / "word_2.jpg")
    # ≈ 3900×25 px, 216 characters: read at its real width (≈ 7400 px at height 48), never squashed
    repeated = np.ascontiguousarray(np.hstack([line_img] * 12))
    (res,) = engine.recognize([repeated])
    assert res.text == WORDS["word_2.jpg"] * 12
    assert res.char_positions[0] < 0.01 and res.char_positions[-1] > 0.99


def test_inputs_as_bytes_arrays_and_pil(engine: OCR, words: Path) -> None:
    from PIL import Image

    path = words / "word_1.jpg"
    array = load_pages(path)[0]
    assert engine(path.read_bytes(), NO_DET, name="w1").source == "w1"
    for source in (path.read_bytes(), array, Image.open(path)):
        assert engine(source, NO_DET).text == "韩国小馆"


def test_eight_threads_match_sequential(engine: OCR, doc_samples: Path, words: Path) -> None:
    jobs = [
        (doc_samples / "rapidocr" / "ch_en_num.jpg", OCROptions()),
        (doc_samples / "rapidocr" / "text_cls.jpg", OCROptions()),
        (doc_samples / "rapidocr" / "img_exif_orientation.jpg", OCROptions(use_cls=False)),
        *[(words / name, NO_DET) for name in WORDS],
    ]

    def run(job: tuple[Path, OCROptions]) -> object:
        return dataclasses.replace(engine(job[0], job[1]), timings=None)

    expected = [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(run, jobs * 2))
    assert got == expected * 2


@pytest.mark.parametrize("bundle", ["pp-ocrv4", "pp-ocrv5", "pp-ocrv6-small"])
def test_every_bundle_reads_a_word(require_bundle: Callable[[str], object], words: Path, bundle: str) -> None:
    require_bundle(bundle)
    engine = OCR(model=bundle, threads=1)
    assert engine.model_name == bundle
    assert engine(words / "word_1.jpg", NO_DET).text == "韩国小馆"
    assert engine.runtime_info["rec"].threads == 1  # what onnxruntime granted, read back


def test_paddle_runtime_reads_a_word(require_bundle: Callable[[str], object], words: Path) -> None:
    pytest.importorskip("paddle")
    require_bundle("pp-ocrv4")
    engine = OCR(model="pp-ocrv4", runtime="paddle", threads=2)
    info = engine.runtime_info["rec"]
    assert info.backend.value == "paddle" and info.threads == 2
    assert engine(words / "word_3.jpg", NO_DET).text == WORDS["word_3.jpg"]
    # paddle predictors are per thread (clones): concurrent calls must not mix up their tensors
    names = list(WORDS) * 2
    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = list(pool.map(lambda n: engine(words / n, NO_DET).text, names))
    assert texts == [WORDS[n] for n in names]


def test_openvino_runtime_reads_a_word(require_bundle: Callable[[str], object], words: Path) -> None:
    pytest.importorskip("openvino")
    require_bundle("pp-ocrv6-small")
    engine = OCR(model="pp-ocrv6-small", runtime="openvino", threads=2)
    info = engine.runtime_info["rec"]
    assert info.backend.value == "openvino" and info.threads == 2
    assert info.precision in ("float32", "bfloat16", "float16")  # read back, not assumed
    assert engine(words / "word_2.jpg", NO_DET).text == WORDS["word_2.jpg"]
