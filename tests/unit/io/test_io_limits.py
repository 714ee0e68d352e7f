"""Limits on bytes, pixels and pages are enforced before decoding: bombs fail fast and cheaply."""

from __future__ import annotations

import os
import struct
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from io_samples import encode
from PIL import Image

from luodi.config import Limits
from luodi.errors import TooManyBytesError, TooManyPixelsError
from luodi.io import load_pages


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny valid-looking PNG whose header claims ``width x height`` RGB pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG with its SOF0 frame header patched to claim ``width x height``."""
    data = bytearray(encode(Image.new("RGB", (16, 16), "white"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (_png_claiming(100_000, 100_000), "PNG far past Pillow's own hard limit"),
        (_png_claiming(10_000, 10_000), "PNG past Pillow's warning threshold (must not leak a warning)"),
        (_png_claiming(8_000, 8_000), "PNG past luodi's 50 MP default only"),
        (_jpeg_claiming(60_000, 60_000), "JPEG past Pillow's hard limit"),
        (_jpeg_claiming(9_000, 9_000), "JPEG past luodi's default"),
    ],
)
def test_pixel_bombs_fail_fast_from_the_header(data: bytes, why: str) -> None:
    assert len(data) < 2000, "the bomb itself is tiny"
    started = time.perf_counter()
    with pytest.raises(TooManyPixelsError, match=r"megapixels|too large"):
        load_pages(data, Limits())
    # Decoding even the smallest of these would allocate 190+ MB and take far longer.
    assert time.perf_counter() - started < 0.5, why


def test_pixel_limit_is_configurable() -> None:
    data = encode(Image.new("RGB", (40, 30), "white"), "PNG")
    with pytest.raises(TooManyPixelsError, match="40x30"):
        load_pages(data, Limits(max_pixels=1199))
    [page] = load_pages(data, Limits(max_pixels=1200))
    assert page.shape == (30, 40, 3)


def test_each_tiff_frame_is_checked() -> None:
    frames = [Image.new("RGB", (40, 40), "white"), Image.new("RGB", (50, 50), "white")]
    data = encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    with pytest.raises(TooManyPixelsError, match="TIFF page 2"):
        load_pages(data, Limits(max_pixels=2000))


def test_array_pixel_limit() -> None:
    with pytest.raises(TooManyPixelsError):
        load_pages(np.zeros((100, 100, 3), np.uint8), Limits(max_pixels=9999))


def test_too_many_bytes_from_path_and_bytes(tmp_path: Path) -> None:
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    data = encode(noise, "PNG")
    assert len(data) > 5000
    target = tmp_path / "big.png"
    target.write_bytes(data)
    limits = Limits(max_bytes=5000)
    with pytest.raises(TooManyBytesError, match="over the limit of 5000 bytes"):
        load_pages(target, limits)
    with pytest.raises(TooManyBytesError):
        load_pages(data, limits)
    assert load_pages(target, Limits(max_bytes=len(data)))[0].shape == (64, 64, 3)


def test_huge_file_is_refused_by_its_size_without_reading_it(tmp_path: Path) -> None:
    sparse = tmp_path / "huge.jpg"
    with open(sparse, "wb") as handle:
        handle.write(b"\xff\xd8\xff")
        handle.truncate(8 * 1024**3)  # 8 GiB, sparse: costs no disk, but reading it would
    started = time.perf_counter()
    with pytest.raises(TooManyBytesError, match=r"8192\.0 MB"):
        load_pages(sparse, Limits())
    assert time.perf_counter() - started < 0.5


def test_stream_without_a_size_is_capped_while_reading(tmp_path: Path) -> None:
    # A FIFO reports size 0 to stat; the read itself must stop one byte past the limit.
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as handle:
            handle.write(b"\x89PNG\r\n\x1a\n" + b"\x00" * 3000)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        with pytest.raises(TooManyBytesError, match="more than 1000 bytes"):
            load_pages(fifo, Limits(max_bytes=1000))
    finally:
        feeder.join(timeout=5)
