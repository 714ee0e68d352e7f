"""ONNX Runtime backend (the default).

One ``InferenceSession`` per model file. ORT's ``run`` is documented as thread-safe, so a single
session is shared by every caller. Intra-op threads default to the machine's cores; inter-op is 1
because our graphs are chains of convolutions with nothing to run in parallel, and a second pool
only competes with the first for the same cores. Pool threads sleep rather than spin when idle
(``spin=True`` restores ORT's default) so concurrent sessions do not starve each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import RuntimeBackendError
from luodi.runtime.base import Backend, RuntimeInfo, SessionBase

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


def default_threads() -> int:
    """Intra-op threads when none are asked for: every core this process may use."""
    from luodi.config import usable_cores

    return usable_cores()


def _providers(ort: Any, device: str) -> list[str | tuple[str, dict[str, str]]]:
    """ONNX Runtime's execution providers for ``device`` ("cpu", "cuda[:N]" or "gpu[:N]")."""
    if device == "cpu":
        return [CPU]
    if not device.startswith(("cuda", "gpu")):
        raise RuntimeBackendError(f"unknown device {device!r}: use 'cpu' or 'cuda[:N]'")
    if CUDA not in ort.get_available_providers():
        raise RuntimeBackendError(
            "CUDA was requested but this onnxruntime has no CUDAExecutionProvider "
            "(install onnxruntime-gpu with a matching CUDA)"
        )
    return [(CUDA, {"device_id": device.partition(":")[2] or "0"}), CPU]


class OnnxSession(SessionBase):
    """An ONNX model loaded into ONNX Runtime."""

    def __init__(
        self, path: str | Path, *, threads: int | None = None, device: str = "cpu", spin: bool = False
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise RuntimeBackendError("onnxruntime is not installed: pip install onnxruntime") from exc

        path = Path(path)
        if not path.is_file():
            raise RuntimeBackendError(f"model file not found: {path}")
        want_threads = threads if threads is not None else default_threads()
        if want_threads < 1:
            raise RuntimeBackendError(f"threads must be >= 1, got {want_threads}")

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = want_threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3  # ORT's own warnings (e.g. unused initializers) are noise to users
        # Idle pool threads spin by default, burning a core while they wait. On a machine that
        # runs anything else (other requests' sessions, other processes, a CPU-quota container)
        # that steals the very cores the busy threads need: measured under load on 2 cores, two
        # spinning threads took 9.1 s where two sleeping ones took 4.7 s (bench/results).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")

        providers = _providers(ort, device)
        try:
            self._session = ort.InferenceSession(str(path), sess_options=opts, providers=providers)
        except Exception as exc:  # ORT raises its own Fail/InvalidGraph/... types
            raise RuntimeBackendError(f"onnxruntime cannot load {path.name}: {exc}") from exc

        granted = tuple(self._session.get_providers())
        if device != "cpu" and CUDA not in granted:
            raise RuntimeBackendError(f"CUDA provider was not granted for {path.name} (got {granted})")
        # ORT does not report the pool it created; the session options it echoes back are what it used.
        got = self._session.get_session_options().intra_op_num_threads
        self._info = RuntimeInfo(
            backend=Backend.ONNXRUNTIME,
            device="cpu" if CUDA not in granted else f"gpu:{device.partition(':')[2] or '0'}",
            threads=int(got) if got > 0 else want_threads,
            providers=granted,
            precision=_precision_of(self._session),
        )
        self._inputs = tuple(i.name for i in self._session.get_inputs())
        self._outputs = tuple(o.name for o in self._session.get_outputs())
        self.path = path
        self.metadata: dict[str, str] = dict(self._session.get_modelmeta().custom_metadata_map)

    def run(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        try:
            outputs = self._session.run(None, dict(inputs))
        except Exception as exc:
            shapes = {k: tuple(v.shape) for k, v in inputs.items()}
            raise RuntimeBackendError(f"onnxruntime failed on {self.path.name} with inputs {shapes}: {exc}") from exc
        return [np.asarray(o) for o in outputs]


def _precision_of(session: object) -> str:
    """fp32 unless the graph's first input is half precision or it holds quantize nodes."""
    try:
        first = session.get_inputs()[0].type  # type: ignore[attr-defined]
    except Exception:  # pragma: no cover - defensive
        return "fp32"
    return "fp16" if "float16" in str(first) else "fp32"
