"""Issue #17 item 7: webhook URLs refused by host, port and address; signed payloads (Standard
Webhooks); a total deadline per attempt; retries; delivery off the job thread. Receivers are real
HTTP servers on loopback."""

from __future__ import annotations

import base64
import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_fakes import fake_pipeline, png_bytes

from luodi.config import load_settings
from luodi.errors import ConfigError, InputError
from luodi.pipeline import Item
from luodi.serve.jobs import JobQueue, JobRequest
from luodi.serve.settings import JobSettings, load_serve_settings
from luodi.serve.webhooks import WebhookSender, check_webhook, secret_bytes, sign, verify

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def test_check_webhook_hosts_and_ports():
    allow = ["hooks.example.com", "10.1.2.3:8443", "[fd00::1]:9000"]
    assert check_webhook("https://hooks.example.com/x", allow) == "https://hooks.example.com/x"
    assert check_webhook("http://hooks.example.com:80/x", allow) == "http://hooks.example.com:80/x"
    assert check_webhook("https://10.1.2.3:8443/x", allow, allow_private=True)
    assert check_webhook("http://[fd00::1]:9000/", allow, allow_private=True)
    assert check_webhook(None, allow) is None
    refused = {
        "ftp://hooks.example.com/x": r"http\(s\)",
        "https://user:pw@hooks.example.com/": "credentials",
        "https://hooks.example.com.evil.io/": "not allow-listed",
        "https://hooks.example.com:6379/": "port 6379",  # an allowed host on another port
        "https://hooks.example.com:99999/": "bad port",
        "https://10.1.2.3/x": "port 443",  # an ip:port entry allows that port only
        "https://10.1.2.3:8443/x": "private",  # allow-listed, but private without allow_private
        "https://hooks.example.com/x\r\nX-Evil: 1": "control characters",
        "https://hooks.example.com/x\n": "control characters",
        "https://hooks.example.com/a b": "spaces",
        "https://hooks.example.com/" + "a" * 2100: "2048",
    }
    for url, why in refused.items():
        with pytest.raises(InputError, match=why):
            check_webhook(url, allow)
    # the cloud metadata address is refused even when an operator allow-lists it
    with pytest.raises(InputError, match="link-local"):
        check_webhook("http://169.254.169.254/latest", ["169.254.169.254"], allow_private=True)
    with pytest.raises(InputError, match="link-local"):
        check_webhook("http://[::ffff:169.254.169.254]/", ["[::ffff:169.254.169.254]"], allow_private=True)


def test_settings_need_a_secret_and_good_hosts(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("LUODI_SERVE_JOBS__WEBHOOK_SECRET", raising=False)
    with pytest.raises(ConfigError, match="webhook secret"):
        load_serve_settings(jobs={"webhook_allow_hosts": ["hooks.example.com"]})
    with pytest.raises(ConfigError, match="bad webhook host"):
        load_serve_settings(jobs={"webhook_allow_hosts": ["hooks.example.com/x"], "webhook_secret": "s"})
    # from the environment, and kept out of the JSON handed to uvicorn workers
    monkeypatch.setenv("LUODI_SERVE_JOBS__WEBHOOK_SECRET", SECRET)
    settings = load_serve_settings(jobs={"webhook_allow_hosts": ["hooks.example.com:8443"]})
    assert settings.jobs.webhook_secret is not None and SECRET not in settings.model_dump_json()
    handed = load_serve_settings(**settings.model_dump(mode="json"))
    assert handed.jobs.webhook_secret is not None and handed.jobs.webhook_secret.get_secret_value() == SECRET


def test_signature_matches_the_standard_webhooks_test_vector():
    # the reference vector of the Standard Webhooks specification's libraries
    secret = secret_bytes("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
    now = int(time.time())
    headers = {"webhook-id": "j", "webhook-timestamp": str(now), "webhook-signature": sign(secret, "j", now, body)}
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body + b" ")
    assert not verify(b"other", headers, body)
    old = {**headers, "webhook-timestamp": str(now - 600), "webhook-signature": sign(secret, "j", now - 600, body)}
    assert not verify(secret, old, body)  # replayed later than the tolerance


class Receiver:
    """A real HTTP receiver on loopback; ``behaviour(handler, n)`` answers the n-th request."""

    def __init__(self, behaviour: Callable[[http.server.BaseHTTPRequestHandler, int], None]) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                behaviour(self, len(outer.requests))

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def answer(status: int) -> Callable[[http.server.BaseHTTPRequestHandler, int], None]:
    def reply(handler: http.server.BaseHTTPRequestHandler, n: int) -> None:
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return reply


def trickle(handler: http.server.BaseHTTPRequestHandler, n: int) -> None:
    """A receiver that sends its answer one byte every 0.2 s (each read well inside any per-read timeout)."""
    with contextlib.suppress(OSError):  # the sender hangs up at its deadline
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 200:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.2)


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(behaviour: Callable[[http.server.BaseHTTPRequestHandler, int], None]) -> Receiver:
        made.append(Receiver(behaviour))
        return made[-1]

    yield make
    for r in made:
        r.close()


def sender(port: int, outcomes: dict[str, dict[str, Any]], **kw: Any) -> WebhookSender:
    """A sender on job settings allowing the test receivers; ``kw``: other ``webhook_*`` settings, by their suffix."""
    options: dict[str, Any] = {
        "allow_hosts": (f"127.0.0.1:{port}", f"localhost:{port}"),
        "allow_private": True,
        "secret": SECRET,
        "timeout_s": 1.0,
        "attempts": 3,
        **kw,
    }
    settings = JobSettings(**{f"webhook_{k}": v for k, v in options.items()})
    return WebhookSender(settings, record=outcomes.__setitem__, backoff_s=0.05)


def wait_for(outcomes: dict[str, Any], key: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while key not in outcomes:
        assert time.monotonic() < deadline, f"no outcome for {key}"
        time.sleep(0.02)
    return dict(outcomes[key])


def test_delivery_is_signed_and_retried(receivers):
    flaky = receivers(lambda h, n: answer(503 if n == 1 else 204)(h, n))
    outcomes: dict[str, dict[str, Any]] = {}
    s = sender(flaky.port, outcomes)
    try:
        s.send("a" * 32, flaky.url(), b'{"id":"aaa","status":"succeeded"}')
        got = wait_for(outcomes, "a" * 32)
    finally:
        s.stop()
    assert got["attempts"] == 2 and got["status_code"] == 204
    assert len(flaky.requests) == 2
    for headers, body in flaky.requests:
        assert headers["webhook-id"] == "a" * 32  # the same on a retry: receivers deduplicate on it
        assert verify(secret_bytes(SECRET), headers, body)
        assert headers["host"] == f"127.0.0.1:{flaky.port}"
    # a 4xx other than 408/429 is the receiver's answer: not retried
    refusing = receivers(answer(400))
    s = sender(refusing.port, outcomes)
    try:
        s.send("b" * 32, refusing.url(), b"{}")
        assert wait_for(outcomes, "b" * 32) == {**outcomes["b" * 32], "attempts": 1, "status_code": 400}
    finally:
        s.stop()


def test_a_trickling_receiver_is_cut_at_the_total_deadline(receivers):
    slow = receivers(trickle)
    outcomes: dict[str, dict[str, Any]] = {}
    s = sender(slow.port, outcomes, attempts=1, timeout_s=1.0)
    t0 = time.monotonic()
    try:
        s.send("c" * 32, slow.url(), b"{}")
        got = wait_for(outcomes, "c" * 32)
    finally:
        s.stop()
    assert time.monotonic() - t0 < 3  # 1 s deadline, where 0.2 s per byte would hold a per-read timeout ~40 s
    assert got["attempts"] == 1 and "no answer within 1 s" in got["error"]


def test_private_addresses_are_refused_unless_allowed(receivers):
    target = receivers(answer(204))
    outcomes: dict[str, dict[str, Any]] = {}
    s = sender(target.port, outcomes, allow_private=False)
    try:
        s.send("d" * 32, target.url(), b"{}")  # an address in the URL
        s.send("e" * 32, target.url("localhost"), b"{}")  # a name that resolves to loopback
        for key in ("d" * 32, "e" * 32):
            got = wait_for(outcomes, key)
            assert got["attempts"] == 1 and "loopback or private" in got["error"], got
    finally:
        s.stop()
    assert target.requests == []  # nothing reached it


def test_a_slow_webhook_does_not_hold_the_job_thread(tmp_path: Path, receivers, monkeypatch):
    slow = receivers(trickle)
    settings = JobSettings(
        dir=tmp_path / "jobs",
        worker_threads=1,
        webhook_allow_hosts=(f"127.0.0.1:{slow.port}",),
        webhook_allow_private=True,
        webhook_secret=SECRET,  # type: ignore[arg-type]
        webhook_timeout_s=3,
        webhook_attempts=1,
    )
    queue = JobQueue(settings, tmp_path / "jobs", pipeline=fake_pipeline(load_settings(home=tmp_path / "home")))
    first = queue.submit(JobRequest("ocr", [Item(png_bytes(), "a.png")], webhook=slow.url())).meta
    second = queue.submit(JobRequest("ocr", [Item(png_bytes(), "b.png")])).meta
    queue.start_consumer()
    try:
        deadline = time.monotonic() + 20
        while queue.store.read(second.id).status != "succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # the second job ran while the first one's webhook was still trickling in
        assert queue.store.read(first.id).webhook_delivery is None
        while (delivery := queue.store.read(first.id).webhook_delivery) is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        queue.stop()
    assert delivery["attempts"] == 1 and "no answer within 3 s" in delivery["error"]
    _, body = slow.requests[0]
    assert httpx.Response(200, content=body).json()["id"] == first.id


def test_a_refused_connection_is_retried_and_recorded():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcomes: dict[str, dict[str, Any]] = {}
    s = sender(port, outcomes, attempts=2)
    try:
        s.send("f" * 32, f"http://127.0.0.1:{port}/hook", b"{}")
        got = wait_for(outcomes, "f" * 32)
    finally:
        s.stop()
    assert got["attempts"] == 2 and "ConnectError" in got["error"]


def test_a_webhook_lost_with_its_worker_is_sent_by_the_reaper(tmp_path: Path, receivers):
    target = receivers(answer(204))
    settings = JobSettings(
        dir=tmp_path / "jobs",
        webhook_allow_hosts=(f"127.0.0.1:{target.port}",),
        webhook_allow_private=True,
        webhook_secret=SECRET,  # type: ignore[arg-type]
        webhook_timeout_s=1,
        webhook_attempts=1,
    )
    queue = JobQueue(settings, tmp_path / "jobs")
    store = queue.store
    meta = store.create(JobRequest("ocr", [Item(png_bytes())], webhook=target.url()), max_attempts=1)
    # what a worker killed between finishing the job and delivering its webhook leaves behind
    with store.locked(meta.id) as d:
        store.write_result(d, {"pages": []})
        store.write_meta(d, meta, status="succeeded", finished_at=time.time() - 5)
    try:
        queue.reap_once()
        assert store.read(meta.id).webhook_delivery is None  # too recent: a delivery may be under way
        with store.locked(meta.id) as d:
            store.write_meta(d, store.read(meta.id), finished_at=time.time() - 3600)
        queue.reap_once()
        queue.reap_once()  # a second pass (or another worker's reaper) does not send it again
        deadline = time.monotonic() + 10
        while (delivery := store.read(meta.id).webhook_delivery) is None or "status_code" not in delivery:
            assert time.monotonic() < deadline, delivery
            time.sleep(0.05)
    finally:
        queue.stop()
    assert delivery["status_code"] == 204 and len(target.requests) == 1
    headers, body = target.requests[0]
    assert verify(secret_bytes(SECRET), headers, body) and b"webhook_delivery" not in body


def test_a_job_given_up_after_its_worker_was_lost_tells_its_webhook_at_once(tmp_path: Path, receivers):
    target = receivers(answer(204))
    settings = JobSettings(
        dir=tmp_path / "jobs",
        stale_after_s=0.1,
        webhook_allow_hosts=(f"127.0.0.1:{target.port}",),
        webhook_allow_private=True,
        webhook_secret=SECRET,  # type: ignore[arg-type]
        webhook_timeout_s=1,
        webhook_attempts=1,
    )
    queue = JobQueue(settings, tmp_path / "jobs")
    store = queue.store
    meta = store.create(JobRequest("ocr", [Item(png_bytes())], webhook=target.url()), max_attempts=1)
    with store.locked(meta.id) as d:  # its only attempt ran on a worker that stopped beating
        store.write_meta(d, meta, status="running", attempts=1, worker="gone:1", heartbeat_at=time.time() - 10)
    try:
        queue.reap_once()  # well inside the redelivery grace: only an immediate notification sends it
        deadline = time.monotonic() + 10
        while (delivery := store.read(meta.id).webhook_delivery) is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        queue.stop()
    assert delivery["status_code"] == 204
    body = httpx.Response(200, content=target.requests[0][1]).json()
    assert body["status"] == "failed" and "worker lost" in body["error"]["message"]
