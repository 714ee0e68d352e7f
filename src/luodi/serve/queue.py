"""The job queue's transport: Huey on Redis or SQLite, carrying JSON data only, never pickles.

Huey pickles its messages by default, so anything that could write to Redis (or to the SQLite
queue file) could run code on every worker. Huey takes a serializer of our choosing, so the
queue keeps Huey (its consumer, storage back-ends and the durability built on them in
:mod:`luodi.serve.jobs`) and swaps the serializer for :class:`JsonMessages`: a message is

    {"v": 1, "id": "<message uuid>", "task": "<registered task>", "job": "<32 hex digits>"}

and nothing else. Everything a job needs beyond its id (task, schema, inputs, owner) is read from
the job's own directory, which the worker validates like any input. A message that is not exactly
that (a pickle, other JSON, another task name, extra fields) is refused when the consumer reads
it: Huey logs the error and drops the message, and nothing in it is ever executed. Messages left
from an older release (pickles) are refused the same way; their jobs are still ``queued`` on disk
and the reaper re-enqueues them as JSON once the queue has drained.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huey.registry import Message
from huey.serializer import Serializer

if TYPE_CHECKING:
    from huey import Huey

    from luodi.serve.settings import JobSettings

log = logging.getLogger("luodi.serve.jobs")

MESSAGE_VERSION = 1
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
_MESSAGE_ID = re.compile(r"^[0-9A-Za-z-]{1,64}$")
_FIELDS = frozenset({"v", "id", "task", "job"})
#: message fields Huey may set that a luodi job never uses: a message with any of them is refused
_UNUSED = ("eta", "on_complete", "on_error", "expires", "expires_resolved", "timeout", "chord_config")


class RefusedMessageError(ValueError):
    """A queue message that is not a luodi job message; it is dropped unread."""


class JsonMessages(Serializer):  # type: ignore[misc]
    """Huey serializer for luodi job messages: JSON in, JSON out, one allowed task name."""

    def __init__(self) -> None:
        super().__init__(compression=False)
        self.task_names: frozenset[str] = frozenset()  # set by the JobQueue once its task is registered

    def _serialize(self, data: Any) -> bytes:
        if not isinstance(data, Message):
            raise TypeError(f"the luodi queue carries job messages only, not {type(data).__name__}")
        if data.name not in self.task_names:
            raise TypeError(f"task {data.name!r} is not a luodi job task")
        if data.kwargs or len(data.args or ()) != 1 or any(getattr(data, f) for f in _UNUSED):
            raise TypeError("a luodi job message carries exactly one job id and nothing else")
        job = data.args[0]
        if not isinstance(job, str) or not _JOB_ID.match(job):
            raise TypeError(f"not a job id: {job!r}")
        payload = {"v": MESSAGE_VERSION, "id": str(data.id), "task": data.name, "job": job}
        return json.dumps(payload, separators=(",", ":")).encode("ascii")

    def _deserialize(self, data: bytes) -> Message:
        try:
            return self._message(data)
        except RefusedMessageError as exc:
            log.warning("refused a queue message: %s", exc, extra={"head": bytes(data[:16]).hex()})
            raise

    def _message(self, data: bytes) -> Message:
        if not isinstance(data, bytes | bytearray | memoryview) or not bytes(data[:1]) == b"{":
            raise RefusedMessageError("not a JSON job message (a pickle, or something else)")
        try:
            obj = json.loads(bytes(data).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise RefusedMessageError("not valid JSON") from None
        if not isinstance(obj, dict) or set(obj) != _FIELDS or obj["v"] != MESSAGE_VERSION:
            raise RefusedMessageError(f"expected exactly the fields {sorted(_FIELDS)} with v={MESSAGE_VERSION}")
        task, job, message_id = obj["task"], obj["job"], obj["id"]
        if not isinstance(task, str) or task not in self.task_names:
            raise RefusedMessageError(f"unknown task {str(task)[:80]!r}")
        if not isinstance(job, str) or not _JOB_ID.match(job):
            raise RefusedMessageError("the job id is not 32 hex digits")
        if not isinstance(message_id, str) or not _MESSAGE_ID.match(message_id):
            raise RefusedMessageError("bad message id")
        return Message(message_id, task, None, 0, 0, None, (job,), {})


def make_huey(settings: JobSettings, jobs_dir: Path) -> Huey:
    """Huey on Redis (``redis_url``: ``redis://`` or ``rediss://`` with a password) or on SQLite in
    ``jobs_dir``, with :class:`JsonMessages` as its only serializer and no result store."""
    from huey import RedisHuey, SqliteHuey

    serializer = JsonMessages()
    huey: Huey
    if settings.backend == "redis":
        huey = RedisHuey("luodi", connection_pool=redis_pool(settings), results=False, serializer=serializer)
    else:
        jobs_dir.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey("luodi", filename=str(jobs_dir / "queue.sqlite3"), results=False, serializer=serializer)
    return huey


def redis_pool(settings: JobSettings, *, socket_timeout: float = 15) -> Any:
    """A connection pool for ``settings.redis_url`` with its password and, for ``rediss://``, its CA
    (what the queue uses, and what the worker's liveness probe pings through)."""
    from redis import ConnectionPool

    # bounded waits: an unreachable Redis (not just a refused connection) answers a submission
    # with 503 in seconds instead of holding it; the consumer's blocking pop waits 1 s at a time
    options: dict[str, Any] = {
        "socket_connect_timeout": min(5, socket_timeout),
        "socket_timeout": socket_timeout,
        "health_check_interval": 30,
    }
    password = settings.redis_auth()
    if password is not None:
        options["password"] = password
    if settings.redis_url.startswith("rediss://") and settings.redis_tls_ca_file is not None:
        options["ssl_ca_certs"] = str(settings.redis_tls_ca_file)
    return ConnectionPool.from_url(settings.redis_url, **options)


def register_task(huey: Huey, name: str, fn: Any) -> Any:
    """Register ``fn`` as the queue's one task and allow its name in messages; returns the task."""
    task = huey.task(name=name)(fn)
    cls = task.task_class
    serializer = huey.serializer
    assert isinstance(serializer, JsonMessages)
    serializer.task_names = serializer.task_names | {f"{cls.__module__}.{cls.__name__}"}
    return task
