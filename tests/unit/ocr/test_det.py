from __future__ import annotations

import cv2
import numpy as np
import pytest

from luodi.ocr.det import box_score_fast, db_postprocess, det_input_size, det_preprocess, order_quad, unclip
from luodi.ocr.options import OCROptions

OPTS = OCROptions(det_dilate=False)  # geometry below is exact without the 2×2 dilation


@pytest.mark.parametrize(("h", "w"), [(700, 1000), (3000, 2000), (33, 50), (960, 960), (10, 3000)])
def test_det_input_size_max_mode(h: int, w: int) -> None:
    rh, rw = det_input_size(h, w, OPTS)
    assert rh % 32 == 0 and rw % 32 == 0
    assert rh >= 32 and rw >= 32
    # never upscaled past the source, longer side at most the limit (rounding to 32 may add 16)
    assert max(rh, rw) <= max(OPTS.det_limit_side, h, w) + 16
    if max(h, w) > 960 and min(h, w) > 64:
        assert abs(rw / rh - w / h) / (w / h) < 0.1  # aspect ratio kept


def test_det_input_size_min_mode_upscales_small_pages() -> None:
    opts = OPTS.replace(det_limit_type="min", det_limit_side=736)
    rh, rw = det_input_size(300, 600, opts)
    assert rh == 736 and rw == 1472


def test_det_preprocess_normalises_bgr() -> None:
    page = np.zeros((64, 64, 3), dtype=np.uint8)
    page[..., 0] = 255  # pure red in RGB
    t = det_preprocess(page, OPTS, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    assert t.shape == (1, 3, 64, 64) and t.dtype == np.float32
    # model channels are BGR: red ends up in channel 2
    np.testing.assert_allclose(t[0, 2], 1.0)
    np.testing.assert_allclose(t[0, 0], -1.0)


def _prob_map(h: int, w: int, rects: list[tuple[int, int, int, int]], value: float = 0.9) -> np.ndarray:
    prob = np.zeros((h, w), dtype=np.float32)
    for x0, y0, x1, y1 in rects:
        prob[y0:y1, x0:x1] = value
    return prob


def test_db_finds_boxes_where_expected_and_unclips() -> None:
    rects = [(20, 10, 120, 20), (30, 50, 200, 64)]
    prob = _prob_map(100, 240, rects)
    boxes = db_postprocess(prob, (100, 240), OPTS)
    assert len(boxes) == 2
    found = sorted(boxes, key=lambda b: b.quad[:, 1].min())
    for box, (x0, y0, x1, y1) in zip(found, rects, strict=True):
        qx0, qy0 = box.quad[:, 0].min(), box.quad[:, 1].min()
        qx1, qy1 = box.quad[:, 0].max(), box.quad[:, 1].max()
        # the kernel is grown back: the box contains the kernel and is larger than it
        assert qx0 <= x0 and qy0 <= y0 and qx1 >= x1 - 1 and qy1 >= y1 - 1
        assert (qx1 - qx0) * (qy1 - qy0) > (x1 - x0) * (y1 - y0)
        assert box.score == pytest.approx(0.9, abs=0.02)


def test_db_scales_boxes_to_page_size() -> None:
    prob = _prob_map(100, 200, [(50, 40, 150, 60)])
    (box,) = db_postprocess(prob, (200, 400), OPTS)  # page twice the map size
    assert box.quad[:, 0].min() < 100 and box.quad[:, 0].max() > 300
    assert box.quad[:, 1].min() < 80 and box.quad[:, 1].max() > 120


def test_db_drops_small_and_weak_boxes() -> None:
    prob = _prob_map(100, 200, [(10, 10, 12, 12)])  # 2×2 speck
    prob[50:70, 50:150] = 0.45  # above thresh 0.3 but scores below box_thresh 0.6
    assert db_postprocess(prob, (100, 200), OPTS) == []
    # the weak region survives when box_thresh is lowered
    assert len(db_postprocess(prob, (100, 200), OPTS.replace(det_box_thresh=0.4))) == 1


def test_db_clips_to_page() -> None:
    prob = _prob_map(50, 100, [(0, 0, 100, 12)])
    (box,) = db_postprocess(prob, (50, 100), OPTS)
    assert box.quad[:, 0].min() >= 0 and box.quad[:, 1].min() >= 0
    assert box.quad[:, 0].max() <= 100 and box.quad[:, 1].max() <= 50


def test_db_rotated_kernel_gives_rotated_quad() -> None:
    prob = np.zeros((200, 200), dtype=np.float32)
    rect = ((100.0, 100.0), (120.0, 16.0), 20.0)
    cv2.fillPoly(prob, [cv2.boxPoints(rect).astype(np.int32)], 0.95)
    (box,) = db_postprocess(prob, (200, 200), OPTS)
    top = box.quad[1] - box.quad[0]
    angle = np.degrees(np.arctan2(top[1], top[0]))
    assert angle == pytest.approx(20.0, abs=3.0)


def test_unclip_grows_by_area_over_perimeter() -> None:
    quad = np.array([[0, 0], [100, 0], [100, 10], [0, 10]], dtype=np.float32)
    grown = unclip(quad, 1.5)
    assert grown is not None
    d = 100 * 10 * 1.5 / 220  # ≈ 6.8 px on each side
    assert grown[:, 0].min() == pytest.approx(-d, abs=1.0)
    assert grown[:, 1].max() == pytest.approx(10 + d, abs=1.0)


def test_order_quad_any_input_order() -> None:
    expected = np.array([[0, 0], [10, 1], [9, 5], [-1, 4]], dtype=np.float32)
    for perm in ([2, 0, 3, 1], [3, 2, 1, 0], [1, 3, 0, 2]):
        np.testing.assert_array_equal(order_quad(expected[perm]), expected)


def test_box_score_fast_is_mean_inside() -> None:
    prob = np.zeros((20, 20), dtype=np.float32)
    prob[:, :10] = 1.0
    quad = np.array([[5, 5], [14, 5], [14, 14], [5, 14]], dtype=np.float32)
    assert box_score_fast(prob, quad) == pytest.approx(0.5, abs=0.01)


def test_dilation_grows_the_kernel_by_a_pixel() -> None:
    prob = _prob_map(100, 240, [(20, 10, 120, 20)])
    (plain,) = db_postprocess(prob, (100, 240), OPTS)
    (dilated,) = db_postprocess(prob, (100, 240), OPTS.replace(det_dilate=True))
    assert dilated.quad[:, 1].max() > plain.quad[:, 1].max()
    assert dilated.quad[:, 0].max() > plain.quad[:, 0].max()
    # the region's score is taken over the dilated box, which now holds some background
    assert dilated.score < plain.score
