"""Choose and construct a backend: ``create_session(path_or_spec, backend, threads)``."""

from __future__ import annotations

from pathlib import Path

from luodi.errors import RuntimeBackendError
from luodi.runtime.base import Backend, InferenceSession
from luodi.zoo.spec import StageSpec


def parse_backend(backend: str | Backend | None) -> Backend:
    if backend is None:
        return Backend.ONNXRUNTIME
    if isinstance(backend, Backend):
        return backend
    try:
        return Backend(backend.strip().lower())
    except ValueError:
        names = ", ".join(b.value for b in Backend)
        raise RuntimeBackendError(f"unknown runtime {backend!r}; choose one of: {names}") from None


def create_session(
    path_or_spec: str | Path | StageSpec,
    backend: str | Backend | None = None,
    threads: int | None = None,
    *,
    device: str = "cpu",
    openvino_cache_dir: str | Path | None = None,
) -> InferenceSession:
    """Load one model with the chosen backend.

    A ``StageSpec`` names an ONNX file (onnxruntime, openvino), and optionally a Paddle inference
    program (paddle) and an OpenVINO IR ``.xml`` (openvino, which prefers it to the ONNX); a bare
    path is used as given. Every backend failure surfaces as ``RuntimeBackendError``.
    """
    kind = parse_backend(backend)
    if isinstance(path_or_spec, StageSpec):
        path = _stage_path(path_or_spec, kind)
    else:
        path = Path(path_or_spec)
        if kind is not Backend.OPENVINO and path.suffix.lower() == ".xml":
            raise RuntimeBackendError(_ir_only(path, kind))

    if kind is Backend.ONNXRUNTIME:
        from luodi.runtime.onnx import OnnxSession

        return OnnxSession(path, threads=threads, device=device)
    if kind is Backend.PADDLE:
        from luodi.runtime.paddle import PaddleSession

        return PaddleSession(path, threads=threads, device=device)
    from luodi.runtime.openvino import OpenVinoSession

    return OpenVinoSession(path, threads=threads, device=device, cache_dir=openvino_cache_dir)


def _stage_path(spec: StageSpec, kind: Backend) -> Path:
    if kind is Backend.OPENVINO:
        # the IR when there is one: it is what was made for openvino (e.g. an NNCF INT8 graph that
        # has no ONNX twin); else openvino reads the ONNX itself
        path = spec.openvino_model or spec.model
        if path is None:
            raise RuntimeBackendError("this model has no ONNX or OpenVINO IR file for the openvino runtime")
        return path
    path = spec.paddle_model if kind is Backend.PADDLE else spec.model
    if path is None:
        if spec.openvino_model is not None and spec.model is None:
            raise RuntimeBackendError(_ir_only(spec.openvino_model, kind))
        fmt = "Paddle inference" if kind is Backend.PADDLE else "ONNX"
        raise RuntimeBackendError(f"this model has no {fmt} file for the {kind.value} runtime")
    return path


def _ir_only(path: Path, kind: Backend) -> str:
    return (
        f"{path.name} is an OpenVINO IR (e.g. an INT8 model made by `luodi quantize`), which the {kind.value} "
        "runtime cannot load; run it with runtime openvino (--runtime openvino, LUODI_RUNTIME=openvino)"
    )
