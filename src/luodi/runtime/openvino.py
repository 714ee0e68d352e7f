"""OpenVINO backend (optional: ``pip install 'luodi[openvino]'``), reading the same ONNX files.

A compiled model is shared; infer requests are not thread-safe, so each thread gets its own.
OpenVINO picks bf16 on CPUs with AMX unless told otherwise; the precision it actually used is
read back into ``RuntimeInfo`` so results are never attributed to the wrong precision.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import RuntimeBackendError
from luodi.runtime.base import Backend, RuntimeInfo, SessionBase
from luodi.runtime.onnx import default_threads


class OpenVinoSession(SessionBase):
    def __init__(
        self, path: str | Path, *, threads: int | None = None, device: str = "cpu", precision: str | None = None
    ) -> None:
        try:
            import openvino as ov
        except ImportError as exc:
            raise RuntimeBackendError("the openvino runtime needs openvino: pip install 'luodi[openvino]'") from exc
        path = Path(path)
        if not path.is_file():
            raise RuntimeBackendError(f"model file not found: {path}")
        if device != "cpu":
            raise RuntimeBackendError(f"luodi's openvino backend supports device 'cpu' only, not {device!r}")
        want_threads = threads if threads is not None else default_threads()
        config: dict[str, Any] = {
            "INFERENCE_NUM_THREADS": want_threads,
            "PERFORMANCE_HINT": "LATENCY",
            "NUM_STREAMS": 1,
            # pinned threads cannot move off a core another process is using (shared hosts, containers)
            "ENABLE_CPU_PINNING": False,
        }
        if precision is not None:
            config["INFERENCE_PRECISION_HINT"] = precision
        try:
            core = ov.Core()
            self._compiled = core.compile_model(str(path), "CPU", config)
        except Exception as exc:
            raise RuntimeBackendError(f"openvino cannot load {path.name}: {exc}") from exc
        self._inputs = tuple(next(iter(p.get_names())) for p in self._compiled.inputs)
        self._outputs = tuple(next(iter(p.get_names())) for p in self._compiled.outputs)
        granted_threads = int(self._compiled.get_property("INFERENCE_NUM_THREADS"))
        granted_precision = str(self._compiled.get_property("INFERENCE_PRECISION_HINT")).lower()
        self._info = RuntimeInfo(
            backend=Backend.OPENVINO,
            device="cpu",
            threads=granted_threads or want_threads,
            providers=("openvino-cpu",),
            precision=granted_precision.replace("<type: '", "").replace("'>", ""),
        )
        self._local = threading.local()
        self.path = path

    def run(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._compiled.create_infer_request()
            self._local.request = request
        try:
            result = request.infer(dict(inputs))
            # the request owns its output buffers and reuses them on the next call: copy out
            return [np.array(result[out]) for out in self._compiled.outputs]
        except Exception as exc:
            shapes = {k: tuple(v.shape) for k, v in inputs.items()}
            raise RuntimeBackendError(f"openvino failed on {self.path.name} with inputs {shapes}: {exc}") from exc
