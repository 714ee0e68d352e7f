"""Paddle Inference backend for the ``.pdmodel``/``.pdiparams`` variants of a bundle.

Paddle predictors are not safe to run from several threads at once, so each thread gets its own
``predictor.clone()`` (clones share the loaded weights; only scratch tensors are per thread).
paddlepaddle 3.x reads old-style (non-PIR) programs only with ``FLAGS_enable_pir_api=0``, which
must be in the environment before paddle is first imported.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import RuntimeBackendError
from luodi.runtime.base import Backend, RuntimeInfo, SessionBase
from luodi.runtime.onnx import default_threads

_IMPORT_LOCK = threading.Lock()


def _import_inference() -> Any:
    with _IMPORT_LOCK:
        os.environ.setdefault("FLAGS_enable_pir_api", "0")
        try:
            with warnings.catch_warnings():
                # paddle warns at import about ccache and other build tooling we never use
                warnings.simplefilter("ignore")
                from paddle import inference
        except ImportError as exc:
            raise RuntimeBackendError("the paddle runtime needs paddlepaddle: pip install 'luodi[paddle]'") from exc
    return inference


def resolve_paddle_files(prefix: str | Path) -> tuple[Path, Path]:
    """``dir`` or ``dir/inference`` or ``dir/inference.pdmodel`` → (pdmodel, pdiparams)."""
    p = Path(prefix)
    if p.is_dir():
        p = p / "inference"
    if p.suffix in (".pdmodel", ".pdiparams", ".json"):
        p = p.with_suffix("")
    model, params = p.with_suffix(".pdmodel"), p.with_suffix(".pdiparams")
    if not model.is_file() or not params.is_file():
        raise RuntimeBackendError(f"Paddle inference files not found: {model} / {params}")
    return model, params


class PaddleSession(SessionBase):
    """A Paddle inference program run through ``paddle.inference``."""

    def __init__(self, prefix: str | Path, *, threads: int | None = None, device: str = "cpu") -> None:
        model, params = resolve_paddle_files(prefix)
        inference = _import_inference()
        want_threads = threads if threads is not None else default_threads()
        if want_threads < 1:
            raise RuntimeBackendError(f"threads must be >= 1, got {want_threads}")
        config = inference.Config(str(model), str(params))
        if device == "cpu":
            config.disable_gpu()
            config.set_cpu_math_library_num_threads(want_threads)
            config.enable_mkldnn()
            # every crop width is a new shape; oneDNN caches kernels per shape, so bound the cache
            # or memory grows with each unseen width
            config.set_mkldnn_cache_capacity(16)
        elif device.startswith(("cuda", "gpu")):
            device_id = int(device.partition(":")[2] or 0)
            config.enable_use_gpu(500, device_id)
        else:
            raise RuntimeBackendError(f"unknown device {device!r}: use 'cpu' or 'cuda[:N]'")
        config.switch_ir_optim(True)
        config.disable_glog_info()
        try:
            self._predictor = inference.create_predictor(config)
        except Exception as exc:
            raise RuntimeBackendError(f"paddle cannot load {model}: {exc}") from exc
        self._local = threading.local()
        self._local.predictor = self._predictor
        self._clone_lock = threading.Lock()
        self._inputs = tuple(self._predictor.get_input_names())
        self._outputs = tuple(self._predictor.get_output_names())
        gpu = bool(config.use_gpu())
        self._info = RuntimeInfo(
            backend=Backend.PADDLE,
            device=f"gpu:{config.gpu_device_id()}" if gpu else "cpu",
            threads=None if gpu else int(config.cpu_math_library_num_threads()),
            providers=("paddle-gpu",)
            if gpu
            else (("paddle-cpu", "mkldnn") if config.mkldnn_enabled() else ("paddle-cpu",)),
        )
        self.path = model

    def _thread_predictor(self) -> Any:
        predictor = getattr(self._local, "predictor", None)
        if predictor is None:
            with self._clone_lock:
                predictor = self._predictor.clone()
            self._local.predictor = predictor
        return predictor

    def run(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        predictor = self._thread_predictor()
        try:
            for name, value in inputs.items():
                handle = predictor.get_input_handle(name)
                handle.reshape(list(value.shape))
                handle.copy_from_cpu(np.ascontiguousarray(value))
            predictor.run()
            return [predictor.get_output_handle(name).copy_to_cpu() for name in self._outputs]
        except Exception as exc:
            shapes = {k: tuple(v.shape) for k, v in inputs.items()}
            raise RuntimeBackendError(f"paddle failed on {self.path.name} with inputs {shapes}: {exc}") from exc
