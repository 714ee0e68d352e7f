"""Issue #17 items 2 and 4 with the fake engine: jobs belong to their key, per-key quotas (429),
inputs deleted when a job ends, Idempotency-Key, and failures from the input are not retried."""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpx
import numpy as np
import pytest
from serve_fakes import SlowRec, fake_pipeline, png_bytes

from luodi.config import Limits, load_settings
from luodi.pipeline import Item
from luodi.serve.jobs import JobQueue, JobRequest
from luodi.serve.settings import JobSettings

A = {"Authorization": "Bearer key-a"}
B = {"X-API-Key": "key-b"}


@pytest.fixture
def two_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUODI_API_KEYS", "key-a,key-b")


def upload(width: int = 20) -> dict:
    return {"file": ("a.png", png_bytes(width, 10), "image/png")}


def job_dirs(root) -> list:
    return [p for p in root.iterdir() if len(p.name) == 32 and p.is_dir()]


def wait_done(url: str, job_id: str, headers: dict, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = httpx.get(f"{url}/v1/jobs/{job_id}", headers=headers).json()
        if body.get("status") in ("succeeded", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {body}")


@pytest.mark.usefixtures("two_keys")
def test_a_job_belongs_to_its_key(serve, tmp_path):
    srv = serve(jobs={"dir": tmp_path / "jobs"})
    r = httpx.post(srv.url + "/v1/jobs", files=upload(), headers=A)
    assert r.status_code == 202
    job_id = r.json()["id"]
    done = wait_done(srv.url, job_id, A)
    assert done["status"] == "succeeded"
    other = httpx.get(f"{srv.url}/v1/jobs/{job_id}", headers=B)
    assert other.status_code == 404 and other.json()["error"]["type"] == "job_not_found"
    assert "owner" not in done  # the owner id is not shown
    # inputs are deleted when the job ends; the result stays
    job_dir = tmp_path / "jobs" / job_id
    assert not list(job_dir.glob("input-*")) and (job_dir / "result.json").is_file()


@pytest.mark.usefixtures("two_keys")
def test_per_key_quotas_answer_429_and_free_up(serve, tmp_path):
    srv = serve(
        jobs={"dir": tmp_path / "jobs", "embedded_worker": False, "max_jobs_per_key": 2, "max_bytes_per_key": 50_000}
    )
    ids = [httpx.post(srv.url + "/v1/jobs", files=upload(), headers=A).json()["id"] for _ in range(2)]
    r = httpx.post(srv.url + "/v1/jobs", files=upload(), headers=A)
    assert r.status_code == 429 and r.json()["error"]["type"] == "quota_exceeded"
    assert "2 jobs queued or running" in r.json()["error"]["message"] and r.headers["retry-after"]
    # the other key is not held up
    assert httpx.post(srv.url + "/v1/jobs", files=upload(), headers=B).status_code == 202
    # bytes: one file bigger than what is left of B's quota, refused from its Content-Length before it is read
    big = {"file": ("big.png", png_bytes() + b"\0" * 60_000, "image/png")}
    r = httpx.post(srv.url + "/v1/jobs", files=big, headers=B)
    assert r.status_code == 429 and "MiB" in r.json()["error"]["message"]
    assert len(job_dirs(tmp_path / "jobs")) == 3
    # the quota counts jobs queued or running: once A's jobs end, A may submit again
    queue = JobQueue(
        JobSettings(dir=tmp_path / "jobs"),
        tmp_path / "jobs",
        pipeline=fake_pipeline(load_settings(home=tmp_path / "home")),
    )
    queue.start_consumer()
    try:
        for job_id in ids:
            assert wait_done(srv.url, job_id, A)["status"] == "succeeded"
    finally:
        queue.stop()
    assert httpx.post(srv.url + "/v1/jobs", files=upload(), headers=A).status_code == 202


@pytest.mark.usefixtures("two_keys")
def test_idempotency_key_returns_the_first_job(serve, tmp_path):
    srv = serve(jobs={"dir": tmp_path / "jobs", "embedded_worker": False})
    first = httpx.post(srv.url + "/v1/jobs", files=upload(), headers={**A, "Idempotency-Key": "order-17"})
    again = httpx.post(srv.url + "/v1/jobs", files=upload(), headers={**A, "Idempotency-Key": "order-17"})
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    # the same key with another request is an error, not a silent replay
    other = httpx.post(srv.url + "/v1/jobs", files=upload(30), headers={**A, "Idempotency-Key": "order-17"})
    assert other.status_code == 422 and other.json()["error"]["type"] == "idempotency_key_reused"
    # keys are per API key: B's "order-17" is B's own job
    mine = httpx.post(srv.url + "/v1/jobs", files=upload(), headers={**B, "Idempotency-Key": "order-17"})
    assert mine.status_code == 202 and mine.json()["id"] != first.json()["id"]
    bad = httpx.post(srv.url + "/v1/jobs", files=upload(), headers={**A, "Idempotency-Key": "has space"})
    assert bad.status_code == 400
    assert len(job_dirs(tmp_path / "jobs")) == 2


class Broken(SlowRec):
    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self.exc = exc

    def run(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        raise self.exc


def run_one_job(tmp_path, exc: BaseException | None, *, pixel_budget: int | None = None) -> dict:
    settings = JobSettings(dir=tmp_path / "jobs", max_attempts=3, stale_after_s=30)
    pipe = fake_pipeline(load_settings(home=tmp_path / "home", limits=Limits()), rec=Broken(exc) if exc else None)
    queue = JobQueue(settings, tmp_path / "jobs", pipeline=pipe, pixel_budget=pixel_budget)
    meta = queue.submit(JobRequest("ocr", [Item(png_bytes(40, 20), "a.png")], single=False)).meta
    queue.start_consumer()
    try:
        deadline = time.monotonic() + 20
        while queue.store.read(meta.id).status not in ("succeeded", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.3)  # a retry, if one were queued, would have started by now
        view = queue.store.public_view(meta.id)
    finally:
        queue.stop()
    assert not list((tmp_path / "jobs" / meta.id).glob("input-*"))
    return view


def test_failures_from_the_input_are_not_retried(tmp_path):
    view = run_one_job(tmp_path / "pixels", None, pixel_budget=100)  # the page is 800 pixels
    assert view["status"] == "failed" and view["attempts"] == 1 and view["error"]["type"] == "too_many_pixels"
    view = run_one_job(tmp_path / "memory", MemoryError())
    assert view["status"] == "failed" and view["attempts"] == 1 and view["error"]["type"] == "input_error"
    # a bug or a broken model may pass on another attempt: those are retried
    view = run_one_job(tmp_path / "bug", RuntimeError("flaky model"))
    assert view["status"] == "failed" and view["attempts"] == 3 and view["error"]["type"] == "job_failed"
