"""Jobs per API key: who owns a job, how much one key may have queued, and idempotent submission.

Kept on disk beside the jobs (the one thing the server processes and the workers share), under
the jobs folder:

``.owners/<owner>/<job id>``
    a marker per job of the owner that is queued or running, holding its input bytes. Counting a
    key's jobs and bytes reads only that key's markers; a marker whose job finished or vanished
    (a crash between the two writes) is dropped when it is counted, so the ledger heals itself.
``.owners/<owner>.lock``
    an ``flock`` that serialises one key's submissions across server processes: the quota check,
    the job's creation and the idempotency record are one step.
``.idem/<sha256(owner, key)>``
    ``{"job": id, "fingerprint": sha256 of the request}``: the job a key's ``Idempotency-Key``
    made; kept as long as the job is, removed by the reaper after that.

An owner is the first 32 hex digits of the sha256 of the API key (:func:`owner_of`), or
``anonymous`` when the server has no keys; the key itself is never stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from luodi.errors import IdempotencyKeyReusedError, InputError, JobNotFoundError, LuodiError, QuotaExceededError
from luodi.zoo.files import atomic_write_bytes, file_lock

if TYPE_CHECKING:
    from luodi.serve.jobs import JobStore

log = logging.getLogger("luodi.serve.jobs")

ANONYMOUS = "anonymous"
_OWNER = re.compile(r"^([0-9a-f]{32}|anonymous)$")
# printable ASCII without spaces, as the IETF draft and Stripe's keys are; long enough for a UUID or a hash
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def owner_of(key_hash: str | None) -> str:
    """The owner id of a presented key's sha256 (``None``: a server without keys)."""
    return key_hash[:32] if key_hash else ANONYMOUS


def checked_idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.match(value):
        raise InputError("Idempotency-Key must be 1 to 255 printable ASCII characters without spaces")
    return value


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


class Tenants:
    """The per-key ledger of a jobs folder (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.owners = root / ".owners"
        self.idem = root / ".idem"

    def _owner_dir(self, owner: str) -> Path:
        if not _OWNER.match(owner):
            raise ValueError(f"not an owner id: {owner!r}")
        return self.owners / owner

    def locked(self, owner: str) -> contextlib.AbstractContextManager[None]:
        """One submission of ``owner`` at a time, across processes (an ``flock``)."""
        self._owner_dir(owner).mkdir(parents=True, exist_ok=True)
        return file_lock(self.owners / f"{owner}.lock")

    # --- quotas --------------------------------------------------------------------------------
    def usage(self, owner: str, store: JobStore) -> tuple[int, int]:
        """(jobs queued or running, their input bytes) of ``owner``; stale markers are dropped."""
        jobs = total = 0
        folder = self._owner_dir(owner)
        for marker in folder.iterdir() if folder.is_dir() else ():
            if marker.name.startswith("."):
                continue  # a marker being written
            status: str
            try:
                status = store.read(marker.name).status
            except (LuodiError, OSError, ValueError, KeyError):
                status = "gone"
            if status not in ("queued", "running"):
                marker.unlink(missing_ok=True)
                continue
            jobs += 1
            with contextlib.suppress(OSError, ValueError):
                total += int(marker.read_text(encoding="ascii") or 0)
        return jobs, total

    def check_quota(self, owner: str, new_bytes: int, store: JobStore, *, max_jobs: int, max_bytes: int) -> None:
        jobs, queued = self.usage(owner, store)
        if jobs + 1 > max_jobs:
            raise QuotaExceededError(
                f"this API key has {jobs} jobs queued or running, the most it may have ({max_jobs}); "
                "wait for one to finish, then submit again"
            )
        if queued + new_bytes > max_bytes:
            raise QuotaExceededError(
                f"this job's {_mb(new_bytes)} of input would bring what this API key has queued to "
                f"{_mb(queued + new_bytes)}, over its limit of {_mb(max_bytes)}; wait for its jobs to finish "
                "or send less"
            )

    def mark_active(self, owner: str, job_id: str, nbytes: int) -> None:
        atomic_write_bytes(self._owner_dir(owner) / job_id, str(nbytes).encode("ascii"))  # a hidden temp file, renamed

    def release(self, owner: str | None, job_id: str) -> None:
        """The job ended (or was never queued): it no longer counts against its owner."""
        with contextlib.suppress(ValueError):
            (self._owner_dir(owner or ANONYMOUS) / job_id).unlink(missing_ok=True)

    # --- idempotency ---------------------------------------------------------------------------
    def _idem_path(self, owner: str, key: str) -> Path:
        digest = hashlib.sha256(f"{owner}\0{key}".encode()).hexdigest()
        return self.idem / digest

    def recall(self, owner: str, key: str, fingerprint: str, store: JobStore) -> str | None:
        """The id of the job this ``Idempotency-Key`` made, if it still exists; a different request
        under the same key is refused (422). Call under :meth:`locked`."""
        path = self._idem_path(owner, key)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            job_id, first = str(record["job"]), str(record["fingerprint"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        try:
            store.read(job_id)
        except JobNotFoundError:
            path.unlink(missing_ok=True)  # its job expired: the key may make a new one
            return None
        if first != fingerprint:
            raise IdempotencyKeyReusedError(
                "this Idempotency-Key was used for a different request (other files or fields); "
                "use a new key for a new job"
            )
        return job_id

    def remember(self, owner: str, key: str, job_id: str, fingerprint: str) -> None:
        record = json.dumps({"job": job_id, "fingerprint": fingerprint}).encode("utf-8")
        atomic_write_bytes(self._idem_path(owner, key), record)  # makes .idem/ when it is not there yet

    def reap(self, store: JobStore) -> None:
        """Drop idempotency records of jobs that are gone (expired or deleted)."""
        if not self.idem.is_dir():
            return
        for path in self.idem.iterdir():
            if path.name.startswith("."):
                continue
            try:
                store.read(str(json.loads(path.read_text(encoding="utf-8"))["job"]))
            except JobNotFoundError:
                path.unlink(missing_ok=True)
            except (OSError, ValueError, KeyError, TypeError):
                log.warning("unreadable idempotency record", extra={"path": str(path)})
                path.unlink(missing_ok=True)
