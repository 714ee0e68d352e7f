"""Raster decoding: every supported format and pixel mode ends up as upright, opaque RGB uint8."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from io_samples import encode
from PIL import Image

from luodi.config import Limits
from luodi.errors import (
    CorruptInputError,
    EmptyInputError,
    InputError,
    InputNotFoundError,
    TooManyPagesError,
    UnsupportedFormatError,
)
from luodi.io import load_pages, sniff

LIMITS = Limits()


def _pattern(width: int = 64, height: int = 48) -> Image.Image:
    """Four flat quadrants (red, green, blue, black): survive JPEG and reveal channel swaps."""
    array = np.zeros((height, width, 3), np.uint8)
    h2, w2 = height // 2, width // 2
    array[:h2, :w2] = (255, 0, 0)
    array[:h2, w2:] = (0, 255, 0)
    array[h2:, :w2] = (0, 0, 255)
    return Image.fromarray(array, "RGB")


def _assert_page(page: np.ndarray, height: int, width: int) -> None:
    assert page.dtype == np.uint8
    assert page.shape == (height, width, 3)
    assert page.flags.c_contiguous


@pytest.mark.parametrize(
    ("fmt", "pil_format", "lossy"),
    [
        ("jpeg", "JPEG", True),
        ("png", "PNG", False),
        ("bmp", "BMP", False),
        ("tiff", "TIFF", False),
        ("webp", "WEBP", True),
        ("gif", "GIF", False),
    ],
)
def test_each_format_decodes_to_rgb(fmt: str, pil_format: str, lossy: bool) -> None:
    data = encode(_pattern(), pil_format, **({"quality": 95} if lossy else {}))
    assert sniff(data) == fmt
    [page] = load_pages(data, LIMITS)
    _assert_page(page, 48, 64)
    tolerance = 40 if lossy else 0
    # Sample well inside each quadrant, away from compression ringing at the edges.
    for (y, x), rgb in {
        (12, 16): (255, 0, 0),
        (12, 48): (0, 255, 0),
        (36, 16): (0, 0, 255),
        (36, 48): (0, 0, 0),
    }.items():
        assert np.abs(page[y, x].astype(int) - np.array(rgb)).max() <= tolerance, (fmt, (y, x), page[y, x])


def test_content_decides_not_the_extension(tmp_path: Path) -> None:
    lying = tmp_path / "photo.jpg"
    lying.write_bytes(encode(_pattern(), "PNG"))
    assert sniff(lying.read_bytes()) == "png"
    [page] = load_pages(lying, LIMITS)
    assert tuple(page[12, 16]) == (255, 0, 0)


def test_str_path_and_pathlib_path_and_bytes_agree(tmp_path: Path) -> None:
    data = encode(_pattern(), "PNG")
    target = tmp_path / "page.png"
    target.write_bytes(data)
    a = load_pages(str(target), LIMITS)[0]
    b = load_pages(target, LIMITS)[0]
    c = load_pages(bytearray(data), LIMITS)[0]
    d = load_pages(memoryview(data), LIMITS)[0]
    assert np.array_equal(a, b) and np.array_equal(a, c) and np.array_equal(a, d)


def test_rgba_is_composited_on_white() -> None:
    rgba = np.zeros((10, 20, 4), np.uint8)
    rgba[:, :10] = (0, 0, 0, 255)  # opaque black ink
    rgba[:, 10:] = (0, 0, 0, 0)  # fully transparent: must become white, not black
    rgba[0, 0] = (0, 0, 0, 128)  # half-transparent black: mid grey
    [page] = load_pages(encode(Image.fromarray(rgba, "RGBA"), "PNG"), LIMITS)
    assert tuple(page[5, 5]) == (0, 0, 0)
    assert tuple(page[5, 15]) == (255, 255, 255)
    assert tuple(page[0, 0]) == (127, 127, 127)


def test_light_content_on_transparency_stays_visible() -> None:
    # White text on a transparent background vanishes on white; it must land on black instead.
    rgba = np.zeros((10, 20, 4), np.uint8)
    rgba[:, :4] = (255, 255, 255, 255)
    [page] = load_pages(encode(Image.fromarray(rgba, "RGBA"), "PNG"), LIMITS)
    assert tuple(page[5, 1]) == (255, 255, 255)
    assert tuple(page[5, 15]) == (0, 0, 0)


def test_la_gray_with_alpha() -> None:
    la = Image.merge("LA", (Image.new("L", (8, 8), 0), Image.new("L", (8, 8), 0)))
    la.paste((0, 255), (0, 0, 4, 8))
    [page] = load_pages(encode(la, "PNG"), LIMITS)
    assert tuple(page[4, 1]) == (0, 0, 0)
    assert tuple(page[4, 6]) == (255, 255, 255)


def test_palette_with_and_without_transparency() -> None:
    palette_image = _pattern().convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    [page] = load_pages(encode(palette_image, "PNG"), LIMITS)
    assert tuple(page[12, 16]) == (255, 0, 0)
    # Make the colour of the black quadrant the transparent index.
    black_index = palette_image.getpixel((48, 36))
    [page] = load_pages(encode(palette_image, "PNG", transparency=black_index), LIMITS)
    assert tuple(page[36, 48]) == (255, 255, 255)
    assert tuple(page[12, 16]) == (255, 0, 0)


def test_16_bit_gray_is_scaled_not_clipped() -> None:
    values = np.array([[0, 257 * 100, 32768, 65535]], np.uint16).repeat(4, axis=0)
    image = Image.fromarray(values)
    assert image.mode == "I;16"
    [page] = load_pages(encode(image, "PNG"), LIMITS)
    assert page[0, :, 0].tolist() == [0, 100, 128, 255]
    assert np.array_equal(page[..., 0], page[..., 2])


def test_cmyk_jpeg_converts_to_rgb() -> None:
    cmyk = Image.new("CMYK", (32, 32), (255, 0, 0, 0))  # pure cyan ink
    data = encode(cmyk, "JPEG", quality=95)
    [page] = load_pages(data, LIMITS)
    _assert_page(page, 32, 32)
    r, g, b = (int(v) for v in page[16, 16])
    assert r < 40 and g > 215 and b > 215


@pytest.mark.parametrize("mode", ["L", "1"])
def test_grayscale_and_bilevel(mode: str) -> None:
    image = Image.new("L", (16, 8), 255)
    image.paste(0, (0, 0, 8, 8))
    [page] = load_pages(encode(image.convert(mode), "PNG"), LIMITS)
    assert tuple(page[4, 2]) == (0, 0, 0)
    assert tuple(page[4, 12]) == (255, 255, 255)


@pytest.mark.parametrize(
    ("orientation", "marker_at"),
    [
        (1, "top_left"),
        (3, "bottom_right"),  # rotated 180
        (6, "top_right"),  # stored sideways: displayed after a 90 degree clockwise turn
        (8, "bottom_left"),  # 90 degrees counter-clockwise
    ],
)
def test_exif_orientation_is_applied(orientation: int, marker_at: str) -> None:
    stored = np.full((40, 80, 3), 255, np.uint8)  # wide as stored
    stored[:10, :10] = (255, 0, 0)  # red marker at the stored top-left
    image = Image.fromarray(stored, "RGB")
    exif = image.getexif()
    exif[0x0112] = orientation
    [page] = load_pages(encode(image, "JPEG", quality=95, exif=exif.tobytes()), LIMITS)
    height, width = page.shape[:2]
    assert (height, width) == ((40, 80) if orientation in (1, 3) else (80, 40))
    corners = {
        "top_left": page[3, 3],
        "top_right": page[3, width - 4],
        "bottom_left": page[height - 4, 3],
        "bottom_right": page[height - 4, width - 4],
    }
    red = {name for name, px in corners.items() if px[0] > 200 and px[1] < 60 and px[2] < 60}
    assert red == {marker_at}


def test_broken_exif_does_not_lose_the_image() -> None:
    image = _pattern()
    data = encode(image, "JPEG", quality=95, exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff")
    [page] = load_pages(data, LIMITS)
    assert page.shape == (48, 64, 3)


def test_multi_page_tiff_gives_one_page_per_frame() -> None:
    frames = [_pattern(64, 48), Image.new("RGB", (30, 20), "white"), Image.new("L", (10, 12), 0)]
    data = encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    pages = load_pages(data, LIMITS)
    assert [p.shape for p in pages] == [(48, 64, 3), (20, 30, 3), (12, 10, 3)]
    assert tuple(pages[0][12, 16]) == (255, 0, 0)
    assert pages[2].max() == 0
    with pytest.raises(TooManyPagesError, match="more than 2 pages"):
        load_pages(data, LIMITS, max_pages=2)
    with pytest.raises(TooManyPagesError):
        load_pages(data, Limits(max_pages=2))
    assert len(load_pages(data, Limits(max_pages=3))) == 3


def test_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (16, 16), "red"), Image.new("RGB", (16, 16), "blue")]
    pages = load_pages(encode(frames[0], "GIF", save_all=True, append_images=frames[1:]), LIMITS)
    assert len(pages) == 1
    assert tuple(pages[0][8, 8]) == (255, 0, 0)


@pytest.mark.parametrize("pil_format", ["JPEG", "PNG"])
@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_files_are_corrupt_input(pil_format: str, keep: float) -> None:
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8))
    data = encode(noise, pil_format)
    with pytest.raises(CorruptInputError, match=r"truncated|corrupt|broken"):
        load_pages(data[: int(len(data) * keep)], LIMITS)


def test_header_only_png_is_corrupt() -> None:
    data = encode(_pattern(), "PNG")
    with pytest.raises(CorruptInputError):
        load_pages(data[:20], LIMITS)


def test_empty_inputs(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(EmptyInputError, match="empty"):
        load_pages(empty, LIMITS)
    with pytest.raises(EmptyInputError):
        load_pages(b"", LIMITS)


def test_text_and_zip_are_refused_with_a_description(tmp_path: Path) -> None:
    import zipfile

    with pytest.raises(UnsupportedFormatError, match="looks like text"):
        load_pages("收件人：张三\n电话：13800138000\n".encode(), LIMITS)
    archive = tmp_path / "scans.jpg"  # the extension lies; the content decides
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("a.txt", "hello")
    with pytest.raises(UnsupportedFormatError, match="ZIP archive"):
        load_pages(archive, LIMITS)


def test_missing_path_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError, match="no such file"):
        load_pages(tmp_path / "nope.png", LIMITS)
    with pytest.raises(InputError, match="is a folder"):
        load_pages(tmp_path, LIMITS)


def test_unreadable_path(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads files regardless of permissions")
    secret = tmp_path / "secret.png"
    secret.write_bytes(encode(_pattern(), "PNG"))
    secret.chmod(0)
    with pytest.raises(InputNotFoundError, match="cannot read"):
        load_pages(secret, LIMITS)


def test_unsupported_source_type() -> None:
    with pytest.raises(InputError, match="cannot read a int"):
        load_pages(42, LIMITS)  # type: ignore[arg-type]


# --- in-memory inputs ---------------------------------------------------------------------------
def test_rgb_array_is_passed_through_without_copy() -> None:
    array = np.zeros((5, 7, 3), np.uint8)
    [page] = load_pages(array, LIMITS)
    assert page is array


def test_arrays_of_other_layouts() -> None:
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    [page] = load_pages(gray, LIMITS)
    assert page.shape == (3, 4, 3) and np.array_equal(page[..., 1], gray)
    [page] = load_pages(gray[:, :, None], LIMITS)
    assert page.shape == (3, 4, 3)
    strided = np.zeros((10, 10, 3), np.uint8)[:, ::2]
    [page] = load_pages(strided, LIMITS)
    assert page.flags.c_contiguous and page.shape == (10, 5, 3)
    rgba = np.zeros((2, 2, 4), np.uint8)
    [page] = load_pages(rgba, LIMITS)
    assert page.shape == (2, 2, 3) and (page == 255).all()
    [page] = load_pages(np.full((2, 2), 65535, np.uint16), LIMITS)
    assert (page == 255).all()
    [page] = load_pages(np.eye(3, dtype=bool), LIMITS)
    assert page[0, 0, 0] == 255 and page[0, 1, 0] == 0


def test_bad_arrays_are_refused() -> None:
    with pytest.raises(UnsupportedFormatError, match="shape"):
        load_pages(np.zeros((4, 4, 2), np.uint8), LIMITS)
    with pytest.raises(UnsupportedFormatError):
        load_pages(np.zeros(5, np.uint8), LIMITS)
    with pytest.raises(EmptyInputError):
        load_pages(np.zeros((0, 4, 3), np.uint8), LIMITS)
    with pytest.raises(InputError, match="float"):
        load_pages(np.zeros((4, 4, 3), np.float32), LIMITS)


def test_pil_image_input_gets_the_same_treatment() -> None:
    rgba = Image.new("RGBA", (6, 4), (0, 0, 0, 0))
    [page] = load_pages(rgba, LIMITS)
    assert page.shape == (4, 6, 3) and (page == 255).all()
    opened = Image.open(__import__("io").BytesIO(encode(_pattern(), "PNG")))
    with opened:
        [page] = load_pages(opened, LIMITS)
    assert tuple(page[12, 16]) == (255, 0, 0)


def test_default_limits_come_from_settings() -> None:
    [page] = load_pages(encode(_pattern(), "PNG"))
    assert page.shape == (48, 64, 3)
