"""Issue #17 item 5: the job queue on a Redis that wants a password and speaks TLS only (a real
``redis-server`` with a test CA made by ``openssl``): ``luodi serve`` and ``luodi worker`` run a
job through it, and a client with a wrong password, none, or no TLS gets 503 with nothing created."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
from service_procs import free_port

from luodi.errors import QueueUnavailableError
from luodi.pipeline import Item
from luodi.serve.jobs import JobQueue, JobRequest
from luodi.serve.settings import JobSettings

pytestmark = pytest.mark.service

PASSWORD = "a-long-redis-password-for-the-test"


class SecureRedis(NamedTuple):
    url: str  # rediss://
    plain_url: str  # the same port without TLS
    ca: Path
    password_file: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def secure_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureRedis]:
    binary, openssl = shutil.which("redis-server"), shutil.which("openssl")
    if binary is None or openssl is None:
        pytest.skip("redis-server and openssl are needed")
    d = tmp_path_factory.mktemp("redis-tls")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
             "-days", "2", "-subj", "/CN=luodi test CA", cwd=d)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "redis.key", "-out", "redis.csr",
             "-subj", "/CN=127.0.0.1", cwd=d)  # fmt: skip
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "redis.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "redis.crt", "-days", "2", "-extfile", "san.ext", cwd=d)  # fmt: skip
    (d / "password").write_text(PASSWORD + "\n")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--dir", str(d),
         "--tls-cert-file", "redis.crt", "--tls-key-file", "redis.key", "--tls-ca-cert-file", "ca.crt",
         "--tls-auth-clients", "no", "--requirepass", PASSWORD, "--save", "", "--appendonly", "no"],
        cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    client = redis.Redis.from_url(f"rediss://127.0.0.1:{port}/0", password=PASSWORD, ssl_ca_certs=str(d / "ca.crt"))
    deadline = time.monotonic() + 10
    while True:
        try:
            if client.ping():
                break
        except redis.RedisError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server with TLS did not start (built without TLS?)")
            time.sleep(0.1)
    client.close()
    yield SecureRedis(f"rediss://127.0.0.1:{port}/0", f"redis://127.0.0.1:{port}/0", d / "ca.crt", d / "password")
    proc.terminate()
    proc.wait(10)


def test_jobs_run_through_a_password_and_tls_redis(start_server, start_worker, secure_redis, tmp_path, doc_samples):
    jobs_dir = tmp_path / "jobs"
    common = ("--jobs-backend", "redis", "--redis-url", secure_redis.url, "--jobs-dir", str(jobs_dir))
    env = {
        "LUODI_SERVE_JOBS__REDIS_PASSWORD_FILE": str(secure_redis.password_file),
        "LUODI_SERVE_JOBS__REDIS_TLS_CA_FILE": str(secure_redis.ca),
    }
    server = start_server(*common, "--no-embedded-worker", env=env)
    start_worker(*common, env=env)
    image = (doc_samples / "rapidocr" / "ch_en_num.jpg").read_bytes()
    r = httpx.post(server.url + "/v1/jobs", files={"file": ("a.jpg", image)}, timeout=60)
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 120
    while (view := httpx.get(f"{server.url}/v1/jobs/{r.json()['id']}", timeout=10).json())["status"] != "succeeded":
        assert view["status"] in ("queued", "running") and time.monotonic() < deadline, view
        time.sleep(0.2)
    assert view["result"]["pages"][0]["lines"]
    assert PASSWORD not in server.log_text()


@pytest.mark.parametrize("how", ["wrong password", "no password", "no TLS"])
def test_a_client_without_the_password_or_tls_gets_503(secure_redis, tmp_path: Path, how: str):
    (tmp_path / "wrong").write_text("not-the-password\n")
    options = {
        "wrong password": {"redis_url": secure_redis.url, "redis_password_file": tmp_path / "wrong"},
        "no password": {"redis_url": secure_redis.url},
        "no TLS": {"redis_url": secure_redis.plain_url, "redis_password_file": secure_redis.password_file},
    }[how]
    settings = JobSettings(backend="redis", redis_tls_ca_file=secure_redis.ca, **options)  # type: ignore[arg-type]
    queue = JobQueue(settings, tmp_path / "jobs")
    t0 = time.monotonic()
    with pytest.raises(QueueUnavailableError):
        queue.submit(JobRequest("ocr", [Item(b"\x89PNG", "a.png")]))
    assert time.monotonic() - t0 < 20  # bounded by the socket timeouts, not hung
    assert not [p for p in (tmp_path / "jobs").iterdir() if len(p.name) == 32]  # nothing created
