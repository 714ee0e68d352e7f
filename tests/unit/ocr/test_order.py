from __future__ import annotations

import math

import numpy as np

from luodi.ocr.order import reading_order, vertical_reading_order


def _box(x: float, y: float, w: float = 80, h: float = 20, angle_deg: float = 0.0) -> np.ndarray:
    a = math.radians(angle_deg)
    ux, uy = math.cos(a), math.sin(a)
    vx, vy = -uy, ux
    tl = np.array([x, y])
    u, v = np.array([w * ux, w * uy]), np.array([h * vx, h * vy])
    return np.array([tl, tl + u, tl + u + v, tl + v])


def test_rows_then_columns() -> None:
    boxes = [_box(300, 100), _box(10, 102), _box(150, 12), _box(10, 10), _box(150, 98)]
    order = reading_order(boxes)
    assert order == [3, 2, 1, 4, 0]


def test_slightly_uneven_baselines_stay_one_row() -> None:
    boxes = [_box(200, 58), _box(10, 50), _box(100, 54), _box(10, 100)]
    assert reading_order(boxes) == [1, 2, 0, 3]


def test_skewed_page_groups_lines_along_the_slope() -> None:
    # two printed lines rotated 6°: the right end of line 1 sits lower than the left of line 2
    angle = 6.0
    slope = math.tan(math.radians(angle))
    line1 = [_box(x, 100 + slope * x, angle_deg=angle) for x in (0, 100, 200, 300, 400)]
    line2 = [_box(x, 135 + slope * x, angle_deg=angle) for x in (0, 100, 200, 300, 400)]
    boxes = [*line2, *line1]
    order = reading_order(boxes)
    assert order == [5, 6, 7, 8, 9, 0, 1, 2, 3, 4]


def test_empty_and_single() -> None:
    assert reading_order([]) == []
    assert reading_order([_box(0, 0)]) == [0]


def test_vertical_columns_read_right_to_left_top_to_bottom() -> None:
    # three columns of two tall boxes each; x decreasing is reading order
    boxes = []
    for col_x in (10, 60, 110):
        for y in (0, 210):
            boxes.append(_box(col_x, y, w=30, h=200))
    assert vertical_reading_order(boxes) == [4, 5, 2, 3, 0, 1]
