"""API keys: only sha256 hashes are kept in memory or on disk.

Sources (``ServeSettings.key_hashes()``): ``LUODI_API_KEYS`` (comma-separated plain keys, hashed as
soon as the settings read them) and a keys file with one ``sha256:<hex>`` per line (``#`` comments and
a trailing label allowed), made with e.g. ``printf %s "$KEY" | sha256sum``. A request carries
``Authorization: Bearer KEY`` or ``X-API-Key: KEY``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from pathlib import Path

from luodi.errors import AuthError, ConfigError

_HEX = re.compile(r"^[0-9a-f]{64}$")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_keys_file(path: Path) -> frozenset[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read API keys file {path}: {exc.strerror}") from exc
    hashes: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        token = line.split()[0]
        digest = token.removeprefix("sha256:").lower()
        if not _HEX.match(digest):
            raise ConfigError(f"{path}:{number}: expected 'sha256:<64 hex digits>', not a plain key or other text")
        hashes.add(digest)
    return frozenset(hashes)


class KeyChecker:
    """Checks a presented key against the stored hashes in constant time per hash."""

    def __init__(self, hashes: Iterable[str]) -> None:
        self._hashes = tuple(sorted(set(hashes)))

    @property
    def enabled(self) -> bool:
        return bool(self._hashes)

    def check(self, authorization: str | None, api_key: str | None) -> str | None:
        """The sha256 of the presented key when it is one of ours (``None`` when keys are off);
        raises :class:`AuthError` otherwise."""
        if not self._hashes:
            return None
        presented = api_key
        if presented is None and authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                presented = value.strip()
        if not presented:
            raise AuthError("missing API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'")
        digest = hash_key(presented)
        # compare against every hash so the time does not depend on which one matched
        matched = False
        for stored in self._hashes:
            matched |= hmac.compare_digest(stored, digest)
        if not matched:
            raise AuthError("invalid API key")
        return digest
