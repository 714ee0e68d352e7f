"""0/180 line orientation classifier (PP-OCR's text_direction model)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from luodi.ocr.tensor import normalize_into
from luodi.runtime.base import InferenceSession

CLS_HEIGHT, CLS_WIDTH = 48, 192


class Classifier:
    def __init__(
        self,
        session: InferenceSession,
        *,
        mean: tuple[float, float, float] = (0.5, 0.5, 0.5),
        std: tuple[float, float, float] = (0.5, 0.5, 0.5),
        scale: float = 1.0 / 255.0,
        height: int = CLS_HEIGHT,
        width: int = CLS_WIDTH,
    ) -> None:
        self.session = session
        self.mean, self.std, self.scale = mean, std, scale
        self.height, self.width = height, width
        self._input = session.input_names[0]
        self._buckets = session.info.static_shapes

    def upside_down(self, crops: Sequence[np.ndarray], thresh: float, batch_size: int) -> list[bool]:
        """For each crop: is it confidently (>= thresh) upside down?"""
        flags = [False] * len(crops)
        for start in range(0, len(crops), batch_size):
            chunk = crops[start : start + batch_size]
            # the model sees a fixed 48×192 canvas, crops shorter than it are left-aligned on zeros
            # a backend that compiles per shape always sees full batches (the rest is padding)
            rows = batch_size if self._buckets else len(chunk)
            batch = np.zeros((rows, 3, self.height, self.width), dtype=np.float32)
            for i, crop in enumerate(chunk):
                h, w = crop.shape[:2]
                rw = min(self.width, max(1, math.ceil(self.height * w / max(h, 1))))
                resized = cv2.resize(crop, (rw, self.height), interpolation=cv2.INTER_LINEAR)
                normalize_into(batch[i, :, :, :rw], resized, self.mean, self.std, self.scale)
            probs = self.session.run({self._input: batch})[0]
            for i, p in enumerate(probs[: len(chunk)]):
                flags[start + i] = bool(p.argmax() == 1 and p[1] >= thresh)
        return flags
