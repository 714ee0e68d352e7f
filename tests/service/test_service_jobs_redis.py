"""Redis mode: ``luodi worker`` processes; a worker SIGKILLed mid-job, and the job still succeeds."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.service

# a lost worker is noticed after STALE seconds without a heartbeat
STALE = {"LUODI_SERVE_JOBS__STALE_AFTER_S": "3", "LUODI_SERVE_JOBS__HEARTBEAT_S": "0.5"}


def job_status(url: str, job_id: str) -> dict:
    return httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()


def wait_for(url: str, job_id: str, states: set[str], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = job_status(url, job_id)
        if body["status"] in states:
            return body
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {states}: {body}")


def test_job_survives_sigkilled_worker(start_server, start_worker, redis_url, tmp_path, doc_samples: Path):
    jobs_dir = tmp_path / "jobs"
    common = ("--jobs-backend", "redis", "--redis-url", redis_url, "--jobs-dir", str(jobs_dir))
    server = start_server(*common, "--no-embedded-worker", env=STALE)
    # a dense page (a hospital report, ~50 lines): 8 of them keep a worker busy for seconds even on an
    # idle machine, so the kill below lands mid-job however fast the machine is
    image = (doc_samples / "paddleocr" / "imgs" / "00057937.jpg").read_bytes()
    files = [("files", (f"page-{i}.jpg", image, "image/jpeg")) for i in range(8)]

    r = httpx.post(server.url + "/v1/jobs", files=files, timeout=30)
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    time.sleep(0.5)
    assert job_status(server.url, job_id)["status"] == "queued"  # no worker yet: the job waits in Redis

    first = start_worker(*common, env=STALE)
    running = wait_for(server.url, job_id, {"running", "succeeded"}, timeout=60)
    assert running["status"] == "running", "the job finished before the worker could be killed"
    time.sleep(0.3)  # into the job (8 dense pages take several seconds)
    first.stop(signal.SIGKILL)
    assert first.popen.returncode == -signal.SIGKILL
    assert job_status(server.url, job_id)["status"] == "running"  # nobody has noticed yet

    # a job submitted while no worker is alive is kept too
    r2 = httpx.post(server.url + "/v1/jobs", files=files[:1], timeout=30)
    second_job = r2.json()["id"]

    start_worker(*common, env=STALE)
    done = wait_for(server.url, job_id, {"succeeded", "failed"}, timeout=120)
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2
    results = done["result"]["results"]
    assert [x["source"] for x in results] == [f"page-{i}.jpg" for i in range(8)]
    texts = {"\n".join(line["text"] for line in x["result"]["pages"][0]["lines"]) for x in results}
    assert len(texts) == 1 and len(next(iter(texts))) > 100  # every page read, and read alike
    other = wait_for(server.url, second_job, {"succeeded", "failed"}, timeout=60)
    assert other["status"] == "succeeded" and other["attempts"] == 1
