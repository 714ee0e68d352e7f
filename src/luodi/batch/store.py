"""Where a batch writes: a local folder or an ``s3://bucket/prefix``, each object written atomically.

Locally an object is written to a temporary file in the same folder, flushed to disk and renamed
over its name, so a reader (or a resumed run) sees the whole file or none of it. On S3 a
``PutObject`` is atomic by itself. Only the driver writes; workers never touch the output.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from luodi.errors import OutputError
from luodi.zoo.files import atomic_write_bytes


class Store(Protocol):
    """Names are ``/``-separated paths under the output root."""

    url: str

    def put(self, name: str, data: bytes) -> None: ...

    def get(self, name: str) -> bytes | None: ...

    def names(self, prefix: str = "") -> list[str]: ...

    def delete(self, names: list[str]) -> None: ...


class LocalStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.url = str(root)
        if self.root.exists() and not self.root.is_dir():
            raise OutputError(f"{root} exists and is not a folder")

    def put(self, name: str, data: bytes) -> None:
        target = self.root / name
        try:
            atomic_write_bytes(target, data)  # a hidden temporary file, fsynced, renamed over the name
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc

    def get(self, name: str) -> bytes | None:
        try:
            return (self.root / name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise OutputError(f"cannot read {self.root / name}: {exc.strerror or exc}") from exc

    def names(self, prefix: str = "") -> list[str]:
        base = self.root / prefix if prefix else self.root
        if not base.is_dir():
            return []
        names = []
        for dirpath, _dirs, files in os.walk(base):
            for f in files:
                if not f.startswith("."):  # temporary files of an interrupted write
                    names.append(Path(dirpath, f).relative_to(self.root).as_posix())
        return sorted(names)

    def delete(self, names: list[str]) -> None:
        for name in names:
            try:
                (self.root / name).unlink(missing_ok=True)
            except OSError as exc:
                raise OutputError(f"cannot remove {self.root / name}: {exc.strerror or exc}") from exc


class S3Store:
    def __init__(self, url: str, client: Any | None = None) -> None:
        from luodi.zoo.s3 import client_errors, parse_s3_url, s3_client

        self.where = parse_s3_url(url)
        self.url = str(self.where)
        self._client = client if client is not None else s3_client()
        self._errors = client_errors()

    def put(self, name: str, data: bytes) -> None:
        key = self.where.key(name)
        try:
            self._client.put_object(Bucket=self.where.bucket, Key=key, Body=data)
        except self._errors as exc:
            raise OutputError(f"cannot write s3://{self.where.bucket}/{key}: {exc}") from exc

    def get(self, name: str) -> bytes | None:
        key = self.where.key(name)
        try:
            data: bytes = self._client.get_object(Bucket=self.where.bucket, Key=key)["Body"].read()
            return data
        except self._errors as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code in ("404", "NoSuchKey", "NotFound"):
                return None
            raise OutputError(f"cannot read s3://{self.where.bucket}/{key}: {exc}") from exc

    def names(self, prefix: str = "") -> list[str]:
        root = f"{self.where.prefix}/" if self.where.prefix else ""
        names: list[str] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.where.bucket, Prefix=root + prefix
            )
            for page in pages:
                names += [obj["Key"][len(root) :] for obj in page.get("Contents", ())]
        except self._errors as exc:
            raise OutputError(f"cannot list {self.url}: {exc}") from exc
        return sorted(names)

    def delete(self, names: list[str]) -> None:
        try:
            for start in range(0, len(names), 1000):
                chunk = [{"Key": self.where.key(n)} for n in names[start : start + 1000]]
                self._client.delete_objects(Bucket=self.where.bucket, Delete={"Objects": chunk})
        except self._errors as exc:
            raise OutputError(f"cannot remove objects under {self.url}: {exc}") from exc


def open_store(url: str) -> Store:
    """A :class:`LocalStore` for a path, an :class:`S3Store` for ``s3://bucket/prefix``."""
    return S3Store(url) if url.startswith("s3://") else LocalStore(url)
