"""Format detection by content, with a helpful description of what we refuse."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest
from io_samples import encode, make_pdf
from PIL import Image

from luodi.errors import EmptyInputError, UnsupportedFormatError
from luodi.io import SUPPORTED_FORMATS, describe, is_supported, sniff

_IMAGE = Image.new("RGB", (8, 8), "white")


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (encode(_IMAGE, "JPEG"), "jpeg"),
        (encode(_IMAGE, "PNG"), "png"),
        (encode(_IMAGE, "BMP"), "bmp"),
        (encode(_IMAGE, "TIFF"), "tiff"),
        (encode(_IMAGE, "TIFF", compression="tiff_lzw"), "tiff"),
        (encode(_IMAGE, "WEBP"), "webp"),
        (encode(_IMAGE, "GIF"), "gif"),
        (make_pdf([(10, 10)]), "pdf"),
    ],
)
def test_supported_formats_are_recognised(data: bytes, fmt: str) -> None:
    assert sniff(data) == fmt
    assert sniff(data[:1024]) == fmt, "the head of a file is enough"
    assert is_supported(data)
    assert fmt in SUPPORTED_FORMATS


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as handle:
        handle.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (_zip(), "ZIP archive"),
        (gzip.compress(b"hello"), "gzip"),
        ("运单号：SF1234567890\n收件人：张三\n".encode(), "text"),
        (b"name,phone\nzhang,138\n", "text"),
        (b'{"source": "a.jpg"}', "JSON"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "HTML"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", "AVIF"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 50, "executable"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "Office"),
        (b"%!PS-Adobe-3.0\n", "PostScript"),
    ],
)
def test_unsupported_content_is_described(data: bytes, looks_like: str) -> None:
    with pytest.raises(UnsupportedFormatError, match=looks_like) as caught:
        sniff(data)
    assert "expected JPEG, PNG" in caught.value.message
    assert not is_supported(data)


def test_unknown_binary_says_so() -> None:
    with pytest.raises(UnsupportedFormatError, match="not recognised"):
        sniff(bytes(range(256)))
    assert describe(bytes(range(256))) is None


def test_text_cut_inside_a_multibyte_character_is_still_text() -> None:
    text = ("收件人张三" * 100).encode()
    assert describe(text[:1024]) == "text"  # 1024 is not a multiple of 3: the head ends mid-character


def test_bm_text_is_not_a_bitmap() -> None:
    with pytest.raises(UnsupportedFormatError, match="text"):
        sniff(b"BM is how this sentence starts, but it is not a bitmap.")


def test_empty_is_its_own_error() -> None:
    with pytest.raises(EmptyInputError):
        sniff(b"")
