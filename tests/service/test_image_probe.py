"""The probe `make image-test` runs against the container, run here against a real `luodi serve`: it
passes on a healthy service and fails when the service does not behave (so the image test can fail)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from service_procs import API_KEY

pytestmark = [pytest.mark.service, pytest.mark.slow]

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy"))
import image_test  # noqa: E402


@pytest.fixture(scope="module")
def server(start_server, tmp_path_factory):
    jobs = tmp_path_factory.mktemp("jobs")
    return start_server("--jobs-dir", str(jobs), env={"LUODI_API_KEYS": API_KEY})


def test_the_probe_passes_on_a_healthy_service(server) -> None:
    found = image_test.probe_service(server.url, API_KEY)
    assert found["model"] == "pp-ocrv6-small" and found["job_s"] > 0


def test_the_probe_fails_when_the_service_misbehaves(server) -> None:
    # the key the probe holds is not one the service accepts: OCR answers 401 where 200 is due
    with pytest.raises(image_test.ProbeError, match="/v1/ocr: 401"):
        image_test.probe_service(server.url, "not-the-key")
    # a contact model the service did not load
    with pytest.raises(image_test.ProbeError, match="contact model"):
        image_test.probe_service(server.url, API_KEY, contact_model=not _contact_loaded(server.url))


def test_nginx_conf_is_adapted_for_debian_nginx() -> None:
    conf = image_test.nginx_conf(["10.0.0.1", "10.0.0.2"])
    assert "resolver" not in conf and " resolve" not in conf
    assert "server 10.0.0.1:8000 max_fails=3" in conf and "server 10.0.0.2:8000" in conf
    assert "least_conn;" in conf and "location = /metrics" in conf


def _contact_loaded(url: str) -> bool:
    import httpx

    body = httpx.get(url + "/v1/models", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30).json()
    return bool(body["loaded"]["contact_model"]["loaded"])
