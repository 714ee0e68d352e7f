"""``POST /v1/inspect/{model}``, its batch form and inspect jobs on a real ``luodi serve``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vision_data import make_classes

pytestmark = [pytest.mark.service, pytest.mark.slow]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, model_pulled: str) -> Path:
    """A model store with the OCR model and the backbone linked in, and an anomaly model built into it."""
    from luodi.errors import ModelNotPulledError
    from luodi.vision.anomaly import train_anomaly
    from luodi.vision.bundle import ANOMALY_BACKBONE
    from luodi.zoo import get_bundle

    try:
        backbone = get_bundle(ANOMALY_BACKBONE)
    except ModelNotPulledError as exc:
        pytest.skip(f"{exc.message} (`make setup` pulls it)")
    root = tmp_path_factory.mktemp("visionhome")
    (root / "models").mkdir()
    (root / "models" / model_pulled).symlink_to(get_bundle(model_pulled).files[0].path.parent)
    (root / "models" / ANOMALY_BACKBONE).symlink_to(backbone.files[0].path.parent)
    data = make_classes(root / "data", {"good": 40, "spot": 3}, seed=3)
    train_anomaly(data / "good", "svc-ad", image_size=64, holdout=0.35, home=root)
    return root


@pytest.fixture(scope="module")
def server(start_server: Any, home: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    jobs = tmp_path_factory.mktemp("jobs")
    return start_server("--jobs-dir", str(jobs), env={"LUODI_HOME": str(home)})


def test_inspect_one_and_a_batch(server: Any, home: Path) -> None:
    spot = (home / "data" / "spot" / "spot_0.jpg").read_bytes()
    r = httpx.post(server.url + "/v1/inspect/svc-ad", files={"file": ("spot.jpg", spot, "image/jpeg")}, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "svc-ad" and body["source"] == "spot.jpg"
    (page,) = body["pages"]
    assert page["kind"] == "anomaly" and page["decision"] == "defect" and page["score"] > page["threshold"]
    files = [
        ("files", ("good.jpg", (home / "data" / "good" / "good_0.jpg").read_bytes(), "image/jpeg")),
        ("files", ("notes.txt", b"not an image", "text/plain")),
        ("files", ("spot.jpg", spot, "image/jpeg")),
    ]
    r = httpx.post(server.url + "/v1/batch/inspect/svc-ad", files=files, timeout=60)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["index"] for x in results] == [0, 1, 2]
    assert "error" in results[1] and results[2]["result"]["pages"][0]["decision"] == "defect"
    metrics = httpx.get(server.url + "/metrics", timeout=10).text
    assert 'luodi_stage_duration_seconds_count{stage="inspect"}' in metrics


def test_bad_requests_are_4xx_and_the_server_stays_up(server: Any) -> None:
    r = httpx.post(server.url + "/v1/inspect/no-such-model", files={"file": ("a.jpg", b"x", "image/jpeg")}, timeout=30)
    assert r.status_code in (404, 415), r.text
    r = httpx.post(
        server.url + "/v1/inspect/svc-ad", files={"file": ("a.jpg", b"\xff\xd8\xffbroken", "image/jpeg")}, timeout=30
    )
    assert 400 <= r.status_code < 500, r.text
    r = httpx.post(server.url + "/v1/inspect/pp-ocrv6-small", files={"file": ("a.jpg", b"x", "image/jpeg")}, timeout=30)
    assert 400 <= r.status_code < 500, r.text
    assert httpx.get(server.url + "/readyz", timeout=5).status_code == 200


def test_inspect_job(server: Any, home: Path) -> None:
    spot = (home / "data" / "spot" / "spot_1.jpg").read_bytes()
    r = httpx.post(
        server.url + "/v1/jobs",
        data={"task": "inspect", "model": "svc-ad"},
        files={"file": ("spot.jpg", spot, "image/jpeg")},
        timeout=30,
    )
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    deadline = time.monotonic() + 60
    while True:
        view = httpx.get(server.url + f"/v1/jobs/{job}", timeout=10).json()
        if view["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert view["status"] == "succeeded", view
    assert "defect" in str(view)
