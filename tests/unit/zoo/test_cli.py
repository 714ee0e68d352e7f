"""``luodi models ...`` end to end through the real entry point (fake bundle, private store)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from luodi.cli import main
from luodi.zoo.registry import BundleRecipe


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def pulled(home: Path, fake_builtin: BundleRecipe, fake_wheel, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LUODI_WHEELHOUSE", str(fake_wheel.path.parent))
    return home


def test_list_shows_pulled_state(capsys, pulled: Path) -> None:
    code, out, _ = run(capsys, "models", "list")
    assert code == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["fake-ocr"][3] == "no" and rows["pp-ocrv4"][3] == "no"
    assert run(capsys, "models", "pull", "fake-ocr")[0] == 0
    code, out, _ = run(capsys, "models", "list", "--format", "json")
    by_name = {r["name"]: r for r in json.loads(out)}
    assert by_name["fake-ocr"]["pulled"] is True and by_name["fake-ocr"]["task"] == "ocr"
    assert by_name["fake-ocr"]["bytes"] > 0


def test_info_json_shape(capsys, pulled: Path) -> None:
    run(capsys, "models", "pull", "fake-ocr")
    code, out, _ = run(capsys, "models", "info", "fake-ocr", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert {"name", "task", "files"} <= set(data)
    assert data["name"] == "fake-ocr" and data["pulled"] is True
    for f in data["files"]:
        assert {"path", "bytes", "sha256"} <= set(f)
        assert Path(f["path"]).stat().st_size == f["bytes"]
    code, out, _ = run(capsys, "models", "info", "fake-ocr")
    assert code == 0 and out.startswith("name: fake-ocr") and data["files"][0]["sha256"] in out


def test_info_works_before_pull(capsys, home: Path) -> None:
    code, out, _ = run(capsys, "models", "info", "pp-ocrv6-small", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["pulled"] is False
    assert data["files"][0]["sha256"] == "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f"


def test_verify_exit_status(capsys, pulled: Path) -> None:
    run(capsys, "models", "pull", "fake-ocr")
    code, out, _ = run(capsys, "models", "verify", "fake-ocr")
    assert code == 0 and "fake-ocr: ok" in out
    det = pulled / "models" / "fake-ocr" / "det.onnx"
    det.write_bytes(det.read_bytes() + b"x")
    code, out, err = run(capsys, "models", "verify", "fake-ocr")
    assert code == 1
    assert "det" in out
    assert err.count("\n") == 1 and err.startswith("error: verification failed for fake-ocr")


def test_errors_are_one_line(capsys, home: Path) -> None:
    code, _, err = run(capsys, "models", "info", "nope")
    assert code == 1 and err.startswith("error: unknown model 'nope'") and err.count("\n") == 1
    code, _, err = run(capsys, "models", "pull")
    assert code == 1 and "--all" in err


def test_register_and_remove(capsys, pulled: Path, tmp_path: Path) -> None:
    run(capsys, "models", "pull", "fake-ocr")
    det = pulled / "models" / "fake-ocr" / "det.onnx"
    code, out, err = run(capsys, "models", "register", "mine", "--det", str(det), "--base", "fake-ocr")
    assert code == 0, err
    assert "registered mine" in out
    code, _, err = run(capsys, "models", "register", "mine", "--det", str(det), "--base", "fake-ocr")
    assert code == 1 and "already exists" in err
    code, _, _ = run(capsys, "models", "register", "mine", "--det", str(det), "--base", "fake-ocr", "--force")
    assert code == 0
    code, out, _ = run(capsys, "models", "verify", "--all")
    assert code == 0 and "mine: ok" in out and "fake-ocr: ok" in out
    assert run(capsys, "models", "remove", "mine")[0] == 0
    assert not (pulled / "models" / "mine").exists()
    code, out, _ = run(capsys, "models", "remove", "fake-ocr")
    assert code == 0 and "pull fake-ocr" in out
    assert not (pulled / "models" / "fake-ocr").exists()


def test_pull_all_needs_no_names(capsys, pulled: Path, monkeypatch) -> None:
    from luodi.zoo import registry

    # --all means every built-in: restrict the registry to the fake one so nothing real is fetched
    monkeypatch.setattr(registry, "BUILTINS", {"fake-ocr": registry.BUILTINS["fake-ocr"]})
    monkeypatch.setattr("luodi.cli.models.BUILTIN_NAMES", ("fake-ocr",))
    code, out, _ = run(capsys, "models", "pull", "--all")
    assert code == 0 and "fake-ocr: fetched" in out
    assert os.path.isfile(pulled / "models" / "fake-ocr" / "bundle.json")
