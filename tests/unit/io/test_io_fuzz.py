"""Hostile bytes: whatever a damaged file looks like, the result is pages or an InputError, never a crash."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from io_samples import encode, make_pdf
from PIL import Image

from luodi.config import Limits
from luodi.errors import InputError
from luodi.io import load_pages

_PICTURE = Image.fromarray(np.random.default_rng(7).integers(0, 255, (24, 32, 3), dtype=np.uint8))
SEEDS = {
    "jpeg": encode(_PICTURE, "JPEG"),
    "png": encode(_PICTURE, "PNG"),
    "bmp": encode(_PICTURE, "BMP"),
    "gif": encode(_PICTURE, "GIF"),
    "tiff": encode(_PICTURE, "TIFF", save_all=True, append_images=[_PICTURE.rotate(90, expand=True)]),
    "webp": encode(_PICTURE, "WEBP"),
    "pdf": make_pdf([(40, 30), (30, 40)]),
}
# Small limits keep any accidental huge claim that slips through cheap to decode.
LIMITS = Limits(max_pixels=4_000_000, max_pages=5, pdf_dpi=72)


@st.composite
def damaged(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(["flip", "cut", "splice"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[position] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[position : position + draw(st.integers(1, 64))]
        else:
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
    return bytes(data)


def _check(data: bytes) -> None:
    try:
        pages = load_pages(data, LIMITS)
    except InputError:
        return
    for page in pages:
        assert page.dtype == np.uint8 and page.ndim == 3 and page.shape[2] == 3 and page.flags.c_contiguous


@pytest.mark.parametrize("fmt", sorted(SEEDS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_files_fail_cleanly(fmt: str, data: st.DataObject) -> None:
    _check(data.draw(damaged(SEEDS[fmt])))
