"""Raster image decoding (Pillow) into RGB ``uint8`` arrays, with limits checked before decoding.

Every page that leaves this module is ``H x W x 3``, ``uint8``, C-contiguous, upright (EXIF
orientation applied) and opaque (transparency composited on white, or on black when the visible content is light, so
that text drawn on a transparent background stays readable either way).
"""

from __future__ import annotations

import contextlib
import io
import struct
import warnings
from collections.abc import Iterator

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from luodi.config import Limits
from luodi.errors import (
    CorruptInputError,
    EmptyInputError,
    InputError,
    TooManyPagesError,
    TooManyPixelsError,
    UnsupportedFormatError,
)

# What Pillow raises from decoders fed truncated or hostile data. Pillow has no single base class
# for "bad image data", so the boundary has to name them.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError, ZeroDivisionError)

# Pillow plugin names for the formats sniff() recognises.
_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "bmp": "BMP", "tiff": "TIFF", "webp": "WEBP", "gif": "GIF"}


@contextlib.contextmanager
def _quiet_pillow() -> Iterator[None]:
    """Silence the warnings Pillow issues about input data, which luodi handles itself.

    Pillow's bomb guard warns from the header alone above ~89 MP; that threshold is not ours, so
    the warning is dropped and :func:`check_pixels` decides (Pillow's hard error above ~179 MP
    still arrives as ``DecompressionBombError``). Pillow's ``UserWarning`` about a corrupt EXIF
    block or a TIFF tag pointing past the end of the file is dropped: Pillow skips what it cannot
    read, and whatever then fails to decode is reported as :class:`CorruptInputError`.
    ``catch_warnings`` is process-wide: a race with another thread can at worst leave these two
    Pillow warnings ignored, which the checks here make harmless.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        yield


def check_pixels(width: int, height: int, limits: Limits, what: str = "image") -> None:
    """Raise :class:`TooManyPixelsError` when ``width x height`` exceeds the limit."""
    if width <= 0 or height <= 0:
        raise EmptyInputError(f"the {what} has no pixels ({width}x{height})")
    pixels = width * height
    if pixels > limits.max_pixels:
        raise TooManyPixelsError(
            f"the {what} is {width}x{height} = {pixels / 1e6:.1f} megapixels, "
            f"over the limit of {limits.max_pixels / 1e6:.1f} megapixels"
        )


def open_image(data: bytes, fmt: str, limits: Limits) -> Image.Image:
    """Open ``data`` lazily (header only) and check its pixel count before anything is decoded."""
    try:
        with _quiet_pillow():
            im = Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[fmt]])
    except Image.DecompressionBombError as exc:
        raise TooManyPixelsError(f"the image is too large to decode safely: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise CorruptInputError(f"the data starts like {fmt.upper()} but its header is broken") from exc
    except _DECODE_ERRORS as exc:
        raise CorruptInputError(f"cannot read the {fmt.upper()} header: {exc}") from exc
    check_pixels(im.width, im.height, limits)
    return im


def iter_image_pages(data: bytes, fmt: str, limits: Limits, max_pages: int) -> Iterator[np.ndarray]:
    """Decode an image file's pages: every frame of a multi-page TIFF, the first frame otherwise.

    The frame count of a TIFF is checked against ``max_pages`` before the first frame is decoded.
    """
    with contextlib.closing(open_image(data, fmt, limits)) as im:
        for index in _frames(im, fmt, max_pages):
            if index:  # frames of one TIFF may differ in size; each is checked before it is decoded
                check_pixels(im.width, im.height, limits, what=f"TIFF page {index + 1}")
            yield pil_to_rgb(im, fmt=fmt)


def image_page_sizes(data: bytes, fmt: str, limits: Limits, max_pages: int) -> list[tuple[int, int]]:
    """(width, height) of the pages :func:`iter_image_pages` would decode, from headers only."""
    with contextlib.closing(open_image(data, fmt, limits)) as im:
        return [(im.width, im.height) for _ in _frames(im, fmt, max_pages)]


def _frames(im: Image.Image, fmt: str, max_pages: int) -> Iterator[int]:
    """Seek ``im`` to each of its frames in turn (a TIFF's pages; one for other formats), yielding
    the frame's index; more than ``max_pages`` frames are refused before the first."""
    frames = _count_frames(im, max_pages) if fmt == "tiff" else 1
    if frames > max_pages:
        raise TooManyPagesError(f"the TIFF has more than {max_pages} pages (the limit)")
    for index in range(frames):
        if index:
            try:
                with _quiet_pillow():
                    im.seek(index)
            except _DECODE_ERRORS as exc:
                raise CorruptInputError(f"cannot read TIFF page {index + 1}: {exc}") from exc
        yield index


def _count_frames(im: Image.Image, cap: int) -> int:
    """Frames of a multi-page image, counting no further than ``cap + 1``.

    Stopping there keeps a TIFF with a million tiny page directories from costing a million
    directory reads just to be refused.
    """
    count = 1
    try:
        with _quiet_pillow():
            while count <= cap:
                im.seek(count)
                count += 1
    except EOFError:
        pass  # Pillow's way of saying there is no further frame
    except _DECODE_ERRORS as exc:
        raise CorruptInputError(f"cannot read the TIFF page directory: {exc}") from exc
    try:
        with _quiet_pillow():
            im.seek(0)
    except _DECODE_ERRORS as exc:
        raise CorruptInputError(f"cannot read the TIFF's first page: {exc}") from exc
    return count


def pil_to_rgb(im: Image.Image, *, fmt: str | None = None, limits: Limits | None = None) -> np.ndarray:
    """Decode one Pillow image (its current frame) into an upright, opaque RGB ``uint8`` array."""
    label = (fmt or im.format or "image").upper()
    if limits is not None:
        check_pixels(im.width, im.height, limits)
    try:
        with _quiet_pillow():
            im.load()
            im = _exif_upright(im)
    except _DECODE_ERRORS as exc:
        raise CorruptInputError(f"the {label} data is truncated or corrupt: {exc}") from exc
    try:
        with _quiet_pillow():
            return _to_rgb_array(im)
    except _DECODE_ERRORS as exc:
        raise CorruptInputError(f"cannot convert the {label} pixels (mode {im.mode}): {exc}") from exc


_EXIF_ORIENTATION = 0x0112


def _exif_upright(im: Image.Image) -> Image.Image:
    try:
        # exif_transpose copies the whole image even when there is nothing to turn; most inputs
        # have no orientation tag (or 1 = upright), so look before paying for the copy.
        if im.getexif().get(_EXIF_ORIENTATION, 1) not in (2, 3, 4, 5, 6, 7, 8):
            return im
        upright = ImageOps.exif_transpose(im)
    except _DECODE_ERRORS:
        # A broken EXIF block must not cost the user the whole image; the pixels are fine, only
        # the orientation hint is unreadable, so the image is used as stored.
        return im
    return upright if upright is not None else im


def _to_rgb_array(im: Image.Image) -> np.ndarray:
    mode = im.mode
    if "transparency" in im.info and mode in ("RGB", "L", "P", "1"):
        # A palette or colour key marks some pixels transparent: treat them like alpha = 0.
        return flatten_alpha(np.array(im.convert("RGBA"), dtype=np.uint8))
    if mode == "RGB":
        return np.ascontiguousarray(np.array(im, dtype=np.uint8))
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # Pillow's convert("L") clips 16-bit values at 255 (a mostly-white page); scale instead.
        wide = np.array(im).astype(np.uint32)
        gray = np.clip((wide + 128) // 257, 0, 255).astype(np.uint8)
        return _gray_to_rgb(gray)
    if mode == "F":
        flt = np.nan_to_num(np.array(im, dtype=np.float32))
        scale = 255.0 if flt.size and float(flt.max()) <= 1.0 else 1.0
        return _gray_to_rgb(np.clip(flt * scale + 0.5, 0, 255).astype(np.uint8))
    if mode in ("L", "1"):
        return _gray_to_rgb(np.array(im.convert("L"), dtype=np.uint8))
    if mode == "P":
        return np.ascontiguousarray(np.array(im.convert("RGB"), dtype=np.uint8))
    if mode in ("RGBA", "RGBa", "LA", "La", "PA"):
        return flatten_alpha(np.array(im.convert("RGBA"), dtype=np.uint8))
    # CMYK, YCbCr, LAB, HSV: Pillow's conversion (no colour management; text contrast survives).
    return np.ascontiguousarray(np.array(im.convert("RGB"), dtype=np.uint8))


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))


def composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """Blend an ``H x W x 4`` RGBA array onto a white background; returns ``H x W x 3``."""
    return _composite(rgba, 255)


def flatten_alpha(rgba: np.ndarray) -> np.ndarray:
    """Make an ``H x W x 4`` RGBA array opaque so that what the alpha channel outlines stays visible.

    The background is white, except when the visible (opaque) content is itself light: white
    text on a transparent background (a common export of stamps and captions) would vanish on
    white, so it is composited on black instead. Returns ``H x W x 3``.
    """
    alpha = rgba[:, :, 3]
    if int(alpha.min()) == 255:
        return np.ascontiguousarray(rgba[:, :, :3])
    weights = alpha.astype(np.float32)
    total = float(weights.sum())
    if total > 0.0:
        # ITU-R BT.601 luma of the content, weighted by how opaque each pixel is.
        rgb = rgba[:, :, :3].astype(np.float32)
        luma = rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114
        if float((luma * weights).sum()) / total > 160.0:
            return _composite(rgba, 0)
    return _composite(rgba, 255)


def _composite(rgba: np.ndarray, background: int) -> np.ndarray:
    alpha = rgba[:, :, 3:4].astype(np.uint16)
    rgb = rgba[:, :, :3].astype(np.uint16)
    out = (rgb * alpha + background * (255 - alpha) + 127) // 255
    return np.ascontiguousarray(out.astype(np.uint8))


def array_to_rgb(arr: np.ndarray, limits: Limits) -> np.ndarray:
    """Normalise a caller's array: ``H x W`` gray, ``H x W x 1``, ``H x W x 3`` RGB, ``H x W x 4`` RGBA.

    An array that already is RGB ``uint8`` and C-contiguous is returned as is (no copy).
    """
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise UnsupportedFormatError(
            f"an image array must be HxW, HxWx1, HxWx3 (RGB) or HxWx4 (RGBA); got shape {arr.shape}"
        )
    height, width = int(arr.shape[0]), int(arr.shape[1])
    if arr.size == 0:
        raise EmptyInputError(f"the image array is empty (shape {arr.shape})")
    check_pixels(width, height, limits, what="image array")
    if arr.dtype == np.uint8:
        data = arr
    elif arr.dtype == np.bool_:
        data = arr.astype(np.uint8) * 255
    elif arr.dtype == np.uint16:
        data = ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)
    else:
        raise InputError(
            f"image arrays must be uint8 (or uint16/bool); got {arr.dtype}. "
            "Convert floats with (a * 255).round().astype('uint8') if they are in 0..1"
        )
    if data.ndim == 2:
        return _gray_to_rgb(data)
    channels = data.shape[2]
    if channels == 1:
        return _gray_to_rgb(data[:, :, 0])
    if channels == 4:
        return flatten_alpha(data)
    return np.ascontiguousarray(data)
