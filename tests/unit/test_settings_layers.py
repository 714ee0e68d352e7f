"""Where settings come from: explicit arguments > environment > the config file (core) or the
``LUODI_SERVE_<core key>`` variables (service) > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from luodi.config import load_settings
from luodi.errors import ConfigError
from luodi.serve.settings import load_serve_settings


def test_core_settings_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "luodi.yml"
    config.write_text("model: from-file\nruntime: paddle\nthreads: 3\nlimits:\n  max_files: 9\n", encoding="utf-8")
    monkeypatch.setenv("LUODI_CONFIG", str(config))
    monkeypatch.setenv("LUODI_RUNTIME", "openvino")
    settings = load_settings(threads=5)
    assert (settings.model, settings.runtime, settings.threads, settings.limits.max_files) == (
        "from-file",
        "openvino",
        5,
        9,
    )
    config.write_text("- not a mapping\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_settings()


def test_serve_settings_fold_serve_variables_into_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LUODI_CONFIG", raising=False)
    monkeypatch.setenv("LUODI_RUNTIME", "openvino")
    monkeypatch.setenv("LUODI_SERVE_MODEL", "serve-model")
    monkeypatch.setenv("LUODI_SERVE_LIMITS__MAX_FILES", "7")
    monkeypatch.setenv("LUODI_SERVE_PORT", "9123")
    served = load_serve_settings(threads=2)
    core = served.core
    assert (core.model, core.runtime, core.threads, core.limits.max_files, served.port) == (
        "serve-model",
        "openvino",
        2,
        7,
        9123,
    )
