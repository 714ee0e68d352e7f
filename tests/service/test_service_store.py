"""One model store per service: with ``LUODI_HOME`` and ``LUODI_SERVE_HOME`` pointing at different
stores, every model the service loads (OCR bundle and contact model) comes from ``LUODI_SERVE_HOME``."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from service_procs import MODEL

pytestmark = [pytest.mark.service, pytest.mark.slow]


@pytest.fixture(scope="module")
def real_store() -> Path:
    from luodi.config import get_settings
    from luodi.errors import ModelError
    from luodi.kie.ner.store import default_model_dir, verify_model_dir

    home = get_settings().home
    try:
        verify_model_dir(default_model_dir(home))
    except ModelError as exc:
        pytest.skip(f"the contact model is not trained in {home} ({exc.message}); `make setup` trains it")
    return home


def _loaded(proc) -> dict:
    body = httpx.get(proc.url + "/v1/models", timeout=30).json()
    return dict(body["loaded"])


def test_the_service_loads_every_model_from_its_own_store(start_server, real_store, tmp_path):
    empty = tmp_path / "luodi-home"
    empty.mkdir()
    # LUODI_HOME names an empty store: OCR could not load from it, nor the contact model
    proc = start_server(
        "--jobs-dir", str(tmp_path / "jobs"), env={"LUODI_HOME": str(empty), "LUODI_SERVE_HOME": str(real_store)}
    )
    loaded = _loaded(proc)
    assert loaded["store"] == str(real_store) and loaded["name"] == MODEL
    assert loaded["contact_model"] == {"path": str(real_store / "models" / "express-ner"), "loaded": True}
    assert list(empty.iterdir()) == []  # nothing read or written there


def test_the_contact_model_follows_the_service_store_not_luodi_home(start_server, real_store, tmp_path):
    # the reverse: LUODI_HOME holds the contact model, the service's store only the OCR bundle
    serve_home = tmp_path / "serve-home"
    (serve_home / "models").mkdir(parents=True)
    (serve_home / "models" / MODEL).symlink_to(real_store / "models" / MODEL)
    proc = start_server(
        "--jobs-dir", str(tmp_path / "jobs"), env={"LUODI_HOME": str(real_store), "LUODI_SERVE_HOME": str(serve_home)}
    )
    loaded = _loaded(proc)
    assert loaded["store"] == str(serve_home)
    assert loaded["contact_model"] == {"path": str(serve_home / "models" / "express-ner"), "loaded": False}
