"""Synthetic railway tickets (luodi.synth.ticket): deterministic, labelled, styles split dev/holdout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from luodi.errors import ConfigError
from luodi.synth.documents import DocOptions
from luodi.synth.ticket import TICKET_STYLES, render_ticket, resolve_ticket_styles


def test_styles_split_into_dev_and_holdout() -> None:
    assert resolve_ticket_styles(("dev",)) == ("blue_magnetic", "red_soft", "blue_2013")
    assert resolve_ticket_styles(("holdout",)) == ("e_voucher",)
    with pytest.raises(ConfigError):
        resolve_ticket_styles(("nope",))


@pytest.mark.parametrize("style", sorted(TICKET_STYLES))
def test_a_ticket_prints_its_labels(style: str) -> None:
    sample = render_ticket(3, DocOptions(layouts=(style,)))
    again = render_ticket(3, DocOptions(layouts=(style,)))
    assert np.array_equal(sample.image, again.image)
    assert sample.layout == style and sample.holdout == TICKET_STYLES[style].holdout
    f = sample.fields
    printed = "".join(text for text, _ in sample.text_layer)
    for name in ("serial", "departure_station", "arrival_station", "train_number", "carriage_seat", "id_number"):
        assert str(f[name]) in printed, name
    assert f["departure_station"] != f["arrival_station"]
    year, month, day = f["date"].split("-")
    assert f"{year}年{month}月{day}日" in printed
    assert f"¥{f['price']:.1f}元" in printed or f"¥{f['price']:.2f}元" in printed


def test_photos_are_degraded() -> None:
    clean = render_ticket(0, DocOptions(degrade="clean"))
    photo = render_ticket(0, DocOptions(degrade="photo"))
    assert clean.fields == photo.fields
    assert photo.image.shape != clean.image.shape and photo.meta["degradations"]


def test_synth_ticket_cli_writes_kie_labels(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from luodi.cli import cli

    result = CliRunner().invoke(cli, ["synth", "ticket", "-n", "2", "-o", str(tmp_path), "--layout", "dev"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(r) for r in (tmp_path / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["layout"] for r in rows] == ["blue_magnetic", "red_soft"]
    assert all((tmp_path / r["image"]).is_file() and r["fields"]["departure_station"] for r in rows)
