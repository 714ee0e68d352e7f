"""Stage-less bundles (text models and other non-OCR tasks): registered, listed, described, refused when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from luodi.errors import ConfigError, InputNotFoundError, ModelError, ModelExistsError
from luodi.zoo import bundle_file, describe_bundle, get_bundle, list_bundles, register_files, unregister_bundle, verify


def _files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "model.onnx").write_bytes(b"not really onnx, the zoo does not read it")
    (tmp_path / "meta.json").write_text('{"task": "classify"}', encoding="utf-8")
    return {"model": tmp_path / "model.onnx", "meta": tmp_path / "meta.json"}


def test_register_list_verify_remove(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bundle = register_files("my-text", task="text", files=_files(tmp_path), description="d", home=home)
    assert bundle.task == "text" and bundle.det is None and bundle.dictionary is None
    assert bundle_file(bundle, "meta").read_text(encoding="utf-8") == '{"task": "classify"}'
    assert describe_bundle("my-text", home).info()["stages"] == {}
    assert [(r.name, r.task, r.kind) for r in list_bundles(home) if r.name == "my-text"] == [
        ("my-text", "text", "user")
    ]
    assert verify("my-text", home).ok
    with pytest.raises(ModelExistsError):
        register_files("my-text", task="text", files=_files(tmp_path), home=home)
    register_files("my-text", task="text", files=_files(tmp_path), home=home, force=True)
    with pytest.raises(ModelError, match="no 'features' file"):
        bundle_file(get_bundle("my-text", home), "features")
    unregister_bundle("my-text", home)
    assert "my-text" not in [r.name for r in list_bundles(home)]


def test_refusals(tmp_path: Path) -> None:
    home = tmp_path / "home"
    files = _files(tmp_path)
    with pytest.raises(ConfigError, match="OCR bundles"):
        register_files("x", task="rec", files=files, home=home)
    with pytest.raises(ModelExistsError, match="built-in"):
        register_files("multilingual-e5-small", task="text", files=files, home=home)
    with pytest.raises(InputNotFoundError):
        register_files("x", task="text", files={"model": tmp_path / "missing.onnx"}, home=home)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "model.onnx").write_bytes(b"x")
    with pytest.raises(ConfigError, match="distinct base names"):
        register_files("x", task="text", files={"a": files["model"], "b": tmp_path / "b" / "model.onnx"}, home=home)
    with pytest.raises(ConfigError, match="invalid bundle name"):
        register_files("../x", task="text", files=files, home=home)
