"""Red stamps (印章) over a page's text: found by colour and shape, their ink taken out before reading.

A receipt is stamped (电子回单专用章, 转讫, 业务受理专用章) in red ink over its printed text; the
detector and recogniser then lose characters under it (a payee's bank read 招商银行重庆渝 or not
at all). Printed text is black or dark blue: in the red channel it stays dark while the red ink is
nearly as light as the paper. So inside each stamp, and only there, a pixel whose red channel
stands above its green and blue (stamp ink, or ink's anti-aliased edge) is repainted with the
paper's colour scaled by its red channel: the ring, star and words go pale, a character printed
under them keeps its dark strokes, and every pixel outside the stamps is left as it was.

A stamp is a blob of saturated red (ring, star and words closed into one) about as wide as it is
tall and at least :data:`MIN_SIZE` of the page's shorter side: red printed text (a title line)
is long and thin, a red logo small; neither is touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_SIZE = 0.08  # a stamp's width and height, as a share of the page's shorter side, at least
MAX_SIZE = 0.7  # … and at most (a page printed on red paper is no stamp)
FIND_SIDE = 800  # stamps are found on the page shrunk to this longer side (they are large)


@dataclass(frozen=True, slots=True)
class Stamp:
    """Where a stamp lies on the page: its bounding box in page pixels."""

    x0: int
    y0: int
    x1: int
    y1: int


def _red_mask(rgb: np.ndarray) -> np.ndarray:
    """Red: hue within about 20° of red, saturation above grey's (a photographed stamp's ink is
    pale, saturation ~50 of 255), not dark. Wood and card backgrounds are orange (hue ≥ 25°)."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    return ((h <= 10) | (h >= 165)) & (s >= 35) & (v >= 60)


def find_stamps(page: np.ndarray) -> tuple[Stamp, ...]:
    """Stamps on an RGB page (H×W×3 uint8)."""
    height, width = page.shape[:2]
    scale = min(1.0, FIND_SIDE / max(height, width))
    small = cv2.resize(
        page, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
    )
    mask = _red_mask(small).astype(np.uint8)
    short = min(small.shape[:2])
    k = max(3, int(short * 0.02) | 1)  # closes the gaps between a stamp's ring, star and words
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    n, _, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    found = []
    for i in range(1, n):
        x, y, w, h, _area = (int(v) for v in stats[i])
        if not (MIN_SIZE * short <= min(w, h) and max(w, h) <= MAX_SIZE * max(small.shape[:2])):
            continue
        if not 0.5 <= w / h <= 2.0:  # a line of red print is long and thin
            continue
        ink = float(mask[y : y + h, x : x + w].mean())
        if not 0.03 <= ink <= 0.6:  # a ring with words, not a solid red block
            continue
        found.append(
            Stamp(
                int(x / scale),
                int(y / scale),
                min(width, int((x + w) / scale) + 1),
                min(height, int((y + h) / scale) + 1),
            )
        )
    return _outermost(found)


def _outermost(stamps: list[Stamp]) -> tuple[Stamp, ...]:
    """Drop the parts found inside a larger stamp (its star, its inner words)."""
    kept: list[Stamp] = []
    for st in sorted(stamps, key=lambda s: (s.x1 - s.x0) * (s.y1 - s.y0), reverse=True):
        area = (st.x1 - st.x0) * (st.y1 - st.y0)
        inside = any(
            max(0, min(st.x1, k.x1) - max(st.x0, k.x0)) * max(0, min(st.y1, k.y1) - max(st.y0, k.y0)) >= 0.8 * area
            for k in kept
        )
        if not inside:
            kept.append(st)
    return tuple(sorted(kept, key=lambda s: (s.y0, s.x0)))


def drop_stamp_ink(page: np.ndarray, stamps: tuple[Stamp, ...] | None = None) -> np.ndarray:
    """The page with the red ink of its stamps (``find_stamps`` when None) paled to paper; the
    same array when there is none. Pixels outside the stamps are never changed."""
    stamps = find_stamps(page) if stamps is None else stamps
    if not stamps:
        return page
    out = page.copy()
    height, width = page.shape[:2]
    for st in stamps:
        pad = max(2, (st.x1 - st.x0) // 20)
        x0, y0 = max(0, st.x0 - pad), max(0, st.y0 - pad)
        x1, y1 = min(width, st.x1 + pad), min(height, st.y1 + pad)
        region = out[y0:y1, x0:x1].astype(np.int16)
        r, g, b = region[..., 0], region[..., 1], region[..., 2]
        reddish = (r - np.maximum(g, b)) > 18
        if not reddish.any():
            continue
        plain = region[~reddish]
        paper = np.percentile(plain, 90, axis=0) if plain.size else np.array([255, 255, 255])
        shade = np.clip(r[reddish] / max(float(paper[0]), 1.0), 0.0, 1.0)
        # Stamp ink is most of the reddish pixels: its level becomes paper, darker ones (print
        # under the ink) keep their contrast against it.
        ink = float(np.clip(np.median(shade), 0.5, 1.0))
        shade = np.clip(shade / ink, 0.0, 1.0)
        region[reddish] = np.clip(shade[:, None] * paper[None, :], 0, 255).astype(np.int16)
        out[y0:y1, x0:x1] = region.astype(np.uint8)
    return out
