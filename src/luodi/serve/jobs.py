"""Asynchronous jobs on Huey: SQLite storage embedded in the server, or Redis for ``luodi worker`` fleets.

The queue carries only job ids, as JSON (:mod:`luodi.serve.queue`: never pickles). Inputs, state
and results live on disk under the jobs directory
(``$LUODI_HOME/jobs/<id>/``: ``input-N``, ``meta.json``, ``result.json``), written atomically and
changed under a per-job file lock, so the server that answers ``GET /v1/jobs/{id}`` and the workers
only share a directory (a shared volume when workers run on other machines).

Durability. Huey removes a message from the queue before running it, so a worker killed with
SIGKILL would lose the job. Each running job therefore carries a heartbeat that its worker refreshes;
a reaper in every consumer process re-enqueues a job whose heartbeat went stale (its worker died),
up to ``max_attempts`` runs. A job is claimed under the lock before it runs and a message for a job
that is finished or owned by a live worker is dropped, so a duplicate message never runs a job twice
at the same time. Results are kept for ``result_ttl_s`` and then deleted by the reaper.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ConfigDict, TypeAdapter
from pydantic.dataclasses import dataclass as pydantic_dataclass

from luodi.errors import JobNotFoundError, LuodiError, QueueUnavailableError
from luodi.pipeline import Item
from luodi.serve.inputs import Upload, UploadItems, check_pixel_budget, move_upload
from luodi.serve.queue import make_huey, register_task
from luodi.serve.tenancy import ANONYMOUS, Tenants
from luodi.serve.webhooks import WebhookSender, check_webhook
from luodi.zoo.files import atomic_write_bytes

if TYPE_CHECKING:
    from luodi.pipeline import Outcome, Pipeline
    from luodi.serve.metrics import Metrics
    from luodi.serve.settings import JobSettings

log = logging.getLogger("luodi.serve.jobs")

JobState = Literal["queued", "running", "succeeded", "failed"]
TASK_NAME = "luodi.run_job"
SPOOL_DIR = ".spool"  # uploads on their way into a job: in the jobs folder, so queuing them is a rename
_ID_CHARS = set("0123456789abcdef")


def new_job_id() -> str:
    return secrets.token_hex(16)


def _valid_id(job_id: str) -> bool:
    return len(job_id) == 32 and set(job_id) <= _ID_CHARS


def _input_bytes(inputs: Sequence[Item]) -> int:
    if isinstance(inputs, UploadItems):
        return inputs.total_bytes
    return sum(len(item.source) for item in inputs)


@dataclass(frozen=True, slots=True)
class JobRequest:
    """What a client asks for: the task and its option, the inputs, and who asks."""

    task: str
    inputs: Sequence[Item]
    schema: str | None = None
    single: bool = True  # one file sent as ``file``: the result is that file's, not a list
    webhook: str | None = None
    owner: str = ANONYMOUS


@pydantic_dataclass(frozen=True, slots=True, config=ConfigDict(extra="ignore"))
class JobMeta:
    """A job's ``meta.json``: what was asked, where it stands, and its history of attempts (read and
    checked by pydantic; fields a later release added are ignored when an older one reads the file)."""

    id: str
    task: str
    schema: str | None
    status: JobState
    single: bool  # one file sent as ``file``: the job's result is that file's result, not a list
    inputs: tuple[str | None, ...]  # the uploaded files' names, in order
    webhook: str | None
    attempts: int
    max_attempts: int
    created_at: float
    updated_at: float
    queued_at: float
    worker: str | None = None
    heartbeat_at: float | None = None
    finished_at: float | None = None
    error: dict[str, str] | None = None
    webhook_delivery: dict[str, Any] | None = None
    owner: str | None = None  # tenancy.owner_of(the key that made it); None: made before owners existed
    input_bytes: int = 0

    def stale(self, after_s: float) -> bool:
        """A running job whose worker has not beaten its heart for ``after_s`` seconds."""
        return time.time() - (self.heartbeat_at or 0.0) > after_s


_META = TypeAdapter(JobMeta)
#: what ``GET /v1/jobs/{id}`` shows of every job, in this order
_VIEW_KEYS = ("id", "status", "task", "schema", "attempts", "created_at", "updated_at", "finished_at")


@dataclass(frozen=True, slots=True)
class Submission:
    """A submitted job, and whether it was made by an earlier request with the same Idempotency-Key."""

    meta: JobMeta
    replayed: bool


class JobStore:
    """Job directories on local disk; every state change happens under the job's file lock."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.tenants = Tenants(root)
        # counts(): each job's status, remembered with its meta.json's identity (inode, mtime, size)
        self._status_cache: dict[str, tuple[tuple[int, int, int], str]] = {}
        self._status_lock = threading.Lock()

    def _dir(self, job_id: str) -> Path:
        if not _valid_id(job_id):
            raise JobNotFoundError(f"no job {job_id!r}")
        return self.root / job_id

    @contextlib.contextmanager
    def locked(self, job_id: str) -> Iterator[Path]:
        d = self._dir(job_id)
        if not d.is_dir():
            raise JobNotFoundError(f"no job {job_id!r} (unknown, or its result expired)")
        with open(d / "lock", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield d
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @staticmethod
    def _write_json(path: Path, obj: Any) -> None:
        atomic_write_bytes(path, json.dumps(obj, ensure_ascii=False).encode("utf-8"))  # fsynced, then renamed

    def create(self, request: JobRequest, *, max_attempts: int) -> JobMeta:
        job_id = new_job_id()
        d = self.root / job_id
        staging = self.root / f".new-{job_id}"
        staging.mkdir(parents=True)
        inputs = request.inputs
        if isinstance(inputs, UploadItems):
            for i, upload in enumerate(inputs.uploads):
                move_upload(upload, staging / f"input-{i}")  # a rename from the jobs folder's spool
            names = tuple(upload.name for upload in inputs.uploads)
        else:
            for i, item in enumerate(inputs):
                (staging / f"input-{i}").write_bytes(item.source)
            names = tuple(item.name for item in inputs)
        now = time.time()
        meta = JobMeta(
            id=job_id,
            task=request.task,
            schema=request.schema,
            status="queued",
            single=request.single,
            inputs=names,
            webhook=request.webhook,
            attempts=0,
            max_attempts=max_attempts,
            created_at=now,
            updated_at=now,
            queued_at=now,
            owner=request.owner,
            input_bytes=sum(p.stat().st_size for p in staging.glob("input-*")),
        )
        self._write_json(staging / "meta.json", dataclasses.asdict(meta))
        os.replace(staging, d)  # the job appears complete or not at all
        return meta

    def read(self, job_id: str) -> JobMeta:
        d = self._dir(job_id)
        try:
            return _META.validate_json((d / "meta.json").read_bytes())
        except FileNotFoundError:
            raise JobNotFoundError(f"no job {job_id!r} (unknown, or its result expired)") from None

    def write_meta(self, d: Path, meta: JobMeta, **changes: Any) -> JobMeta:
        """Write ``meta`` with ``changes`` applied (under the job's lock); returns what was written."""
        meta = dataclasses.replace(meta, **changes, updated_at=time.time())
        self._write_json(d / "meta.json", dataclasses.asdict(meta))
        return meta

    def read_result(self, job_id: str) -> Any:
        try:
            return json.loads((self._dir(job_id) / "result.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def write_result(self, d: Path, result: Any) -> None:
        self._write_json(d / "result.json", result)

    def inputs(self, d: Path, meta: JobMeta) -> UploadItems:
        """The job's inputs, each read from disk when it is reached (one file in memory at a time)."""
        files = [(d / f"input-{i}", name) for i, name in enumerate(meta.inputs)]
        return UploadItems([Upload(name, path.stat().st_size, path=path) for path, name in files])

    def close(self, d: Path, meta: JobMeta) -> None:
        """A job ended: its inputs are deleted (its result stays for ``result_ttl_s``) and it no
        longer counts against its key's quota."""
        for path in d.glob("input-*"):
            path.unlink(missing_ok=True)
        self.tenants.release(meta.owner, meta.id)

    def ids(self) -> list[str]:
        try:
            return [p.name for p in self.root.iterdir() if _valid_id(p.name)]
        except FileNotFoundError:
            return []

    def delete(self, job_id: str) -> None:
        shutil.rmtree(self._dir(job_id), ignore_errors=True)

    def public_view(self, job_id: str, owner: str | None = None) -> dict[str, Any]:
        """What ``GET /v1/jobs/{id}`` shows; with ``owner``, a job of another key is not found."""
        meta = self.read(job_id)
        if owner is not None and (meta.owner or ANONYMOUS) != owner:
            raise JobNotFoundError(f"no job {job_id!r} (unknown, or its result expired)")
        view: dict[str, Any] = {key: getattr(meta, key) for key in _VIEW_KEYS}
        if meta.status == "succeeded":
            view["result"] = self.read_result(job_id)
        if meta.status == "failed":
            view["error"] = meta.error
        if meta.webhook_delivery is not None:  # attempts, and the receiver's status code or the error
            view["webhook_delivery"] = meta.webhook_delivery
        return view

    def counts(self) -> dict[str, int]:
        """Jobs on disk by status. Runs at every metrics scrape, so a job's meta.json is read again
        only when it changed (every write replaces the file: a new inode and mtime); the rest
        costs one stat per job."""
        counts = {"queued": 0, "running": 0, "succeeded": 0, "failed": 0}
        seen: dict[str, tuple[tuple[int, int, int], str]] = {}
        with self._status_lock:
            cache = self._status_cache
            for job_id in self.ids():
                with contextlib.suppress(LuodiError, OSError, ValueError, KeyError):
                    st = (self.root / job_id / "meta.json").stat()
                    identity = (st.st_ino, st.st_mtime_ns, st.st_size)
                    hit = cache.get(job_id)
                    status = hit[1] if hit is not None and hit[0] == identity else self.read(job_id).status
                    counts[status] += 1
                    seen[job_id] = (identity, status)
            self._status_cache = seen  # deleted and expired jobs drop out
        return counts


class JobQueue:
    """Submits jobs (any process) and runs them (processes that host a consumer and a pipeline)."""

    def __init__(
        self,
        settings: JobSettings,
        jobs_dir: Path,
        *,
        pipeline: Pipeline | None = None,
        metrics: Metrics | None = None,
        on_outcome: Callable[[str, Item, Outcome], None] | None = None,
        pixel_budget: int | None = None,
    ) -> None:
        self.settings = settings
        self._pixel_budget = pixel_budget  # decoded pixels one job may ask for (ServeSettings.request_pixels)
        self.store = JobStore(jobs_dir)
        self.huey = make_huey(settings, jobs_dir)
        self._pipeline = pipeline
        self._metrics = metrics
        self._on_outcome = on_outcome  # e.g. the review queue keeping extractions that need review
        self._task = register_task(self.huey, TASK_NAME, self._run)
        self._worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None
        self._consumer: Any = None
        self._sender: WebhookSender | None = None  # started with the first webhook to deliver
        self._sender_lock = threading.Lock()

    # --- submitting -------------------------------------------------------------------------------
    def submit(self, request: JobRequest, *, idempotency_key: str | None = None, fingerprint: str = "") -> Submission:
        """Create and enqueue a job of ``request.owner`` within its quotas; with an ``idempotency_key`` seen
        before (and the same request ``fingerprint``), the job it made instead. If the queue
        cannot take the message nothing is left behind: :class:`QueueUnavailableError` (503)."""
        settings, owner = self.settings, request.owner
        webhook = check_webhook(
            request.webhook, settings.webhook_allow_hosts, allow_private=settings.webhook_allow_private
        )
        tenants = self.store.tenants
        with tenants.locked(owner):
            if idempotency_key is not None:
                prior = tenants.recall(owner, idempotency_key, fingerprint, self.store)
                if prior is not None:
                    return Submission(self.store.read(prior), replayed=True)
            self._check_quota(owner, _input_bytes(request.inputs))
            meta = self.store.create(dataclasses.replace(request, webhook=webhook), max_attempts=settings.max_attempts)
            tenants.mark_active(owner, meta.id, meta.input_bytes)
            try:
                self._task(meta.id)
            except Exception as exc:  # Redis down or unreachable: the job must not appear later
                self.store.delete(meta.id)
                tenants.release(owner, meta.id)
                log.warning("job queue unavailable; nothing created", extra={"error": f"{type(exc).__name__}: {exc}"})
                raise QueueUnavailableError(
                    "the job queue is unavailable right now; nothing was created, retry later"
                ) from exc
            if idempotency_key is not None:
                tenants.remember(owner, idempotency_key, meta.id, fingerprint)
        self._count("queued")
        return Submission(meta, replayed=False)

    def precheck(self, owner: str, declared_bytes: int) -> None:
        """429 before the body is read when ``owner`` is already at a quota (the check that counts is
        :meth:`submit`'s, under the owner's lock, once the files are on disk)."""
        self._check_quota(owner, max(declared_bytes, 0))

    def _check_quota(self, owner: str, nbytes: int) -> None:
        limits = {"max_jobs": self.settings.max_jobs_per_key, "max_bytes": self.settings.max_bytes_per_key}
        self.store.tenants.check_quota(owner, nbytes, self.store, **limits)

    def _count(self, state: str) -> None:
        if self._metrics is not None:
            self._metrics.jobs.labels(state).inc()

    # --- running ----------------------------------------------------------------------------------
    def _claim(self, job_id: str) -> JobMeta | None:
        try:
            with self.store.locked(job_id) as d:
                meta = self.store.read(job_id)
                if meta.status in ("succeeded", "failed"):
                    return None
                if meta.status == "running" and not meta.stale(self.settings.stale_after_s):
                    return None  # a live worker has it; this message is a duplicate
                return self.store.write_meta(
                    d,
                    meta,
                    status="running",
                    attempts=meta.attempts + 1,
                    worker=self._worker_id,
                    heartbeat_at=time.time(),
                )
        except JobNotFoundError:
            return None  # expired or deleted while queued

    def _heartbeat(self, job_id: str, done: threading.Event) -> None:
        while not done.wait(self.settings.heartbeat_s):
            with contextlib.suppress(JobNotFoundError, OSError), self.store.locked(job_id) as d:
                meta = self.store.read(job_id)
                if meta.status == "running" and meta.worker == self._worker_id:
                    self.store.write_meta(d, meta, heartbeat_at=time.time())

    def _run(self, job_id: str) -> None:
        meta = self._claim(job_id)
        if meta is None:
            return
        self._count("running")
        log.info("job started", extra={"job_id": job_id, "attempt": meta.attempts})
        done = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat, args=(job_id, done), name=f"luodi-beat-{job_id[:8]}", daemon=True
        )
        beat.start()
        try:
            result = self._process(job_id, meta)
        except Exception as exc:  # a pipeline bug must not leave the job "running" forever
            done.set()
            beat.join()
            self._finish_failed_attempt(job_id, exc)
            return
        done.set()
        beat.join()
        # a one-file job whose file is bad fails with that file's error (no retry: it would fail again)
        item_error = result.get("error") if meta.single else None
        state: JobState = "failed" if item_error else "succeeded"
        with self.store.locked(job_id) as d:
            meta = self.store.read(job_id)
            if not item_error:
                self.store.write_result(d, result.get("result") if meta.single else result)
            self.store.write_meta(
                d, meta, status=state, finished_at=time.time(), heartbeat_at=None, error=item_error or meta.error
            )
            self.store.close(d, meta)
        self._count(state)
        log.info("job finished", extra={"job_id": job_id, "status": state})
        self._notify(job_id)

    def _finish_failed_attempt(self, job_id: str, exc: Exception) -> None:
        """Retry an attempt that failed for a reason that may pass (a bug, a broken model, a storage
        error); fail at once when the input is the cause, since it would fail again on every worker."""
        from_input = isinstance(exc, MemoryError) or (isinstance(exc, LuodiError) and exc.http_status < 500)
        if from_input:
            log.warning("job failed on its input", extra={"job_id": job_id, "error": str(exc)})
            error = (
                exc.to_dict()["error"]
                if isinstance(exc, LuodiError)
                else {"type": "input_error", "message": "out of memory"}
            )
        else:
            log.error("job attempt failed", extra={"job_id": job_id}, exc_info=exc)
            error = {"type": "job_failed", "message": f"{type(exc).__name__}: {exc}"}
        with self.store.locked(job_id) as d:
            retried = self._retry_or_fail(d, self.store.read(job_id), error, retry=not from_input)
        self._after_attempt(job_id, retried)

    def _retry_or_fail(self, d: Path, meta: JobMeta, error: dict[str, str], *, retry: bool) -> bool:
        """Under the job's lock: queue the job for another attempt when ``retry`` and attempts are
        left (True), else fail it with ``error`` and close it (False)."""
        if retry and meta.attempts < meta.max_attempts:
            self.store.write_meta(d, meta, status="queued", worker=None, heartbeat_at=None, queued_at=time.time())
            return True
        meta = self.store.write_meta(d, meta, status="failed", finished_at=time.time(), heartbeat_at=None, error=error)
        self.store.close(d, meta)
        return False

    def _after_attempt(self, job_id: str, retried: bool) -> None:
        """Outside the lock: enqueue the retry, or count the failure and tell the job's webhook."""
        if retried:
            self._task(job_id)
        else:
            self._count("failed")
            self._notify(job_id)

    def _process(self, job_id: str, meta: JobMeta) -> dict[str, Any]:
        pipeline = self._pipeline
        if pipeline is None:
            raise RuntimeError("this process has no pipeline; only `luodi serve` and `luodi worker` run jobs")
        inputs = self.store.inputs(self.store.root / job_id, meta)
        if self._pixel_budget is not None and pipeline.processor(meta.task, meta.schema).takes == "pages":
            # checked at submission too; a job directory written by anything else is checked here
            check_pixel_budget(inputs, pipeline.settings.limits, self._pixel_budget, strict=False)
        current: list[Item] = []

        def fed() -> Iterator[Item]:  # each input read from disk as it is reached, kept until its result
            for item in inputs:
                current[:] = [item]
                yield item

        # bad input fails its item (an error record), and the job still succeeds
        results = []
        for r in pipeline.run_many(meta.task, fed(), option=meta.schema, stream=True):
            if r.outcome is not None:
                if self._metrics is not None:
                    self._metrics.observe_stages(r.outcome.stages)
                if self._on_outcome is not None:
                    self._on_outcome(meta.task, current[0], r.outcome)
            results.append(r.to_dict())
        if meta.single:
            return results[0]
        return {"results": results}

    def _notify(self, job_id: str) -> None:
        meta = self.store.read(job_id)
        if not meta.webhook:
            return
        view = self.store.public_view(job_id)
        view.pop("webhook_delivery", None)  # the payload is the job, not the state of its own delivery
        body = json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode()
        self._webhooks().send(job_id, meta.webhook, body)

    def _webhooks(self) -> WebhookSender:
        with self._sender_lock:
            if self._sender is None:
                self._sender = WebhookSender(self.settings, record=self._record_delivery)
            return self._sender

    def _record_delivery(self, job_id: str, outcome: dict[str, Any]) -> None:
        with contextlib.suppress(JobNotFoundError), self.store.locked(job_id) as d:
            self.store.write_meta(d, self.store.read(job_id), webhook_delivery=outcome)

    # --- housekeeping -----------------------------------------------------------------------------
    def reap_once(self) -> None:
        """Re-enqueue jobs whose worker died, fail those out of attempts, delete expired ones."""
        now = time.time()
        queue_empty: bool | None = None
        for job_id in self.store.ids():
            try:
                meta = self.store.read(job_id)
            except (LuodiError, OSError, ValueError):
                continue
            if meta.status in ("succeeded", "failed"):
                if meta.finished_at and now - meta.finished_at > self.settings.result_ttl_s:
                    self.store.delete(job_id)
                elif self._webhook_lost(meta, now):
                    self._redeliver(job_id)
            elif meta.status == "queued":
                # A worker killed between taking the message and claiming the job leaves it queued with
                # no message; only when the queue is empty can that be told apart from a backlog.
                if now - meta.queued_at <= self.settings.stale_after_s:
                    continue
                if queue_empty is None:
                    queue_empty = self.huey.pending_count() == 0
                if queue_empty:
                    self._requeue_orphan(job_id)
            elif meta.stale(self.settings.stale_after_s):
                self._recover_lost(job_id)
        self.store.tenants.reap(self.store)
        self._sweep_spool(now)

    def _webhook_grace_s(self) -> float:
        """Longer than every attempt of a delivery with its back-off: past it, no delivery of a
        finished job is still under way, so one without an outcome died with its worker."""
        attempts = self.settings.webhook_attempts
        return 2 * (attempts * self.settings.webhook_timeout_s + sum(1 << (2 * i) for i in range(attempts - 1))) + 10

    def _webhook_lost(self, meta: JobMeta, now: float) -> bool:
        finished = meta.finished_at
        return (
            bool(meta.webhook)
            and meta.webhook_delivery is None
            and bool(finished)
            and (now - (finished or now) > self._webhook_grace_s())
        )

    def _redeliver(self, job_id: str) -> None:
        """A finished job whose webhook died with its worker: deliver it once more (claimed under the
        lock, so one reaper of many sends it; receivers deduplicate on ``webhook-id`` all the same)."""
        with contextlib.suppress(JobNotFoundError), self.store.locked(job_id) as d:
            meta = self.store.read(job_id)
            if meta.webhook_delivery is not None:
                return
            self.store.write_meta(d, meta, webhook_delivery={"redelivering": True, "at": time.time()})
        log.warning("re-sending a webhook lost with its worker", extra={"job_id": job_id})
        self._notify(job_id)

    def _sweep_spool(self, now: float) -> None:
        """Uploads a server process left in the spool when it died mid-request (kept a day)."""
        spool = self.store.root / SPOOL_DIR
        for folder in spool.glob("luodi-upload-*") if spool.is_dir() else ():
            with contextlib.suppress(OSError):
                if now - folder.stat().st_mtime > 24 * 3600:
                    shutil.rmtree(folder, ignore_errors=True)

    def _requeue_orphan(self, job_id: str) -> None:
        log.warning("re-enqueueing a queued job without a message", extra={"job_id": job_id})
        self._task(job_id)
        with contextlib.suppress(JobNotFoundError), self.store.locked(job_id) as d:
            fresh = self.store.read(job_id)
            if fresh.status == "queued":
                self.store.write_meta(d, fresh, queued_at=time.time())

    def _recover_lost(self, job_id: str) -> None:
        """A running job whose worker stopped beating: run it again, or fail it when out of attempts."""
        retried: bool | None = None  # None: nothing to do (finished meanwhile, or gone)
        with contextlib.suppress(JobNotFoundError), self.store.locked(job_id) as d:
            meta = self.store.read(job_id)
            if meta.status != "running" or not meta.stale(self.settings.stale_after_s):
                return
            error = {"type": "job_failed", "message": f"worker lost {meta.attempts} times; giving up"}
            retried = self._retry_or_fail(d, meta, error, retry=True)
            log.warning("job lost its worker", extra={"job_id": job_id, "worker": meta.worker, "requeued": retried})
        if retried is not None:
            self._after_attempt(job_id, retried)

    def _reap_loop(self) -> None:
        interval = max(0.2, min(self.settings.stale_after_s / 3, 10.0))
        while not self._stop.wait(interval):
            try:
                self.reap_once()
            except Exception:  # housekeeping must outlive one bad job directory or a storage hiccup
                log.exception("job reaper pass failed")

    def _new_consumer(self, *, install_signals: bool) -> Any:
        from huey.consumer import Consumer

        class _Consumer(Consumer):  # type: ignore[misc]
            # inside uvicorn the server owns SIGINT/SIGTERM; huey must not replace its handlers
            def _set_signal_handlers(self) -> None:
                if install_signals:
                    super()._set_signal_handlers()

        return _Consumer(
            self.huey,
            workers=self.settings.worker_threads,
            worker_type="thread",
            periodic=False,
            initial_delay=0.05,
            max_delay=0.5,
            backoff=1.5,
        )

    def _start_reaper(self) -> None:
        self.reap_once()
        self._reaper = threading.Thread(target=self._reap_loop, name="luodi-reaper", daemon=True)
        self._reaper.start()

    def start_consumer(self, *, install_signals: bool = False) -> None:
        """Start consumer threads (and the reaper) in this process; it must have a pipeline."""
        self._consumer = self._new_consumer(install_signals=install_signals)
        self._consumer.start()
        self._start_reaper()

    def run_consumer_forever(self) -> None:
        """``luodi worker``: block like huey's own consumer, stopping on SIGINT/SIGTERM."""
        consumer = self._consumer = self._new_consumer(install_signals=True)
        self._start_reaper()
        try:
            consumer.run()
        finally:
            self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
        if self._reaper is not None:
            self._reaper.join(timeout=5)
        if self._sender is not None:
            self._sender.stop()
