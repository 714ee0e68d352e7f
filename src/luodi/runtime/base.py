"""The runtime seam: every model runs through an ``InferenceSession``.

Backends are imported lazily (onnxruntime is the default; paddle and openvino are optional) and
chosen by the ``Backend`` enum. What a backend actually granted (providers, threads, precision) is
read back from it and exposed as ``RuntimeInfo`` rather than assumed from what we asked for.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


class Backend(enum.StrEnum):
    ONNXRUNTIME = "onnxruntime"
    PADDLE = "paddle"
    OPENVINO = "openvino"


@dataclass(frozen=True, slots=True)
class RuntimeInfo:
    backend: Backend
    device: str  # "cpu" or "gpu:0"
    threads: int | None  # intra-op threads actually in force, when the backend reports it
    providers: tuple[str, ...] = ()
    precision: str = "fp32"
    # the backend compiles one model per input shape (OpenVINO's fast path): callers should pad
    # their tensors to a few bucket sizes rather than feed every crop width as a new shape
    static_shapes: bool = False


@runtime_checkable
class InferenceSession(Protocol):
    """A loaded model. ``run`` must be safe to call from several threads at once."""

    @property
    def input_names(self) -> Sequence[str]: ...

    @property
    def output_names(self) -> Sequence[str]: ...

    @property
    def info(self) -> RuntimeInfo: ...

    def run(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]: ...


class SessionBase:
    """The read-only attributes every backend's session exposes; subclasses set them once in ``__init__``."""

    _inputs: tuple[str, ...]
    _outputs: tuple[str, ...]
    _info: RuntimeInfo

    @property
    def input_names(self) -> Sequence[str]:
        return self._inputs

    @property
    def output_names(self) -> Sequence[str]:
        return self._outputs

    @property
    def info(self) -> RuntimeInfo:
        return self._info


class SessionWrapper:
    """A session around another one, for observing calls (timing, recording inputs): it answers
    for the inner session's names, info and metadata; subclasses override ``run``. It offers no
    ``run_best``, so the recogniser's calls come through ``run`` where the wrapper sees them."""

    def __init__(self, inner: InferenceSession) -> None:
        self.inner = inner

    @property
    def input_names(self) -> Sequence[str]:
        return self.inner.input_names

    @property
    def output_names(self) -> Sequence[str]:
        return self.inner.output_names

    @property
    def info(self) -> RuntimeInfo:
        return self.inner.info

    @property
    def metadata(self) -> dict[str, str]:
        return dict(getattr(self.inner, "metadata", {}) or {})

    def run(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        return self.inner.run(inputs)


def run_best(session: InferenceSession, inputs: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, int]:
    """Run ``session`` and reduce its first output over the last axis: (argmax, max, classes).

    For a recogniser only the best class per timestep is used, while its N×T×C output (T×18,710
    floats per line for PP-OCRv6) costs a fresh allocation and copy per call. A backend that can
    reduce straight from its own output buffer offers ``run_best`` (OpenVINO: 0.7 ms of a 3.7 ms
    48×480 line measured); any other session is run and reduced here.
    """
    fast = getattr(session, "run_best", None)
    if fast is not None:
        best: tuple[np.ndarray, np.ndarray, int] = fast(inputs)
        return best
    out = session.run(inputs)[0]
    idx = out.argmax(axis=-1)
    return idx, np.take_along_axis(out, idx[..., None], axis=-1)[..., 0], int(out.shape[-1])
