"""CTC text recognition: aspect-preserving resize to height 48, width-sorted batches, decode."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from luodi.ocr.ctc import ctc_decode_best
from luodi.ocr.line_prep import LinePrep
from luodi.ocr.result import RecResult
from luodi.ocr.tensor import normalize_into, rec_bucket
from luodi.runtime.base import InferenceSession, run_best

REC_HEIGHT = 48
WIDTH_ALIGN = 8  # PP-OCR recognisers downsample width by 8: one timestep per 8 columns


def rec_width(crop_hw: tuple[int, int], height: int = REC_HEIGHT) -> int:
    """Width after scaling the crop to ``height`` with its aspect ratio kept (never squashed)."""
    h, w = crop_hw
    return max(WIDTH_ALIGN, math.ceil(height * w / max(h, 1)))


class Recognizer:
    def __init__(
        self,
        session: InferenceSession,
        characters: Sequence[str],
        *,
        mean: tuple[float, float, float] = (0.5, 0.5, 0.5),
        std: tuple[float, float, float] = (0.5, 0.5, 0.5),
        scale: float = 1.0 / 255.0,
        height: int = REC_HEIGHT,
        prep: LinePrep | None = None,
    ) -> None:
        self.session = session
        self.prep = prep  # the bundle's line preprocessing (luodi.ocr.line_prep); None: crops as given
        self.characters = tuple(characters)
        self.mean, self.std, self.scale = mean, std, scale
        self.height = height
        self._input = session.input_names[0]
        self._buckets = session.info.static_shapes

    def __call__(self, crops: Sequence[np.ndarray], batch_size: int = 1, min_width: int = 0) -> list[RecResult]:
        """Read each crop (RGB, upright). Results come back in the order of ``crops``."""
        if not crops:
            return []
        if self.prep is not None:
            crops = [self.prep(c) for c in crops]
        widths = [rec_width(c.shape[:2], self.height) for c in crops]
        # similar widths batch together, so little of each batch is padding
        order = sorted(range(len(crops)), key=widths.__getitem__)
        results: list[RecResult | None] = [None] * len(crops)
        for start in range(0, len(order), batch_size):
            members = order[start : start + batch_size]
            tensor_w = max(min_width, *(widths[i] for i in members))
            tensor_w = -(-tensor_w // WIDTH_ALIGN) * WIDTH_ALIGN
            if self._buckets:  # a backend that compiles per shape sees a few widths, not every one
                tensor_w = rec_bucket(tensor_w)
            # zeros are mid-grey after normalisation: PaddleOCR's padding value; a backend that
            # compiles per shape always gets full batches (a short last batch would be a new shape)
            rows = batch_size if self._buckets else len(members)
            batch = np.zeros((rows, 3, self.height, tensor_w), dtype=np.float32)
            for row, i in enumerate(members):
                resized = cv2.resize(crops[i], (widths[i], self.height), interpolation=cv2.INTER_LINEAR)
                normalize_into(batch[row, :, :, : widths[i]], resized, self.mean, self.std, self.scale)
            idx, conf, classes = run_best(self.session, {self._input: batch})
            idx, conf = idx[: len(members)], conf[: len(members)]
            fractions = [widths[i] / tensor_w for i in members]
            decoded = ctc_decode_best(idx, conf, classes, self.characters, fractions)
            for i, res in zip(members, decoded, strict=True):
                results[i] = res
        return [r for r in results if r is not None]
