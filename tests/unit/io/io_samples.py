"""Builders for test inputs: images and PDFs are generated in the tests, never committed."""

from __future__ import annotations

import io

from PIL import Image


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    """The bytes Pillow writes for ``image`` in ``fmt``."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def make_pdf(sizes: list[tuple[int, int]], color: str = "white", *, points_per_pixel: float = 1.0) -> bytes:
    """A PDF of image pages, each ``width x height`` pixels times ``points_per_pixel`` points.

    At the default the images are placed at 72 dpi, so one pixel is one point; a larger
    ``points_per_pixel`` makes huge pages from tiny (fast) images.
    """
    pages = [Image.new("RGB", size, color) for size in sizes]
    return encode(pages[0], "PDF", save_all=True, append_images=pages[1:], resolution=72.0 / points_per_pixel)
