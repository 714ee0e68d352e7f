"""Reading uploads: one file (multipart ``file`` or JSON ``{"image": base64}``) or many (multipart
``files``), with the byte and file-count limits applied while reading."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import UploadFile

from luodi.config import Limits
from luodi.errors import EmptyInputError, InputError, TooManyBytesError, TooManyFilesError, UnsupportedFormatError
from luodi.pipeline import Item


@dataclass(frozen=True, slots=True)
class Uploads:
    """The files of a multipart request in order, its plain fields, and whether it sent one ``file``."""

    items: list[Item]
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


async def many_inputs(request: Request, limits: Limits, *, field_names: tuple[str, ...] = ("files",)) -> Uploads:
    """The uploaded files in order, and the plain (non-file) form fields."""
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
        items = [Item(await _read_upload(u, limits), u.filename or None) for u in uploads if isinstance(u, UploadFile)]
        fields: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                fields.setdefault(key, []).append(value)
            elif key not in field_names:
                raise InputError(f"unexpected file in field {key!r}")
        single = len(items) == 1 and not form.getlist("files")
    return Uploads(items, fields, single)
