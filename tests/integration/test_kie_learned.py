"""Real OCR: `luodi train kie` learns railway tickets (no labels printed) from a few rendered
examples, and `luodi extract --schema ticket.yaml` then tells the departure from the arrival."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MODEL = "pp-ocrv6-small"
SCHEMA = Path(__file__).resolve().parents[2] / "examples" / "kie" / "ticket.yaml"


def test_train_kie_then_extract_uses_the_learned_layout(
    require_bundle: Callable[[str], object], tmp_path: Path
) -> None:
    require_bundle(MODEL)
    from luodi.cli import cli
    from luodi.synth.documents import DocOptions, write_set
    from luodi.synth.ticket import render_ticket

    schema = tmp_path / "ticket.yaml"
    shutil.copy(SCHEMA, schema)
    train = DocOptions(layouts=("blue_magnetic",), degrade="scan", seed=3)
    write_set(4, tmp_path / "train", lambda i: render_ticket(i, train))
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["train", "kie", "--schema", str(schema), "--labels", str(tmp_path / "train" / "labels.jsonl"), "-m", MODEL],
    )
    assert result.exit_code == 0, result.output
    learned = tmp_path / "ticket.learned.json"
    assert result.stdout.strip() == str(learned)
    assert json.loads(learned.read_text(encoding="utf-8"))["schema"] == "ticket"

    test = DocOptions(layouts=("blue_magnetic",), degrade="scan", seed=4)
    records = write_set(2, tmp_path / "test", lambda i: render_ticket(i, test))
    images = [str(tmp_path / "test" / r["image"]) for r in records]
    result = runner.invoke(cli, ["extract", *images, "--schema", str(schema), "-m", MODEL])
    assert result.exit_code == 0, result.output
    for rec, got in zip(records, json.loads(result.stdout), strict=True):
        fields = got["fields"]
        for name in ("departure_station", "arrival_station", "train_number"):
            assert fields[name]["value"] == rec["fields"][name], (name, fields[name])
        assert not fields["arrival_station"]["needs_review"]

    # a missing labels file is one readable line, not a traceback
    missing = tmp_path / "none.jsonl"
    bad = subprocess.run(
        [sys.executable, "-m", "luodi", "train", "kie", "--schema", str(schema), "--labels", str(missing)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode != 0
    assert "does not exist" in bad.stderr and "Traceback" not in bad.stderr
