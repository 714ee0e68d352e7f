"""The locator network's input: shared by training and inference (and in the training fingerprint)."""

from __future__ import annotations

import numpy as np

__all__ = ["normalise"]


def normalise(images: np.ndarray) -> np.ndarray:
    """N×H×W×3 RGB 0..255 → N×3×H×W in -1..1 (what the locator was trained on)."""
    return np.ascontiguousarray((images.transpose(0, 3, 1, 2) / 127.5 - 1.0).astype(np.float32))
