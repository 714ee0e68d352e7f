from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from luodi.errors import EmptyInputError, InputError, InputNotFoundError
from luodi.slim.calibrate import MIN_CALIB_PAGES, _Recorder, collect, list_calibration_files


class _Session:
    """Enough of an InferenceSession for the recorder: echoes a constant."""

    input_names = ("x",)
    output_names = ("y",)
    info = None

    def __init__(self) -> None:
        self.calls = 0

    def run(self, inputs):
        self.calls += 1
        return [np.zeros((inputs["x"].shape[0], 2), np.float32)]


class _FakeEngine:
    """Stands in for OCR: each page yields one det input and one rec crop per 40 px of height,
    with the width the page's aspect gives, through the wrapped sessions (like the real pipeline)."""

    def __init__(self, model, *, wrap_session):
        self.det = wrap_session("det", _Session())
        self.rec = wrap_session("rec", _Session())

    def run_pages(self, pages):
        for page in pages:
            h, w = page.shape[:2]
            self.det.run({"x": np.zeros((1, 3, 32, 32), np.float32)})
            n = max(1, h // 40)
            self.rec.run({"x": np.zeros((n, 3, 48, 8 * (1 + w // 64)), np.float32)})


def _pages(folder: Path, n: int, size=(200, 160)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", size, (255, 255, 255)).save(folder / f"p{i}.png")
    return folder


def test_recorder_splits_batches_into_single_samples():
    inner = _Session()
    rec = _Recorder(inner)
    rec.run({"x": np.arange(3 * 2, dtype=np.float32).reshape(3, 2)})
    assert inner.calls == 1
    assert [s["x"].shape for s in rec.store] == [(1, 2)] * 3
    assert rec.store[2]["x"].tolist() == [[4.0, 5.0]]


def test_collect_records_every_stage(tmp_path):
    folder = _pages(tmp_path / "calib", 5)
    cs = collect("any", folder, engine_factory=_FakeEngine, max_samples={"rec": 1000})
    assert cs.pages == 5
    assert cs.count("det") == 5
    assert cs.count("rec") == 5 * (160 // 40)
    assert all(s["x"].shape[0] == 1 for s in cs.samples["rec"])


def test_collect_caps_samples_with_a_seeded_subset(tmp_path):
    folder = _pages(tmp_path / "calib", 6)
    a = collect("any", folder, engine_factory=_FakeEngine, max_samples={"rec": 17}, seed=3)
    b = collect("any", folder, engine_factory=_FakeEngine, max_samples={"rec": 17}, seed=3)
    assert a.count("rec") == 17
    assert [s["x"].shape for s in a.samples["rec"]] == [s["x"].shape for s in b.samples["rec"]]


def test_too_few_pages_names_the_minimum(tmp_path):
    folder = _pages(tmp_path / "calib", MIN_CALIB_PAGES - 1)
    with pytest.raises(InputError, match=f"at least {MIN_CALIB_PAGES} readable pages"):
        collect("any", folder, engine_factory=_FakeEngine)


def test_unreadable_files_are_skipped_and_counted_against_the_minimum(tmp_path):
    folder = _pages(tmp_path / "calib", 2)
    for i in range(3):
        (folder / f"broken{i}.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(InputError, match="unreadable"):
        collect("any", folder, engine_factory=_FakeEngine)
    _pages(folder, 4)  # now enough good pages: the broken ones are listed, not fatal
    cs = collect("any", folder, engine_factory=_FakeEngine)
    assert cs.pages == 4 and len(cs.skipped) == 3


def test_too_few_text_lines(tmp_path):
    folder = _pages(tmp_path / "calib", 4, size=(64, 40))  # one crop per page
    with pytest.raises(InputError, match="text lines"):
        collect("any", folder, engine_factory=_FakeEngine)


def test_bad_folders(tmp_path):
    with pytest.raises(InputNotFoundError):
        list_calibration_files(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.md").write_text("no images here")
    with pytest.raises(EmptyInputError, match="no image"):
        list_calibration_files(tmp_path / "empty")
    (tmp_path / "file.png").write_bytes(b"x")
    with pytest.raises(InputError, match="folder"):
        list_calibration_files(tmp_path / "file.png")
