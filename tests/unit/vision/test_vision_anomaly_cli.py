"""``luodi train anomaly``'s help names the library's bank defaults, which the CLI does not copy."""

from __future__ import annotations

from click.testing import CliRunner

from luodi.cli.train_vision import anomaly
from luodi.vision import anomaly as lib


def test_help_names_the_library_defaults() -> None:
    out = CliRunner().invoke(anomaly, ["--help"], terminal_width=400)
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert f"default {lib.CORESET:g}, luodi.vision.anomaly.CORESET" in text
    assert f"default {lib.MAX_BANK}, luodi.vision.anomaly.MAX_BANK" in text
    assert f"default {lib.PROJECT}, luodi.vision.anomaly.PROJECT" in text


def test_options_not_given_leave_the_library_defaults(monkeypatch) -> None:
    seen: dict = {}

    def fake_train(good, name, **kw):  # records what the CLI passes; training itself is tested elsewhere
        seen.update(kw)
        raise SystemExit(0)

    monkeypatch.setattr(lib, "train_anomaly", fake_train)
    CliRunner().invoke(anomaly, ["--good", ".", "--name", "x"])
    assert "coreset" not in seen and "project_to" not in seen and "max_bank" not in seen
    assert seen  # the fake was reached
    seen.clear()
    CliRunner().invoke(anomaly, ["--good", ".", "--name", "x", "--project", "0", "--coreset", "0.1"])
    assert seen["project_to"] == 0 and seen["coreset"] == 0.1 and "max_bank" not in seen
