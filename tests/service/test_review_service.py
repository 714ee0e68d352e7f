"""The review queue inside a real ``luodi serve``: flagged extractions are kept (sync, batch, job), and a
server SIGKILLed in the middle of saves loses nothing it acknowledged."""

from __future__ import annotations

import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "review"))

from review_support import waybill_png
from service_procs import API_KEY

pytestmark = pytest.mark.service

HEADERS = {"X-API-Key": API_KEY, "X-Reviewer": "tester"}


def review_env(home: Path, **extra: str) -> dict[str, str]:
    return {
        "LUODI_API_KEYS": API_KEY,
        "LUODI_SERVE_REVIEW__DB_URL": f"sqlite:///{home / 'review.db'}",
        "LUODI_SERVE_REVIEW__IMAGES": str(home / "images"),
        **extra,
    }


def queue(url: str, **params: Any) -> dict[str, Any]:
    r = httpx.get(f"{url}/ui/api/queue", params=params, headers=HEADERS, timeout=30)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_flagged_extractions_are_kept_from_sync_batch_and_jobs(start_server: Any, tmp_path: Path) -> None:
    server = start_server(env=review_env(tmp_path))
    page = waybill_png({"收件人": "张三", "电话": "13800138000"})  # no sender: the required fields flag it
    files = {"file": ("w.png", page, "image/png")}
    body = httpx.post(f"{server.url}/v1/extract/waybill", files=files, headers=HEADERS, timeout=120).json()
    assert body["needs_review"] is True
    batch = [("files", (f"b{i}.png", page, "image/png")) for i in range(2)]
    assert httpx.post(f"{server.url}/v1/batch/extract/waybill", files=batch, headers=HEADERS, timeout=120).is_success
    job = httpx.post(
        f"{server.url}/v1/jobs", files=files, data={"task": "extract", "schema": "waybill"}, headers=HEADERS, timeout=30
    ).json()
    deadline = time.monotonic() + 120
    while httpx.get(f"{server.url}/v1/jobs/{job['id']}", headers=HEADERS, timeout=10).json()["status"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    httpx.post(f"{server.url}/v1/ocr", files=files, headers=HEADERS, timeout=120)  # OCR results are not reviewed
    got = queue(server.url, schema="waybill")
    assert got["total"] == 4 and got["waiting"]["document"] == 4
    item = httpx.get(f"{server.url}/ui/api/items/{got['items'][0]['id']}", headers=HEADERS, timeout=10).json()
    assert item["suggestion"]["fields"]["receiver_phone"]["value"] == "13800138000"
    assert {f["field"] for f in item["flags"]} >= {"sender_name"}
    image = httpx.get(f"{server.url}/ui/api/items/{item['id']}/image", headers=HEADERS, timeout=10)
    assert image.content == page and image.headers["content-type"] == "image/png"
    origins = {
        httpx.get(f"{server.url}/ui/api/items/{e['id']}", headers=HEADERS).json()["origin"] for e in got["items"]
    }
    assert origins == {"service", "batch", "job"}
    metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
    assert 'luodi_review_waiting{kind="document"} 4.0' in metrics
    # bad requests to the review API: 4xx JSON, the server stays up
    assert httpx.get(f"{server.url}/ui/api/items/../../etc", headers=HEADERS).status_code == 404
    assert httpx.get(f"{server.url}/ui/api/items/{'f' * 32}", headers=HEADERS).status_code == 404
    r = httpx.put(f"{server.url}/ui/api/items/{item['id']}", json={"action": "accept"}, headers=HEADERS)
    assert r.status_code == 400 and "version" in r.json()["error"]["message"]
    r = httpx.put(
        f"{server.url}/ui/api/items/{item['id']}",
        json={"action": "accept", "labels": {"fields": "no"}},
        headers={**HEADERS, "If-Match": '"v1"'},
    )
    assert r.status_code == 400
    r = httpx.put(f"{server.url}/ui/api/items/{item['id']}", json={"action": "accept"}, headers={"If-Match": '"v1"'})
    assert r.status_code == 401
    assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200


def test_keeping_can_be_switched_off(start_server: Any, tmp_path: Path) -> None:
    server = start_server(env=review_env(tmp_path, LUODI_SERVE_REVIEW__KEEP="false"))
    page = waybill_png({"收件人": "张三"})
    files = {"file": ("w.png", page, "image/png")}
    assert httpx.post(f"{server.url}/v1/extract/waybill", files=files, headers=HEADERS, timeout=120).json()[
        "needs_review"
    ]
    assert queue(server.url)["total"] == 0


def _saver(url: str, ids: list[str], acked: dict[str, tuple[int, str]], stop: threading.Event, who: str) -> None:
    """Save new labels over and over; record every save the server acknowledged (200)."""
    client = httpx.Client(headers={**HEADERS, "X-Reviewer": who}, timeout=10)
    n = 0
    while not stop.is_set():
        for item_id in ids:
            n += 1
            value = f"{who}-{n}"
            try:
                current = client.get(f"{url}/ui/api/items/{item_id}").json()["version"]
                r = client.put(
                    f"{url}/ui/api/items/{item_id}",
                    json={"action": "save", "labels": {"fields": {"receiver_name": {"value": value}}}},
                    headers={"If-Match": f'"v{current}"'},
                )
            except (httpx.TransportError, ValueError, KeyError):
                return  # the server is gone
            if r.status_code == 200:
                acked[item_id] = (r.json()["version"], value)


def test_nothing_acknowledged_is_lost_when_the_server_is_killed_mid_save(start_server: Any, tmp_path: Path) -> None:
    from luodi.review import NewItem, ReviewStore

    store = ReviewStore.open(f"sqlite:///{tmp_path / 'review.db'}", tmp_path / "images")
    ids = [
        store.add(
            NewItem(
                kind="document", suggestion={"fields": {}}, images=(waybill_png({"单号": str(i)}),), schema="waybill"
            )
        )
        for i in range(4)
    ]
    store.close()
    server = start_server(env=review_env(tmp_path))
    stop = threading.Event()
    acked: dict[str, tuple[int, str]] = {}
    threads = [
        threading.Thread(target=_saver, args=(server.url, ids[i::2], acked, stop, f"r{i}"), daemon=True)
        for i in range(2)
    ]
    added: list[str] = []

    def adder() -> None:  # new items (image + row) arriving at the same time
        i = 0
        while not stop.is_set():
            i += 1
            import base64

            body = {"kind": "line", "image": base64.b64encode(waybill_png({"行": str(i)})).decode(), "suggestion": {}}
            try:
                r = httpx.post(f"{server.url}/ui/api/items", json=body, headers=HEADERS, timeout=10)
            except httpx.TransportError:
                return
            if r.status_code == 201:
                added.append(r.json()["id"])

    threads.append(threading.Thread(target=adder, daemon=True))
    for t in threads:
        t.start()
    deadline = time.monotonic() + 90  # a loaded machine: wait until every item was saved at least once
    while len(acked) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # and keep saving: the kill lands among saves in flight
    assert server.stop(signal.SIGKILL) == -signal.SIGKILL  # no shutdown, no flush: killed mid-save
    stop.set()
    for t in threads:
        t.join(15)
    assert len(acked) == len(ids) and added

    with sqlite3.connect(tmp_path / "review.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    restarted = start_server(env=review_env(tmp_path))
    for item_id, (version, value) in acked.items():
        item = httpx.get(f"{restarted.url}/ui/api/items/{item_id}", headers=HEADERS, timeout=10).json()
        assert item["version"] >= version  # a save in flight at the kill may have landed after its reply was lost
        if item["version"] == version:
            assert item["labels"]["fields"]["receiver_name"]["value"] == value
    for item_id in added:  # every acknowledged new item is there with its image
        assert (
            httpx.get(f"{restarted.url}/ui/api/items/{item_id}/image", headers=HEADERS, timeout=10).status_code == 200
        )
    total = queue(restarted.url, limit=500)
    for entry in total["items"]:  # and no row names an image that is not there
        r = httpx.get(f"{restarted.url}/ui/api/items/{entry['id']}/image", headers=HEADERS, timeout=10)
        assert r.status_code == 200, entry
