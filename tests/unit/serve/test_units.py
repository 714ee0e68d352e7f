"""Pieces of the service without a server: auth, settings, the batcher."""

from __future__ import annotations

import threading
import time

import pytest

from luodi.errors import AuthError, ConfigError, ServiceError
from luodi.serve.auth import KeyChecker, hash_key, parse_keys_file
from luodi.serve.batcher import DynamicBatcher
from luodi.serve.settings import is_loopback, load_serve_settings


def test_keys_are_hashed_and_checked(tmp_path):
    f = tmp_path / "keys"
    f.write_text(f"sha256:{hash_key('k1')} alice\n\n# comment\n{hash_key('k2').upper()}\n")
    assert parse_keys_file(f) == {hash_key("k1"), hash_key("k2")}
    hashes = load_serve_settings(keys_file=f, api_keys=" k3 ,,").key_hashes()
    assert hashes == {hash_key("k1"), hash_key("k2"), hash_key("k3")}
    assert "k3" not in hashes
    checker = KeyChecker(hashes)
    checker.check("Bearer k1", None)
    checker.check(None, "k3")
    for auth, key in ((None, None), ("Bearer nope", None), ("Basic k1", None), (None, "")):
        with pytest.raises(AuthError):
            checker.check(auth, key)
    KeyChecker([]).check(None, None)  # no keys configured: open


def test_keys_file_refuses_plain_keys(tmp_path):
    f = tmp_path / "keys"
    f.write_text("my-secret-key\n")
    with pytest.raises(ConfigError, match="sha256"):
        parse_keys_file(f)
    with pytest.raises(ConfigError):
        parse_keys_file(tmp_path / "missing")


def test_loopback_and_settings():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.5") and not is_loopback("example.com")
    with pytest.raises(ConfigError, match="concurrency"):
        load_serve_settings(concurrency=0)
    assert load_serve_settings(batching={"enabled": True}).batching.max_batch_size == 16


def test_batcher_groups_and_splits_in_order():
    calls: list[list[int]] = []

    def recognize(crops):
        calls.append(list(crops))
        time.sleep(0.01)
        return [c * 10 for c in crops]

    batcher = DynamicBatcher(recognize, max_batch_size=6, max_wait_ms=100, metrics=None)
    out: dict[int, list[int]] = {}

    def client(i: int) -> None:
        out[i] = batcher.recognize([i, i + 100])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    batcher.close()
    assert out == {i: [i * 10, (i + 100) * 10] for i in range(5)}
    assert max(len(c) for c in calls) <= 6 and len(calls) < 5  # grouped, never past the limit


def test_batcher_propagates_errors_and_refuses_after_close():
    def boom(crops):
        raise ValueError("bad batch")

    batcher = DynamicBatcher(boom, max_batch_size=4, max_wait_ms=1, metrics=None)
    with pytest.raises(ValueError, match="bad batch"):
        batcher.recognize([1])
    assert batcher.recognize([]) == []
    batcher.close()
    with pytest.raises(ServiceError):
        batcher.recognize([1])


def test_serve_settings_hold_the_core_settings(monkeypatch, tmp_path):
    """LUODI_SERVE_HOME/MODEL/... set the service's core settings; everything else comes from LUODI_*."""
    from luodi.config import Limits, Settings
    from luodi.serve.settings import ServeSettings, settings_from_env

    monkeypatch.setenv("LUODI_HOME", str(tmp_path / "core"))
    monkeypatch.setenv("LUODI_MODEL", "pp-ocrv4")
    monkeypatch.setenv("LUODI_SERVE_HOME", str(tmp_path / "serve"))
    monkeypatch.setenv("LUODI_SERVE_LIMITS__MAX_FILES", "3")
    settings = load_serve_settings(concurrency=2)
    assert isinstance(settings.core, Settings) and "home" not in ServeSettings.model_fields
    assert settings.core.home == tmp_path / "serve" and settings.jobs_dir() == tmp_path / "serve" / "jobs"
    assert settings.core.model == "pp-ocrv4" and settings.core.limits.max_files == 3
    assert load_serve_settings(model="pp-ocrv5", limits=Limits(max_pages=2)).core.model == "pp-ocrv5"
    assert settings.pipeline_settings().threads == settings.resolved_threads() >= 1
    # the JSON handed to uvicorn workers keeps "runtime not set" (the bundle's own runtime wins)
    monkeypatch.setenv("LUODI_SERVE_SETTINGS", settings.model_dump_json())
    monkeypatch.delenv("LUODI_SERVE_HOME")
    again = settings_from_env()
    assert again == settings and "runtime" not in again.core.model_fields_set
    with pytest.raises(ConfigError, match="device"):
        load_serve_settings(device="tpu")


def test_usable_cores_honours_a_cgroup_quota(tmp_path):
    from luodi.config import _cgroup_cpu_quota, usable_cores

    assert usable_cores() >= 1
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert _cgroup_cpu_quota(tmp_path) == 2
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert _cgroup_cpu_quota(tmp_path) is None
    assert _cgroup_cpu_quota(tmp_path / "absent") is None
