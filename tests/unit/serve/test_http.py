"""The HTTP layer against a real uvicorn server (fake engine, real luodi.io decoding and limits)."""

from __future__ import annotations

import base64
import io
import threading
import time

import httpx
import pytest
from PIL import Image
from serve_fakes import SlowRec, png_bytes

from luodi.config import Limits

pytestmark = pytest.mark.usefixtures("no_api_keys")


def test_health_ready_openapi(serve):
    srv = serve()
    assert httpx.get(srv.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(srv.url + "/readyz")
    assert ready.status_code == 200 and ready.json()["model"] == "fake-model"
    spec = httpx.get(srv.url + "/openapi.json").json()
    assert {"/v1/ocr", "/v1/extract/{schema}", "/v1/batch/ocr", "/v1/jobs", "/v1/jobs/{job_id}", "/v1/models"} <= set(
        spec["paths"]
    )
    assert "multipart/form-data" in spec["paths"]["/v1/ocr"]["post"]["requestBody"]["content"]


def test_ocr_multipart_and_json(serve):
    srv = serve()
    r = httpx.post(srv.url + "/v1/ocr", files={"file": ("a.png", png_bytes(40, 20), "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == "a.png" and body["pages"][0]["width"] == 40 and body["pages"][0]["height"] == 20
    assert r.headers["x-request-id"]
    payload = {"image": base64.b64encode(png_bytes(30, 10)).decode(), "name": "b.png"}
    r = httpx.post(srv.url + "/v1/ocr", json=payload, headers={"X-Request-ID": "abc-1"})
    assert r.status_code == 200 and r.json()["source"] == "b.png" and r.json()["pages"][0]["width"] == 30
    assert r.headers["x-request-id"] == "abc-1"


@pytest.mark.parametrize(
    ("content", "status", "etype"),
    [
        (b"", 400, "empty_input"),
        (b"PK\x03\x04 this is a zip" + b"\0" * 100, 415, "unsupported_format"),
        (b"hello, plain text " * 10, 415, "unsupported_format"),
        (png_bytes()[:60], 422, None),  # truncated PNG: corrupt
    ],
)
def test_bad_inputs_are_json_4xx_and_server_stays_healthy(serve, content, status, etype):
    srv = serve()
    r = httpx.post(srv.url + "/v1/ocr", files={"file": ("x.png", content, "image/png")})
    assert r.status_code == status, r.text
    assert set(r.json()["error"]) == {"type", "message"}
    if etype:
        assert r.json()["error"]["type"] == etype
    ok = httpx.post(srv.url + "/v1/ocr", files={"file": ("a.png", png_bytes(), "image/png")})
    assert ok.status_code == 200


def test_limits_bytes_pixels_files(serve):
    limits = Limits(max_bytes=200_000, max_pixels=1_000_000, max_files=3)
    srv = serve(limits=limits)
    # bytes: one file over the per-file limit, and a body over the whole-request cap
    big = png_bytes()[:-12] + b"\0" * 300_000
    r = httpx.post(srv.url + "/v1/ocr", files={"file": ("big.png", big, "image/png")})
    assert r.status_code == 413 and r.json()["error"]["type"] == "too_many_bytes"
    r = httpx.post(srv.url + "/v1/ocr", json={"image": base64.b64encode(big).decode()})
    assert r.status_code == 413
    # pixel bomb: 4000x4000 bilevel PNG compresses to a few kB but is 16 MP
    buf = io.BytesIO()
    Image.new("1", (4000, 4000)).save(buf, format="PNG")
    assert len(buf.getvalue()) < 100_000
    r = httpx.post(srv.url + "/v1/ocr", files={"file": ("bomb.png", buf.getvalue(), "image/png")})
    assert r.status_code == 422 and r.json()["error"]["type"] == "too_many_pixels"
    files = [("files", (f"{i}.png", png_bytes(), "image/png")) for i in range(4)]
    r = httpx.post(srv.url + "/v1/batch/ocr", files=files)
    assert r.status_code == 413 and r.json()["error"]["type"] == "too_many_files"
    assert httpx.get(srv.url + "/healthz").status_code == 200


def test_wrong_content_type_and_bad_json(serve):
    srv = serve()
    r = httpx.post(srv.url + "/v1/ocr", content=b"abc", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    r = httpx.post(srv.url + "/v1/ocr", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "input_error"
    r = httpx.post(srv.url + "/v1/ocr", json={"image": "@@@not base64@@@"})
    assert r.status_code == 400
    r = httpx.post(srv.url + "/v1/ocr", files={"other": ("a.png", png_bytes(), "image/png")})
    assert r.status_code == 400
    r = httpx.get(srv.url + "/v1/nope")
    assert r.status_code == 404 and r.json()["error"]["type"] == "http_error"


def test_extract_and_unknown_schema(serve):
    srv = serve()
    r = httpx.post(srv.url + "/v1/extract/waybill", files={"file": ("w.png", png_bytes(), "image/png")})
    assert r.status_code == 200 and r.json()["schema"] == "waybill"
    for schema in ("nope", "..%2Fetc%2Fpasswd"):
        r = httpx.post(srv.url + f"/v1/extract/{schema}", files={"file": ("w.png", png_bytes(), "image/png")})
        assert r.status_code == 404, schema


def test_batch_in_order_with_per_item_failures(serve):
    srv = serve()
    files = [
        ("files", ("a.png", png_bytes(10, 10), "image/png")),
        ("files", ("bad.txt", b"just some text here", "text/plain")),
        ("files", ("c.png", png_bytes(30, 10), "image/png")),
    ]
    r = httpx.post(srv.url + "/v1/batch/ocr", files=files)
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["source"] for x in results] == ["a.png", "bad.txt", "c.png"]
    assert results[0]["result"]["pages"][0]["width"] == 10
    assert results[1]["error"]["type"] == "unsupported_format"
    assert results[2]["result"]["pages"][0]["width"] == 30
    r = httpx.post(srv.url + "/v1/batch/extract/waybill", files=files[:1])
    assert r.status_code == 200 and r.json()["results"][0]["result"]["schema"] == "waybill"


def test_auth(serve, monkeypatch, tmp_path):
    from luodi.serve.auth import hash_key

    keys_file = tmp_path / "keys"
    keys_file.write_text(f"# ops\nsha256:{hash_key('file-key')} ci\n")
    monkeypatch.setenv("LUODI_API_KEYS", "env-key, other")
    srv = serve(keys_file=keys_file)
    url = srv.url + "/v1/ocr"
    upload = {"file": ("a.png", png_bytes(), "image/png")}
    r = httpx.post(url, files=upload)
    assert r.status_code == 401 and r.json()["error"]["type"] == "unauthorized"
    assert httpx.post(url, files=upload, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.post(url, files=upload, headers={"Authorization": "Bearer env-key"}).status_code == 200
    assert httpx.post(url, files=upload, headers={"X-API-Key": "file-key"}).status_code == 200
    assert httpx.get(srv.url + "/v1/models").status_code == 401
    for open_path in ("/healthz", "/readyz", "/metrics"):
        assert httpx.get(srv.url + open_path).status_code == 200


def test_queue_full_503_and_deadline_504(serve):
    srv = serve(delay_s=0.6, concurrency=1, queue_size=1)
    upload = {"file": ("a.png", png_bytes(), "image/png")}
    results: list[httpx.Response] = []

    def call() -> None:
        results.append(httpx.post(srv.url + "/v1/ocr", files=upload, timeout=30))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 200, 503, 503], codes
    refused = next(r for r in results if r.status_code == 503)
    assert refused.headers["retry-after"] == "1" and refused.json()["error"]["type"] == "queue_full"
    r = httpx.post(srv.url + "/v1/ocr", files=upload, headers={"X-Deadline-Ms": "100"}, timeout=30)
    assert r.status_code == 504 and r.json()["error"]["type"] == "deadline_exceeded"
    time.sleep(0.7)  # the overrun call still holds its slot until it really ends
    assert httpx.post(srv.url + "/v1/ocr", files=upload, timeout=30).status_code == 200


def test_metrics_exposed(serve):
    srv = serve()
    httpx.post(srv.url + "/v1/ocr", files={"file": ("a.png", png_bytes(), "image/png")})
    text = httpx.get(srv.url + "/metrics").text
    assert 'luodi_requests_total{method="POST",route="/v1/ocr",status="200"} 1.0' in text
    for name in (
        "luodi_request_duration_seconds_bucket",
        "luodi_queue_wait_seconds_count",
        'luodi_stage_duration_seconds_count{stage="det"}',
        "luodi_in_flight_requests",
        "luodi_queue_depth",
        'luodi_model_info{batching="false"',
        "luodi_process_resident_memory_bytes",
        "luodi_jobs_current",
    ):
        assert name in text, name


def test_models(serve):
    srv = serve()
    body = httpx.get(srv.url + "/v1/models").json()
    assert body["loaded"]["name"] == "fake-model"
    assert isinstance(body["available"], list)


def test_batching_groups_crops_across_requests(serve):
    rec = SlowRec()
    srv = serve(rec=rec, concurrency=4, batching={"enabled": True, "max_batch_size": 8, "max_wait_ms": 200})
    upload = {"file": ("a.png", png_bytes(), "image/png")}
    results: list[httpx.Response] = []
    threads = [
        threading.Thread(target=lambda: results.append(httpx.post(srv.url + "/v1/ocr", files=upload, timeout=30)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [200] * 4
    texts = {r.json()["pages"][0]["lines"][0]["text"] for r in results}
    assert len(texts) == 1 and texts != {""}, texts  # the same image reads the same in any batch
    batches = [shape[0] for shape in rec.shapes]
    assert sum(batches) == 4 and max(batches) > 1, batches
    assert "luodi_rec_batch_size_bucket" in httpx.get(srv.url + "/metrics").text


def test_chunked_body_over_the_cap_is_413(serve):
    limits = Limits(max_bytes=100_000)
    srv = serve(limits=limits)

    def body():
        yield b'{"image": "'
        for _ in range(40):
            yield b"A" * 10_000  # no Content-Length: the server must count as it reads
        yield b'"}'

    r = httpx.post(srv.url + "/v1/ocr", content=body(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["type"] == "too_many_bytes"
    assert httpx.get(srv.url + "/healthz").status_code == 200
