"""Geometry of reading a located document: warps, quarter turns and text direction agree with the pixels."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from luodi.ocr.straighten import apply, expand_quad, rotation_matrix, text_direction, turn_matrix, warp_document


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_turn_matrix_follows_np_rot90(k: int) -> None:
    img = np.zeros((30, 50), np.uint8)
    img[7, 11] = 255
    turned = np.rot90(img, k)
    (x, y) = apply(turn_matrix(k, 50, 30), np.array([[11.5, 7.5]]))[0]
    assert turned[int(y), int(x)] == 255


def test_rotation_matrix_keeps_the_whole_image() -> None:
    m, (w, h) = rotation_matrix(30.0, 200, 100)
    corners = apply(m, np.array([[0, 0], [200, 0], [200, 100], [0, 100]]))
    assert corners.min() >= -1e-6 and corners[:, 0].max() <= w + 1e-6 and corners[:, 1].max() <= h + 1e-6


@pytest.mark.parametrize("shrink", [False, True])
def test_warp_document_maps_the_quad_to_the_rectangle(shrink: bool) -> None:
    page = np.full((400, 600, 3), 30, np.uint8)
    quad = np.array([[200, 60], [520, 140], [450, 360], [130, 280]], np.float32)
    cv2.fillPoly(page, [quad.astype(np.int32)], (240, 240, 240))
    mark = apply(np.eye(3), quad[:1])[0] * 0.8 + quad.mean(0) * 0.2  # near the first corner, inside
    cv2.circle(page, tuple(int(v) for v in mark), 6, (0, 0, 255), -1)
    image, matrix = warp_document(page, quad, max_side=120 if shrink else 2000)
    h, w = image.shape[:2]
    assert max(h, w) <= (120 if shrink else 400)
    assert np.allclose(apply(matrix, quad), [[0, 0], [w, 0], [w, h], [0, h]], atol=1e-3)
    x, y = apply(matrix, mark[None])[0]
    assert image[int(y), int(x), 2] > 150 and image[int(y), int(x), 0] < 120  # the mark is where the matrix says
    assert image[h // 2, w // 2].min() > 200  # paper inside


def test_warp_outside_the_page_is_white_paper() -> None:
    page = np.zeros((100, 100, 3), np.uint8)
    image, _ = warp_document(page, np.array([[50, 0], [150, 0], [150, 100], [50, 100]], np.float32), 500)
    assert image[:, -10:].min() == 255 and image[:, :10].max() == 0


def test_expand_quad_grows_about_the_centre() -> None:
    quad = np.array([[0, 0], [100, 0], [100, 50], [0, 50]], np.float32)
    grown = expand_quad(quad, 0.1)
    assert np.allclose(grown.mean(0), quad.mean(0)) and (grown[0] < quad[0]).all() and (grown[2] > quad[2]).all()


def _box(cx: float, cy: float, length: float, height: float, angle: float) -> np.ndarray:
    pts = cv2.boxPoints(((cx, cy), (length, height), angle))
    return np.asarray(pts, np.float32)


def test_text_direction_from_boxes() -> None:
    rows = [_box(200, 40 + 30 * i, 160, 20, 3.0) for i in range(6)] + [_box(50, 50, 20, 20, 0)]
    d = text_direction(rows)
    assert not d.vertical and d.lines == 6 and d.height == pytest.approx(20, abs=0.5)
    assert d.skew == pytest.approx(3.0, abs=0.5)
    cols = [_box(40 + 30 * i, 200, 20, 160, -2.0) for i in range(5)]
    assert text_direction(cols).vertical
    assert text_direction([]) == text_direction([_box(10, 10, 12, 10, 0)])  # nothing elongated: no opinion
    assert math.isclose(text_direction([]).height, 0.0)


@pytest.mark.parametrize(
    ("angle", "vertical", "skew"), [(38.0, False, 38.0), (-42.0, False, -42.0), (52.0, True, -38.0)]
)
def test_text_turned_up_to_45_degrees_is_levelled(angle: float, vertical: bool, skew: float) -> None:
    # a label turned 30-45° against the region it was found in: its lines lean that far, and a stray
    # box across them (a barcode's digits, a stamp) does not pull the estimate
    rows = [_box(200, 40 + 30 * i, 160, 20, angle) for i in range(6)] + [_box(300, 300, 120, 20, angle + 60)]
    d = text_direction(rows)
    assert d.vertical == vertical
    assert d.skew == pytest.approx(skew, abs=0.5)


def test_a_bent_outline_is_flattened_by_its_patch() -> None:
    from luodi.ocr.straighten import bend, outline_patch, warp_patch

    # a label sagging in the middle: its top and bottom edges are parabolas
    w, h, sag = 400, 240, 30.0
    xs = np.linspace(0, w, 41)
    top = np.stack([100 + xs, 100 + sag * (1 - ((xs / w) * 2 - 1) ** 2)], 1)
    bottom = np.stack([100 + xs[::-1], 100 + h + sag * (1 - ((xs[::-1] / w) * 2 - 1) ** 2)], 1)
    polygon = np.vstack([top, bottom]).astype(np.float32)
    quad = np.array([top[0], top[-1], bottom[0], bottom[-1]], np.float32)
    assert bend(polygon, quad) > 0.1 and bend(quad, quad) == 0.0
    page = np.full((600, 700, 3), 30, np.uint8)
    cv2.fillPoly(page, [polygon.astype(np.int32)], (245, 245, 245))
    # a text line that sags with the label, a third of the way down
    line = np.stack([100 + xs[4:-4], 100 + h / 3 + sag * (1 - ((xs[4:-4] / w) * 2 - 1) ** 2)], 1)
    cv2.polylines(page, [line.astype(np.int32)], False, (0, 0, 0), 5)
    patch = outline_patch(polygon, quad, 0.0)
    assert patch is not None
    flat = warp_patch(page, patch, (w, h))
    rows = np.nonzero(flat[:, 60:-60].min(axis=2).min(axis=1) < 100)[0]
    assert rows.max() - rows.min() <= 10  # the line is straight now: a band a few pixels high
    assert abs(rows.mean() - h / 3) < 8
    corners = patch.at(np.array([0.0, 1.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0, 1.0]))
    assert np.abs(corners - quad).max() < 3
