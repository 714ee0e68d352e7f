from __future__ import annotations

import sys
from pathlib import Path

import pytest

from luodi.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out + err


def test_unknown_config_key_fails_with_its_name(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tmp_path / "c.yml"
    cfg.write_text("Train: {steps: 1, labels: [a.txt], batchsize: 4}\n", encoding="utf-8")
    code, output = run(capsys, "train", "rec", "--config", str(cfg))
    assert code == 1
    assert "unknown key 'Train.batchsize'" in output


def test_resume_needs_a_checkpoint(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tmp_path / "c.yml"
    labels = tmp_path / "a.txt"
    labels.write_text("", encoding="utf-8")
    cfg.write_text(f"Train: {{steps: 1, labels: [{labels}]}}\n", encoding="utf-8")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    code, output = run(capsys, "train", "rec", "--config", str(cfg), "--resume", str(run_dir))
    assert code == 1
    assert "no checkpoint to resume from" in output


def test_export_refuses_a_folder_that_is_not_a_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, output = run(capsys, "export", str(tmp_path))
    assert code == 1
    assert "not a training run" in output


def test_luodi_import_does_not_import_paddle() -> None:
    import subprocess

    code = "import luodi, luodi.cli.train, luodi.train.config, luodi.train.data, sys; print('paddle' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_export_refuses_a_run_that_forgot_the_general_set(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from luodi.train.regression import Report, Row, save_report

    rows = (Row("your eval set", 120, 0.75, 0.93), Row("regression: print", 173, 0.977, 0.948))
    save_report(Report(rows, ("regression: print",), 0.01), tmp_path)
    code, output = run(capsys, "export", str(tmp_path), "--name", "x")
    assert code == 1
    assert "loses 2.9 points of exact line accuracy (0.977 -> 0.948) on the general regression set (173 lines" in output
    assert "--accept-regression" in output
    # with consent the gate opens and export goes on (to fail here only because there are no weights)
    code, output = run(capsys, "export", str(tmp_path), "--accept-regression")
    assert code == 1 and "not a training run" in output
