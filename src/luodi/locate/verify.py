"""Check a located region against the text the OCR detector finds in it: a label is a cluster of
text lines, and a region much larger than its clusters of lines is cut down to them.

The locator's model sees a 448-px thumbnail: a white label on a white bag or mailer differs from
the bag there only by its print, so the model often marks the bag with its label (or two labels on
one bag) as one region. Once the region is straightened, the detector's boxes (found at the
resolution the text needs) say where the print is. Boxes a few line heights apart are one label;
a group of fewer than three boxes is a line of bag print or tape, not a label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["TextGroups", "text_groups"]

GAP_LINES = 3.0  # boxes closer than this many line heights (either way) belong to one label
MIN_BOXES = 3  # a label has at least this many lines of text
CUT_BOXES = 6  # a region is cut only on this much print: a few boxes on a blurred label say little
MARGIN_LINES = 0.8  # a label's paper beyond its outermost text, in line heights
INK_CHROMA = 30  # a box whose darkest pixels differ in colour from its paper by more is not a label's print
FIT = 0.5  # a region whose label groups cover less than this share of it is cut down to them


@dataclass(frozen=True, slots=True, eq=False)
class TextGroups:
    """The labels' rectangles (4×2, the region's own pixels, margin included) and whether the
    region should be read as them rather than whole."""

    rects: tuple[np.ndarray, ...]
    cut: bool


def _join(boxes: np.ndarray, gap: float) -> list[int]:
    """Union-find over axis-aligned boxes (N×4: x0, y0, x1, y1) closer than ``gap``: each box's group."""
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    dx = np.maximum(0, np.maximum(boxes[:, None, 0] - boxes[None, :, 2], boxes[None, :, 0] - boxes[:, None, 2]))
    dy = np.maximum(0, np.maximum(boxes[:, None, 1] - boxes[None, :, 3], boxes[None, :, 1] - boxes[:, None, 3]))
    near = np.argwhere((dx <= gap) & (dy <= gap))
    for i, j in near:
        if i < j:
            parent[root(int(j))] = root(int(i))
    return [root(i) for i in range(len(boxes))]


def _black(image: np.ndarray, quads: np.ndarray) -> np.ndarray:
    """Which boxes are printed in black or grey: a thermal label's print is; a bag's or a carton's
    own print (a logo, "do not reuse") is often coloured."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    h, w = image.shape[:2]
    out = np.ones(len(quads), bool)
    for i, q in enumerate(quads):
        x0, y0 = np.clip(np.floor(q.min(0)).astype(int), 0, [w - 1, h - 1])
        x1, y1 = np.clip(np.ceil(q.max(0)).astype(int), [x0 + 1, y0 + 1], [w, h])
        crop = lab[y0:y1, x0:x1].reshape(-1, 3).astype(np.float32)
        order = np.argsort(crop[:, 0])
        dark, paper = crop[order[: max(1, len(order) // 6)]], crop[order[len(order) // 2 :]]
        # against the paper's own tint: a warm or cold light tints print and paper alike
        tint = np.abs(dark[:, 1:].mean(0) - paper[:, 1:].mean(0)).sum()
        out[i] = float(tint) < INK_CHROMA
    return out


def text_groups(quads: Sequence[np.ndarray], image: np.ndarray) -> TextGroups:
    """Group the text boxes ``quads`` (4×2, pixels of ``image``: a straightened region, its text
    level) into labels. ``cut`` when the region is not one label: its print spans under
    :data:`FIT` of it, or two labels or more lie apart in it."""
    h, w = image.shape[:2]
    if len(quads) < MIN_BOXES:
        return TextGroups((), False)
    pts = np.asarray(quads, np.float32).reshape(-1, 4, 2)
    pts = pts[_black(image, pts)]
    if len(pts) < CUT_BOXES:
        return TextGroups((), False)
    line = max(float(np.median([min(cv2.minAreaRect(q)[1]) for q in pts])), 1.0)
    boxes = np.concatenate([pts.min(1), pts.max(1)], axis=1)
    roots = _join(boxes, GAP_LINES * line)
    rects = []
    pad = MARGIN_LINES * line
    for r in sorted(set(roots)):
        members = boxes[[i for i, k in enumerate(roots) if k == r]]
        if len(members) < MIN_BOXES:
            continue
        x0, y0 = max(0.0, members[:, 0].min() - pad), max(0.0, members[:, 1].min() - pad)
        x1, y1 = min(float(w), members[:, 2].max() + pad), min(float(h), members[:, 3].max() + pad)
        rects.append(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32))
    # cut where all the print together spans a small part of the region (one group alone may be
    # a section of a label whose barcode the detector does not box), or where two labels or more
    # lie apart in it
    span = (min(w, boxes[:, 2].max() + pad) - max(0, boxes[:, 0].min() - pad)) * (
        min(h, boxes[:, 3].max() + pad) - max(0, boxes[:, 1].min() - pad)
    )
    covered = sum(float(cv2.contourArea(r)) for r in rects)
    apart = len(rects) >= 2 and covered < FIT * w * h
    return TextGroups(tuple(rects), bool(rects) and (float(span) < FIT * w * h or apart))
