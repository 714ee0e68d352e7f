"""Issue #17 item 5 on real processes: a pickle bomb pushed into Redis is refused by ``luodi worker``."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.service


class Bomb:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def test_pickle_on_redis_queue_never_executes(start_server, start_worker, redis_url, tmp_path, doc_samples: Path):
    import redis

    marker = tmp_path / "pwned"
    jobs_dir = tmp_path / "jobs"
    common = ("--jobs-backend", "redis", "--redis-url", redis_url, "--jobs-dir", str(jobs_dir))
    server = start_server(*common, "--no-embedded-worker")
    client = redis.Redis.from_url(redis_url)
    client.delete("huey.redis.luodi")
    # what anyone who can reach Redis could write: a pickle that runs a shell command when loaded
    client.lpush("huey.redis.luodi", pickle.dumps(Bomb(marker)))
    client.lpush("huey.redis.luodi", b'{"v": 1, "id": "x", "task": "builtins.eval", "job": "' + b"0" * 32 + b'"}')
    image = (doc_samples / "rapidocr" / "ch_en_num.jpg").read_bytes()
    r = httpx.post(server.url + "/v1/jobs", files={"file": ("a.jpg", image, "image/jpeg")}, timeout=30)
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    worker = start_worker(*common)
    deadline = time.monotonic() + 120
    while (body := httpx.get(f"{server.url}/v1/jobs/{job_id}", timeout=10).json())["status"] != "succeeded":
        assert body["status"] in ("queued", "running"), body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
    assert not marker.exists()
    assert worker.popen.poll() is None  # still serving
    log = worker.log_text()
    assert log.count("refused a queue message") == 2, log[-3000:]
    assert client.llen("huey.redis.luodi") == 0
