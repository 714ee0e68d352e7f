"""A deterministic stand-in for a model, for fast unit tests of the pipeline around inference.

The fakes look at their input, so results differ between inputs (a thread mixing up two calls'
tensors gives a visibly wrong answer) yet are exactly reproducible:

* ``det``: probability = how dark the pixel is (text is dark on light paper), so dark rectangles
  drawn on a white page come back as boxes.
* ``cls``: "180" when the top half of the crop is darker than the bottom half.
* ``rec``: one timestep per 8 input columns (like PP-OCR's recognisers); the darkest pixel of a
  column band picks the class; light bands and mid-grey batch padding read as blank.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

import numpy as np

from luodi.runtime.base import Backend, RuntimeInfo, SessionBase

FakeFn = Callable[[np.ndarray], np.ndarray]


class FakeSession(SessionBase):
    def __init__(
        self, fn: FakeFn, *, input_name: str = "x", output_name: str = "out", static_shapes: bool = False
    ) -> None:
        self._fn = fn
        self._inputs = (input_name,)
        self._outputs = (output_name,)
        # static_shapes: pose as a backend that compiles per input shape, so callers pad to buckets
        self._info = RuntimeInfo(
            backend=Backend.ONNXRUNTIME, device="cpu", threads=1, providers=("fake",), static_shapes=static_shapes
        )
        self._lock = threading.Lock()
        self.calls = 0  # how many times run() was called; for tests that check batching
        self.shapes: list[tuple[int, ...]] = []

    def run(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        x = inputs[self._inputs[0]]
        with self._lock:
            self.calls += 1
            self.shapes.append(tuple(x.shape))
        return [self._fn(x)]

    # --- ready-made fakes for the three PP-OCR stages ---------------------------------------
    @classmethod
    def det(cls, *, static_shapes: bool = False) -> FakeSession:
        def fn(x: np.ndarray) -> np.ndarray:
            # inputs are normalised around 0; darker = more negative. Map to [0, 1] "text" probability.
            gray = x.mean(axis=1, keepdims=True)
            lo, hi = gray.min(), gray.max()
            prob = 1.0 - (gray - lo) / max(float(hi - lo), 1e-6)
            return np.asarray(prob, dtype=np.float32)

        return cls(fn, static_shapes=static_shapes)

    @classmethod
    def cls_(cls, *, static_shapes: bool = False) -> FakeSession:
        def fn(x: np.ndarray) -> np.ndarray:
            h = x.shape[2]
            top = x[:, :, : h // 2].mean(axis=(1, 2, 3))
            bottom = x[:, :, h // 2 :].mean(axis=(1, 2, 3))
            upside = (top < bottom - 0.05).astype(np.float32)
            return np.stack([1.0 - upside * 0.98 - 0.01, upside * 0.98 + 0.01], axis=1).astype(np.float32)

        return cls(fn, static_shapes=static_shapes)

    @classmethod
    def rec(cls, num_classes: int = 12, *, static_shapes: bool = False) -> FakeSession:
        def fn(x: np.ndarray) -> np.ndarray:
            n, _, _, w = x.shape
            steps = max(1, w // 8)
            # darkest pixel of each 8-column band, so white margins around a line do not hide it
            darkest = x[:, :, :, : steps * 8].mean(axis=1).min(axis=1).reshape(n, steps, 8).min(axis=2)
            darkness = np.clip((1.0 - darkest) / 2.0, 0.0, 1.0)  # normalised white ≈ +1 → 0, black ≈ -1 → 1
            idx = np.where(darkness > 0.55, 1 + (darkness * 13).astype(np.int64) % (num_classes - 1), 0)
            probs = np.full((n, steps, num_classes), 0.1 / (num_classes - 1), dtype=np.float32)
            np.put_along_axis(probs, idx[..., None], 0.9, axis=2)
            return np.asarray(probs, dtype=np.float32)

        return cls(fn, static_shapes=static_shapes)
