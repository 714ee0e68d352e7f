"""OpenVINO backend (optional: ``pip install 'luodi[openvino]'``), reading the same ONNX files.

Static shapes (the default): OpenVINO's CPU plugin runs a model compiled for one fixed input shape
much faster than the same model compiled with dynamic dimensions, above all for INT8 graphs
(measured on this CPU: INT8 det 31 ms static vs 66 ms dynamic at 960x704, INT8 rec 4.3 vs 8.9 ms
at 48x320; bench/results/quantize_notes.md). So each distinct input shape gets its own compiled
model, kept in a small LRU cache; the pipeline pads its tensors to a few bucket sizes when
``RuntimeInfo.static_shapes`` is set, so only a handful of shapes ever occur. Compiling costs
~0.15 s (FP32) to ~1 s (INT8) per shape on first use; ``cache_dir`` (OpenVINO's CACHE_DIR) keeps the
compiled blobs on disk so a restarted process loads them instead.

A compiled model is shared; infer requests are not thread-safe, so each thread gets its own.
OpenVINO picks bf16 on CPUs with avx512_bf16 or AMX unless told otherwise; the precision it
actually used is read back into ``RuntimeInfo`` so results are never attributed to the wrong
precision.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import RuntimeBackendError
from luodi.runtime.base import Backend, RuntimeInfo, SessionBase
from luodi.runtime.onnx import default_threads

#: compiled shapes kept per model; the pipeline's buckets need about 10 (rec) and 20 (det)
MAX_COMPILED = 32

Shape = tuple[tuple[int, ...], ...]


class OpenVinoSession(SessionBase):
    def __init__(
        self,
        path: str | Path,
        *,
        threads: int | None = None,
        device: str = "cpu",
        precision: str | None = None,
        static_shapes: bool = True,
        cache_dir: str | Path | None = None,
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
            if cache_dir is not None:
                core.set_property({"CACHE_DIR": str(cache_dir)})
            model = core.read_model(str(path))
            # compiled once as read (dynamic): checks the file loads and tells us what was granted
            compiled = core.compile_model(model, "CPU", config)
        except Exception as exc:
            raise RuntimeBackendError(f"openvino cannot load {path.name}: {exc}") from exc
        self._core, self._model, self._config = core, model, config
        self._dynamic = compiled
        self._inputs = tuple(next(iter(p.get_names())) for p in compiled.inputs)
        self._outputs = tuple(next(iter(p.get_names())) for p in compiled.outputs)
        granted_threads = int(compiled.get_property("INFERENCE_NUM_THREADS"))
        granted_precision = str(compiled.get_property("INFERENCE_PRECISION_HINT")).lower()
        self._static = static_shapes and any(p.get_partial_shape().is_dynamic for p in model.inputs)
        self._info = RuntimeInfo(
            backend=Backend.OPENVINO,
            device="cpu",
            threads=granted_threads or want_threads,
            providers=("openvino-cpu",),
            precision=granted_precision.replace("<type: '", "").replace("'>", ""),
            static_shapes=self._static,
        )
        self._compiled: OrderedDict[Shape, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._shape_locks: dict[Shape, threading.Lock] = {}
        self._local = threading.local()
        self.path = path

    @property
    def compiled_shapes(self) -> list[Shape]:
        """The input shapes compiled so far (most recently used last)."""
        with self._lock:
            return list(self._compiled)

    def _for_shape(self, shape: Shape) -> Any:
        if not self._static:
            return self._dynamic
        with self._lock:
            compiled = self._compiled.get(shape)
            if compiled is not None:
                self._compiled.move_to_end(shape)
                return compiled
            shape_lock = self._shape_locks.setdefault(shape, threading.Lock())
        # compiling takes up to a second: threads meeting the same new shape wait for one compile,
        # threads running shapes already compiled do not wait at all
        with shape_lock:
            with self._lock:
                compiled = self._compiled.get(shape)
            if compiled is not None:
                return compiled
            model = self._model.clone()
            model.reshape({name: list(dims) for name, dims in zip(self._inputs, shape, strict=True)})
            compiled = self._core.compile_model(model, "CPU", self._config)
            with self._lock:
                self._compiled[shape] = compiled
                self._shape_locks.pop(shape, None)
                if len(self._compiled) > MAX_COMPILED:
                    self._compiled.popitem(last=False)
            return compiled

    def run(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        # outputs are copied out of the request's buffers by infer itself (share_outputs=False), so
        # each call's arrays are the caller's to keep
        result, compiled = self._infer(inputs, share_outputs=False)
        return [np.asarray(result[out]) for out in compiled.outputs]

    def run_best(self, inputs: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, int]:
        """The first output's argmax and max over its last axis, read in place from the request's
        buffer (valid until this thread's next call, which is after we return): no fresh N×T×C
        array per call. See ``luodi.runtime.base.run_best``."""
        result, compiled = self._infer(inputs, share_outputs=True)
        out = result[compiled.outputs[0]]
        idx = out.argmax(axis=-1)
        return idx, np.take_along_axis(out, idx[..., None], axis=-1)[..., 0], int(out.shape[-1])

    def _infer(self, inputs: Mapping[str, np.ndarray], *, share_outputs: bool) -> tuple[Any, Any]:
        try:
            shape = tuple(tuple(inputs[name].shape) for name in self._inputs)
            compiled = self._for_shape(shape)
            requests: dict[int, Any] = getattr(self._local, "requests", None) or {}
            if not requests:
                self._local.requests = requests
            request = requests.get(id(compiled))
            if request is None or request[0] is not compiled:
                request = (compiled, compiled.create_infer_request())
                requests[id(compiled)] = request
                if len(requests) > 2 * MAX_COMPILED:  # requests of evicted models
                    live = {id(c) for c in self._compiled.values()} | {id(self._dynamic)}
                    for key in [k for k in requests if k not in live]:
                        del requests[key]
            # share_inputs: OpenVINO reads our arrays in place (the call is synchronous), no copy
            return request[1].infer(dict(inputs), share_inputs=True, share_outputs=share_outputs), compiled
        except Exception as exc:
            shapes = {k: tuple(v.shape) for k, v in inputs.items()}
            raise RuntimeBackendError(f"openvino failed on {self.path.name} with inputs {shapes}: {exc}") from exc
