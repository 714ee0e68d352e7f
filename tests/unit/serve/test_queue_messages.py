"""Issue #17 item 5: the job queue carries JSON data only; a pickle placed on it never runs."""

from __future__ import annotations

import json
import os
import pickle
import time
from pathlib import Path

import pytest
from huey.registry import Message
from serve_fakes import fake_pipeline, png_bytes

from luodi.config import load_settings
from luodi.pipeline import Item
from luodi.serve.jobs import JobQueue, JobRequest
from luodi.serve.queue import JsonMessages, RefusedMessageError
from luodi.serve.settings import JobSettings


class Bomb:
    """Unpickling this runs ``os.system``: what an attacker with write access to the queue would send."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def queue_in(tmp_path: Path) -> JobQueue:
    settings = JobSettings(dir=tmp_path / "jobs", stale_after_s=0.5, heartbeat_s=0.1)
    return JobQueue(settings, tmp_path / "jobs", pipeline=fake_pipeline(load_settings(home=tmp_path / "home")))


def test_messages_are_json_with_the_job_id_only(tmp_path):
    queue = queue_in(tmp_path)
    meta = queue.submit(JobRequest("ocr", [Item(png_bytes(), "a.png")])).meta
    raw = queue.huey.storage.dequeue()
    assert raw is not None and raw[:1] == b"{"
    body = json.loads(raw)
    assert set(body) == {"v", "id", "task", "job"} and body["job"] == meta.id and body["v"] == 1
    assert body["task"].endswith("luodi.run_job")
    # what the consumer reads back is exactly that job, and nothing more
    task = queue.huey.deserialize_task(raw)
    assert task.args == (meta.id,) and task.kwargs == {}


@pytest.mark.parametrize(
    "raw",
    [
        pickle.dumps(Message("x", "luodi.serve.jobs.luodi.run_job", None, 0, 0, None, ("0" * 32,), {})),
        b'{"v": 1, "id": "a", "task": "os.system", "job": "' + b"0" * 32 + b'"}',
        b'{"v": 1, "id": "a", "task": "luodi.serve.jobs.luodi.run_job", "job": "../../etc"}',
        b'{"v": 1, "id": "a", "task": "luodi.serve.jobs.luodi.run_job", "job": "' + b"0" * 32 + b'", "kwargs": {}}',
        b'{"v": 2, "id": "a", "task": "luodi.serve.jobs.luodi.run_job", "job": "' + b"0" * 32 + b'"}',
        b"[" * 50_000,
        b"\xff\xfe{",
        b"",
    ],
)
def test_anything_else_is_refused(raw):
    serializer = JsonMessages()
    serializer.task_names = frozenset({"luodi.serve.jobs.luodi.run_job"})
    with pytest.raises(RefusedMessageError):
        serializer.deserialize(raw)


def test_serializer_writes_job_messages_only():
    serializer = JsonMessages()
    serializer.task_names = frozenset({"t"})
    with pytest.raises(TypeError):
        serializer.serialize({"not": "a message"})
    with pytest.raises(TypeError):
        serializer.serialize(Message("x", "t", None, 0, 0, None, ("0" * 32,), {"evil": 1}))
    with pytest.raises(TypeError):
        serializer.serialize(Message("x", "other", None, 0, 0, None, ("0" * 32,), {}))


def test_a_pickle_bomb_on_the_queue_never_executes(tmp_path):
    marker = tmp_path / "pwned"
    queue = queue_in(tmp_path)
    queue.huey.storage.enqueue(pickle.dumps(Bomb(marker)), None)  # straight into the SQLite queue
    meta = queue.submit(JobRequest("ocr", [Item(png_bytes(9, 9), "a.png")])).meta
    queue.start_consumer()
    try:
        deadline = time.monotonic() + 20
        while queue.store.read(meta.id).status != "succeeded":
            assert time.monotonic() < deadline, queue.store.read(meta.id)
            time.sleep(0.05)
    finally:
        queue.stop()
    assert not marker.exists()  # the bomb was read before the job behind it, and refused
    assert queue.huey.pending_count() == 0
