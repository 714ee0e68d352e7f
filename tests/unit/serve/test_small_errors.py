"""Issue #17 item 6: requests that used to get a 500 get a 400, and a real 500 names its request id."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import numpy as np
import pytest
from serve_fakes import SlowRec, png_bytes

pytestmark = pytest.mark.usefixtures("no_api_keys")


class BrokenRec(SlowRec):
    """A recogniser with a bug: every call raises something that is not a luodi error."""

    def run(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        raise RuntimeError("a bug in the recogniser")


def test_deeply_nested_json_is_400_everywhere(serve):
    srv = serve()
    deep = b"[" * 50_000 + b"]" * 50_000
    for path in ("/v1/ocr", "/v1/extract/waybill", "/v1/text/some-model"):
        r = httpx.post(srv.url + path, content=deep, headers={"content-type": "application/json"}, timeout=30)
        assert r.status_code in (400, 422), (path, r.status_code, r.text)
        assert r.status_code != 500 and r.json()["error"]["message"]
    nested_object = b'{"image": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    r = httpx.post(srv.url + "/v1/ocr", content=nested_object, headers={"content-type": "application/json"})
    assert r.status_code == 400 and "nested" in r.json()["error"]["message"]
    assert httpx.get(srv.url + "/healthz").status_code == 200


@pytest.mark.parametrize("value", ["9" * 400, "-5", "1e3", "12ms", "", "0x10", "1.5"])
def test_bad_deadline_header_is_400(serve, value):
    srv = serve()
    upload = {"file": ("a.png", png_bytes(), "image/png")}
    r = httpx.post(srv.url + "/v1/ocr", files=upload, headers={"X-Deadline-Ms": value})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["type"] == "input_error" and "X-Deadline-Ms" in r.json()["error"]["message"]
    ok = httpx.post(srv.url + "/v1/ocr", files=upload, headers={"X-Deadline-Ms": "30000"})
    assert ok.status_code == 200


def test_a_500_carries_the_request_id_in_body_header_and_log(serve, caplog):
    srv = serve(rec=BrokenRec())
    upload = {"file": ("a.png", png_bytes(), "image/png")}
    r = httpx.post(srv.url + "/v1/ocr", files=upload, headers={"X-Request-ID": "trace-me-42"})
    assert r.status_code == 500
    assert r.headers["x-request-id"] == "trace-me-42"
    assert r.json()["error"]["type"] == "internal_error"
    assert "trace-me-42" in r.json()["error"]["message"] and "None" not in r.json()["error"]["message"]
    # without an id from the client the server makes one, and still names it in both places
    r = httpx.post(srv.url + "/v1/ocr", files=upload)
    rid = r.headers["x-request-id"]
    assert r.status_code == 500 and len(rid) == 32 and rid in r.json()["error"]["message"]
    assert "a bug in the recogniser" not in r.text  # details stay in the log
    assert any(rec.exc_info and "a bug in the recogniser" in str(rec.exc_info[1]) for rec in caplog.records)
    assert httpx.get(srv.url + "/healthz").status_code == 200


def test_insecure_warns_at_every_start(tmp_path, caplog, monkeypatch):
    import logging

    from luodi.serve.app import create_app
    from luodi.serve.settings import ServeSettings

    settings = ServeSettings(home=tmp_path, host="0.0.0.0", insecure=True)
    with caplog.at_level(logging.WARNING, logger="luodi.serve"):
        create_app(settings)
        create_app(settings)  # a second worker process, or a restart: said again
    said = [r for r in caplog.records if "--insecure" in r.getMessage()]
    assert len(said) == 2 and "without API keys" in said[0].getMessage() and "0.0.0.0" in said[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="luodi.serve"):
        create_app(ServeSettings(home=tmp_path))
    assert not [r for r in caplog.records if "--insecure" in r.getMessage()]


def test_a_review_image_that_is_not_an_image_is_the_callers_error():
    from luodi.errors import UnsupportedFormatError
    from luodi.review.images import image_ext

    for data in (b"", b"not an image", b"%PDF-1.7"):
        with pytest.raises(UnsupportedFormatError) as caught:
            image_ext(data)
        assert caught.value.http_status == 415
