"""Located regions checked against their text boxes (luodi.locate.verify)."""

from __future__ import annotations

import numpy as np

from luodi.locate.verify import CUT_BOXES, text_groups


def _lines(x: float, y: float, n: int, *, width: float = 200, height: float = 16, step: float = 28) -> list[np.ndarray]:
    return [
        np.array(
            [
                [x, y + k * step],
                [x + width, y + k * step],
                [x + width, y + k * step + height],
                [x, y + k * step + height],
            ],
            np.float32,
        )
        for k in range(n)
    ]


def _page(h: int, w: int, boxes: list[np.ndarray], colour: tuple[int, int, int] = (20, 20, 20)) -> np.ndarray:
    image = np.full((h, w, 3), 235, np.uint8)
    for b in boxes:
        x0, y0 = b.min(0).astype(int)
        x1, y1 = b.max(0).astype(int)
        image[y0 + 4 : y1 - 4, x0:x1:6] = colour  # strokes
    return image


def test_a_region_its_print_spans_is_one_label_and_not_cut() -> None:
    boxes = _lines(20, 20, 10, width=420) + _lines(20, 330, 6, width=420)  # two sections, a barcode between
    groups = text_groups(boxes, _page(520, 460, boxes))
    assert not groups.cut


def test_a_region_much_larger_than_its_print_is_cut_to_each_label() -> None:
    one, two = _lines(100, 100, 8), _lines(900, 700, 7)
    image = _page(1200, 1400, one + two)
    groups = text_groups(one + two, image)
    assert groups.cut and len(groups.rects) == 2
    first = min(groups.rects, key=lambda r: float(r[:, 0].min()))
    x0, y0 = first.min(0)
    x1, y1 = first.max(0)
    # the label's lines with a margin of about a line
    assert 80 <= x0 <= 100 and 80 <= y0 <= 100 and 300 <= x1 <= 320 and 312 <= y1 <= 332


def test_coloured_print_and_stray_lines_are_not_labels() -> None:
    label = _lines(100, 100, 8)
    bag = _lines(800, 900, 4, width=300)  # the bag's own print: green
    image = _page(1200, 1400, label)
    for b in bag:
        x0, y0 = b.min(0).astype(int)
        x1, y1 = b.max(0).astype(int)
        image[y0 + 4 : y1 - 4, x0:x1:6] = (30, 140, 60)
    groups = text_groups(label + bag, image)
    assert groups.cut and len(groups.rects) == 1 and float(groups.rects[0][:, 0].max()) < 400
    # a lone black line apart from the label is no label either
    stray = _lines(900, 1000, 1)
    image = _page(1200, 1400, label + stray)
    assert len(text_groups(label + stray, image).rects) == 1


def test_too_little_print_decides_nothing() -> None:
    few = _lines(100, 100, CUT_BOXES - 1)
    groups = text_groups(few, _page(1200, 1400, few))
    assert not groups.cut and groups.rects == ()


def test_a_piece_inside_a_labels_extent_is_part_of_it() -> None:
    # a text block with a long last line, and a few short lines further than the joining gap from
    # any of its lines but inside its extent (the label's sparse corner): one label, not a label and
    # a fragment
    block = _lines(300, 100, 8, width=300) + _lines(150, 330, 1, width=450)
    corner = _lines(150, 100, 3, width=90)
    image = _page(1200, 1400, block + corner)
    groups = text_groups(block + corner, image)
    assert groups.cut and len(groups.rects) == 1
    x0, y0 = groups.rects[0].min(0)
    x1, y1 = groups.rects[0].max(0)
    assert x0 < 150 and y0 < 100 and x1 > 600 and y1 > 346


def test_sections_with_print_between_them_are_one_label() -> None:
    # the detector boxed a label's header and its foot, not the small print between them: the strip
    # between is printed, so one label; the same two groups with bare bag between are two labels
    top, foot = _lines(100, 100, 4, width=500), _lines(100, 600, 4, width=500)
    bare = _page(1200, 1400, top + foot)
    assert len(text_groups(top + foot, bare).rects) == 2
    printed = bare.copy()
    for y in range(240, 560, 12):  # rows of small dark print no box was found for
        printed[y : y + 5, 110:590:4] = 30
    groups = text_groups(top + foot, printed)
    assert len(groups.rects) == 1
    assert float(groups.rects[0][:, 1].min()) < 100 and float(groups.rects[0][:, 1].max()) > 700


def test_a_mailer_s_slogan_around_its_label_is_not_part_of_it() -> None:
    # a white mailer read as one region: its slogan in big type above and below, the label between.
    # The label's print in the strip between the slogan's lines does not join them (it is boxed),
    # and the slogan's stray lines do not stretch the span the region is judged by: cut to the label
    label = _lines(300, 500, 9, width=260)
    top = _lines(60, 80, 2, width=700, height=60, step=90)
    bottom = _lines(420, 1300, 1, width=500, height=40)
    image = _page(1400, 900, label + top + bottom)
    groups = text_groups(label + top + bottom, image)
    assert groups.cut and len(groups.rects) == 1
    x0, y0 = groups.rects[0].min(0)
    x1, y1 = groups.rects[0].max(0)
    assert 270 <= x0 <= 300 and 470 <= y0 <= 500 and 560 <= x1 <= 590 and 740 <= y1 <= 790
