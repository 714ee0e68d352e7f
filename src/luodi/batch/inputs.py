"""What a batch reads: the list of inputs named by a folder, a glob, a list file or ``s3://bucket/prefix``.

The list is built once, on the driver, in a stable order (natural sort), so that a run cut into
parts of ``part_size`` inputs is cut the same way when it is resumed. Each input is a *reference*:
a local path as the user would name it, or an ``s3://bucket/key`` URL. Workers read the bytes of a
reference themselves (:func:`read_input`), so a cluster reads from shared storage (S3, NFS) and the
driver never holds the documents.
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from luodi.config import Limits
from luodi.errors import ConfigError, InputError, InputNotFoundError, ModelSourceError, TooManyBytesError
from luodi.io.load import read_file
from luodi.io.sources import natural_key

log = logging.getLogger("luodi.batch")

#: A file with one of these endings is a list of inputs (one path or s3:// URL a line, ``#`` comments).
LIST_SUFFIXES = (".lst", ".list")
#: What a text task reads from a folder or a glob (one text per line).
TEXT_SUFFIXES = (".txt",)


@dataclass(frozen=True, slots=True)
class Inputs:
    """The references of one batch run, in order, and where they were listed from."""

    spec: str
    refs: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.refs)


def list_inputs(spec: str, *, takes: str = "pages", s3: Callable[[], Any] | None = None) -> Inputs:
    """The inputs named by ``spec``: a folder (recursive), a glob (``'scans/**/*.jpg'``), a list file
    (``*.lst`` / ``*.list``, or ``*.txt`` for page tasks), a single file, or ``s3://bucket/prefix``.

    ``takes`` is the task's input kind: ``"pages"`` keeps images and PDFs in a folder, ``"text"``
    keeps ``*.txt`` files. ``s3`` makes the boto3 client (default: the zoo's, which honours
    ``LUODI_S3_ENDPOINT_URL``). A missing folder, file or bucket raises; an S3 prefix with no
    objects gives an empty list (the caller warns).
    """
    if spec.startswith("s3://"):
        return Inputs(spec, tuple(_list_s3(spec, s3)))
    if _is_list_file(spec, takes):
        return Inputs(spec, tuple(_read_list_file(spec)))
    if os.path.isdir(spec):
        return Inputs(spec, tuple(_list_folder(spec, takes)))
    if os.path.exists(spec):
        return Inputs(spec, (spec,))
    if glob.has_magic(spec):
        found = [p for p in glob.glob(spec, recursive=True) if os.path.isfile(p)]
        return Inputs(spec, tuple(sorted(found, key=natural_key)))
    raise InputNotFoundError(f"{spec}: no such file, folder or glob match")


def _is_list_file(spec: str, takes: str) -> bool:
    if not os.path.isfile(spec):
        return False
    lower = spec.lower()
    return lower.endswith(LIST_SUFFIXES) or (takes == "pages" and lower.endswith(".txt"))


def _read_list_file(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            lines = [line.strip() for line in fh]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the list file {path}: {exc}") from exc
    base = os.path.dirname(path)
    refs = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        # relative paths in a list file are relative to the list file, as in PaddleOCR's label files
        refs.append(line if line.startswith("s3://") or os.path.isabs(line) else os.path.join(base, line))
    return refs


def _list_folder(folder: str, takes: str) -> list[str]:
    if takes == "pages":
        from luodi.io import iter_sources

        return list(iter_sources([folder]))
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [os.path.join(root, f) for f in files if f.lower().endswith(TEXT_SUFFIXES) and not f.startswith(".")]
    return sorted(found, key=natural_key)


def _list_s3(url: str, make_client: Callable[[], Any] | None) -> list[str]:
    from luodi.zoo.s3 import client_errors, parse_s3_url, s3_client

    where = parse_s3_url(url)
    client = (make_client or s3_client)()
    prefix = f"{where.prefix}/" if where.prefix else ""
    keys: list[str] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=where.bucket, Prefix=prefix):
            keys += [obj["Key"] for obj in page.get("Contents", ()) if not obj["Key"].endswith("/")]
    except client_errors() as exc:
        raise InputNotFoundError(f"cannot list {url}: {exc}") from exc
    return [f"s3://{where.bucket}/{key}" for key in sorted(keys, key=natural_key)]


def read_input(ref: str, limits: Limits, *, s3: Any | None = None) -> bytes:
    """The bytes of one input (a worker calls this); any failure is an :class:`InputError`. A local
    file is read as :mod:`luodi.io` reads any path (its size checked before a byte is read)."""
    if ref.startswith("s3://"):
        return _read_s3(ref, limits.max_bytes, s3)
    return read_file(ref, limits)


def _read_s3(ref: str, max_bytes: int, client: Any | None) -> bytes:
    from luodi.zoo.s3 import client_errors, parse_s3_url, s3_client

    where = parse_s3_url(ref)
    try:
        client = client if client is not None else s3_client()
        obj = client.get_object(Bucket=where.bucket, Key=where.prefix)
        if int(obj.get("ContentLength") or 0) > max_bytes:
            raise TooManyBytesError(f"{ref} has {obj['ContentLength']} bytes, more than the limit of {max_bytes}")
        data: bytes = obj["Body"].read()
        return data
    except ModelSourceError as exc:  # boto3 missing
        raise ConfigError(exc.message) from exc
    except client_errors() as exc:
        raise InputNotFoundError(f"cannot read {ref}: {exc}") from exc


def fingerprint(refs: Sequence[str]) -> str:
    """A sha256 over the references in order: a resumed run must cut the same list the same way."""
    import hashlib

    digest = hashlib.sha256()
    for ref in refs:
        digest.update(ref.encode("utf-8", "surrogateescape") + b"\n")
    return digest.hexdigest()
