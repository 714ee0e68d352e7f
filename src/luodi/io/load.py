"""One entry point from "whatever the user handed us" to a list of RGB pages."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import TypeAlias

import numpy as np
from PIL import Image

from luodi.config import Limits, get_settings
from luodi.errors import ConfigError, EmptyInputError, InputError, InputNotFoundError, TooManyBytesError
from luodi.io.image import array_to_rgb, image_page_sizes, iter_image_pages, pil_to_rgb
from luodi.io.pdf import iter_pdf_pages, pdf_page_sizes
from luodi.io.sniff import sniff

#: Everything :func:`load_pages` accepts.
Source: TypeAlias = str | os.PathLike[str] | bytes | bytearray | memoryview | np.ndarray | Image.Image


def load_pages(
    source: Source,
    limits: Limits | None = None,
    *,
    pdf_dpi: int | None = None,
    max_pages: int | None = None,
) -> list[np.ndarray]:
    """Decode ``source`` into its pages: RGB ``uint8`` arrays, ``H x W x 3``, C-contiguous.

    ``source`` is a path (``str``/``Path``), the bytes of a file, a numpy array (``H x W`` gray,
    ``H x W x 3`` RGB, ``H x W x 4`` RGBA) or a Pillow image. Files are recognised by content,
    never by name: JPEG, PNG, BMP, TIFF (every page), WebP, GIF (first frame) and PDF (every page,
    rendered at ``pdf_dpi``, default ``limits.pdf_dpi``). EXIF orientation is applied and
    transparency is composited on white.

    ``limits`` defaults to ``get_settings().limits``; ``max_pages`` overrides ``limits.max_pages``
    for this call. Byte, pixel and page limits are checked before decoding, and exceeding one
    raises (never a silent resize). Every failure is an :class:`~luodi.errors.InputError`:
    ``InputNotFoundError``, ``EmptyInputError``, ``UnsupportedFormatError``, ``CorruptInputError``,
    ``TooManyBytesError``, ``TooManyPixelsError``, ``TooManyPagesError``, ``PdfError``,
    ``EncryptedPdfError``.

    An array that already is RGB ``uint8`` and C-contiguous is returned without a copy.
    """
    return list(iter_pages(source, limits, pdf_dpi=pdf_dpi, max_pages=max_pages))


def iter_pages(
    source: Source,
    limits: Limits | None = None,
    *,
    pdf_dpi: int | None = None,
    max_pages: int | None = None,
) -> Iterator[np.ndarray]:
    """Like :func:`load_pages`, but yields one page at a time (a long PDF never sits in memory whole).

    Errors are raised when iteration starts (limits, format, page count) or at the page that
    fails to decode.
    """
    limits = limits if limits is not None else get_settings().limits
    dpi = _checked_dpi(pdf_dpi if pdf_dpi is not None else limits.pdf_dpi)
    page_limit = _checked_max_pages(max_pages if max_pages is not None else limits.max_pages)

    if isinstance(source, np.ndarray):
        yield array_to_rgb(source, limits)
        return
    if isinstance(source, Image.Image):
        yield pil_to_rgb(source, limits=limits)
        return
    data = _source_bytes(source, limits)
    fmt = sniff(data)
    if fmt == "pdf":
        yield from iter_pdf_pages(data, limits, dpi, page_limit)
    else:
        yield from iter_image_pages(data, fmt, limits, page_limit)


def _source_bytes(source: Source, limits: Limits) -> bytes:
    """The encoded file behind a path or bytes, within the byte limit; refuses other types."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        _check_byte_count(len(data), limits, "the input")
        if not data:
            raise EmptyInputError("the input is empty (0 bytes)")
        return data
    if isinstance(source, str | os.PathLike):
        return read_file(source, limits)
    raise InputError(f"cannot read a {type(source).__name__}: pass a path, bytes, a numpy array or a PIL image")


def page_sizes(
    source: Source,
    limits: Limits | None = None,
    *,
    pdf_dpi: int | None = None,
    max_pages: int | None = None,
) -> list[tuple[int, int]]:
    """``(width, height)`` of every page :func:`iter_pages` would decode, read from headers and the
    PDF page tree without decoding a pixel: what a caller checks a budget of pixels against before
    it spends any time. Raises what decoding would for the byte and page limits, a format it does
    not know or a broken header; a single page over the pixel limit raises too.
    """
    limits = limits if limits is not None else get_settings().limits
    dpi = _checked_dpi(pdf_dpi if pdf_dpi is not None else limits.pdf_dpi)
    page_limit = _checked_max_pages(max_pages if max_pages is not None else limits.max_pages)
    if isinstance(source, np.ndarray):
        return [(int(source.shape[1]), int(source.shape[0]))] if source.ndim >= 2 else []
    if isinstance(source, Image.Image):
        return [source.size]
    data = _source_bytes(source, limits)
    fmt = sniff(data)
    if fmt == "pdf":
        return pdf_page_sizes(data, dpi, page_limit)
    return image_page_sizes(data, fmt, limits, page_limit)


def read_file(path: str | os.PathLike[str], limits: Limits) -> bytes:
    """The bytes of the file at ``path``, refusing files over ``limits.max_bytes`` before reading them."""
    name = os.fspath(path)
    try:
        info = os.stat(name)
    except FileNotFoundError as exc:
        raise InputNotFoundError(f"{name}: no such file") from exc
    except OSError as exc:
        raise InputNotFoundError(f"{name}: cannot read it ({exc.strerror or exc})") from exc
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{name} is a folder, not a file (expand folders with luodi.io.iter_sources)")
    if stat.S_ISREG(info.st_mode):
        _check_byte_count(info.st_size, limits, name)
    try:
        with open(name, "rb") as handle:
            # Read one byte past the limit: a FIFO or a file growing under us has no honest stat size.
            data = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise InputNotFoundError(f"{name}: cannot read it ({exc.strerror or exc})") from exc
    _check_byte_count(len(data), limits, name, exact=False)
    if not data:
        raise EmptyInputError(f"{name} is empty (0 bytes)")
    return data


def _check_byte_count(size: int, limits: Limits, what: str, *, exact: bool = True) -> None:
    if size > limits.max_bytes:
        amount = _mb(size) if exact else f"more than {_mb(limits.max_bytes)}"
        raise TooManyBytesError(f"{what} is {amount}, over the limit of {_mb(limits.max_bytes)}")


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def _checked_dpi(dpi: int) -> int:
    if not 36 <= dpi <= 600:
        raise ConfigError(f"pdf_dpi must be between 36 and 600, got {dpi}")
    return int(dpi)


def _checked_max_pages(pages: int) -> int:
    if pages < 1:
        raise ConfigError(f"max_pages must be at least 1, got {pages}")
    return int(pages)
