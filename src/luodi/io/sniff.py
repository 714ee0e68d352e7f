"""Input type detection by content (magic bytes), never by file name.

A waybill photo saved as ``scan.pdf`` or a PDF uploaded as ``photo.jpg`` must still be decoded
correctly, and a ZIP or a text file must be refused with a message that says what it looks like,
so the user can fix the input without guessing.
"""

from __future__ import annotations

from luodi.errors import EmptyInputError, UnsupportedFormatError

#: Formats :func:`sniff` recognises and :func:`luodi.io.load_pages` decodes.
SUPPORTED_FORMATS: tuple[str, ...] = ("jpeg", "png", "bmp", "tiff", "webp", "gif", "pdf")

#: Bytes of the head of a file :func:`sniff` needs; reading this much is always enough.
SNIFF_BYTES = 1024

_SUPPORTED_TEXT = "JPEG, PNG, BMP, TIFF, WebP, GIF or PDF"

# PDF allows junk before the header as long as "%PDF-" appears in the first 1024 bytes.
_PDF_MAGIC = b"%PDF-"

# Sizes of the BMP info headers that exist (core, v1..v5, OS/2 v2), as the low byte of the field.
_DIB_HEADER_SIZES = frozenset(bytes([n]) for n in (12, 40, 52, 56, 64, 108, 124))

# (magic, offset, description) of things people upload by mistake; only used for the message.
_KNOWN_OTHERS: tuple[tuple[bytes, int, str], ...] = (
    (b"PK\x03\x04", 0, "a ZIP archive (or an Office document such as .docx/.xlsx)"),
    (b"PK\x05\x06", 0, "an empty ZIP archive"),
    (b"\x1f\x8b", 0, "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive"),
    (b"Rar!\x1a\x07", 0, "a RAR archive"),
    (b"BZh", 0, "a bzip2 archive"),
    (b"\xfd7zXZ\x00", 0, "an xz archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "an old Microsoft Office document (.doc/.xls)"),
    (b"\x7fELF", 0, "an executable (ELF)"),
    (b"MZ", 0, "a Windows executable"),
    (b"8BPS", 0, "a Photoshop document (PSD)"),
    (b"\x00\x00\x01\x00", 0, "an icon file (ICO)"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", 0, "a JPEG 2000 image"),
    (b"\xff\x4f\xff\x51", 0, "a JPEG 2000 codestream"),
    (b"%!PS", 0, "a PostScript file"),
    (b"{\\rtf", 0, "an RTF document"),
    (b"SQLite format 3\x00", 0, "an SQLite database"),
    (b"\x1a\x45\xdf\xa3", 0, "a Matroska/WebM video"),
    (b"ID3", 0, "an MP3 audio file"),
    (b"OggS", 0, "an Ogg media file"),
    (b"fLaC", 0, "a FLAC audio file"),
)

# ISO base media "ftyp" brands (offset 4); HEIC is what iPhones save by default.
_FTYP_BRANDS: dict[bytes, str] = {
    b"heic": "a HEIC image (convert it to JPEG or PNG)",
    b"heix": "a HEIC image (convert it to JPEG or PNG)",
    b"hevc": "a HEIC image sequence",
    b"mif1": "a HEIF image (convert it to JPEG or PNG)",
    b"msf1": "a HEIF image sequence",
    b"avif": "an AVIF image (convert it to JPEG or PNG)",
    b"avis": "an AVIF image sequence",
    b"qt  ": "a QuickTime video",
}


def sniff(data: bytes) -> str:
    """Name of the format of ``data``, one of :data:`SUPPORTED_FORMATS`, judged by content only.

    Only the first :data:`SNIFF_BYTES` bytes are looked at, so passing just the head of a file
    is enough. Raises :class:`EmptyInputError` for no bytes and :class:`UnsupportedFormatError`
    (saying what the data looks like, when that is recognisable) for anything else.
    """
    head = bytes(data[:SNIFF_BYTES])
    if not head:
        raise EmptyInputError("the input is empty (0 bytes)")
    found = _supported(head)
    if found is not None:
        return found
    looks = describe(head)
    what = f"it looks like {looks}" if looks else "its content is not recognised"
    raise UnsupportedFormatError(f"unsupported input format: {what}; expected {_SUPPORTED_TEXT}")


def is_supported(data: bytes) -> bool:
    """Whether :func:`sniff` would accept ``data`` (never raises)."""
    return _supported(bytes(data[:SNIFF_BYTES])) is not None


def _supported(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):  # classic and BigTIFF
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    # "BM" alone matches plenty of text; also require a plausible DIB header size.
    if head.startswith(b"BM") and head[14:15] in _DIB_HEADER_SIZES and head[15:18] == b"\0\0\0":
        return "bmp"
    if _PDF_MAGIC in head:
        return "pdf"
    return None


def describe(head: bytes) -> str | None:
    """A human description of unsupported content, or ``None`` when it is not recognisable."""
    for magic, offset, text in _KNOWN_OTHERS:
        if head[offset : offset + len(magic)] == magic:
            return text
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return _FTYP_BRANDS.get(brand, "an MP4/ISO media file")
    if head[:4] == b"RIFF":
        kind = head[8:12]
        if kind == b"WAVE":
            return "a WAV audio file"
        if kind == b"AVI ":
            return "an AVI video"
        return "a RIFF container"
    return _describe_text(head)


def _describe_text(head: bytes) -> str | None:
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text"
    try:
        # The head may end in the middle of a multi-byte character; ignore only that tail.
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            return None
        text = head[: exc.start].decode("utf-8")
    if not text:
        return None
    printable = sum(ch.isprintable() or ch in "\r\n\t\f" for ch in text)
    if printable / len(text) < 0.95:
        return None
    stripped = text.lstrip().lower()
    if stripped.startswith(("<!doctype html", "<html")):
        return "an HTML page"
    if stripped.startswith("<svg") or (stripped.startswith("<?xml") and "<svg" in stripped):
        return "an SVG drawing (vector graphics are not supported; export it as PNG)"
    if stripped.startswith("<?xml"):
        return "an XML document"
    if stripped.startswith(("{", "[")):
        return "JSON or other text"
    return "text"
