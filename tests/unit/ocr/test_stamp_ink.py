"""Stamps' red ink taken out before reading: the stamp goes, black print (under it too) stays."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from luodi.ocr.options import OCROptions
from luodi.ocr.stamps import Stamp, drop_stamp_ink, find_stamps

RED = (200, 30, 40)


def _page(*, stamp: bool = True, red_title: bool = False) -> np.ndarray:
    """A white page with lines of black strokes for text, a red seal (ring, star) over some of them."""
    img = Image.new("RGB", (1000, 500), (250, 248, 240))
    d = ImageDraw.Draw(img)
    for y in range(60, 460, 40):
        for x in range(60, 940, 8):
            d.rectangle((x, y, x + 2, y + 14), fill=(20, 20, 20))
    if red_title:
        d.rectangle((200, 10, 800, 40), fill=RED)  # a red printed title line: long and thin
    if stamp:
        seal = Image.new("L", img.size, 0)
        sd = ImageDraw.Draw(seal)
        sd.ellipse((600, 150, 800, 350), outline=255, width=9)
        sd.polygon([(700, 200), (715, 245), (760, 245), (722, 270), (737, 315), (700, 288), (663, 315)], fill=255)
        arr = np.asarray(img).astype(np.float32)
        a = (np.asarray(seal, np.float32) / 255.0)[..., None]
        ink = np.array(RED, np.float32) / 255.0
        arr = arr * (1 - a) + arr * ink * a  # ink multiplies what is under it
        return arr.astype(np.uint8)
    return np.asarray(img).copy()


def test_a_seal_is_found_where_it_is() -> None:
    stamps = find_stamps(_page())
    assert len(stamps) == 1
    st = stamps[0]
    assert abs(st.x0 - 600) < 15 and abs(st.x1 - 800) < 15 and abs(st.y0 - 150) < 15 and abs(st.y1 - 350) < 15


def test_a_page_without_a_stamp_is_returned_unchanged() -> None:
    page = _page(stamp=False, red_title=True)
    assert find_stamps(page) == ()
    assert drop_stamp_ink(page) is page


def test_the_ink_goes_and_black_print_stays() -> None:
    page = _page()
    out = drop_stamp_ink(page)
    st = find_stamps(page)[0]
    before = page.astype(np.int16)
    after = out.astype(np.int16)
    red = (before[..., 0] - np.maximum(before[..., 1], before[..., 2])) > 60
    assert red.sum() > 1000
    # the seal's ink is now (nearly) paper
    assert after[red].min(axis=1).mean() > 220
    # black print under the seal is as dark as it was
    dark = before.max(axis=2) < 60
    assert after[dark].max() < 70
    # nothing outside the seal's box (and its small margin) changed
    outside = np.ones(page.shape[:2], bool)
    outside[st.y0 - 12 : st.y1 + 12, st.x0 - 12 : st.x1 + 12] = False
    assert np.array_equal(after[outside], before[outside])


def test_a_red_title_beside_a_seal_is_kept() -> None:
    page = _page(red_title=True)
    out = drop_stamp_ink(page)
    assert np.array_equal(out[10:41, 200:801], page[10:41, 200:801])


def test_a_form_printed_in_red_keeps_its_lines_and_labels() -> None:
    """A carbon copy printed in red (its grid and labels): one page-wide blob, no stamp."""
    img = Image.new("RGB", (1000, 500), (250, 248, 240))
    d = ImageDraw.Draw(img)
    for y in range(40, 480, 60):
        d.line((20, y, 980, y), fill=RED, width=2)
    for x in (20, 200, 500, 680, 980):
        d.line((x, 40, x, 460), fill=RED, width=2)
    for y in range(55, 460, 60):  # a label's strokes in each left cell
        for x in range(40, 150, 8):
            d.rectangle((x, y, x + 2, y + 16), fill=RED)
    page = np.asarray(img).copy()
    assert find_stamps(page) == ()
    assert drop_stamp_ink(page) is page


def test_stamps_given_are_used() -> None:
    page = _page()
    assert np.array_equal(drop_stamp_ink(page, ()), page)
    out = drop_stamp_ink(page, (Stamp(600, 150, 800, 350),))
    assert not np.array_equal(out, page)


@pytest.mark.parametrize("value", [True, False])
def test_the_option_is_a_plain_flag(value: bool) -> None:
    assert OCROptions().replace(drop_stamps=value).drop_stamps is value
