"""Cut a detected quadrilateral out of the page as an upright, rectified line image."""

from __future__ import annotations

import math

import cv2
import numpy as np


def crop_quad(page: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Perspective-rectify ``quad`` (tl, tr, br, bl) into a w×h image; no rotation decided here."""
    width = max(1, int(max(math.dist(quad[0], quad[1]), math.dist(quad[3], quad[2]))))
    height = max(1, int(max(math.dist(quad[0], quad[3]), math.dist(quad[1], quad[2]))))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    # warpPerspective only computes the output pixels, so warping from the whole page is cheap
    return cv2.warpPerspective(page, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def is_tall(crop: np.ndarray, tall_ratio: float) -> bool:
    h, w = crop.shape[:2]
    return bool(h >= tall_ratio * w)


def rotate_tall(crop: np.ndarray) -> np.ndarray:
    """Turn a vertical line 90° counter-clockwise so its first (top) character comes first (left)."""
    return np.ascontiguousarray(np.rot90(crop))


def rotate_180(crop: np.ndarray) -> np.ndarray:
    return cv2.rotate(crop, cv2.ROTATE_180)


def reading_quad(quad: np.ndarray, tall: bool, flipped: bool) -> np.ndarray:
    """Reorder a page quad so it starts at the top-left corner *in reading direction*.

    A tall crop is read top to bottom, so its reading "top-left" is the page quad's top-right
    corner; a line the classifier turned 180° starts at the page quad's bottom-right.
    """
    shift = (1 if tall else 0) + (2 if flipped else 0)
    return np.roll(quad, -shift, axis=0) if shift else quad
