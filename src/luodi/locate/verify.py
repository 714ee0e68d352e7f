"""Check a located region against the text the OCR detector finds in it: a label is a cluster of
text lines, and a region much larger than its clusters of lines is cut down to them.

The locator's model sees a 448-px thumbnail: a white label on a white bag or mailer differs from
the bag there only by its print, so the model often marks the bag with its label (or two labels on
one bag) as one region. Once the region is straightened, the detector's boxes (found at the
resolution the text needs) say where the print is. Boxes a few line heights apart are one label;
so are groups whose extents overlap, or with print between them that the detector did not box (small
or faint lines, a barcode): read apart, such pieces were false labels and their label was missed. A
group of fewer than three boxes is a line of bag print or tape, not a label.
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
INK_DARK = 40  # print: this much darker (L of Lab, 0..255) than its surroundings
GAP_INK = 0.08  # the strip between two groups is printed (one label) with this share of print in it


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


def _rect(members: np.ndarray, pad: float, w: int, h: int) -> np.ndarray:
    """The rectangle (4×2) around boxes ``members`` (N×4), ``pad`` beyond them, inside ``w``×``h``."""
    x0, y0 = max(0.0, members[:, 0].min() - pad), max(0.0, members[:, 1].min() - pad)
    x1, y1 = min(float(w), members[:, 2].max() + pad), min(float(h), members[:, 3].max() + pad)
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def _ink(image: np.ndarray, line: float) -> np.ndarray:
    """Where ``image`` holds dark, grey print: pixels much darker than their surroundings within a
    few line heights, and not coloured (a thermal label's print; not a bag's slogan)."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    side = max(3, round(line)) | 1
    dark = cv2.morphologyEx(lab[..., 0], cv2.MORPH_BLACKHAT, np.ones((side, side), np.uint8)) > INK_DARK
    grey = np.abs(lab[..., 1].astype(np.int16) - 128) + np.abs(lab[..., 2].astype(np.int16) - 128) < INK_CHROMA
    return np.asarray(dark & grey)


def _unboxed(ink: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """``ink`` without the print the detector boxed: a third group's lines lying in the strip
    between two groups (a label between two lines of a mailer's slogan) are not print that joins
    those two (dev: the slogan was joined across the label into one "label" spanning the mailer)."""
    out = ink.copy()
    h, w = ink.shape[:2]
    for x0, y0, x1, y1 in np.round(boxes).astype(int):
        out[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)] = False
    return out


def _between(a: np.ndarray, b: np.ndarray, pad: float) -> tuple[int, int, int, int] | None:
    """The strip between two groups' extents (x0, y0, x1, y1) where one lies above or beside the
    other (their extents overlapping across the gap), else None."""
    ax0, ay0, ax1, ay1 = a[:, 0].min(), a[:, 1].min(), a[:, 2].max(), a[:, 3].max()
    bx0, by0, bx1, by1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    x0, x1, y0, y1 = max(ax0, bx0), min(ax1, bx1), max(ay0, by0), min(ay1, by1)
    if x1 - x0 > 2 * pad and y0 > y1:  # one above the other
        return int(x0), int(y1), int(x1), int(y0)
    if y1 - y0 > 2 * pad and x0 > x1:  # side by side
        return int(x1), int(y0), int(x0), int(y1)
    return None


def _one_label(a: np.ndarray, b: np.ndarray, pad: float, ink: np.ndarray | None) -> bool:
    """Whether two groups of boxes are pieces of one label: their padded extents overlap (a sparse
    corner, print touching it), or the strip between them is printed (lines too small or faint for
    the detector at this scale, a barcode: the label goes on) where a bag between two labels is not."""
    if min(a[:, 2].max(), b[:, 2].max()) + 2 * pad > max(a[:, 0].min(), b[:, 0].min()) and min(
        a[:, 3].max(), b[:, 3].max()
    ) + 2 * pad > max(a[:, 1].min(), b[:, 1].min()):
        return True
    strip = _between(a, b, pad)
    if ink is None or strip is None:
        return False
    x0, y0, x1, y1 = strip
    return bool(ink[y0:y1, x0:x1].mean() >= GAP_INK) if x1 > x0 and y1 > y0 else False


def _joined(groups: list[np.ndarray], pad: float, ink: np.ndarray | None) -> list[np.ndarray]:
    """Groups that are pieces of one label (:func:`_one_label`) joined, until none are. Read alone,
    such a piece was a false document and its label read short (dev frames)."""
    groups = list(groups)
    joined = True
    while joined:
        joined = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if _one_label(groups[i], groups[j], pad, ink):
                    groups[i] = np.concatenate([groups[i], groups[j]])
                    del groups[j]
                    joined = True
                    break
            if joined:
                break
    return groups


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
    pad = MARGIN_LINES * line
    groups = [boxes[[i for i, k in enumerate(roots) if k == r]] for r in sorted(set(roots))]
    ink = _unboxed(_ink(image, line), boxes) if len(groups) > 1 else None
    labels = [g for g in _joined(groups, pad, ink) if len(g) >= MIN_BOXES]
    rects = [_rect(g, pad, w, h) for g in labels]
    # cut where the labels' print together spans a small part of the region (together: one group
    # alone may be a section of a label whose barcode the detector does not box), or where two
    # labels or more lie apart in it. A line or two of a mailer's own print far from the label (a
    # slogan) does not stretch the span: counted in, the mailer was read whole as its label (dev)
    kept = np.concatenate(labels) if labels else boxes
    span = (min(w, kept[:, 2].max() + pad) - max(0, kept[:, 0].min() - pad)) * (
        min(h, kept[:, 3].max() + pad) - max(0, kept[:, 1].min() - pad)
    )
    covered = sum(float(cv2.contourArea(r)) for r in rects)
    apart = len(rects) >= 2 and covered < FIT * w * h
    return TextGroups(tuple(rects), bool(rects) and (float(span) < FIT * w * h or apart))
