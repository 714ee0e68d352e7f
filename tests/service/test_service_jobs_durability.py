"""Issue #17 item 4 on real processes and a real ``redis-server`` the test stops and starts: a
submission while Redis is down gets 503 + Retry-After and creates nothing, a client retrying with
an Idempotency-Key gets one job, and jobs queued before Redis is SIGKILLed (its queue lost) still
run, each exactly once."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from service_procs import free_port

pytestmark = pytest.mark.service

STALE = {"LUODI_SERVE_JOBS__STALE_AFTER_S": "2", "LUODI_SERVE_JOBS__HEARTBEAT_S": "0.5"}


class Redis:
    """A private redis-server on a fixed port that the test may kill and start again (empty)."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir), "--save", ""]
        self.proc = subprocess.Popen([self.binary, *args, "--appendonly", "no"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


@pytest.fixture
def redis(tmp_path):
    server = Redis(tmp_path)
    server.start()
    yield server
    if server.proc is not None and server.proc.poll() is None:
        server.kill()


def job_dirs(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if len(p.name) == 32 and p.is_dir()] if root.exists() else []


def wait_all(url: str, ids: list[str], timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        views = [httpx.get(f"{url}/v1/jobs/{i}", timeout=10).json() for i in ids]
        if all(v["status"] in ("succeeded", "failed") for v in views):
            return views
        assert time.monotonic() < deadline, views
        time.sleep(0.2)


def test_redis_down_then_back(start_server, start_worker, redis, tmp_path, doc_samples: Path):
    jobs_dir = tmp_path / "jobs"
    common = ("--jobs-backend", "redis", "--redis-url", redis.url, "--jobs-dir", str(jobs_dir))
    server = start_server(*common, "--no-embedded-worker", env=STALE)
    image = (doc_samples / "rapidocr" / "ch_en_num.jpg").read_bytes()

    def submit(key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return httpx.post(server.url + "/v1/jobs", files={"file": ("a.jpg", image)}, headers=headers, timeout=60)

    # jobs queued while no worker runs, then Redis dies with them (no persistence: its queue is gone)
    queued = [submit().json()["id"] for _ in range(3)]
    redis.kill()

    # while Redis is down: 503 + Retry-After, and nothing is created (with or without a key)
    for key in (None, "retry-me"):
        r = submit(key)
        assert r.status_code == 503, r.text
        assert r.json()["error"]["type"] == "queue_unavailable" and r.headers["retry-after"]
    assert sorted(p.name for p in job_dirs(jobs_dir)) == sorted(queued)

    # Redis is back (empty): a client retrying with its key gets one job however often it retries
    redis.start()
    first = submit("retry-me")
    assert first.status_code == 202
    for _ in range(2):
        again = submit("retry-me")
        assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"

    # a worker: the three jobs whose messages died with Redis are re-enqueued by the reaper and run once
    start_worker(*common, env=STALE)
    views = wait_all(server.url, [*queued, first.json()["id"]], timeout=180)
    assert [v["status"] for v in views] == ["succeeded"] * 4, views
    assert [v["attempts"] for v in views] == [1] * 4  # none ran twice
    assert len(job_dirs(jobs_dir)) == 4  # nothing from the refused submissions ran later
    assert httpx.get(server.url + "/healthz").status_code == 200
