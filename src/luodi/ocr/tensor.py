"""Image → model tensor, written straight into a preallocated batch to avoid copies.

Pages arrive RGB; PP-OCR models were trained on OpenCV's BGR, so channels are reversed here.
``mean``/``std`` are indexed in the model's channel order (BGR), as in PaddleOCR's configs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def normalize_into(
    out: np.ndarray,
    img_rgb: np.ndarray,
    mean: Sequence[float],
    std: Sequence[float],
    scale: float,
) -> None:
    """Write ``(img * scale - mean) / std`` as CHW BGR float32 into ``out`` (shape 3×h×w)."""
    for c in range(3):
        a = scale / std[c]
        b = mean[c] / std[c]
        plane = out[c]
        np.multiply(img_rgb[:, :, 2 - c], np.float32(a), out=plane, casting="unsafe")
        plane -= np.float32(b)


def pad_value(mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Zero in normalised space, i.e. what PaddleOCR pads batches with."""
    return np.zeros(3, dtype=np.float32)


#: Recognition widths a static-shape backend is fed (each one compiled once): steps of 1.2-1.33x,
#: so a crop is padded by at most a third (far less on average) and a page of lines needs about ten
#: shapes — more buckets would pad less but compile more (~1 s per INT8 shape on first use).
REC_WIDTH_BUCKETS: tuple[int, ...] = (64, 80, 96, 128, 160, 192, 240, 320, 400, 480, 640, 800, 960, 1280, 1600, 2048)
#: Detection sides are padded up to a multiple of this (PP-OCR's 960 limit is 10 steps of 96).
DET_SIDE_STEP = 96


def rec_bucket(width: int) -> int:
    """The smallest bucket >= ``width``; past the last bucket, the next multiple of 320."""
    for b in REC_WIDTH_BUCKETS:
        if b >= width:
            return b
    return -(-width // 320) * 320


def det_bucket(side: int) -> int:
    return -(-side // DET_SIDE_STEP) * DET_SIDE_STEP
