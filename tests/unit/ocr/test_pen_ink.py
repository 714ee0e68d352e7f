"""luodi.ocr.ink: the blue of ballpoint ink per character, a handwriting cue (no models)."""

from __future__ import annotations

import numpy as np
import pytest

from luodi.ocr.ink import blue_lead

PAPER = (238, 232, 220)  # a warm, slightly yellow paper
BLACK = (30, 30, 30)
BLUE_PEN = (35, 55, 150)
RED = (160, 35, 40)


def _line(inks: list[tuple[int, int, int]], *, paper: tuple[int, int, int] = PAPER) -> tuple[np.ndarray, list[float]]:
    """A 32-pixel-high line of square 'characters', one ink each (a filled stroke in a cell)."""
    cell = 32
    crop = np.empty((cell, cell * len(inks), 3), np.uint8)
    crop[:] = paper
    for i, ink in enumerate(inks):
        crop[8:24, i * cell + 8 : i * cell + 14] = ink  # a vertical stroke
        crop[14:18, i * cell + 6 : i * cell + 26] = ink  # a horizontal one
    positions = [(i + 0.5) / len(inks) for i in range(len(inks))]
    return crop, positions


def test_print_has_no_blue_and_pen_ink_has() -> None:
    crop, pos = _line([BLACK] * 3 + [BLUE_PEN] * 4)
    lead = blue_lead(crop, pos, "全称张三丰XY")
    assert len(lead) == 7
    assert max(lead[:3]) < 0.01
    assert min(lead[3:]) > 0.2


@pytest.mark.parametrize("ink", [BLACK, RED, (40, 110, 70), (120, 120, 120)])
def test_print_stamp_and_form_colours_are_not_pen_ink(ink: tuple[int, int, int]) -> None:
    crop, pos = _line([ink] * 5)
    assert max(blue_lead(crop, pos, "12345")) < 0.01


def test_a_blue_colour_cast_of_the_whole_photo_is_divided_out() -> None:
    # black print photographed under cool light: the paper is bluer than the ink; pen ink still shows
    crop, pos = _line([(20, 26, 40)] * 4 + [(26, 44, 141)] * 2, paper=(190, 205, 240))
    lead = blue_lead(crop, pos, "123456")
    assert max(lead[:4]) < 0.01 and min(lead[4:]) > 0.2


def test_spaces_and_blank_characters_lead_nothing_and_grey_crops_are_not_measured() -> None:
    crop, pos = _line([BLUE_PEN, BLUE_PEN, BLUE_PEN])
    assert blue_lead(crop, pos, "1 2")[1] == 0.0
    assert blue_lead(crop[..., 0], pos, "123") == ()
    assert blue_lead(crop, pos[:2], "123") == ()  # positions that do not fit the text
