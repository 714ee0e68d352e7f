"""luodi.kie.handwriting: a value in pen ink is accepted only with an independent check (no models)."""

from __future__ import annotations

import dataclasses

import pytest
from docfactory import extractor, make_doc, make_line

from luodi.kie.handwriting import HANDWRITTEN
from luodi.kie.result import Extraction
from luodi.ocr.result import Line

PEN = 0.2  # blue's lead of ballpoint ink (luodi.ocr.ink)


def _ink(line: Line, blue: float) -> Line:
    return dataclasses.replace(line, char_blue=tuple(0.0 if c.isspace() else blue for c in line.text))


def _slip(
    *, pen: bool, figure: str = "¥35,500.00", words: str = "人民币叁万伍仟伍佰元整", card: str = "6222020200112233446"
) -> Extraction:
    blue = PEN if pen else 0.0
    lines = [
        _ink(make_line("中国银行 转账汇款凭条", 300, 20), 0.0),
        _ink(make_line("交易日期：2024-03-05 流水号：1117672079278329", 40, 60), 0.0),
        _ink(make_line("付款人户名", 40, 100), 0.0),
        _ink(make_line("王建国", 200, 100), blue),
        _ink(make_line("付款人账号", 40, 140), 0.0),
        _ink(make_line(card, 200, 140), blue),
        _ink(make_line("金额（小写）", 40, 180), 0.0),
        _ink(make_line(figure, 220, 180), blue),
        _ink(make_line("金额（大写）", 40, 220), 0.0),
        _ink(make_line(words, 220, 220), blue),
        _ink(make_line("用途", 40, 260), 0.0),
        _ink(make_line("货款", 200, 260), blue),
    ]
    return extractor("bank_receipt").extract_document(make_doc(lines, width=1200))


def test_printed_values_are_not_flagged_as_handwriting() -> None:
    res = _slip(pen=False)
    for name in ("payer_name", "payer_account", "amount", "amount_in_words", "purpose"):
        assert HANDWRITTEN not in res[name].reasons, name
    assert not res["payer_name"].needs_review


def test_a_handwritten_value_without_a_check_needs_review() -> None:
    res = _slip(pen=True)
    for name in ("payer_name", "purpose"):
        assert res[name].needs_review and HANDWRITTEN in res[name].reasons, name


def test_handwritten_values_an_independent_check_confirms_are_accepted() -> None:
    res = _slip(pen=True)
    # the figure and the capitals spell one sum; the card number's Luhn digit holds
    for name in ("amount", "amount_in_words", "payer_account"):
        assert HANDWRITTEN not in res[name].reasons, name
        assert not res[name].needs_review, (name, res[name].reasons)


def test_a_handwritten_card_number_failing_its_check_digit_or_amounts_that_disagree_are_flagged() -> None:
    res = _slip(pen=True, card="6222020200112233441", figure="¥36,500.00")
    assert res["payer_account"].needs_review
    assert res["amount"].needs_review and res["amount_in_words"].needs_review


def test_a_handwritten_value_the_machine_print_repeats_counts_as_printed() -> None:
    lines = [
        _ink(make_line("中国银行 进账单", 300, 20), 0.0),
        _ink(make_line("日期", 40, 60), 0.0),
        _ink(make_line("2024年03月05日", 200, 60), PEN),
        _ink(make_line("交易时间：2024-03-05 10:11:12", 40, 300), 0.0),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines, width=1200))
    assert res.get("date") == "2024-03-05"
    assert HANDWRITTEN not in res["date"].reasons


def test_a_line_pickled_before_the_ink_measure_existed_reads_as_unmeasured() -> None:
    # Cached OCR readings (benches' pickles) predate Line.char_blue: unpickled, the slot is unset.
    from luodi.kie.handwriting import ink_blue
    from luodi.kie.layout import Piece, make_lines

    old = make_line("王建国", 0, 0)
    object.__delattr__(old, "char_blue")
    tline = make_lines(make_doc([old]).pages[0])[0]
    assert ink_blue((Piece(tline, 0, 3),)) is None
    res = extractor("bank_receipt").extract_document(make_doc([old]))
    assert res.get("payer_name") is None or HANDWRITTEN not in res["payer_name"].reasons


def test_a_handwritten_branch_the_gazetteer_confirms_is_accepted_a_misread_one_is_not() -> None:
    from luodi.errors import ModelNotPulledError
    from luodi.kie.banks import branch_place_known
    from luodi.kie.divisions import DivisionIndex
    from luodi.kie.gazetteer import Gazetteer

    try:
        divisions = DivisionIndex(Gazetteer.from_package())
    except ModelNotPulledError as exc:
        pytest.skip(f"no division gazetteer: {exc}")
    assert branch_place_known("中国工商银行成都青羊支行", divisions)
    assert branch_place_known("招商银行重庆渝北支行", divisions)
    assert not branch_place_known("中国银行开东宽动满族自治支行", divisions)  # the place misread
    assert not branch_place_known("中国工商银行杭州浣纱支行", divisions)  # street level: nothing to confirm
    assert not branch_place_known("中国工商银行成都渝北支行", divisions)  # a district of another city
    lines = [
        _ink(make_line("中国银行 转账汇款凭条", 300, 20), 0.0),
        _ink(make_line("交易日期：2024-03-05 流水号：1117672079278329", 40, 60), 0.0),
        _ink(make_line("付款人户名", 40, 100), 0.0),
        _ink(make_line("王建国", 200, 100), 0.0),
        _ink(make_line("付款人开户行", 40, 140), 0.0),
        _ink(make_line("中国工商银行成都青羊支行", 220, 140), PEN),
        _ink(make_line("收款人开户行", 40, 180), 0.0),
        _ink(make_line("中国工商银行杭州浣纱支行", 220, 180), PEN),
    ]
    res = extractor("bank_receipt", gazetteer=divisions.gazetteer).extract_document(make_doc(lines, width=1200))
    assert HANDWRITTEN not in res["payer_bank"].reasons
    assert HANDWRITTEN in res["payee_bank"].reasons


def test_a_branch_the_gazetteer_cannot_confirm_needs_a_names_confidence() -> None:
    """晋中祁县支行 photographed and read 中部支行 with its 部 at 0.87: a branch whose place the
    gazetteer does not confirm has no redundancy to tell a misread character by, so it is flagged
    where a confirmed branch with the same weak character is not (an address's bar, 0.80)."""
    from luodi.errors import ModelNotPulledError
    from luodi.kie.banks import branch_place_known
    from luodi.kie.divisions import DivisionIndex
    from luodi.kie.gazetteer import Gazetteer

    try:
        divisions = DivisionIndex(Gazetteer.from_package())
    except ModelNotPulledError as exc:
        pytest.skip(f"no division gazetteer: {exc}")
    assert branch_place_known("中国民生银行甘孜藏族自治州甘孜支行", divisions)  # a city by its whole name
    for branch, flagged in (("中国农业银行中部支行", True), ("中国工商银行成都青羊支行", False)):
        weak = tuple(0.87 if i == 7 else 0.99 for i in range(len(branch)))
        line = make_line(branch, 220, 140)
        lines = [
            make_line("中国银行 转账汇款凭条", 300, 20),
            make_line("交易日期：2024-03-05 流水号：1117672079278329", 40, 60),
            make_line("付款人户名", 40, 100),
            make_line("王建国", 200, 100),
            make_line("付款人开户行", 40, 140),
            Line(line.text, line.score, line.box, weak, line.char_positions),
        ]
        res = extractor("bank_receipt", gazetteer=divisions.gazetteer).extract_document(make_doc(lines, width=1200))
        assert res["payer_bank"].value == branch
        assert res["payer_bank"].needs_review is flagged, res["payer_bank"].reasons
