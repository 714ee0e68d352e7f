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
