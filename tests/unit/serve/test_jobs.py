"""Jobs on embedded Huey (SQLite): submit, poll, per-item failures, webhook allow-list, reaper."""

from __future__ import annotations

import time

import httpx
import pytest
from serve_fakes import fake_pipeline, png_bytes

from luodi.config import load_settings
from luodi.errors import InputError, JobNotFoundError
from luodi.pipeline import Item
from luodi.serve.jobs import JobQueue, JobRequest, JobStore, check_webhook
from luodi.serve.settings import JobSettings

pytestmark = pytest.mark.usefixtures("no_api_keys")


def wait_job(url: str, job_id: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = httpx.get(f"{url}/v1/jobs/{job_id}").json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {body}")


def test_single_and_multi_file_jobs(serve, tmp_path):
    srv = serve(jobs={"dir": tmp_path / "jobs"})
    r = httpx.post(srv.url + "/v1/jobs", files={"file": ("a.png", png_bytes(12, 8), "image/png")})
    assert r.status_code == 202 and r.json()["status"] == "queued"
    assert r.headers["location"] == f"/v1/jobs/{r.json()['id']}"
    done = wait_job(srv.url, r.json()["id"])
    assert done["status"] == "succeeded" and done["result"]["pages"][0]["width"] == 12 and done["attempts"] == 1

    files = [
        ("files", ("a.png", png_bytes(), "image/png")),
        ("files", ("b.txt", b"plain text, not an image", "text/plain")),
    ]
    r = httpx.post(srv.url + "/v1/jobs", files=files, data={"task": "extract", "schema": "waybill"})
    done = wait_job(srv.url, r.json()["id"])
    results = done["result"]["results"]
    assert results[0]["result"]["schema"] == "waybill" and results[1]["error"]["type"] == "unsupported_format"


def test_job_request_errors(serve):
    srv = serve()
    upload = {"file": ("a.png", png_bytes(), "image/png")}
    assert httpx.post(srv.url + "/v1/jobs", files=upload, data={"task": "dance"}).status_code == 400
    assert httpx.post(srv.url + "/v1/jobs", files=upload, data={"task": "extract"}).status_code == 400
    r = httpx.post(srv.url + "/v1/jobs", files=upload, data={"task": "extract", "schema": "nope"})
    assert r.status_code == 404 and r.json()["error"]["type"] == "unknown_schema"
    r = httpx.post(srv.url + "/v1/jobs", files={"file": ("a.txt", b"text text text", "text/plain")})
    assert r.status_code == 415
    r = httpx.post(srv.url + "/v1/jobs", files=upload, data={"webhook": "http://evil.example/hook"})
    assert r.status_code == 400 and "allow-listed" in r.json()["error"]["message"]
    for job_id in ("0" * 32, "../../etc/passwd", "x"):
        r = httpx.get(f"{srv.url}/v1/jobs/{job_id}")
        assert r.status_code == 404 and r.json()["error"]["type"] in ("job_not_found", "http_error")


def test_check_webhook():
    assert check_webhook("https://hooks.example.com/x", ["hooks.example.com"]) == "https://hooks.example.com/x"
    assert check_webhook(None, []) is None
    for bad in (
        "ftp://hooks.example.com/x",
        "https://user:pw@hooks.example.com/",
        "https://hooks.example.com.evil.io/",
    ):
        with pytest.raises(InputError):
            check_webhook(bad, ["hooks.example.com"])


def test_reaper_requeues_a_job_whose_worker_died(tmp_path):
    """A job left 'running' with a stale heartbeat (its worker was killed) runs again and succeeds."""
    settings = JobSettings(dir=tmp_path, stale_after_s=0.3, heartbeat_s=0.1, max_attempts=3)
    queue = JobQueue(settings, tmp_path, pipeline=fake_pipeline(load_settings(home=tmp_path / "home")))
    meta = queue.store.create(JobRequest("ocr", [Item(png_bytes(9, 9), "a.png")]), max_attempts=3)
    job_id = meta.id
    # what a SIGKILLed worker leaves behind: claimed, no message in the queue, heartbeat stopped
    with queue.store.locked(job_id) as d:
        queue.store.write_meta(d, meta, status="running", attempts=1, worker="gone:1", heartbeat_at=time.time() - 10)
    queue.start_consumer()
    try:
        deadline = time.monotonic() + 10
        while queue.store.read(job_id).status != "succeeded":
            assert time.monotonic() < deadline, queue.store.read(job_id)
            time.sleep(0.05)
    finally:
        queue.stop()
    view = queue.store.public_view(job_id)
    assert view["attempts"] == 2 and view["result"]["pages"][0]["width"] == 9


def test_reaper_gives_up_after_max_attempts_and_expires_results(tmp_path):
    settings = JobSettings(dir=tmp_path, stale_after_s=0.1, max_attempts=2, result_ttl_s=0.2)
    queue = JobQueue(settings, tmp_path, pipeline=fake_pipeline(load_settings(home=tmp_path / "home")))
    store: JobStore = queue.store
    meta = store.create(JobRequest("ocr", [Item(png_bytes())]), max_attempts=2)
    with store.locked(meta.id) as d:
        store.write_meta(d, meta, status="running", attempts=2, worker="gone:1", heartbeat_at=time.time() - 10)
    queue.reap_once()
    view = store.public_view(meta.id)
    assert view["status"] == "failed" and "worker lost" in view["error"]["message"]
    time.sleep(0.3)
    queue.reap_once()
    with pytest.raises(JobNotFoundError):
        store.read(meta.id)


def test_counts_follow_changes_and_read_only_changed_jobs(tmp_path, monkeypatch):
    store = JobStore(tmp_path / "jobs")
    a = store.create(JobRequest("ocr", [Item(b"x", "a.png")]), max_attempts=2)
    b = store.create(JobRequest("ocr", [Item(b"y", "b.png")]), max_attempts=2)
    assert store.counts() == {"queued": 2, "running": 0, "succeeded": 0, "failed": 0}
    reads: list[str] = []
    real_read = store.read
    monkeypatch.setattr(store, "read", lambda job_id: reads.append(job_id) or real_read(job_id))
    assert store.counts()["queued"] == 2 and reads == []  # nothing changed: nothing re-read
    with store.locked(a.id) as d:
        store.write_meta(d, real_read(a.id), status="succeeded")
    assert store.counts() == {"queued": 1, "running": 0, "succeeded": 1, "failed": 0}
    assert reads == [a.id]
    store.delete(b.id)
    assert store.counts() == {"queued": 0, "running": 0, "succeeded": 1, "failed": 0}
