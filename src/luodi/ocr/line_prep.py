"""Preprocessing of a text-line crop before recognition, carried by a model's bundle.

A recogniser fine-tuned on preprocessed lines must see the same preprocessing when deployed, so the
setting travels with the model: the rec stage's ``extra["line_prep"]`` in the bundle (written by
``luodi train rec`` export from the recipe's ``Preprocess`` section), read when the OCR engine
builds its :class:`~luodi.ocr.rec.Recognizer` and passed to it. A bundle without it reads crops
as they are.

* ``grey``: the crop in grey levels (three equal channels), as the dot-matrix measurements were made;
* ``dot_closing``: a grey-level opening (minimum, then maximum filter, elliptical kernel of
  ``dot_closing`` x the crop height, rounded), i.e. a closing of the dark ink: the separate dots of
  an impact printer merge into strokes, then the strokes shrink back. Implies ``grey``.

Measured in bench/results/finetune.md and finetune_fresh.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from luodi.errors import ModelError

EXTRA_KEY = "line_prep"
MAX_CLOSING = 0.2  # of the crop height: beyond it the kernel swallows whole strokes


@dataclass(frozen=True, slots=True)
class LinePrep:
    grey: bool = False
    dot_closing: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.dot_closing <= MAX_CLOSING:
            raise ModelError(f"line_prep.dot_closing must be within 0..{MAX_CLOSING}, got {self.dot_closing}")

    @property
    def active(self) -> bool:
        return self.grey or self.dot_closing > 0

    def __call__(self, crop: np.ndarray) -> np.ndarray:
        """The crop (RGB uint8, H x W x 3) as the recogniser should see it; same shape."""
        if not self.active:
            return crop
        grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        k = max(1, round(crop.shape[0] * self.dot_closing))
        if k > 1:
            grey = cv2.morphologyEx(grey, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        out: np.ndarray = cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
        return out

    def to_extra(self) -> dict[str, Any]:
        """The bundle's rec ``extra`` entries for this preprocessing (none when inactive)."""
        return {EXTRA_KEY: asdict(self)} if self.active else {}

    @classmethod
    def from_extra(cls, extra: Mapping[str, Any] | None) -> LinePrep | None:
        """The preprocessing a bundle's rec stage asks for, or None; a malformed entry is a ModelError."""
        raw = (extra or {}).get(EXTRA_KEY)
        if raw is None:
            return None
        if not isinstance(raw, Mapping) or set(raw) - {"grey", "dot_closing"}:
            raise ModelError(f"the bundle's rec extra {EXTRA_KEY!r} is not understood: {raw!r}")
        try:
            prep = cls(grey=bool(raw.get("grey", False)), dot_closing=float(raw.get("dot_closing", 0.0)))
        except (TypeError, ValueError) as exc:
            raise ModelError(f"the bundle's rec extra {EXTRA_KEY!r} is not understood: {raw!r}") from exc
        return prep if prep.active else None
