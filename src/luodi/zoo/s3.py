"""Bundles over S3 (or MinIO): ``luodi models push NAME s3://bucket/prefix`` and ``pull --from``.

Layout: ``s3://bucket/prefix/<name>/bundle.json`` plus the bundle's files under the same relative
paths as in the store. Checksums are verified on both ends: ``push`` re-hashes the local files
before sending and stores each sha256 as object metadata; ``pull --from`` re-hashes every
downloaded file against the manifest, and for a built-in name also checks the manifest against the
pins compiled into luodi, so a bucket cannot substitute other weights under a built-in name.
The manifest is uploaded last, so a reader never finds a manifest whose files are not there yet.

boto3 is optional (``pip install 'luodi[s3]'``) and imported only here. The endpoint comes from
``LUODI_S3_ENDPOINT_URL`` (MinIO, a local test server) or boto3's own configuration; credentials
from boto3's usual chain (environment, profile, instance role).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from luodi.errors import ConfigError, ModelError, ModelIntegrityError, ModelSourceError
from luodi.zoo.files import DIR_MODE, FILE_MODE, file_lock, link_or_copy, sha256_file, store_errors, swap_dir
from luodi.zoo.registry import BUILTINS
from luodi.zoo.store import (
    MANIFEST,
    PullReport,
    bundle_dir,
    bundle_from_manifest,
    check_name,
    get_bundle,
    lock_path,
    models_dir,
    resolve_home,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class S3Location:
    bucket: str
    prefix: str  # without leading or trailing "/"; may be empty

    def key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def parse_s3_url(url: str) -> S3Location:
    if not url.startswith("s3://"):
        raise ConfigError(f"expected an s3://bucket/prefix URL, got {url!r}")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise ConfigError(f"no bucket in {url!r}")
    return S3Location(bucket, prefix.strip("/"))


def _client() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise ModelSourceError("S3 transfer needs boto3: pip install 'luodi[s3]'") from exc
    from luodi.config import get_settings

    return boto3.client("s3", endpoint_url=get_settings().s3_endpoint_url or None)


def _client_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def s3_client() -> Any:
    """A boto3 S3 client configured as for bundles (``LUODI_S3_ENDPOINT_URL``, boto3's credentials)."""
    return _client()


def client_errors() -> tuple[type[BaseException], ...]:
    """The botocore exceptions an S3 call may raise."""
    return _client_errors()


@dataclass(frozen=True, slots=True)
class PushReport:
    name: str
    url: str
    uploaded: tuple[str, ...]  # relative paths sent by this call
    kept: tuple[str, ...]  # already there with the same sha256


def push(name: str, url: str, home: Path | str | None = None) -> PushReport:
    """Upload a pulled or registered bundle; files already there with the same sha256 are skipped."""
    home_path = resolve_home(home)
    bundle = get_bundle(name, home_path, verify=True)  # never publish a damaged file
    root = bundle_dir(home_path, name)
    manifest = root / MANIFEST
    if not manifest.is_file():
        raise ModelError(f"{manifest} is missing; run `luodi models pull {name}` to write it")
    where = parse_s3_url(url)
    client = _client()
    errors = _client_errors()
    uploaded, kept = [], []
    try:
        for f in bundle.files:
            rel = f.path.relative_to(root).as_posix()
            key = where.key(name, rel)
            if _remote_sha(client, where.bucket, key) == f.sha256:
                kept.append(rel)
                continue
            with f.path.open("rb") as fh:
                client.put_object(Bucket=where.bucket, Key=key, Body=fh, Metadata={"sha256": f.sha256})
            uploaded.append(rel)
        data = manifest.read_bytes()
        client.put_object(
            Bucket=where.bucket,
            Key=where.key(name, MANIFEST),
            Body=data,
            Metadata={"sha256": hashlib.sha256(data).hexdigest()},
            ContentType="application/json",
        )
    except errors as exc:
        raise ModelSourceError(f"push of {name} to {where} failed: {exc}") from exc
    log.info("pushed %s to %s (%d uploaded, %d unchanged)", name, where, len(uploaded), len(kept))
    return PushReport(name, str(where), tuple(uploaded), tuple(kept))


def _remote_sha(client: Any, bucket: str, key: str) -> str | None:
    from botocore.exceptions import ClientError

    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    meta = head.get("Metadata") or {}
    value = meta.get("sha256")
    return value if isinstance(value, str) else None


def pull_from(name: str, url: str, home: Path | str | None = None) -> PullReport:
    """Fetch a bundle pushed with :func:`push`; the local bundle is replaced only once all is verified."""

    check_name(name)
    home_path = resolve_home(home)
    where = parse_s3_url(url)
    client = _client()
    errors = _client_errors()
    root = bundle_dir(home_path, name)
    with store_errors(f"cannot pull {name} into {models_dir(home_path)}"):
        return _pull_from(name, where, client, errors=errors, home_path=home_path, root=root)


def _pull_from(
    name: str, where: S3Location, client: Any, *, errors: tuple[type[BaseException], ...], home_path: Path, root: Path
) -> PullReport:
    import json

    models_dir(home_path).mkdir(parents=True, exist_ok=True)
    with file_lock(lock_path(home_path, name)):
        staging = Path(tempfile.mkdtemp(prefix=f".staging-{name}-", dir=models_dir(home_path)))
        staging.chmod(DIR_MODE)
        try:
            try:
                raw = client.get_object(Bucket=where.bucket, Key=where.key(name, MANIFEST))["Body"].read()
            except errors as exc:
                raise ModelSourceError(f"no bundle {name!r} at {where}: {exc}") from exc
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ModelSourceError(f"{where.key(name, MANIFEST)} is not valid JSON") from exc
            if not isinstance(data, dict) or data.get("name") != name:
                raise ModelSourceError(f"the manifest at {where}/{name} is not for {name!r}")
            remote = bundle_from_manifest(data, root)  # also refuses paths outside the bundle folder
            _check_against_pins(name, remote.files, root)
            fetched, kept = [], []
            for f in remote.files:
                rel = f.path.relative_to(root).as_posix()
                target = staging / rel
                if f.path.is_file() and f.path.stat().st_size == f.bytes and sha256_file(f.path) == f.sha256:
                    link_or_copy(f.path, target)
                    kept.append(f.role)
                    continue
                _download(
                    client, where.bucket, where.key(name, rel), target, sha256=f.sha256, size=f.bytes, errors=errors
                )
                fetched.append(f.role)
            (staging / MANIFEST).write_bytes(raw)
            (staging / MANIFEST).chmod(FILE_MODE)
            swap_dir(staging, root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return PullReport(name, tuple(fetched), tuple(kept), sum(f.bytes for f in remote.files))


def _check_against_pins(name: str, files: Any, root: Path) -> None:
    recipe = BUILTINS.get(name)
    if recipe is None:
        return
    pinned = {f.path: f.sha256 for f in recipe.files}
    remote = {f.path.relative_to(root).as_posix(): f.sha256 for f in files}
    if remote != pinned:
        raise ModelIntegrityError(
            f"the bucket's {name!r} does not match the files pinned for the built-in {name!r}; "
            "push fine-tuned or quantized models under a name of their own"
        )


def _download(
    client: Any, bucket: str, key: str, target: Path, *, sha256: str, size: int, errors: tuple[type[BaseException], ...]
) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    got = 0
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        with target.open("wb") as fh:
            for chunk in iter(lambda: body.read(1 << 20), b""):
                digest.update(chunk)
                got += len(chunk)
                fh.write(chunk)
    except errors as exc:
        raise ModelSourceError(f"cannot download s3://{bucket}/{key}: {exc}") from exc
    target.chmod(FILE_MODE)
    if got != size or digest.hexdigest() != sha256:
        raise ModelIntegrityError(
            f"s3://{bucket}/{key} gave {got} bytes with sha256 {digest.hexdigest()}, "
            f"expected {size} bytes with {sha256}"
        )
