"""Blank and placeholder waybills: only the form's own text is drawn, and the labels are all null."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from luodi.synth import waybill_canvas
from luodi.synth.waybill import LAYOUTS, WAYBILL_FIELDS, WaybillOptions, read_labels, render_waybill
from luodi.synth.waybill_data import CARRIERS
from luodi.synth.waybill_fill import ADDRESS_HINTS, ROLE_WORDS


def _drawn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    drawn: list[str] = []
    original = waybill_canvas.Canvas.text

    def recording(self: waybill_canvas.Canvas, x: float, y: float, text: str, size: int, **kw: object) -> object:
        drawn.append(text)
        return original(self, x, y, text, size, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(waybill_canvas.Canvas, "text", recording)
    return drawn


def _values(fields: dict[str, object]) -> list[str]:
    """The party values and the tracking number of a full sample (item and remarks may share words
    with the form's product names, e.g. 代收货款)."""
    keep = ("_name", "_phone", "_address", "_detail", "tracking_number")
    return [str(v) for k, v in fields.items() if k.endswith(keep) and v is not None and len(str(v)) >= 2]


def _hints() -> set[str]:
    return {"".join(h.format(who=w).split()) for h in ADDRESS_HINTS for w in ROLE_WORDS.values()}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_blank_form_prints_no_value_and_labels_every_field_null(
    layout: str, mini_ner: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = _drawn(monkeypatch)
    for index in range(3):
        full = render_waybill(index, WaybillOptions(ner_file=str(mini_ner), layouts=(layout,), seed=index))
        drawn.clear()
        blank = render_waybill(
            index, WaybillOptions(ner_file=str(mini_ner), layouts=(layout,), seed=index, fill="blank")
        )
        assert blank.fill == "blank" and blank.meta["fill"] == "blank"
        assert set(blank.fields) == set(WAYBILL_FIELDS)
        assert {k: v for k, v in blank.fields.items() if v is not None} == {"carrier": full.fields["carrier"]}
        page = "".join("".join(drawn).split())
        for value in _values(full.fields):
            assert "".join(value.split()) not in page, (layout, value)
        # no phone, no tracking number, no date: the carrier's hotline is the form's own text
        assert not re.search(r"\d{5,}", page.replace(CARRIERS[full.meta["carrier_code"]].hotline, "")), page
        assert full.fields["carrier"] in page  # the logo is the form's own
        # something of the form is there: the labels, and the address hint where the layout has room
        assert any(word in page for word in ("收", "寄")), page
        assert any(h in page for h in _hints()), (layout, page)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_placeholder_form_prints_stand_ins_and_labels_every_field_null(
    layout: str, mini_ner: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = _drawn(monkeypatch)
    for index in range(3):
        full = render_waybill(index, WaybillOptions(ner_file=str(mini_ner), layouts=(layout,), seed=index))
        drawn.clear()
        sample = render_waybill(
            index, WaybillOptions(ner_file=str(mini_ner), layouts=(layout,), seed=index, fill="placeholder")
        )
        assert {k: v for k, v in sample.fields.items() if v is not None} == {"carrier": full.fields["carrier"]}
        page = "".join("".join(drawn).split())
        for value in _values(full.fields):
            assert "".join(value.split()) not in page, (layout, value)
        assert re.search(r"XX|姓名|\*{4}|详细地址|手机号码", page), page


def test_fill_keeps_full_pages_and_is_deterministic(mini_ner: Path) -> None:
    opts = WaybillOptions(ner_file=str(mini_ner), layouts=("all",), seed=3, fill="blank")
    a, b = render_waybill(2, opts), render_waybill(2, opts)
    assert a.jpeg_bytes() == b.jpeg_bytes() and a.fields == b.fields
    full = render_waybill(2, WaybillOptions(ner_file=str(mini_ner), layouts=("all",), seed=3))
    assert full.fill == "full" and full.layout == a.layout and full.meta["font"] == a.meta["font"]
    assert full.jpeg_bytes() != a.jpeg_bytes()
    hard = render_waybill(
        2, WaybillOptions(ner_file=str(mini_ner), layouts=("all",), seed=3, fill="blank", degrade="hard")
    )
    assert hard.fields == a.fields and hard.meta["degradations"][-1] == "jpeg"


def test_cli_fill_option(mini_ner: Path, tmp_path: Path) -> None:
    from luodi.cli.synth_waybill import waybill

    out = tmp_path / "blank"
    args = ["-n", "3", "-o", str(out), "--fill", "placeholder", "--layout", "all", "--ner-file", str(mini_ner)]
    result = CliRunner().invoke(waybill, args)
    assert result.exit_code == 0, result.output
    assert "wrote 3 placeholder waybills" in result.output
    records = read_labels(out / "labels.jsonl")
    assert all(r["fill"] == "placeholder" and r["fields"]["receiver_name"] is None for r in records)
    bad = CliRunner().invoke(waybill, ["-n", "1", "-o", str(out), "--fill", "empty", "--ner-file", str(mini_ner)])
    assert bad.exit_code != 0 and "empty" in bad.output
