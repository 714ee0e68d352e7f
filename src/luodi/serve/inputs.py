"""Reading uploads: one file (multipart ``file`` or JSON ``{"image": base64}``) or many (multipart
``files``), with the byte and file-count limits applied while reading.

Many files (a batch, a job) go to disk, not memory: each file past :data:`IN_MEMORY_BYTES` is
copied into the request's :class:`Spool` (a private folder removed when the request's work is done)
and read back one at a time while the pipeline runs, so a batch of 32 files of 20 MB costs one
file's bytes in memory, not 640 MB. One file (``single_input``) is at most ``max_bytes``; it stays
in memory.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, overload

from fastapi import Request
from starlette.datastructures import UploadFile

from luodi.config import Limits
from luodi.errors import (
    EmptyInputError,
    InputError,
    LuodiError,
    TooManyBytesError,
    TooManyFilesError,
    TooManyPixelsError,
    UnsupportedFormatError,
)
from luodi.pipeline import Item

#: an uploaded file up to this size stays in memory; a larger one is spooled to disk
IN_MEMORY_BYTES = 1 << 20
_CHUNK = 1 << 20


class Spool:
    """A request's uploads on disk: a private folder made on first use, removed by :meth:`close`
    (idempotent; the request's inference thread calls it when it is done, see ``ServiceState.admit``)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self._dir: Path | None = None

    def new_file(self, stem: str) -> Path:
        if self._dir is None:
            if self.root is not None:
                self.root.mkdir(parents=True, exist_ok=True)
            self._dir = Path(tempfile.mkdtemp(prefix="luodi-upload-", dir=self.root))
        return self._dir / stem

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class Upload:
    """One uploaded file: its bytes when small, else the spooled file that holds them."""

    name: str | None
    size: int
    data: bytes | None = None
    path: Path | None = None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()

    def head(self, n: int = 64) -> bytes:
        if self.data is not None:
            return self.data[:n]
        assert self.path is not None
        with open(self.path, "rb") as fh:
            return fh.read(n)

    def item(self) -> Item:
        return Item(self.read(), self.name)


class UploadItems(Sequence[Item]):
    """The uploads as pipeline items, each file read when it is reached and let go after: iterating
    (what ``Pipeline.run_many`` does) holds one file's bytes at a time."""

    def __init__(self, uploads: Sequence[Upload]) -> None:
        self.uploads = tuple(uploads)

    def __len__(self) -> int:
        return len(self.uploads)

    @overload
    def __getitem__(self, index: int) -> Item: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Item]: ...
    def __getitem__(self, index: int | slice) -> Item | Sequence[Item]:
        if isinstance(index, slice):
            return UploadItems(self.uploads[index])
        return self.uploads[index].item()

    def __iter__(self) -> Iterator[Item]:
        for upload in self.uploads:
            yield upload.item()

    @property
    def total_bytes(self) -> int:
        return sum(u.size for u in self.uploads)


@dataclass(frozen=True, slots=True)
class Uploads:
    """The files of a multipart request in order, its plain fields, and whether it sent one ``file``."""

    items: UploadItems
    fields: dict[str, list[str]]
    single: bool

    def field(self, name: str) -> str | None:
        values = self.fields.get(name) or [""]
        if len(values) > 1:
            raise InputError(f"field {name!r} given more than once")
        return values[0] or None


def check_upload(data: bytes) -> None:
    """Refuse an empty or unsupported file before it takes an inference slot."""
    from luodi.io import sniff

    if not data:
        raise EmptyInputError("the uploaded file is empty")
    sniff(data)


async def _read_upload(upload: UploadFile, limits: Limits) -> bytes:
    data = await upload.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise TooManyBytesError(f"file {upload.filename!r} is larger than {limits.max_bytes} bytes")
    return data


def _spool_upload(src: IO[bytes], name: str | None, spool: Spool, index: int, limits: Limits) -> Upload:
    """Copy one parsed upload (Starlette's own spooled file) into ``spool``, or keep it when small."""
    src.seek(0)
    head = src.read(IN_MEMORY_BYTES + 1)
    if len(head) <= IN_MEMORY_BYTES:
        return Upload(name, len(head), data=head)
    path = spool.new_file(f"upload-{index}")
    size = len(head)
    with open(path, "wb") as out:
        out.write(head)
        del head
        while chunk := src.read(_CHUNK):
            size += len(chunk)
            if size > limits.max_bytes:
                raise TooManyBytesError(f"file {name!r} is larger than {limits.max_bytes} bytes")
            out.write(chunk)
    if size > limits.max_bytes:
        raise TooManyBytesError(f"file {name!r} is larger than {limits.max_bytes} bytes")
    return Upload(name, size, path=path)


def move_upload(upload: Upload, dest: Path) -> None:
    """Put ``upload``'s bytes at ``dest`` (a rename when the spool is on the same file system)."""
    if upload.path is not None:
        shutil.move(os.fspath(upload.path), dest)
    else:
        dest.write_bytes(upload.read())


async def single_input(request: Request, limits: Limits) -> Item:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        # the context manager closes the spooled temporary files however we leave
        async with request.form(max_files=1, max_fields=8) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InputError("multipart body needs a file in the field 'file'")
            data = await _read_upload(upload, limits)
            name = upload.filename or None
    elif ctype == "application/json":
        raw = await request.body()
        # JSON parsing and base64 decoding of a ~27 MB body take long enough to stall the event loop
        data, name = await asyncio.to_thread(_decode_json_image, raw, limits)
    else:
        raise UnsupportedFormatError("send multipart/form-data with a 'file' field, or application/json with 'image'")
    check_upload(data)
    return Item(data, name)


def _decode_json_image(raw: bytes, limits: Limits) -> tuple[bytes, str | None]:
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InputError("body is not valid JSON") from None
    except RecursionError:  # arrays nested thousands deep
        raise InputError("body is JSON nested too deeply") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("image"), str):
        raise InputError('JSON body must be an object {"image": "<base64>"}')
    name = payload.get("name")
    if name is not None and not isinstance(name, str):
        raise InputError("'name' must be a string")
    encoded = payload["image"]
    if len(encoded) > limits.max_bytes * 4 // 3 + 4:
        raise TooManyBytesError(f"image is larger than {limits.max_bytes} bytes")
    try:
        return base64.b64decode(encoded, validate=True), name
    except (binascii.Error, ValueError):
        raise InputError("'image' is not valid base64") from None


async def many_inputs(
    request: Request,
    limits: Limits,
    *,
    field_names: tuple[str, ...] = ("files",),
    spool: Spool | None = None,
) -> Uploads:
    """The uploaded files in order, and the plain (non-file) form fields. With a ``spool`` files
    past :data:`IN_MEMORY_BYTES` are kept there, on disk; without one every file stays in memory."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data":
        raise UnsupportedFormatError("send multipart/form-data with one or more 'files' fields")
    async with request.form(max_files=limits.max_files + 1, max_fields=16) as form:
        uploads = [u for name in field_names for u in form.getlist(name)]
        if any(not isinstance(u, UploadFile) for u in uploads):
            raise InputError(f"fields {', '.join(field_names)} must be files")
        if not uploads:
            raise InputError(f"no files: send them in the multipart field {' or '.join(repr(n) for n in field_names)}")
        if len(uploads) > limits.max_files:
            raise TooManyFilesError(f"{len(uploads)} files in one request; the limit is {limits.max_files}")
        files: list[Upload] = []
        for index, u in enumerate(uploads):
            assert isinstance(u, UploadFile)
            name = u.filename or None
            if spool is None:
                data = await _read_upload(u, limits)
                files.append(Upload(name, len(data), data=data))
            else:  # a thread: the copy is disk work, off the event loop
                files.append(await asyncio.to_thread(_spool_upload, u.file, name, spool, index, limits))
        fields: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                fields.setdefault(key, []).append(value)
            elif key not in field_names:
                raise InputError(f"unexpected file in field {key!r}")
        single = len(files) == 1 and not form.getlist("files")
    return Uploads(UploadItems(files), fields, single)


def check_pixel_budget(items: Iterable[Item], limits: Limits, budget: int, *, strict: bool) -> int:
    """Refuse a request whose pages come to more than ``budget`` pixels together (422
    ``too_many_pixels``), from headers and PDF page trees only, before any page is decoded.

    An item whose header cannot be read raises its own error when ``strict`` (one file: the answer
    it would get anyway) and is skipped otherwise (a batch: it fails on its own when it runs).
    Returns the pixels counted.
    """
    from luodi.io import page_sizes

    total = pages = 0
    for item in items:
        try:
            sizes = page_sizes(item.source, limits)
        except LuodiError:
            if strict:
                raise
            continue
        pages += len(sizes)
        total += sum(w * h for w, h in sizes)
        if total > budget:
            raise TooManyPixelsError(
                f"the request's pages come to more than {budget / 1e6:.0f} megapixels ({pages} pages counted "
                f"so far), the limit for one request: send fewer or smaller pages, or split the request"
            )
    return total
