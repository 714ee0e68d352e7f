"""OpenVINO's static-shape mode: one compiled model per input shape, outputs owned by the caller."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from runtime_models import matmul_onnx

from luodi.runtime import openvino as ovrt

pytest.importorskip("openvino")
pytest.importorskip("onnx")


@pytest.fixture
def model(tmp_path: Path) -> tuple[Path, np.ndarray]:
    w = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    return matmul_onnx(tmp_path / "m.onnx", w), w


def test_one_compiled_model_per_shape_and_results_right(model: tuple[Path, np.ndarray]) -> None:
    path, w = model
    s = ovrt.OpenVinoSession(path, threads=1, precision="f32")
    assert s.info.static_shapes  # the batch dimension is dynamic in the file
    for n in (1, 3, 1, 2, 3):
        x = np.arange(4 * n, dtype=np.float32).reshape(n, 4)
        np.testing.assert_allclose(s.run({"x": x})[0], x @ w, rtol=1e-5, atol=1e-5)
    assert s.compiled_shapes == [((1, 4),), ((2, 4),), ((3, 4),)]  # LRU order: 3 used last


def test_outputs_are_not_overwritten_by_the_next_call(model: tuple[Path, np.ndarray]) -> None:
    s = ovrt.OpenVinoSession(model[0], threads=1, precision="f32")
    first = s.run({"x": np.ones((2, 4), dtype=np.float32)})[0]
    kept = first.copy()
    s.run({"x": np.full((2, 4), 7.0, dtype=np.float32)})
    np.testing.assert_array_equal(first, kept)


def test_cache_is_bounded(model: tuple[Path, np.ndarray], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ovrt, "MAX_COMPILED", 2)
    s = ovrt.OpenVinoSession(model[0], threads=1)
    for n in (1, 2, 3, 4):
        s.run({"x": np.zeros((n, 4), dtype=np.float32)})
    assert [shape[0][0] for shape in s.compiled_shapes] == [3, 4]


def test_dynamic_mode_compiles_nothing_more(model: tuple[Path, np.ndarray]) -> None:
    s = ovrt.OpenVinoSession(model[0], threads=1, static_shapes=False)
    assert not s.info.static_shapes
    s.run({"x": np.zeros((5, 4), dtype=np.float32)})
    assert s.compiled_shapes == []


def test_threads_meeting_new_shapes_get_right_answers(model: tuple[Path, np.ndarray]) -> None:
    path, w = model
    s = ovrt.OpenVinoSession(path, threads=1, precision="f32")
    xs = [np.random.default_rng(i).standard_normal((1 + i % 4, 4)).astype(np.float32) for i in range(32)]
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda x: s.run({"x": x})[0], xs))
    for x, y in zip(xs, outs, strict=True):
        np.testing.assert_allclose(y, x @ w, rtol=1e-4, atol=1e-4)
    assert len(s.compiled_shapes) == 4


def test_run_best_matches_the_full_output(model: tuple[Path, np.ndarray]) -> None:
    from luodi.runtime.base import run_best
    from luodi.runtime.fake import FakeSession

    s = ovrt.OpenVinoSession(model[0], threads=1, precision="f32")
    x = np.random.default_rng(3).standard_normal((5, 4)).astype(np.float32)
    full = s.run({"x": x})[0]
    idx, best, classes = run_best(s, {"x": x})
    assert classes == 3
    np.testing.assert_array_equal(idx, full.argmax(axis=-1))
    np.testing.assert_allclose(best, full.max(axis=-1), rtol=1e-6)
    # a session without its own run_best is run and reduced the same way
    fake = FakeSession(lambda a: a @ model[1])
    f_idx, f_best, f_classes = run_best(fake, {"x": x})
    np.testing.assert_array_equal(f_idx, (x @ model[1]).argmax(axis=-1))
    assert f_classes == 3 and f_best.shape == (5,)


def test_cache_dir_keeps_compiled_shapes_on_disk(model: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    from luodi.runtime.factory import create_session

    cache = tmp_path / "ov-cache"
    s = create_session(model[0], "openvino", threads=1, openvino_cache_dir=cache)
    s.run({"x": np.zeros((2, 4), dtype=np.float32)})
    assert any(cache.iterdir())  # OpenVINO wrote the compiled blob(s) there
