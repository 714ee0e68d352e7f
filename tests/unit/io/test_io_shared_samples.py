"""The real sample photos in tests/data/doc_samples decode as a person would see them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from luodi.config import Limits
from luodi.io import load_pages, sniff


def test_exif_rotated_photo_comes_out_upright(rapidocr_samples: Path) -> None:
    path = rapidocr_samples / "img_exif_orientation.jpg"
    with Image.open(path) as raw:
        orientation = raw.getexif().get(0x0112)
        stored = np.array(raw.convert("RGB"))
    assert orientation == 3, "this sample is stored upside down and says so in EXIF"
    [page] = load_pages(path, Limits())
    assert not np.array_equal(page, stored)
    assert np.array_equal(page, stored[::-1, ::-1])  # turned 180 degrees, pixel for pixel


def test_transparent_png_text_stays_readable(rapidocr_samples: Path) -> None:
    for name in ("black_font_color_transparent.png", "white_font_color_transparent.png"):
        path = rapidocr_samples / name
        assert sniff(path.read_bytes()) == "png"
        with Image.open(path) as raw:
            alpha = np.array(raw.getchannel("A"))
        [page] = load_pages(path, Limits())
        gray = page.mean(axis=2)
        ink, background = gray[alpha == 255].mean(), gray[alpha == 0].mean()
        # The glyphs (opaque) must contrast strongly with the transparent background.
        assert abs(ink - background) > 200, (name, ink, background)
