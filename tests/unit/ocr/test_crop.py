from __future__ import annotations

import cv2
import numpy as np
import pytest

from luodi.ocr.crop import crop_quad, is_tall, reading_quad, rotate_180, rotate_tall
from luodi.ocr.det import order_quad


def _page_with_rotated_bar(angle: float) -> tuple[np.ndarray, np.ndarray]:
    """A white page with a 200×40 rectangle rotated by ``angle``: left half black, right half grey."""
    page = np.full((400, 400, 3), 255, dtype=np.uint8)
    centre, size = (200.0, 200.0), (200.0, 40.0)
    quad = order_quad(cv2.boxPoints((centre, size, angle)))
    flat = np.zeros((40, 200, 3), dtype=np.uint8)
    flat[:, 100:] = 128
    target = np.array([[0, 0], [200, 0], [200, 40], [0, 40]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(target, quad)
    cv2.warpPerspective(flat, m, (400, 400), dst=page, borderMode=cv2.BORDER_TRANSPARENT)
    return page, quad


@pytest.mark.parametrize("angle", [0.0, 15.0, -30.0])
def test_crop_rectifies_a_rotated_rectangle(angle: float) -> None:
    page, quad = _page_with_rotated_bar(angle)
    crop = crop_quad(page, quad)
    assert crop.shape[1] == pytest.approx(200, abs=2) and crop.shape[0] == pytest.approx(40, abs=2)
    # content is upright: dark left half, grey right half (edges excluded: interpolation)
    assert crop[5:-5, 10:90].mean() < 20
    assert abs(crop[5:-5, 110:190].mean() - 128) < 20


def test_tall_crops_turn_so_the_top_reads_first() -> None:
    tall = np.full((120, 40, 3), 255, dtype=np.uint8)
    tall[:20] = 0  # the first character of a vertical line is at the top
    assert is_tall(tall, 1.5) and not is_tall(tall[:50], 1.5)
    turned = rotate_tall(tall)
    assert turned.shape == (40, 120, 3) and turned.flags.c_contiguous
    assert turned[:, :20].mean() == 0 and turned[:, 30:].mean() == 255


def test_rotate_180() -> None:
    img = np.zeros((10, 20, 3), dtype=np.uint8)
    img[0, 0] = 255
    assert rotate_180(img)[-1, -1].tolist() == [255, 255, 255]


def test_reading_quad_starts_at_reading_top_left() -> None:
    quad = np.array([[0, 0], [10, 0], [10, 30], [0, 30]], dtype=np.float32)  # tl, tr, br, bl
    np.testing.assert_array_equal(reading_quad(quad, tall=False, flipped=False), quad)
    np.testing.assert_array_equal(reading_quad(quad, tall=True, flipped=False)[0], [10, 0])  # vertical: from tr
    np.testing.assert_array_equal(reading_quad(quad, tall=False, flipped=True)[0], [10, 30])  # upside down: br
    np.testing.assert_array_equal(reading_quad(quad, tall=True, flipped=True)[0], [0, 30])
