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
) -> InferenceSession:
    """Load one model with the chosen backend.

    A ``StageSpec`` names both an ONNX file (onnxruntime, openvino) and optionally a Paddle
    inference program; a bare path is used as given. Every backend failure surfaces as
    ``RuntimeBackendError``.
    """
    kind = parse_backend(backend)
    if isinstance(path_or_spec, StageSpec):
        path = path_or_spec.paddle_model if kind is Backend.PADDLE else path_or_spec.model
        if path is None:
            fmt = "Paddle inference" if kind is Backend.PADDLE else "ONNX"
            raise RuntimeBackendError(f"this model has no {fmt} file for the {kind.value} runtime")
    else:
        path = Path(path_or_spec)

    if kind is Backend.ONNXRUNTIME:
        from luodi.runtime.onnx import OnnxSession

        return OnnxSession(path, threads=threads, device=device)
    if kind is Backend.PADDLE:
        from luodi.runtime.paddle import PaddleSession

        return PaddleSession(path, threads=threads, device=device)
    from luodi.runtime.openvino import OpenVinoSession

    return OpenVinoSession(path, threads=threads, device=device)
