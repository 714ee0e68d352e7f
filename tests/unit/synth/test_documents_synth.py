"""Synthetic bank receipts and ID cards: labels consistent with what is drawn, valid data, CLI."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from luodi.kie.validators import id_birth_date, id_check_digit, id_sex, parse_capital_amount
from luodi.synth.bank_receipt import STYLES, capital_amount, render_bank_receipt
from luodi.synth.documents import DocOptions, DocSample
from luodi.synth.families import LAYOUTS
from luodi.synth.id_card import CARD_LAYOUTS, check_character, render_id_card


def _page(sample: DocSample) -> str:
    return "".join("".join(text for text, _ in sample.text_layer).split())


def _date_forms(iso: str) -> set[str]:
    y, m, d = iso.split("-")
    forms = {iso, f"{y}年{m}月{d}日", f"{y}{m}{d}", f"{y}/{m}/{d}", f"{y}年{int(m)}月{int(d)}日"}
    return forms | {f"{y}.{int(m)}.{int(d)}"}


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("75000", "人民币柒万伍仟元整"),
        ("1234.56", "人民币壹仟贰佰叁拾肆元伍角陆分"),
        ("10010.05", "人民币壹万零壹拾元零伍分"),
        ("100000000", "人民币壹亿元整"),
        ("100200300.4", "人民币壹亿零贰拾万零叁佰元肆角"),
        ("0.5", "人民币伍角"),
    ],
)
def test_capital_amounts(value: str, words: str) -> None:
    assert capital_amount(Decimal(value)) == words


def test_capital_amounts_read_back_by_the_extractors_parser() -> None:
    rng = np.random.default_rng(0)
    for cents in [*rng.integers(1, 10**11, size=300).tolist(), 1, 10, 100, 1000, 100001, 10**8, 10**10 + 5]:
        value = Decimal(int(cents)) / 100
        assert parse_capital_amount(capital_amount(value)) == value, capital_amount(value)


@pytest.mark.parametrize("style", list(STYLES))
def test_receipt_prints_every_labelled_field(style: str, mini_ner: Path) -> None:
    for index in range(3):
        sample = render_bank_receipt(index, DocOptions(layouts=(style,), seed=index, ner_file=str(mini_ner)))
        f = sample.fields
        page = _page(sample)
        assert sample.schema == "bank_receipt" and sample.holdout == STYLES[style].holdout
        assert {"bank", "date", "serial_number", "payer_name", "payee_name", "amount", "amount_in_words"} <= set(f)
        for name in ("bank", "serial_number", "payer_name", "payee_name", "amount_in_words", "purpose", "payer_bank"):
            assert "".join(str(f[name]).split()) in page, (style, name, f[name])
        for name in ("payer_account", "payee_account"):
            assert re.fullmatch(r"[0-9*]{12,24}", f[name]) and f[name] in page
        assert any(form in page for form in _date_forms(f["date"])), (style, f["date"])
        if "time" in f:
            assert f["time"] in page
        if style in ("abc_counter", "icbc_counter"):  # the figure is written digit by digit in its cells
            digits = "".join(t for t, _ in sample.text_layer if re.fullmatch(r"[0-9¥]", t))
            assert "¥" + str(round(f["amount"] * 100)) in digits
        else:
            assert f"{f['amount']:,.2f}" in page
        assert parse_capital_amount(f["amount_in_words"]) == Decimal(str(f["amount"])).quantize(Decimal("0.01"))
        # the issuing bank is the header's, not a party's 开户行; the receipt's own number is in meta
        assert f["payee_bank"] in page and f["bank"] not in (f["payer_bank"], f["payee_bank"])
        assert all(v in page for v in sample.meta["extra_fields"].values())


@pytest.mark.parametrize("layout", list(CARD_LAYOUTS))
def test_id_card_prints_every_labelled_field_and_the_number_is_valid(layout: str, mini_ner: Path) -> None:
    for index in range(4):
        sample = render_id_card(index, DocOptions(layouts=(layout,), seed=index, ner_file=str(mini_ner)))
        f = sample.fields
        page = _page(sample)
        number = f["id_number"]
        assert re.fullmatch(r"\d{17}[\dX]", number) and id_check_digit(number[:17]) == number[17]
        assert check_character(number[:17]) == number[17]
        assert id_birth_date(number) == f["birth_date"] and id_sex(number) == f["sex"]
        for name in ("name", "sex", "ethnicity", "address", "id_number", "issuing_authority"):
            assert f[name] in page, (layout, name, f[name])
        y, m, d = (int(p) for p in f["birth_date"].split("-"))
        assert f"{y}年{m}月{d}日" in page
        start = f["valid_from"].replace("-", "")
        end = f["valid_to"].replace("-", "")
        assert f"{start}-{end}" in re.sub(r"(\d{4})[.\-](\d{2})[.\-](\d{2})", r"\1\2\3", page)
        if f["valid_to"] != "长期":
            assert f["valid_to"] > f["valid_from"]


def test_documents_are_deterministic_and_split(mini_ner: Path) -> None:
    for render, kind in ((render_bank_receipt, "bank_receipt"), (render_id_card, "id_card")):
        opts = DocOptions(layouts=("all",), seed=4, ner_file=str(mini_ner), degrade="photo")
        a, b = render(1, opts), render(1, opts)
        assert a.jpeg_bytes() == b.jpeg_bytes() and a.fields == b.fields
        holdout = {n for n in LAYOUTS[kind]["holdout"]}
        for i in range(len(LAYOUTS[kind]["dev"]) + len(holdout)):
            s = render(i, DocOptions(layouts=("all",), seed=4, ner_file=str(mini_ner)))
            assert s.holdout == (s.layout in holdout) and s.meta["split"] == ("holdout" if s.holdout else "dev")


def test_cli_writes_bank_receipts_and_id_cards(mini_ner: Path, tmp_path: Path) -> None:
    from luodi.cli.synth_docs import bank_receipt, id_card

    for command, schema in ((bank_receipt, "bank_receipt"), (id_card, "id_card")):
        out = tmp_path / schema
        args = ["-n", "2", "-o", str(out), "--layout", "holdout", "--ner-file", str(mini_ner), "--degrade", "scan"]
        result = CliRunner().invoke(command, args)
        assert result.exit_code == 0, result.output
        records = [json.loads(line) for line in (out / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
        assert len(records) == 2 and all(r["schema"] == schema and r["holdout"] for r in records)
        assert all((out / r["image"]).is_file() for r in records)
        bad = CliRunner().invoke(command, ["-n", "1", "-o", str(out), "--layout", "nope"])
        assert bad.exit_code != 0


def test_a_fresh_holdout_style_comes_only_by_name_or_its_group() -> None:
    from luodi.synth.bank_receipt import resolve_styles

    fresh = [n for n, st in STYLES.items() if st.fresh]
    assert fresh and all(STYLES[n].holdout for n in fresh)
    assert not set(fresh) & set(resolve_styles(["holdout"])) and not set(fresh) & set(resolve_styles(["all"]))
    assert list(resolve_styles(["fresh"])) == fresh
    assert resolve_styles([f"abc_counter,{fresh[0]}"]) == ("abc_counter", fresh[0])
