"""DB text detection: resize + normalise, run, then turn the probability map into quadrilaterals."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import pyclipper

from luodi.ocr.options import OCROptions
from luodi.ocr.tensor import det_bucket, normalize_into
from luodi.runtime.base import InferenceSession

# ImageNet statistics in BGR order: what PP-OCR's DB detectors were trained with.
DET_MEAN = (0.485, 0.456, 0.406)
DET_STD = (0.229, 0.224, 0.225)
MIN_SIZE = 3  # PaddleOCR's minimum box side in map pixels


def det_input_size(height: int, width: int, opts: OCROptions) -> tuple[int, int]:
    """Network input (h, w): multiples of 32, longer side <= limit ("max") or shorter >= limit ("min")."""
    longest, shortest = max(height, width), min(height, width)
    if opts.det_limit_type == "max":
        ratio = min(1.0, opts.det_limit_side / longest)
    else:
        ratio = max(1.0, opts.det_limit_side / shortest)
    ratio = min(ratio, opts.det_max_side / longest)
    h = max(32, round(height * ratio / 32) * 32)
    w = max(32, round(width * ratio / 32) * 32)
    return h, w


def det_preprocess(
    page: np.ndarray,
    opts: OCROptions,
    mean: tuple[float, float, float] = DET_MEAN,
    std: tuple[float, float, float] = DET_STD,
    scale: float = 1.0 / 255.0,
    *,
    bucket: bool = False,
) -> np.ndarray:
    """The page as a 1×3×h×w tensor. ``bucket`` pads h and w (bottom/right, zeros = the mean colour,
    where DB finds no text) up to a multiple of ``DET_SIDE_STEP`` for backends that compile per shape;
    the image itself is resized exactly as without it, so its map region is the same."""
    h, w = det_input_size(page.shape[0], page.shape[1], opts)
    resized = page if (h, w) == page.shape[:2] else cv2.resize(page, (w, h), interpolation=cv2.INTER_LINEAR)
    th, tw = (det_bucket(h), det_bucket(w)) if bucket else (h, w)
    tensor = np.zeros((1, 3, th, tw), dtype=np.float32) if bucket else np.empty((1, 3, h, w), dtype=np.float32)
    normalize_into(tensor[0, :, :h, :w], resized, mean, std, scale)
    return tensor


def order_quad(pts: np.ndarray) -> np.ndarray:
    """Four points → (top-left, top-right, bottom-right, bottom-left), the way PaddleOCR orders them."""
    # plain Python on four points: numpy's per-call overhead dominates at this size
    xs = sorted(pts.tolist(), key=lambda p: p[0])
    (tl, bl) = (xs[0], xs[1]) if xs[0][1] <= xs[1][1] else (xs[1], xs[0])
    (tr, br) = (xs[2], xs[3]) if xs[2][1] <= xs[3][1] else (xs[3], xs[2])
    return np.array([tl, tr, br, bl], dtype=np.float32)


def box_score_fast(prob: np.ndarray, quad: np.ndarray) -> float:
    """Mean probability inside the quad, computed over its bounding rectangle only."""
    h, w = prob.shape
    xmin = int(np.clip(np.floor(quad[:, 0].min()), 0, w - 1))
    xmax = int(np.clip(np.ceil(quad[:, 0].max()), 0, w - 1))
    ymin = int(np.clip(np.floor(quad[:, 1].min()), 0, h - 1))
    ymax = int(np.clip(np.ceil(quad[:, 1].max()), 0, h - 1))
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
    shifted = (quad - np.array([xmin, ymin], dtype=np.float32)).astype(np.int32)
    cv2.fillPoly(mask, [shifted], 1)
    return float(cv2.mean(prob[ymin : ymax + 1, xmin : xmax + 1], mask)[0])


def unclip(quad: np.ndarray, ratio: float) -> np.ndarray | None:
    """Grow a shrunk text kernel back to the full text region (DB's offset: area * r / perimeter)."""
    area = abs(cv2.contourArea(quad))
    length = cv2.arcLength(quad, True)
    if length <= 0:
        return None
    distance = area * ratio / length
    offset = pyclipper.PyclipperOffset()
    offset.AddPath([tuple(p) for p in quad.tolist()], pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    paths = offset.Execute(distance)
    if not paths:
        return None
    best = max(paths, key=lambda p: abs(cv2.contourArea(np.asarray(p, dtype=np.float32))))
    return np.asarray(best, dtype=np.float32)


def min_area_quad(points: np.ndarray) -> tuple[np.ndarray, float]:
    rect = cv2.minAreaRect(points)
    return order_quad(cv2.boxPoints(rect)), float(min(rect[1]))


@dataclass(frozen=True, slots=True)
class DetBox:
    quad: np.ndarray  # 4x2 float32 in page pixels, tl, tr, br, bl
    score: float


def db_postprocess(prob: np.ndarray, page_hw: tuple[int, int], opts: OCROptions) -> list[DetBox]:
    """Probability map (h×w, 0..1) → boxes in page coordinates, unsorted."""
    map_h, map_w = prob.shape
    page_h, page_w = page_hw
    bitmap = (prob > opts.det_thresh).astype(np.uint8)
    if opts.det_dilate:
        bitmap = np.asarray(cv2.dilate(bitmap, np.ones((2, 2), dtype=np.uint8)), dtype=np.uint8)
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    sx, sy = page_w / map_w, page_h / map_h
    boxes: list[DetBox] = []
    for contour in contours[: opts.det_max_candidates]:
        if len(contour) < 4:
            continue
        quad, side = min_area_quad(contour)
        if side < MIN_SIZE:
            continue
        score = box_score_fast(prob, quad)
        if score < opts.det_box_thresh:
            continue
        grown = unclip(quad, opts.det_unclip_ratio)
        if grown is None:
            continue
        quad, side = min_area_quad(grown)
        if side < MIN_SIZE + 2:
            continue
        quad[:, 0] = np.clip(np.round(quad[:, 0] * sx), 0, page_w)
        quad[:, 1] = np.clip(np.round(quad[:, 1] * sy), 0, page_h)
        quad = order_quad(quad)
        w = int(np.linalg.norm(quad[0] - quad[1]))
        h = int(np.linalg.norm(quad[0] - quad[3]))
        if w <= MIN_SIZE or h <= MIN_SIZE:
            continue
        boxes.append(DetBox(quad=quad, score=score))
    return boxes


class Detector:
    def __init__(
        self,
        session: InferenceSession,
        mean: tuple[float, float, float] = DET_MEAN,
        std: tuple[float, float, float] = DET_STD,
        scale: float = 1.0 / 255.0,
    ) -> None:
        self.session = session
        self.mean, self.std, self.scale = mean, std, scale
        self._input = session.input_names[0]
        self._buckets = session.info.static_shapes

    def __call__(self, page: np.ndarray, opts: OCROptions) -> list[DetBox]:
        tensor = det_preprocess(page, opts, self.mean, self.std, self.scale, bucket=self._buckets)
        out = self.session.run({self._input: tensor})[0]
        prob = out.reshape(out.shape[-2], out.shape[-1])
        if self._buckets:  # the map of the padding is cut off: boxes scale from the resized page
            h, w = det_input_size(page.shape[0], page.shape[1], opts)
            prob = prob[:h, :w]
        return db_postprocess(prob, page.shape[:2], opts)


def quad_size(quad: np.ndarray) -> tuple[float, float]:
    """(width, height) of a tl,tr,br,bl quad: the longer of each pair of opposite edges."""
    w = max(math.dist(quad[0], quad[1]), math.dist(quad[3], quad[2]))
    h = max(math.dist(quad[0], quad[3]), math.dist(quad[1], quad[2]))
    return w, h
