"""Fixtures shared by every test area. Add yours below; keep each one cheap to set up."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The large third-party data beside a developer checkout: ``$LUODI_SHARED`` or ``../shared``."""
    env = os.environ.get("LUODI_SHARED")
    path = Path(env) if env else REPO_ROOT.parent / "shared"
    if not (path / "data").is_dir():
        pytest.skip(f"shared data folder not found at {path} (set LUODI_SHARED to point at it)")
    return path


@pytest.fixture(scope="session")
def doc_samples() -> Path:
    """Third-party sample images with known text, shipped in tests/data/doc_samples (Apache-2.0)."""
    return REPO_ROOT / "tests" / "data" / "doc_samples"


@pytest.fixture(scope="session")
def shared_doc_samples(shared_dir: Path) -> Path:
    """The larger sample images kept in the shared data only (skips without it)."""
    path = shared_dir / "data" / "doc_samples"
    if not path.is_dir():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture(scope="session")
def require_bundle() -> Callable[[str], object]:
    """``require_bundle("pp-ocrv4")`` → the pulled Bundle, or skip naming the command that pulls it."""

    def get(name: str) -> object:
        from luodi.errors import ModelNotPulledError
        from luodi.zoo import get_bundle

        try:
            return get_bundle(name)
        except ModelNotPulledError as exc:
            pytest.skip(f"{exc.message} (integration tests need `make setup` or `luodi models pull {name}`)")

    return get


@pytest.fixture(autouse=True)
def _fresh_settings_cache() -> Iterator[None]:
    """``get_settings()`` is cached per process: a test that monkeypatches ``LUODI_*`` must not leak
    its values (e.g. ``LUODI_HOME=/models`` from a ConfigMap test) into the tests after it."""
    from luodi.config import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server on loopback (moto's server stands in for MinIO), one per test module."""
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
