"""Geometry of reading a located document: perspective warp, text direction, turns by 90°/180°.

Pure functions over numpy arrays; the OCR pipeline composes them. Every step keeps a 3×3 matrix
from the straightened document's pixels back to the page's, so each line's box can be reported in
both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from luodi.ocr.det import quad_size


def expand_quad(quad: np.ndarray, margin: float) -> np.ndarray:
    """Push each corner away from the centre by ``margin`` of the quad's size (a located outline
    is a few pixels off; a margin keeps the text at the document's edge inside the warp)."""
    q = np.asarray(quad, np.float32)
    centre = q.mean(0)
    w, h = quad_size(q)
    out = []
    for p in q:
        d = p - centre
        n = float(np.hypot(*d)) or 1.0
        out.append(p + d / n * margin * math.hypot(w, h) / 2)
    return np.asarray(out, np.float32)


def warp_document(page: np.ndarray, quad: np.ndarray, max_side: int) -> tuple[np.ndarray, np.ndarray]:
    """The quad (tl, tr, br, bl) warped upright at its own resolution (longest side ≤ ``max_side``),
    and the 3×3 matrix from page pixels to the warped image's. Outside the page is white paper."""
    top, bottom = math.dist(quad[0], quad[1]), math.dist(quad[3], quad[2])
    left, right = math.dist(quad[0], quad[3]), math.dist(quad[1], quad[2])
    w, h = (top + bottom) / 2, (left + right) / 2
    k = min(1.0, max_side / max(w, h, 1.0))
    tw, th = max(8, round(w * k)), max(8, round(h * k))
    target = np.array([[0, 0], [tw, 0], [tw, th], [0, th]], np.float32)
    matrix = cv2.getPerspectiveTransform(np.asarray(quad, np.float32), target)
    flags = cv2.INTER_AREA if k < 0.7 else cv2.INTER_LINEAR
    if flags == cv2.INTER_AREA:  # warpPerspective has no area filter: pre-shrink the region
        return _warp_shrunk(page, quad, matrix, (tw, th), k)
    out = cv2.warpPerspective(
        page, matrix, (tw, th), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255)
    )
    return out, matrix.astype(np.float64)


def _warp_shrunk(
    page: np.ndarray, quad: np.ndarray, matrix: np.ndarray, size: tuple[int, int], k: float
) -> tuple[np.ndarray, np.ndarray]:
    h, w = page.shape[:2]
    x0, y0 = np.clip(np.floor(quad.min(0)).astype(int), 0, [w - 1, h - 1])
    x1, y1 = np.clip(np.ceil(quad.max(0)).astype(int) + 1, [x0 + 1, y0 + 1], [w, h])
    region = page[y0:y1, x0:x1]
    small = cv2.resize(
        region, (max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k))), interpolation=cv2.INTER_AREA
    )
    sx, sy = small.shape[1] / (x1 - x0), small.shape[0] / (y1 - y0)
    to_small = np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy], [0, 0, 1]], np.float64)
    m = matrix.astype(np.float64) @ np.linalg.inv(to_small)
    out = cv2.warpPerspective(
        small, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255)
    )
    return out, matrix.astype(np.float64)


@dataclass(frozen=True, slots=True)
class TextDirection:
    """What a document's detected boxes say: ``vertical`` (its lines run top to bottom as warped,
    so it lies on its side), ``skew`` (degrees the lines lean), ``height`` (median line height in
    the detector's input pixels), ``lines`` (how many boxes were long enough to count)."""

    vertical: bool
    skew: float
    height: float
    lines: int


_SKEW_BAND = 15.0  # degrees: boxes this far off the lines' common lean do not refine it


def text_direction(quads: Sequence[np.ndarray], min_elongation: float = 2.0) -> TextDirection:
    """Direction and size of text from detector boxes. Only boxes at least ``min_elongation``
    times longer than high count (single characters and barcodes say nothing about direction);
    each votes with its length."""
    angles: list[float] = []
    weights: list[float] = []
    heights: list[float] = []
    for quad in quads:
        q = np.asarray(quad, np.float64)
        e1, e2 = q[1] - q[0], q[3] - q[0]
        l1, l2 = float(np.hypot(*e1)), float(np.hypot(*e2))
        long_edge, length, short = (e1, l1, l2) if l1 >= l2 else (e2, l2, l1)
        if short <= 0 or length / short < min_elongation:
            continue
        angles.append(math.degrees(math.atan2(long_edge[1], long_edge[0])) % 180.0)
        weights.append(length)
        heights.append(short)
    if not angles:
        return TextDirection(False, 0.0, 0.0, 0)
    a = np.asarray(angles)
    w = np.asarray(weights)
    # the lines' common lean, whatever it is: the weighted circular mean of the angles taken modulo
    # 90 (on a text block rows and columns of print are the same grid); then the boxes within
    # _SKEW_BAND of it refine it (a barcode's or a stamp's box off the grid does not pull it). Measuring
    # the lean only within 30° of the nearest axis left a label turned 30-45° against its region
    # unlevelled: its text boxes were grouped and cut as if level (the fragments of bench/results/parcel_misses.md)
    quad4 = np.radians(4.0 * a)
    lean = math.degrees(math.atan2(float((w * np.sin(quad4)).sum()), float((w * np.cos(quad4)).sum()))) / 4.0
    off = (a - lean + 45.0) % 90.0 - 45.0
    keep = np.abs(off) < _SKEW_BAND
    lean += float(np.median(off[keep])) if keep.any() else 0.0
    # which of the grid's two axes the lines run along: near the lean (rows) or across it (on its side)
    across = np.abs((a - lean + 90.0) % 180.0 - 90.0) > 45.0
    vertical = float(w[across].sum() / w.sum()) > 0.5
    skew = (lean + 45.0) % 90.0 - 45.0  # the same lean from either axis: -45..45
    return TextDirection(vertical, skew, float(np.median(heights)), len(angles))


def turn_matrix(quarter_turns: int, width: int, height: int) -> np.ndarray:
    """3×3 matrix taking pixel coordinates of a ``width``×``height`` image to those of the image
    turned ``quarter_turns`` × 90° counter-clockwise (``np.rot90``)."""
    k = quarter_turns % 4
    if k == 0:
        return np.eye(3)
    if k == 1:  # (x, y) -> (y, W - x)
        return np.array([[0, 1, 0], [-1, 0, width], [0, 0, 1]], np.float64)
    if k == 2:  # (x, y) -> (W - x, H - y)
        return np.array([[-1, 0, width], [0, -1, height], [0, 0, 1]], np.float64)
    return np.array([[0, -1, height], [1, 0, 0], [0, 0, 1]], np.float64)  # (x, y) -> (H - y, x)


def rotation_matrix(angle: float, width: int, height: int) -> tuple[np.ndarray, tuple[int, int]]:
    """3×3 matrix turning an image by ``angle`` degrees (counter-clockwise, the canvas grown to fit)
    and the new size (w, h)."""
    m = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = math.ceil(height * sin + width * cos), math.ceil(height * cos + width * sin)
    m[0, 2] += nw / 2 - width / 2
    m[1, 2] += nh / 2 - height / 2
    return np.vstack([m, [0, 0, 1]]).astype(np.float64), (nw, nh)


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (N×2) through a 3×3 projective matrix."""
    pts = np.asarray(points, np.float64).reshape(-1, 1, 2)
    return np.asarray(cv2.perspectiveTransform(pts, np.asarray(matrix, np.float64))).reshape(-1, 2)


# --- bent documents ------------------------------------------------------------------------------------
def bend(polygon: np.ndarray, quad: np.ndarray) -> float:
    """How far the outline strays from the quad's sides, as a share of the quad's short side."""
    q = np.asarray(quad, np.float64)
    pts = np.asarray(polygon, np.float64).reshape(-1, 2)
    if len(pts) < 8:
        return 0.0
    dist = np.full(len(pts), np.inf)
    for i in range(4):
        a, b = q[i], q[(i + 1) % 4]
        ab = b - a
        t = np.clip(((pts - a) @ ab) / max(float(ab @ ab), 1e-9), 0, 1)
        dist = np.minimum(dist, np.hypot(*(pts - (a + t[:, None] * ab)).T))
    w, h = quad_size(q.astype(np.float32))
    return float(dist.max() / max(min(w, h), 1.0))


@dataclass(frozen=True, slots=True)
class Patch:
    """A Coons patch: the document's four outline sides (top and bottom left to right, left and
    right top to bottom, each resampled to the same number of points) spanning the unit square."""

    top: np.ndarray
    bottom: np.ndarray
    left: np.ndarray
    right: np.ndarray

    def at(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Page points at patch coordinates (u, v) in 0..1 (arrays of one shape) → shape + (2,)."""

        def along(chain: np.ndarray, t: np.ndarray) -> np.ndarray:
            s = np.clip(t, 0, 1) * (len(chain) - 1)
            i = np.minimum(s.astype(np.int64), len(chain) - 2)
            f = (s - i)[..., None]
            return np.asarray(chain[i] * (1 - f) + chain[i + 1] * f)

        u3, v3 = u[..., None], v[..., None]
        q0, q1, q2, q3 = self.top[0], self.top[-1], self.bottom[-1], self.bottom[0]
        ruled = (1 - v3) * along(self.top, u) + v3 * along(self.bottom, u)
        ruled = ruled + (1 - u3) * along(self.left, v) + u3 * along(self.right, v)
        corner = (1 - u3) * (1 - v3) * q0 + u3 * (1 - v3) * q1 + u3 * v3 * q2 + (1 - u3) * v3 * q3
        return np.asarray(ruled - corner)


def _resample(chain: np.ndarray, n: int) -> np.ndarray:
    seg = np.hypot(*np.diff(chain, axis=0).T)
    at = np.concatenate([[0.0], np.cumsum(seg)])
    if at[-1] <= 0:
        return np.repeat(chain[:1], n, axis=0)
    t = np.linspace(0, at[-1], n)
    return np.stack([np.interp(t, at, chain[:, 0]), np.interp(t, at, chain[:, 1])], 1)


def outline_patch(polygon: np.ndarray, quad: np.ndarray, margin: float, points: int = 64) -> Patch | None:
    """The patch of a bent outline: the polygon (grown by ``margin`` of the quad's size) cut into four
    sides at the points nearest the quad's corners; None when the outline does not go round the
    corners in the quad's order."""
    from shapely.geometry import Polygon

    q = np.asarray(quad, np.float64)
    w, h = quad_size(q.astype(np.float32))
    poly = Polygon(np.asarray(polygon, np.float64)).buffer(0)
    if poly.is_empty or poly.geom_type != "Polygon":
        return None
    grown = poly.buffer(margin * math.hypot(w, h) / 2, join_style="mitre")
    ring = np.asarray(grown.exterior.coords, np.float64)[:-1]
    if _signed_area(ring) < 0:  # clockwise on screen (y down), like the quad
        ring = ring[::-1]
    ring = _resample(np.vstack([ring, ring[:1]]), 4 * points * 4)[:-1]
    corners = expand_quad(q.astype(np.float32), margin)
    idx = [int(np.argmin(np.hypot(*(ring - c).T))) for c in corners]
    steps = [(idx[(i + 1) % 4] - idx[i]) % len(ring) for i in range(4)]
    if sum(steps) != len(ring) or min(steps) == 0:
        return None

    def chain(i: int) -> np.ndarray:
        k = np.arange(idx[i], idx[i] + steps[i] + 1) % len(ring)
        return _resample(ring[k], points)

    top, right, bottom_rev, left_rev = (chain(i) for i in range(4))
    return Patch(top, bottom_rev[::-1], left_rev[::-1], right)


def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return float(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)))


def warp_patch(page: np.ndarray, patch: Patch, size: tuple[int, int]) -> np.ndarray:
    """The patch sampled into a ``size`` (w, h) image; outside the page is white paper."""
    w, h = size
    v, u = np.mgrid[0:h, 0:w].astype(np.float64)
    pts = patch.at((u + 0.5) / w, (v + 0.5) / h).astype(np.float32)
    return np.asarray(
        cv2.remap(
            page,
            pts[..., 0],
            pts[..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(255, 255, 255),
        )
    )
