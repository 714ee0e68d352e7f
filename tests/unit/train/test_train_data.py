from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from luodi.errors import InputNotFoundError, LabelFormatError
from luodi.eval.datasets import RecSample
from luodi.train.config import AugmentSpec, DataSpec
from luodi.train.data import (
    HEIGHT,
    augment,
    bucketed_batches,
    gather_samples,
    load_lines,
    make_batch,
    resize_line,
)


def line_png(path: Path, width: int = 120, height: int = 32) -> Path:
    img = np.full((height, width, 3), 255, np.uint8)
    cv2.putText(img, "AB12", (4, height - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)
    return path


def test_missing_label_file_is_named(tmp_path: Path) -> None:
    spec = DataSpec(labels=(tmp_path / "nope.txt",))
    with pytest.raises(InputNotFoundError, match=r"nope\.txt"):
        gather_samples(spec, tmp_path)


def test_malformed_label_line_names_file_and_line(tmp_path: Path) -> None:
    line_png(tmp_path / "a.png")
    labels = tmp_path / "labels.txt"
    labels.write_text("a.png\tAB12\nthis line has no tab\n", encoding="utf-8")
    with pytest.raises(LabelFormatError, match=r"labels.txt:2"):
        gather_samples(DataSpec(labels=(labels,)), tmp_path)


def test_undecodable_images_are_skipped_and_counted(tmp_path: Path) -> None:
    good = line_png(tmp_path / "good.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    missing = tmp_path / "missing.png"
    samples = [RecSample(good, "AB12", 1), RecSample(bad, "AB12", 2), RecSample(missing, "AB12", 3)]
    lines, report = load_lines(samples, max_width=320, known=None, drop_unknown=False)
    assert [ln.label for ln in lines] == ["AB12"]
    assert len(report.undecodable) == 2
    assert "2 images skipped" in report.summary()
    assert "bad.png (line 2)" in report.undecodable[0]


def test_unknown_characters_are_reported_and_dropped_when_asked(tmp_path: Path) -> None:
    img = line_png(tmp_path / "a.png")
    samples = [RecSample(img, "AB12"), RecSample(img, "AB䶮")]
    known = set("AB12")
    kept, report = load_lines(samples, max_width=320, known=known, drop_unknown=True)
    assert [ln.label for ln in kept] == ["AB12"]
    assert report.unknown_chars == {"䶮": 1}
    assert report.dropped_unknown == 1
    assert "䶮" in report.summary()
    kept_all, _ = load_lines(samples, max_width=320, known=known, drop_unknown=False)
    assert len(kept_all) == 2


def test_text_longer_than_timesteps_is_skipped(tmp_path: Path) -> None:
    img = line_png(tmp_path / "narrow.png", width=40, height=40)  # 48 px wide -> 6 timesteps
    lines, report = load_lines([RecSample(img, "ABCDEFGHIJ")], max_width=320, known=None, drop_unknown=False)
    assert lines == []
    assert len(report.too_long) == 1


def test_resize_keeps_aspect_and_caps_width() -> None:
    img = np.zeros((24, 100, 3), np.uint8)
    assert resize_line(img, 320).shape == (HEIGHT, 200, 3)
    assert resize_line(np.zeros((10, 1000, 3), np.uint8), 320).shape == (HEIGHT, 320, 3)


def test_make_batch_pads_to_the_widest_and_encodes_labels() -> None:
    imgs = [np.full((48, 50, 3), 255, np.uint8), np.zeros((48, 100, 3), np.uint8)]
    batch = make_batch(imgs, ["ab", "bab"], {"a": 1, "b": 2})
    assert batch.images.shape == (2, 3, 48, 104)  # aligned to 8
    assert batch.images[0, :, :, :50].max() == pytest.approx(1.0)
    assert batch.images[0, :, :, 50:].max() == 0.0  # padding is 0 = mid-grey after normalisation
    assert batch.images[1, :, :, :100].min() == pytest.approx(-1.0)
    assert batch.input_lengths.tolist() == [7, 13]
    assert batch.labels.tolist() == [[1, 2, 0], [2, 1, 2]]
    assert batch.label_lengths.tolist() == [2, 3]


def test_make_batch_feeds_the_model_what_the_ocr_pipeline_feeds_it() -> None:
    """Training, the teacher and in-loop eval see a line exactly as deployment does: BGR, (x/255-0.5)/0.5."""
    from luodi.ocr.rec import Recognizer

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)
    img[..., 0] = 230  # a red-ish line: the channel order shows
    img[..., 2] = 20
    seen: list[np.ndarray] = []

    class Session:  # records the tensor the pipeline's recogniser builds
        input_names = ("x",)
        info = type("Info", (), {"static_shapes": False})()

        def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
            seen.append(feeds["x"])
            return [np.zeros((1, 5, 3), np.float32)]

    Recognizer(Session(), ["<blank>", "a", " "])([img])  # type: ignore[arg-type]
    batch = make_batch([img], ["a"], None)
    np.testing.assert_allclose(batch.images, seen[0], atol=1e-6)
    assert batch.images[0, 0].mean() < -0.5 < 0.5 < batch.images[0, 2].mean()  # blue plane first


def test_bucketed_batches_cover_every_line_once_and_are_seeded(tmp_path: Path) -> None:
    from luodi.train.data import LineImage

    lines = [LineImage(np.zeros((48, 8 * (i % 13 + 1), 3), np.uint8), "x", str(i)) for i in range(37)]
    first = list(bucketed_batches(lines, 4, np.random.default_rng(3)))
    again = list(bucketed_batches(lines, 4, np.random.default_rng(3)))
    other = list(bucketed_batches(lines, 4, np.random.default_rng(4)))
    assert first == again
    assert first != other
    flat = sorted(i for b in first for i in b)
    assert flat == list(range(37))
    assert max(len(b) for b in first) == 4


def test_augment_keeps_shape_and_dtype_and_can_be_disabled() -> None:
    img = np.random.default_rng(0).integers(0, 255, (48, 160, 3), dtype=np.uint8)
    out = augment(img, AugmentSpec(prob=1.0), np.random.default_rng(1))
    assert out.shape == img.shape and out.dtype == np.uint8
    assert not np.array_equal(out, img)
    assert augment(img, AugmentSpec(enabled=False), np.random.default_rng(1)) is img


def test_synth_folders_change_with_spaces_only_for_generated_text(tmp_path: Path) -> None:
    from luodi.train.config import SynthSpec
    from luodi.train.data import synth_dir

    ner = tmp_path / "ner.txt"
    a, b = (SynthSpec(style="dotmatrix", n=4, text=ner, spaces=s) for s in (0.0, 0.15))
    assert synth_dir(a, tmp_path) == synth_dir(b, tmp_path)  # express-NER text has no generated spaces
    g0, g1 = (SynthSpec(style="dotmatrix", n=4, text_format="general", spaces=s) for s in (0.0, 0.15))
    assert synth_dir(g0, tmp_path) != synth_dir(g1, tmp_path)


def test_widened_training_printers_render_into_their_own_folders(tmp_path: Path) -> None:
    import hashlib
    import json

    from luodi.train.config import SynthSpec
    from luodi.train.data import synth_dir

    wide, basic = (SynthSpec(style="dotmatrix", n=4, text_format="general", family=f) for f in ("train", "train-basic"))
    assert synth_dir(wide, tmp_path) != synth_dir(basic, tmp_path)
    # the folder name the first training heads' lines had: never reused for the widened printers
    first = json.dumps(wide.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    assert hashlib.sha256(first.encode()).hexdigest()[:10] not in synth_dir(wide, tmp_path).name
    printed = SynthSpec(style="print", n=4, text_format="general", family="train")
    same = json.dumps(printed.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    assert hashlib.sha256(same.encode()).hexdigest()[:10] in synth_dir(printed, tmp_path).name


def test_the_recipes_line_preprocessing_reaches_every_loaded_line_and_the_export(tmp_path: Path) -> None:
    import json

    from luodi.ocr.line_prep import LinePrep
    from luodi.train.config import PreprocessSpec, parse_config
    from luodi.train.export import run_line_prep

    assert PreprocessSpec().line_prep() is None
    prep = PreprocessSpec(dot_closing=0.03).line_prep()
    assert prep == LinePrep(dot_closing=0.03)
    img = cv2.cvtColor(cv2.imread(str(line_png(tmp_path / "a.png"))), cv2.COLOR_BGR2RGB)
    img[:, :30] = (200, 30, 30)
    cv2.imwrite(str(tmp_path / "a.png"), img[..., ::-1])
    sample = RecSample(tmp_path / "a.png", "AB12")
    plain, _ = load_lines([sample], max_width=320, known=None, drop_unknown=False)
    grey, _ = load_lines([sample], max_width=320, known=None, drop_unknown=False, prep=prep)
    assert not np.array_equal(plain[0].image[..., 0], plain[0].image[..., 2])
    np.testing.assert_array_equal(grey[0].image, resize_line(prep(img), 320))

    run = tmp_path / "run"
    run.mkdir()
    assert run_line_prep(run) is None  # no config: a run from before the setting
    config = parse_config({"Preprocess": {"dot_closing": 0.03}, "Train": {"steps": 1, "labels": ["x.txt"]}})
    (run / "config.json").write_text(json.dumps(config.model_dump(mode="json")), encoding="utf-8")
    assert run_line_prep(run) == prep
