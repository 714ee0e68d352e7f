from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from runtime_models import matmul_onnx

from luodi.errors import RuntimeBackendError
from luodi.runtime import Backend, InferenceSession, create_session, parse_backend
from luodi.runtime.fake import FakeSession
from luodi.zoo.spec import StageSpec


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (None, Backend.ONNXRUNTIME),
        ("onnxruntime", Backend.ONNXRUNTIME),
        (" Paddle ", Backend.PADDLE),
        (Backend.OPENVINO, Backend.OPENVINO),
    ],
)
def test_parse_backend(name: str | Backend | None, expected: Backend) -> None:
    assert parse_backend(name) is expected


def test_unknown_backend_lists_choices() -> None:
    with pytest.raises(RuntimeBackendError, match="onnxruntime, paddle, openvino"):
        parse_backend("tensorflow")


def test_missing_onnx_file(tmp_path: Path) -> None:
    with pytest.raises(RuntimeBackendError, match="not found"):
        create_session(tmp_path / "nope.onnx")


def test_garbage_onnx_file_is_translated(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"this is not a protobuf")
    with pytest.raises(RuntimeBackendError, match=r"cannot load bad\.onnx") as info:
        create_session(bad, "onnxruntime", threads=1)
    assert info.value.__cause__ is not None  # the backend's own exception is kept as the cause


def test_zero_threads_refused(tmp_path: Path) -> None:
    bad = tmp_path / "m.onnx"
    bad.write_bytes(b"x")
    with pytest.raises(RuntimeBackendError, match="threads"):
        create_session(bad, threads=0)


def test_spec_without_paddle_variant() -> None:
    spec = StageSpec(model=Path("/x/det.onnx"))
    with pytest.raises(RuntimeBackendError, match="no Paddle inference file"):
        create_session(spec, "paddle")


def test_cuda_without_provider_is_a_clear_error(tmp_path: Path) -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    with pytest.raises(RuntimeBackendError, match="CUDA"):
        create_session(model, device="cuda")


def test_fake_sessions_have_stage_shapes() -> None:
    x = np.zeros((2, 3, 48, 96), dtype=np.float32)
    det, cls, rec = FakeSession.det(), FakeSession.cls_(), FakeSession.rec(num_classes=7)
    for session in (det, cls, rec):
        assert isinstance(session, InferenceSession)
    assert det.run({"x": x})[0].shape == (2, 1, 48, 96)
    assert cls.run({"x": x})[0].shape == (2, 2)
    probs = rec.run({"x": x})[0]
    assert probs.shape == (2, 12, 7)
    np.testing.assert_allclose(probs.sum(axis=2), 1.0, rtol=1e-5)
    assert rec.calls == 1 and rec.shapes == [(2, 3, 48, 96)]


def test_fake_rec_depends_on_input() -> None:
    rec = FakeSession.rec()
    light = np.ones((1, 3, 48, 64), dtype=np.float32)
    dark = -np.ones((1, 3, 48, 64), dtype=np.float32)
    assert (rec.run({"x": light})[0].argmax(axis=2) == 0).all()
    assert (rec.run({"x": dark})[0].argmax(axis=2) != 0).all()


# --- OpenVINO IR stages ------------------------------------------------------------------------------
@pytest.fixture
def onnx_and_ir(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """An ONNX and an OpenVINO IR of the same graph with different weights, so a run shows which loaded."""
    ov = pytest.importorskip("openvino")
    pytest.importorskip("onnx")
    rng = np.random.default_rng(0)
    w_onnx, w_ir = (rng.standard_normal((4, 3)).astype(np.float32) for _ in range(2))
    onnx_path = matmul_onnx(tmp_path / "fp32.onnx", w_onnx)
    src = matmul_onnx(tmp_path / "other.onnx", w_ir)
    xml = tmp_path / "int8.xml"
    ov.save_model(ov.convert_model(str(src)), str(xml), compress_to_fp16=False)
    return onnx_path, xml, w_onnx, w_ir


def test_openvino_prefers_the_ir(onnx_and_ir: tuple[Path, Path, np.ndarray, np.ndarray]) -> None:
    onnx_path, xml, w_onnx, w_ir = onnx_and_ir
    x = np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32)
    # openvino may compute in bf16 on CPUs that have it (~3e-3 off here); the two weight sets give
    # outputs about 1 apart, so a 2e-2 tolerance still tells them apart
    assert np.abs(x @ w_ir - x @ w_onnx).max() > 0.5
    both = StageSpec(model=onnx_path, openvino_model=xml)
    session = create_session(both, "openvino", threads=1)
    np.testing.assert_allclose(session.run({"x": x})[0], x @ w_ir, atol=2e-2)
    # without an IR, openvino reads the ONNX; onnxruntime always does
    onnx_only = StageSpec(model=onnx_path)
    np.testing.assert_allclose(create_session(onnx_only, "openvino", threads=1).run({"x": x})[0], x @ w_onnx, atol=2e-2)
    np.testing.assert_allclose(create_session(both, "onnxruntime", threads=1).run({"x": x})[0], x @ w_onnx, rtol=1e-5)


@pytest.mark.parametrize("backend", ["onnxruntime", "paddle"])
def test_ir_only_stage_needs_openvino(backend: str, tmp_path: Path) -> None:
    spec = StageSpec(model=None, openvino_model=tmp_path / "rec.xml")
    with pytest.raises(RuntimeBackendError, match=r"rec\.xml is an OpenVINO IR .*--runtime openvino"):
        create_session(spec, backend)
    # a bare .xml path too: onnxruntime would only say it cannot parse it
    with pytest.raises(RuntimeBackendError, match="--runtime openvino"):
        create_session(tmp_path / "rec.xml", backend)


def test_paddle_only_stage_has_nothing_for_openvino() -> None:
    spec = StageSpec(model=None, paddle_model=Path("/x/paddle/rec/inference"))
    with pytest.raises(RuntimeBackendError, match="no ONNX or OpenVINO IR file for the openvino runtime"):
        create_session(spec, "openvino")
