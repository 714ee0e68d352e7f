"""Every endpoint of a real ``luodi serve`` (uvicorn subprocess, real models) with auth on."""

from __future__ import annotations

import base64
import http.server
import io
import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image
from service_procs import API_KEY, LUODI, free_port

from luodi.serve.webhooks import secret_bytes, verify

pytestmark = pytest.mark.service

AUTH = {"Authorization": f"Bearer {API_KEY}"}


HOOK_SECRET = "whsec_" + base64.b64encode(b"a receiver's shared secret").decode()


class _Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {k.lower(): v for k, v in self.headers.items()}
        if verify(secret_bytes(HOOK_SECRET), headers, body):  # a receiver checks the signature
            _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def hook_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/done"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def server(start_server, tmp_path_factory, hook_server):
    jobs = tmp_path_factory.mktemp("jobs")
    hook = urlsplit(hook_server).netloc  # host:port: the receiver's port only
    env = {"LUODI_API_KEYS": API_KEY, "LUODI_SERVE_JOBS__WEBHOOK_SECRET": HOOK_SECRET}
    return start_server("--jobs-dir", str(jobs), "--webhook-host", hook, "--webhook-allow-private", env=env)


@pytest.fixture(scope="module")
def samples(doc_samples: Path) -> dict[str, bytes]:
    return {
        "sign": (doc_samples / "rapidocr" / "ch_en_num.jpg").read_bytes(),
        "word": (doc_samples / "rapidocr" / "text_rec.jpg").read_bytes(),
        "phone": (doc_samples / "paddleocr" / "imgs_words" / "ch" / "word_3.jpg").read_bytes(),
    }


def post_file(server, path: str, data: bytes, name: str = "x.jpg", **kw) -> httpx.Response:
    return httpx.post(server.url + path, files={"file": (name, data, "image/jpeg")}, headers=AUTH, timeout=60, **kw)


def assert_healthy(server) -> None:
    assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
    assert httpx.get(server.url + "/readyz", timeout=10).status_code == 200


def test_ready_fast_and_open_ops_endpoints(server):
    assert server.ready_s < 30  # the bench records the real figure; this only catches a hang
    body = httpx.get(server.url + "/readyz").json()
    assert body["status"] == "ready" and body["model"] == "pp-ocrv6-small"
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    spec = httpx.get(server.url + "/openapi.json").json()
    assert "/v1/batch/extract/{schema}" in spec["paths"]
    assert httpx.get(server.url + "/docs").status_code == 200


def test_ocr_multipart_and_base64_json(server, samples):
    r = post_file(server, "/v1/ocr", samples["sign"], "ch_en_num.jpg")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["source"] == "ch_en_num.jpg" and doc["model"] == "pp-ocrv6-small"
    texts = [line["text"] for line in doc["pages"][0]["lines"]]
    assert texts[:3] == ["正品促销", "大桶装更划算", "强力去污符合国标"], texts
    assert set(doc["timings_ms"]) == {"locate", "det", "cls", "rec", "total"}
    payload = {"image": base64.b64encode(samples["word"]).decode(), "name": "word.jpg"}
    r = httpx.post(server.url + "/v1/ocr", json=payload, headers=AUTH, timeout=60)
    assert r.status_code == 200 and r.json()["source"] == "word.jpg"
    assert "韩国小馆" in "".join(line["text"] for line in r.json()["pages"][0]["lines"])


def test_extract_contact_and_waybill(server, samples):
    r = post_file(server, "/v1/extract/contact", samples["phone"], "phone.jpg")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["schema"] == "contact" and body["source"] == "phone.jpg"
    assert body["fields"]["phone"]["value"] == "15952301928"
    r = post_file(server, "/v1/extract/waybill", samples["sign"])
    assert r.status_code == 200 and r.json()["schema"] == "waybill" and "receiver_phone" in r.json()["fields"]


def test_batches_keep_order_and_fail_per_item(server, samples):
    files = [
        ("files", ("word.jpg", samples["word"], "image/jpeg")),
        ("files", ("notes.txt", b"this is not an image at all", "text/plain")),
        ("files", ("phone.jpg", samples["phone"], "image/jpeg")),
    ]
    r = httpx.post(server.url + "/v1/batch/ocr", files=files, headers=AUTH, timeout=60)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["index"] for x in results] == [0, 1, 2]
    assert [x["source"] for x in results] == ["word.jpg", "notes.txt", "phone.jpg"]
    assert "韩国小馆" in results[0]["result"]["pages"][0]["lines"][0]["text"]
    assert results[1]["error"]["type"] == "unsupported_format" and "result" not in results[1]
    assert "15952301928" in "".join(line["text"] for line in results[2]["result"]["pages"][0]["lines"])
    r = httpx.post(server.url + "/v1/batch/extract/contact", files=files[2:], headers=AUTH, timeout=60)
    assert r.json()["results"][0]["result"]["fields"]["phone"]["value"] == "15952301928"


def test_jobs_with_webhook(server, samples, hook_server):
    _Hook.received.clear()
    r = httpx.post(
        server.url + "/v1/jobs",
        files={"file": ("phone.jpg", samples["phone"], "image/jpeg")},
        data={"task": "extract", "schema": "contact", "webhook": hook_server},
        headers=AUTH,
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    assert r.json()["status"] == "queued"
    deadline = time.monotonic() + 60
    while (body := httpx.get(f"{server.url}/v1/jobs/{job_id}", headers=AUTH).json())["status"] != "succeeded":
        assert body["status"] in ("queued", "running"), body
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert body["result"]["fields"]["phone"]["value"] == "15952301928"
    deadline = time.monotonic() + 10
    while not _Hook.received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _Hook.received and _Hook.received[0]["id"] == job_id and _Hook.received[0]["status"] == "succeeded"
    r = httpx.post(
        server.url + "/v1/jobs",
        files={"file": ("phone.jpg", samples["phone"], "image/jpeg")},
        data={"webhook": "http://169.254.169.254/latest"},
        headers=AUTH,
    )
    assert r.status_code == 400
    host = urlsplit(hook_server).hostname
    for refused in (f"http://{host}:6379/", f"http://{host}/", hook_server + "\r\nX-Injected: 1"):
        r = httpx.post(
            server.url + "/v1/jobs",
            files={"file": ("phone.jpg", samples["phone"], "image/jpeg")},
            data={"webhook": refused},
            headers=AUTH,
        )
        assert r.status_code == 400 and r.json()["error"]["type"] == "input_error", r.text
    deadline = time.monotonic() + 10
    while "webhook_delivery" not in (view := httpx.get(f"{server.url}/v1/jobs/{job_id}", headers=AUTH).json()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert view["webhook_delivery"]["status_code"] == 204 and view["webhook_delivery"]["attempts"] == 1


def test_models_endpoint(server):
    body = httpx.get(server.url + "/v1/models", headers=AUTH).json()
    assert body["loaded"]["name"] == "pp-ocrv6-small"
    assert body["loaded"]["runtime"]["rec"]["backend"] == "onnxruntime"
    assert any(b["name"] == "pp-ocrv6-small" and b["pulled"] for b in body["available"])


def test_auth_required_except_ops(server, samples):
    assert post_file(server, "/v1/ocr", samples["word"]).status_code == 200
    r = httpx.post(server.url + "/v1/ocr", files={"file": ("w.jpg", samples["word"], "image/jpeg")})
    assert r.status_code == 401 and r.json()["error"]["type"] == "unauthorized"
    r = httpx.get(server.url + "/v1/models", headers={"X-API-Key": "wrong"})
    assert r.status_code == 401
    assert httpx.get(server.url + "/v1/models", headers={"X-API-Key": API_KEY}).status_code == 200
    for path in ("/healthz", "/readyz", "/metrics"):
        assert httpx.get(server.url + path).status_code == 200


def _pixel_bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buf, format="PNG")  # 100 MP in ~13 kB
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "status", "etype"),
    [
        ("empty", lambda s: b"", 400, "empty_input"),
        ("corrupt", lambda s: s["sign"][: len(s["sign"]) // 3], 422, None),
        ("garbage-jpeg", lambda s: b"\xff\xd8\xff\xe0" + b"\x13" * 5000, 422, None),
        ("huge", lambda s: s["sign"] + b"\0" * (21 * 1024 * 1024), 413, "too_many_bytes"),
        ("pixel-bomb", lambda s: _pixel_bomb(), 422, "too_many_pixels"),
        ("zip", lambda s: b"PK\x03\x04" + b"\0" * 200, 415, "unsupported_format"),
        ("exe", lambda s: b"\x7fELF" + b"\0" * 200, 415, "unsupported_format"),
    ],
)
def test_bad_inputs(server, samples, name, make, status, etype):
    r = post_file(server, "/v1/ocr", make(samples), f"{name}.jpg")
    assert r.status_code == status, (name, r.text)
    error = r.json()["error"]
    assert set(error) == {"type", "message"} and error["message"]
    if etype:
        assert error["type"] == etype
    assert_healthy(server)


def test_unknown_schema_and_job(server, samples):
    r = post_file(server, "/v1/extract/no_such_schema", samples["word"])
    assert r.status_code == 404 and r.json()["error"]["type"] == "unknown_schema"
    r = post_file(server, "/v1/extract/..%2F..%2Fetc%2Fpasswd", samples["word"])
    assert r.status_code == 404
    r = httpx.get(server.url + "/v1/jobs/" + "f" * 32, headers=AUTH)
    assert r.status_code == 404 and r.json()["error"]["type"] == "job_not_found"
    assert_healthy(server)


def test_metrics_after_traffic(server):
    text = httpx.get(server.url + "/metrics").text
    for needle in (
        'luodi_requests_total{method="POST",route="/v1/ocr",status="200"}',
        'luodi_requests_total{method="POST",route="/v1/ocr",status="415"}',
        'luodi_stage_duration_seconds_count{stage="rec"}',
        'luodi_stage_duration_seconds_count{stage="kie"}',
        "luodi_queue_wait_seconds_bucket",
        "luodi_in_flight_requests",
        "luodi_queue_depth",
        'luodi_jobs_current{state="succeeded"}',
        'luodi_model_info{batching="false",model="pp-ocrv6-small"',
        "luodi_process_resident_memory_bytes",
    ):
        assert needle in text, needle


def test_refuses_public_address_without_keys(model_pulled):
    port = str(free_port())
    env = {k: v for k, v in os.environ.items() if k != "LUODI_API_KEYS"}
    done = subprocess.run(
        [*LUODI, "serve", "--host", "0.0.0.0", "--port", port],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 1 and "refusing to listen on 0.0.0.0" in done.stderr


def test_two_workers_report_one_sum_of_their_metrics(start_server, tmp_path):
    """`--workers 2`: whichever process answers /metrics, the counts cover both workers' requests."""
    import re

    proc = start_server("--workers", "2", "--jobs-dir", str(tmp_path / "jobs"))
    # both workers must be up before traffic: readyz answers from one of them, so poll a while
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = httpx.get(proc.url + "/metrics").text
        if re.search(r"^luodi_ready 1\.0$", text, re.M):
            break
        time.sleep(0.2)
    n = 40
    with httpx.Client() as client:  # one connection per request: uvicorn's workers share the socket
        for _ in range(n):
            assert client.get(proc.url + "/healthz", headers={"Connection": "close"}).status_code == 200
    pattern = r'^luodi_requests_total\{method="GET",route="/healthz",status="200"\} (\d+)\.0$'
    counts = set()
    for _ in range(6):
        m = re.search(pattern, httpx.get(proc.url + "/metrics", headers={"Connection": "close"}).text, re.M)
        assert m is not None
        counts.add(int(m.group(1)))
    assert counts == {n}  # the same total from every scrape, not one worker's share
    text = httpx.get(proc.url + "/metrics").text
    assert 'luodi_model_info{batching="false",model="pp-ocrv6-small"' in text
    assert "luodi_process_resident_memory_bytes" in text
    # the server's shared-metrics folder goes away with it
    assert proc.stop() == 0
