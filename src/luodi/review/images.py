"""Where review images live: a folder on disk, or an S3/MinIO bucket (through :mod:`luodi.zoo.s3`).

Images are content-addressed: the key is ``<sha256>.<ext>``, so the same upload is kept once and a
key names its bytes. A key is the only thing the database holds; it is checked against that exact
shape before use, so a row edited to ``../../etc/passwd`` (or any path) is refused, never read.

Disk writes go to a temporary file in the same folder, are fsynced, renamed into place and the
folder fsynced: a kill at any instant leaves either no file or the whole file, and the database row
that names a key is only committed after its image is durable.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

from luodi.errors import ImagePathError, ReviewError, UnsupportedFormatError

_KEY = re.compile(r"^[0-9a-f]{64}\.(png|jpg|gif|bmp|tif|webp)$")
_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/bmp": "bmp", "image/tiff": "tif"}
MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "webp": "image/webp",
}


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise ImagePathError(f"image reference {key!r} is not a key of the review image store; refused")
    return key


def image_ext(data: bytes) -> str:
    """The file extension for image bytes, by content (PNG, JPEG, GIF, BMP, TIFF, WebP)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"BM"):
        return "bmp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    # the caller's input (415), not a failure of the store (a 500 found by schemathesis on POST /ui/api/items)
    raise UnsupportedFormatError("only PNG, JPEG, GIF, BMP, TIFF or WebP images go into the review store")


def key_for(data: bytes) -> str:
    return f"{hashlib.sha256(data).hexdigest()}.{image_ext(data)}"


def media_type(key: str) -> str:
    return MEDIA_TYPES[check_key(key).rsplit(".", 1)[1]]


class ImageStore(Protocol):
    location: str

    def put(self, data: bytes) -> str: ...

    def get(self, key: str) -> bytes: ...


class DiskImageStore:
    """``ROOT/ab/<sha256>.<ext>``; ROOT is made on first write."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.location = str(self.root)

    def path(self, key: str) -> Path:
        check_key(key)
        root = self.root.resolve()
        path = (root / key[:2] / key).resolve()
        if not path.is_relative_to(root):  # cannot happen for a checked key; kept as the last word
            raise ImagePathError(f"image {key!r} is outside the review image store; refused")
        return path

    def put(self, data: bytes) -> str:
        key = key_for(data)
        path = self.path(key)
        if path.is_file() and path.stat().st_size == len(data):
            return key
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_dir(path.parent)
        except OSError as exc:
            raise ReviewError(f"cannot write review image under {self.root}: {exc.strerror or exc}") from exc
        return key

    def get(self, key: str) -> bytes:
        path = self.path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise ReviewError(f"review image {key} is missing from {self.root}") from exc
        except OSError as exc:
            raise ReviewError(f"cannot read review image {key}: {exc.strerror or exc}") from exc


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3ImageStore:
    """``s3://bucket/prefix/<sha256>.<ext>`` through the zoo's S3 client (endpoint, credentials)."""

    def __init__(self, url: str, client: Any = None) -> None:
        from luodi.zoo.s3 import parse_s3_url, s3_client

        self.where = parse_s3_url(url)
        self.location = str(self.where)
        self._client = client if client is not None else s3_client()

    def put(self, data: bytes) -> str:
        from luodi.zoo.s3 import client_errors

        key = key_for(data)
        try:
            # S3 PUTs are atomic: a reader sees the whole object or none
            self._client.put_object(
                Bucket=self.where.bucket,
                Key=self.where.key(key),
                Body=data,
                ContentType=media_type(key),
                Metadata={"sha256": key.split(".", 1)[0]},
            )
        except client_errors() as exc:
            raise ReviewError(f"cannot store review image in {self.where}: {exc}") from exc
        return key

    def get(self, key: str) -> bytes:
        from luodi.zoo.s3 import client_errors

        check_key(key)
        try:
            body: bytes = self._client.get_object(Bucket=self.where.bucket, Key=self.where.key(key))["Body"].read()
        except client_errors() as exc:
            raise ReviewError(f"cannot read review image {key} from {self.where}: {exc}") from exc
        return body


def open_image_store(location: str | Path) -> ImageStore:
    """``s3://bucket/prefix`` or a folder."""
    text = str(location)
    if text.startswith("s3://"):
        return S3ImageStore(text)
    return DiskImageStore(Path(text))
