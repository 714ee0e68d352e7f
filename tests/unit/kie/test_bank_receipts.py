"""Bank receipts (回单) on layouts the synthetic styles do not draw: labels composed from the
schema, party marks printed down a cell, values beside or under their labels, the issuing bank,
and the amount read twice (figure and capitals)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from docfactory import extractor, make_doc, make_line

from luodi.errors import SchemaError
from luodi.kie.schema import composed_labels, load_schema, parse_schema
from luodi.kie.validators import check_time
from luodi.ocr.result import Line


def _column(text: str, x: float, y: float, *, score: float = 0.99) -> Line:
    """A party mark printed down a narrow cell, as OCR reads a vertical line (one box, tall)."""
    box = ((x + 26, y), (x + 26, y + 30 * len(text)), (x, y + 30 * len(text)), (x, y))
    return Line(text, score, box, tuple(score for _ in text), tuple((i + 0.5) / len(text) for i in range(len(text))))


def test_party_prefixes_compose_labels_from_the_schema() -> None:
    """付款 + 户名, 收款 + 银行 …: the party word printed before a generic label names the party."""
    labels = {lab for lab, _ in composed_labels(load_schema("bank_receipt"))}
    assert {"付款户名", "收款方开户行", "汇款人账号", "转入户名"} <= labels
    lines = [
        ("平安银行 电子回单", 300, 20),
        ("交易日期：2024-03-05 10:11:12", 40, 70),
        ("付款户名：海禾官方旗舰店", 40, 120),
        ("收款方名称：贺州优博实业有限公司", 520, 120),
        ("付款方账号：48034105798892500700", 40, 160),
        ("收款账户：38991792487700106608", 520, 160),
        ("付款开户银行：中国工商银行贺州八步支行", 40, 200),
        ("收款银行：招商银行重庆渝北支行", 520, 200),
    ]
    v = extractor("bank_receipt").extract_document(make_doc(lines, width=1100)).values()
    assert (v["payer_name"], v["payer_account"], v["payer_bank"]) == (
        "海禾官方旗舰店",
        "48034105798892500700",
        "中国工商银行贺州八步支行",
    )
    assert (v["payee_name"], v["payee_account"], v["payee_bank"]) == (
        "贺州优博实业有限公司",
        "38991792487700106608",
        "招商银行重庆渝北支行",
    )
    # the date and the time printed on one line after 交易日期; the issuer from the title
    assert (v["date"], v["time"], v["bank"]) == ("2024-03-05", "10:11:12", "平安银行")


def test_a_composed_label_that_names_another_field_is_an_error_at_load_time() -> None:
    text = """
name: clash
parties:
  payer: {tags: [付款人], prefixes: [付款]}
  payee: {tags: [收款人]}
generic_labels:
  account: [账号]
fields:
  payer_account: {type: account, party: payer}
  other: {labels: [付款账号]}
"""
    with pytest.raises(SchemaError, match="付款账号"):
        parse_schema(text, origin="clash.yaml")


def _grid(payer_mark: list[Line]) -> list[Line]:
    """户名 / 账号 / 开户行 rows of two parties side by side; the payee's mark read whole."""
    return [
        make_line("中国建设银行 单位客户专用回单", 300, 20),
        *payer_mark,
        make_line("户名", 90, 100),
        make_line("余切轹", 200, 100),
        make_line("账号", 90, 140),
        make_line("6222105123456788", 200, 140),
        make_line("开户行", 90, 180),
        make_line("招商银行泰安泰山支行", 200, 180),
        _column("收款人", 560, 100),
        make_line("户名", 610, 100),
        make_line("北海诚锦文化传媒有限公司", 720, 100),
        make_line("账号", 610, 140),
        make_line("1755 0331 6481 9072 456", 720, 140),
        make_line("开户行", 610, 180),
        make_line("平安银行北海合浦支行", 720, 180),
    ]


@pytest.mark.parametrize(
    "mark",
    [
        pytest.param([_column("付", 44, 100), _column("款人", 44, 134)], id="read in two pieces"),
        pytest.param([_column("付", 44, 96), _column("款", 44, 130), _column("人", 44, 164)], id="one a line"),
        pytest.param([_column("付歌人", 44, 100)], id="one character misread"),
    ],
)
def test_a_party_mark_down_a_cell_is_read_whole(mark: list[Line]) -> None:
    res = extractor("bank_receipt").extract_document(make_doc(_grid(mark), width=1300))
    v = res.values()
    assert (v["payer_name"], v["payer_account"], v["payer_bank"]) == (
        "余切轹",
        "6222105123456788",
        "招商银行泰安泰山支行",
    )
    assert v["payee_name"] == "北海诚锦文化传媒有限公司" and v["payee_bank"] == "平安银行北海合浦支行"
    # a piece of the mark (款人) is never a value
    assert all("款人" not in str(f.value) for f in res.fields)


def test_a_piece_of_a_party_mark_is_printed_form_text() -> None:
    from luodi.kie.formtext import FormText

    ft = FormText(load_schema("bank_receipt"))
    assert ft.is_form_text("款人", grid=False) and ft.is_form_text("收款", grid=False)
    assert ft.is_form_text("廖四九", grid=False) is None


def test_a_value_right_of_its_label_in_a_table_whose_next_row_is_an_unknown_label() -> None:
    """用途 | 转账 over 经办 | (empty): the labels of the column have their values to the right, so
    the line under 用途 is the next row's label, not its value."""
    lines = [
        ("中国民生银行 转账汇款回单", 300, 20),
        ("大写金额", 40, 100),
        ("人民币叁万伍仟伍佰元整", 220, 100),
        ("小写金额", 560, 100),
        ("¥35,500.00", 740, 100),
        ("用途", 40, 140),
        ("转账", 220, 140),
        ("交易时间", 560, 140),
        ("12:56:01", 740, 140),
        ("经办", 40, 180),
        ("复核", 560, 180),
    ]
    v = extractor("bank_receipt").extract_document(make_doc(lines, width=1100)).values()
    assert v["purpose"] == "转账" and v["time"] == "12:56:01"


def test_labels_above_values_still_read_below() -> None:
    """A mobile-banking receipt: each small label over its value, two columns."""
    lines = [
        ("江苏银行", 500, 20),
        ("转账金额", 60, 80),
        ("¥35,500.00", 60, 110),
        ("人民币叁万伍仟伍佰元整", 60, 150),
        ("付款户名", 60, 200),
        ("收款户名", 620, 200),
        ("贺州优博实业有限公司", 60, 230),
        ("海禾官方旗舰店", 620, 230),
        ("附言", 60, 280),
        ("交易渠道", 620, 280),
        ("货款", 60, 310),
        ("手机银行", 620, 310),
        ("交易时间", 60, 360),
        ("交易流水号", 620, 360),
        ("2019-03-27 12:56:01", 60, 390),
        ("430697413990394343", 620, 390),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines, width=1200))
    v = res.values()
    assert (v["payer_name"], v["payee_name"], v["purpose"]) == ("贺州优博实业有限公司", "海禾官方旗舰店", "货款")
    assert (v["date"], v["time"], v["serial_number"]) == ("2019-03-27", "12:56:01", "430697413990394343")
    # the capitals under the figure, unlabelled: the two readings agree, both are keyed in
    assert v["amount"] == 35500.0 and v["amount_in_words"] == "人民币叁万伍仟伍佰元整"
    assert not res["amount"].needs_review and not res["amount_in_words"].needs_review


def test_the_issuing_bank_is_the_titles_not_a_party_branch_without_its_label() -> None:
    """A party's 开户行 whose label OCR missed runs on into its branch: it is not the issuer."""
    lines = [
        ("江苏银行", 500, 20),
        ("手机银行转账回单", 470, 50),
        ("交易日期：2024-03-05", 60, 100),
        ("交易流水号：430697413990394343", 620, 100),
        ("金额：¥35,500.00", 60, 150),
        ("中国工商银行贺州八步支行", 60, 300),
        ("招商银行重庆渝北支行", 620, 300),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines, width=1200))
    assert res.get("bank") == "江苏银行" and not res["bank"].flagged


def _amounts(figure: str, words: str, *, words_scores: list[float] | None = None) -> dict[str, object]:
    lines = [
        make_line("交通银行 电子回单", 300, 20),
        make_line("交易流水号：1117672079278329", 40, 60),
        make_line("金额", 40, 100),
        make_line(figure, 200, 100),
        make_line(words, 200, 130, scores=words_scores),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines))
    return {"amount": res["amount"], "words": res["amount_in_words"]}


def test_the_figure_and_the_capitals_confirm_each_other() -> None:
    # a weak character in the capitals, settled by the figure
    scores = [0.98] * 3 + [0.6] + [0.98] * 7
    got = _amounts("¥35,500.00", "人民币叁万伍仟伍佰元整", words_scores=scores)
    amount, words = got["amount"], got["words"]
    assert amount.value == 35500.0 and words.value == "人民币叁万伍仟伍佰元整"  # type: ignore[attr-defined]
    assert not amount.needs_review and not words.needs_review  # type: ignore[attr-defined]


def test_capitals_misread_as_no_numeral_are_put_right_by_the_figure() -> None:
    words = _amounts("CNY 35,500.00", "人民币禁万伍仟伍佰元整")["words"]
    assert words.value == "人民币叁万伍仟伍佰元整"  # type: ignore[attr-defined]
    assert "人民币禁万伍仟伍佰元整" in words.alternatives  # type: ignore[attr-defined]
    assert any("corrected" in r for r in words.reasons)  # type: ignore[attr-defined]


def test_capitals_that_read_another_amount_flag_both() -> None:
    got = _amounts("¥36,500.00", "人民币叁万伍仟伍佰元整")
    assert got["amount"].needs_review and got["words"].needs_review  # type: ignore[attr-defined]
    assert got["words"].value == "人民币叁万伍仟伍佰元整"  # type: ignore[attr-defined]


def test_a_time_that_lost_a_colon_is_read_whole_for_review_and_a_misread_serial_not_at_all() -> None:
    """17:1821 (the second colon lost) is the time 17:18:21 for review, never 17:18; 5846T357…
    (a digit misread as a letter) is no serial number 5846."""
    lines = [("中国银行 回单", 300, 20), ("交易时间：17:1821", 40, 60), ("流水号：5846T357165342040", 40, 100)]
    res = extractor("bank_receipt").extract_document(make_doc(lines))
    assert res.get("time") == "17:18:21" and res["time"].needs_review
    assert res.get("serial_number") is None


@pytest.mark.parametrize(
    ("printed", "review"),
    [("10:56-07", True), ("10:56.07", True), ("10:5607", True), ("10时56分07秒", False), ("10:56:07", False)],
)
def test_a_time_with_its_seconds_after_a_misread_separator_is_not_cut_short(printed: str, review: bool) -> None:
    """The second colon read as a dash or a point, or lost: the whole time for review, never 10:56."""
    lines = [("中国银行 回单", 300, 20), (f"交易时间：{printed}", 40, 60), ("交易日期：2024-03-05", 40, 100)]
    res = extractor("bank_receipt").extract_document(make_doc(lines))
    assert res.get("time") == "10:56:07"
    assert ("a separator of the time misread" in res["time"].reasons) is review
    assert res["time"].needs_review or not review
    # a range of hours and a fraction of a second are no misread separators
    assert check_time("营业时间 09:30-17:30").value == "09:30:00"
    assert check_time("10:11:12.345").value == "10:11:12"


def _masked(printed: str, read: str, x: float, y: float) -> Line:
    """``printed`` as OCR reads it: ``read``, its star run shorter (CTC merged equal stars), the
    characters still where they are printed (each digit and star one pitch wide)."""
    pitch = 13.0
    head = len(read) - len(read.lstrip("0123456789"))
    seen = read.count("*")
    stars = printed.count("*")
    at = [*range(head), *(head + round(k * (stars - 1) / max(seen - 1, 1)) for k in range(seen))]
    at += [head + stars + k for k in range(len(read) - head - seen)]
    n = len(printed)
    box = ((x, y), (x + n * pitch, y), (x + n * pitch, y + 24), (x, y + 24))
    return Line(read, 0.95, box, tuple(0.95 for _ in read), tuple((i + 0.5) / n for i in at))


def test_a_masked_card_numbers_stars_are_counted_where_ocr_counts_too_few() -> None:
    lines = [
        make_line("中国银行 回单", 300, 20),
        make_line("付款人账号", 40, 60),
        _masked("622273*********8755", "622273***8755", 200, 60),
        make_line("收款人账号", 40, 100),
        _masked("622848******1234", "622848******1234", 200, 100),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines))
    # 13 characters is no card number: the stars counted from where 8755 lies (still for review)
    assert res.get("payer_account") == "622273*********8755" and res["payer_account"].needs_review
    assert "622273***8755" in res["payer_account"].alternatives
    # a count a card can have stays as OCR read it
    assert res.get("payee_account") == "622848******1234"


def test_a_core_banking_timestamp_gives_the_date_and_the_time() -> None:
    lines = [("中国工商银行 网上银行电子回单", 300, 20), ("时间戳：2024-03-05-10.11.12.345678", 40, 60)]
    v = extractor("bank_receipt").extract_document(make_doc(lines)).values()
    assert (v["date"], v["time"]) == ("2024-03-05", "10:11:12")


def test_a_figure_with_its_currency_is_the_amount_when_its_label_is_garbled() -> None:
    lines = [
        ("交通银行 业务回单", 300, 20),
        ("交易流水号：1117672079278329", 40, 60),
        ("日期：2024-03-05", 600, 60),
        ("交稍金银", 40, 100),
        ("CNY 41,677.22", 200, 100),
        ("金额大写", 500, 100),
        ("人民币肆万壹仟陆佰柒拾柒元贰角贰分", 640, 100),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines, width=1200))
    # the capitals agree: the figure is the amount
    assert res.get("amount") == 41677.22 and not res["amount"].needs_review
    alone = [*lines[:3], ("交稍金银", 40, 100), ("CNY 41,677.22", 200, 100)]
    res = extractor("bank_receipt").extract_document(make_doc(alone))
    assert res.get("amount") == 41677.22 and res["amount"].needs_review
    # a figure after another label (a fee) is not the amount
    fee = [*lines[:3], ("手续费：¥5.00", 40, 100)]
    assert extractor("bank_receipt").extract_document(make_doc(fee)).get("amount") is None
    # two sums with their currency and no label: which is the amount is not known
    two = [*alone, ("¥5.00", 200, 140)]
    assert extractor("bank_receipt").extract_document(make_doc(two)).get("amount") is None


def test_a_thousands_comma_read_as_a_point() -> None:
    got = _amounts("¥93.625.04", "人民币玖万叁仟陆佰贰拾伍元零肆分")
    assert got["amount"].value == 93625.04 and not got["amount"].needs_review  # type: ignore[attr-defined]
    got = _amounts("¥93.625.04", "网上银行")
    assert got["amount"].value == 93625.04 and got["amount"].needs_review  # type: ignore[attr-defined]


def test_a_party_bank_needs_its_bank_and_branch() -> None:
    from luodi.kie.banks import check_bank

    assert not check_bank("山支行", branch=True).ok  # the bank cut off
    assert not check_bank("中信银行", branch=True).ok  # the branch cut off
    assert check_bank("中信银行", branch=False).ok  # an issuing bank is a head bank
    assert check_bank("中信银行重庆忠县支行", branch=True).ok
    # one character before 银行 is no bank: its first character lost, put right where one bank fits
    lost = check_bank("业银行三明宁化支行", branch=True)
    assert not lost.ok and lost.value == "兴业银行三明宁化支行"
    assert not check_bank("银行北京分行", branch=True).ok


def test_a_branch_place_misread_is_flagged_and_put_right_where_one_name_fits() -> None:
    from luodi.errors import ModelNotPulledError
    from luodi.kie.banks import branch_doubts
    from luodi.kie.divisions import DivisionIndex
    from luodi.kie.gazetteer import Gazetteer

    try:
        divisions = DivisionIndex(Gazetteer.from_package())
    except ModelNotPulledError as exc:
        pytest.skip(f"no division gazetteer: {exc}")
    fixed, why = branch_doubts("中国邮政储蓄银行阜阳颖州支行", divisions)
    assert fixed == "中国邮政储蓄银行阜阳颍州支行" and why
    fixed, why = branch_doubts("上海浦东发展银行森州来安支行", divisions)
    assert fixed == "上海浦东发展银行滁州来安支行" and why
    fixed, why = branch_doubts("华夏银行哈尔滨网城支行", divisions)  # 阿城 or 双城: flagged only
    assert fixed is None and why
    assert branch_doubts("招商银行重庆渝北支行", divisions) == (None, [])
    assert branch_doubts("中国工商银行杭州浣纱支行", divisions) == (None, [])  # street level: not checked
    # a rare character of a prefecture's long name misread
    fixed, why = branch_doubts("上海浦东发展银行凉山舞族自治州盐源支行", divisions)
    assert fixed == "上海浦东发展银行凉山彝族自治州盐源支行" and why
    assert branch_doubts("上海浦东发展银行凉山彝族自治州盐源支行", divisions) == (None, [])


def _grid_slip(digits: str, units: str = "亿千百十万千百十元角分") -> list[Line]:
    """A counter slip's amount: unit names over one cell per character of ``digits`` (right-aligned,
    the last under 分), as OCR reads them: some names in one line, some alone, each digit alone."""
    x0, cell = 500.0, 40.0
    lines = [
        make_line("中国工商银行 进账单（回单）", 300, 20),
        make_line("交易流水号：1117672079278329", 40, 60),
        make_line("日期：2024-03-05", 600, 60),
        make_line("金额", 40, 150),
        make_line("亿千百", x0 + 8, 120, char_w=cell),  # read as one line across three cells
        *(make_line(u, x0 + 8 + i * cell, 120) for i, u in enumerate(units) if i >= 3 and i != 5),  # 千 missed
    ]
    start = len(units) - len(digits)
    lines += [make_line(d, x0 + 10 + (start + i) * cell, 170) for i, d in enumerate(digits)]
    return lines


def test_an_amount_written_one_digit_a_cell() -> None:
    res = extractor("bank_receipt").extract_document(make_doc(_grid_slip("¥7500000"), width=1000))
    assert res.get("amount") == 75000.0
    assert not any("leading digits" in r for r in res["amount"].reasons)
    # without the ¥ the leading digits may be lost: for review
    res = extractor("bank_receipt").extract_document(make_doc(_grid_slip("7500000"), width=1000))
    assert res.get("amount") == 75000.0 and res["amount"].needs_review
    # a cell OCR missed inside the number: no amount rather than a wrong one
    lines = [ln for ln in _grid_slip("¥7500000") if ln.box[0] != (500 + 10 + 6 * 40, 170)]
    assert extractor("bank_receipt").extract_document(make_doc(lines, width=1000)).get("amount") is None


@pytest.mark.parametrize("units", ["亿仟佰拾万仟佰拾元角分", "亿千百十万干百十元角分", "亿千百十万于百十元角分"])
def test_a_grid_of_formal_or_misread_unit_names(units: str) -> None:
    """Slips that print 仟佰拾, and a cell's 千 that OCR read 干 or 于, still give the columns."""
    res = extractor("bank_receipt").extract_document(make_doc(_grid_slip("¥3781205", units), width=1000))
    assert res.get("amount") == 37812.05


def test_a_number_further_below_the_grid_is_no_cell_of_it() -> None:
    """票据张数 1 printed under the grid's first columns does not break the amount's row."""
    lines = [*_grid_slip("3781205"), make_line("票据张数", 300, 195), make_line("1", 500 + 10, 195)]
    res = extractor("bank_receipt").extract_document(make_doc(lines, width=1000))
    assert res.get("amount") == 37812.05


def test_a_colon_read_as_a_full_stop_is_no_part_of_the_value() -> None:
    lines = [("中信银行 回单", 300, 20), ("收款银行。中信银行合肥长丰支行", 40, 60)]
    v = extractor("bank_receipt").extract_document(make_doc(lines)).values()
    assert v["payee_bank"] == "中信银行合肥长丰支行"


def test_capitals_that_lost_their_first_numeral_are_completed_from_the_figure_for_review() -> None:
    words = _amounts("¥37,812.05", "万柒仟捌佰壹拾贰元零伍分")["words"]
    assert words.value == "叁万柒仟捌佰壹拾贰元零伍分" and words.needs_review  # type: ignore[attr-defined]
    words = _amounts("¥37,812.05", "人民币万柒仟捌佰壹拾贰元零伍分")["words"]
    assert words.value == "人民币叁万柒仟捌佰壹拾贰元零伍分" and words.needs_review  # type: ignore[attr-defined]
    # a unit missing inside is no lost first numeral: the two disagree
    got = _amounts("¥37,812.05", "叁万柒仟捌壹拾贰元零伍分")
    assert got["words"].needs_review and got["amount"].needs_review  # type: ignore[attr-defined]
    assert got["words"].value != "叁万柒仟捌佰壹拾贰元零伍分"  # type: ignore[attr-defined]


def test_capitals_stand_in_for_a_figure_ocr_missed_for_review() -> None:
    lines = [
        ("中国银行 业务回单", 300, 20),
        ("交易流水号：1117672079278329", 40, 60),
        ("日期：2024-03-05", 600, 60),
        ("金额(大写)：人民币柒万伍仟元整", 40, 120),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines))
    assert res.get("amount") == 75000.0 and res["amount"].needs_review
    assert res.get("amount_in_words") == "人民币柒万伍仟元整" and res["amount_in_words"].needs_review


def test_a_date_without_a_label_is_read_from_its_row() -> None:
    """A counter slip's date, written in by hand between the printed 年 月 日 (OCR reads pieces);
    a date after another field's label (打印日期) is not it."""
    base = [
        ("中国工商银行 进账单（回单）", 300, 20),
        ("交易流水号：1117672079278329", 40, 300),
        ("金额(大写)：人民币柒万伍仟元整", 40, 200),
        ("小写金额：¥75,000.00", 40, 240),
    ]
    pieces = [("2024", 600, 70), ("年", 680, 70), ("03", 720, 70), ("月05日", 770, 70)]
    res = extractor("bank_receipt").extract_document(make_doc([*base, *pieces], width=1000))
    assert res.get("date") == "2024-03-05"
    res = extractor("bank_receipt").extract_document(make_doc([*base, ("打印日期：20240330", 40, 340)]))
    assert res.get("date") is None
    # an eight-digit run inside an account number is no date
    res = extractor("bank_receipt").extract_document(make_doc([*base, ("6230967749427174867", 40, 380)]))
    assert res.get("date") is None


def test_a_value_under_a_stamp_needs_review_unless_another_reading_confirms_it() -> None:
    """A stamp OCR saw (its star, 业务专用 inside it) may hide characters of what it covers; the
    capitals agreeing with a figure under it settle that."""
    lines = [
        ("中国建设银行 单位客户专用回单", 300, 20),
        ("交易日期：2024-03-05", 40, 60),
        ("交易流水号：1117672079278329", 500, 60),
        ("收款人账号：38991792487700106608", 500, 120),
        ("付款人账号：48034105798892500700", 40, 120),
        ("★", 700, 140),
        ("业务专用", 660, 190),
        ("小写金额：¥75,000.00", 500, 170),
        ("大写金额：人民币柒万伍仟元整", 40, 170),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines, width=1000))
    payee = res["payee_account"]
    assert payee.value == "38991792487700106608" and payee.needs_review
    assert any("under a stamp" in r for r in payee.reasons)
    assert not res["payer_account"].needs_review  # far from the stamp
    assert res.get("amount") == 75000.0 and not res["amount"].needs_review  # confirmed by the capitals


def _scored(text: str, x: float, y: float, weak: dict[int, float]) -> Line:
    """``text`` read at 0.99 but for the characters at ``weak``'s positions."""
    line = make_line(text, x, y)
    scores = tuple(weak.get(i, 0.99) for i in range(len(text)))
    return Line(line.text, line.score, line.box, scores, line.char_positions)


# A filled-in receipt's other fields (a page with only one value on it is flagged as a whole).
_FILLED = [
    ("付款人户名：海禾官方旗舰店", 40, 140),
    ("付款人账号：48034105798892500700", 40, 180),
    ("金额：¥35,500.00", 40, 220),
]


def test_a_date_with_a_digit_read_unsure_is_flagged() -> None:
    """2025-04-20 photographed and read 20050420 with its 0 at 0.86: a valid date, but not keyed in
    unseen; the same date read sure is accepted."""
    for weak, flagged in (({1: 0.86}, True), ({}, False)):
        lines = [
            make_line("招商银行 网上银行电子回单", 300, 20),
            make_line("交易时间", 40, 60),
            _scored("20050420 18:04:40", 200, 60, weak),
            *(make_line(*t) for t in _FILLED),
        ]
        date = extractor("bank_receipt").extract_document(make_doc(lines))["date"]
        assert date.value == "2005-04-20" and date.needs_review is flagged  # type: ignore[attr-defined]


def test_a_number_cut_by_a_digit_misread_as_a_mark_is_flagged() -> None:
    """81763)77525085: the pattern takes 81763 whole; the ) read at 0.48 between digits says the
    number goes on (a misread 1), so 81763 is not keyed in unseen. A sure mark is a separator."""
    for weak, flagged in (({5: 0.48}, True), ({}, False)):
        lines = [
            make_line("招商银行 网上银行电子回单", 300, 20),
            make_line("交易流水号", 40, 60),
            _scored("81763)77525085", 200, 60, weak),
            *(make_line(*t) for t in _FILLED),
        ]
        serial = extractor("bank_receipt").extract_document(make_doc(lines))["serial_number"]
        assert serial.value == "81763" and serial.needs_review is flagged  # type: ignore[attr-defined]


@pytest.mark.parametrize("cut", [False, True])
def test_a_tellers_machine_print_dates_the_slip_without_labels(cut: bool) -> None:
    """20240305 10:11:12 流水号:… across the top: the date before the line's first label, the time
    right after it (also where OCR cut the two apart); a time after another label is not taken."""
    machine = "20240305 10:11:12 流水号:4306974139 CNY 1,234.00"
    head = (
        [make_line("20240305", 40, 14), make_line(machine[9:], 40 + 24 * 0.55 * 9, 14)]
        if cut
        else [make_line(machine, 40, 14)]
    )
    lines = [*head, make_line("中国银行  转账汇款凭条", 400, 50), *(make_line(*t) for t in _FILLED)]
    v = extractor("bank_receipt").extract_document(make_doc(lines)).values()
    assert (v["date"], v["time"], v["serial_number"]) == ("2024-03-05", "10:11:12", "4306974139")
    lines = [make_line("打印日期：20240305 10:11:12", 40, 14), *(make_line(*t) for t in _FILLED)]
    assert extractor("bank_receipt").extract_document(make_doc(lines)).values()["time"] is None


def test_a_figure_followed_by_a_unit_is_no_amount() -> None:
    """2万法行零…: capitals whose first numeral OCR read as 2 are no amount of 2 yuan."""
    lines = [("中国工商银行 进账单", 300, 20), ("金额", 40, 60), ("2万法行零州拾铜元件角式分", 200, 60)]
    assert extractor("bank_receipt").extract_document(make_doc(lines)).values()["amount"] is None
    lines = [("中国工商银行 进账单", 300, 20), ("金额", 40, 60), ("¥76,088.42", 200, 60)]
    assert extractor("bank_receipt").extract_document(make_doc(lines)).values()["amount"] == 76088.42


def test_a_short_purpose_needs_a_names_confidence() -> None:
    """还款 read 证款 with its 证 at 0.85: a two-character text has no redundancy to tell it by, so it
    is flagged where a longer text with the same character is not."""
    for purpose, flagged in (("证款", True), ("支付二月份房屋租金", False)):
        lines = [
            make_line("中国工商银行 进账单", 300, 20),
            make_line("用途", 40, 60),
            _scored(purpose, 200, 60, {0: 0.85}),
            make_line("交易日期：2024-03-05", 40, 260),
            *(make_line(*t) for t in _FILLED),
        ]
        got = extractor("bank_receipt").extract_document(make_doc(lines))["purpose"]
        assert got.value == purpose and got.needs_review is flagged  # type: ignore[attr-defined]


def test_a_tag_does_not_reach_over_its_own_block_into_the_other_partys() -> None:
    """The payee's mark (收款人 down its cell) not read: its 户名 / 账号 / 开户行 column is not the
    payer's, whose mark is further left beyond the payer's own labels; it is the other party's,
    for review (position only), and the payer's values are no longer in conflict."""
    lines = [line for line in _grid([_column("付款人", 44, 100)]) if line.text != "收款人"]
    lines += [make_line("交易日期：2024-03-05", 90, 240), make_line("金额：¥35,500.00", 90, 280)]
    res = extractor("bank_receipt").extract_document(make_doc(lines, width=1300))
    v = res.values()
    assert (v["payer_name"], v["payer_account"]) == ("余切轹", "6222105123456788")
    assert not res["payer_account"].needs_review  # type: ignore[attr-defined]
    assert (v["payee_name"], v["payee_bank"]) == ("北海诚锦文化传媒有限公司", "平安银行北海合浦支行")
    assert res["payee_name"].needs_review  # type: ignore[attr-defined]


def test_a_card_number_failing_its_check_digit_has_its_weakest_digit_put_right_for_review() -> None:
    """6292813518872957 read 6292813513872957 with the misread 3 at 0.76: the one digit there that
    the Luhn check allows is put in, what OCR read kept as an alternative, and the field flagged."""
    lines = [
        make_line("中国建设银行 网上银行电子回单", 300, 20),
        make_line("收款人账号", 40, 60),
        _scored("6292813513872957", 200, 60, {9: 0.76}),
        make_line("交易日期：2024-03-05", 40, 260),
        *(make_line(*t) for t in _FILLED),
    ]
    got = extractor("bank_receipt").extract_document(make_doc(lines))["payee_account"]
    assert got.value == "6292813518872957" and got.needs_review  # type: ignore[attr-defined]
    assert "6292813513872957" in got.alternatives  # type: ignore[attr-defined]


def test_traditional_characters_ocr_reads_in_handwriting_are_keyed_in_simplified() -> None:
    lines = [
        ("中国银行 转账汇款凭条", 300, 20),
        ("交易日期：2024-03-05 流水号：1117672079278329", 40, 60),
        ("用途", 40, 100),
        ("服务費", 200, 100),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines, width=1200))
    assert res.get("purpose") == "服务费" and res["purpose"].raw == "服务費"


def test_capitals_read_with_look_alikes_are_repaired_by_their_grammar() -> None:
    from luodi.kie.capitals import repair_capitals

    # 置 in a numeral's place and 值 in a unit's: only 壹 and 佰 make an amount of them
    want = ("人民币贰仟壹佰元整", Decimal("2100"), (("置", "壹"), ("值", "佰")))
    assert repair_capitals("人民币贰仟置值元整") == want
    assert repair_capitals("染仟捌佰玖拾捌元叁角陆分")[0] == "柒仟捌佰玖拾捌元叁角陆分"  # type: ignore[index]
    assert repair_capitals("人民币叁万伍仟元整") is None  # nothing to repair
    assert repair_capitals("公司名称") is None  # no amount, whatever the look-alikes
    assert repair_capitals("染棚值元整") is None  # more look-alikes than numerals: no guess


def test_capitals_repaired_from_look_alikes_need_the_figure_to_be_accepted() -> None:
    got = _amounts("¥1,700.00", "人民币壹仟染佰元整")
    assert got["words"].value == "人民币壹仟柒佰元整"  # type: ignore[attr-defined]
    assert not got["words"].needs_review and not got["amount"].needs_review  # type: ignore[attr-defined]
    # without a figure: the amount the repaired capitals spell, both for review
    lines = [("中国银行 业务回单", 300, 20), ("交易流水号：1117672079278329", 40, 60), ("壹仟染佰元整", 200, 130)]
    res = extractor("bank_receipt").extract_document(make_doc(lines))
    assert res.get("amount_in_words") == "壹仟柒佰元整" and res["amount_in_words"].needs_review
    assert res.get("amount") == 1700.0 and res["amount"].needs_review


def test_a_total_read_misplaced_in_the_capitals_is_put_right_by_the_figure() -> None:
    got = _amounts("¥36,500.00", "人民币整万陆仟伍佰元整")
    assert got["words"].value == "人民币叁万陆仟伍佰元整" and not got["words"].needs_review  # type: ignore[attr-defined]


def test_a_figure_that_lost_its_leading_digits_gives_way_to_the_capitals_for_review() -> None:
    got = _amounts("¥5,000.00", "人民币肆万伍仟元整")
    assert got["amount"].value == 45000.0 and got["amount"].needs_review  # type: ignore[attr-defined]
    assert got["words"].needs_review  # type: ignore[attr-defined]
    # another amount altogether is no lost lead: both flagged, the figure kept
    got = _amounts("¥6,000.00", "人民币肆万伍仟元整")
    assert got["amount"].value == 6000.0 and got["amount"].needs_review  # type: ignore[attr-defined]


def test_a_grid_amount_starting_with_zero_lost_its_first_digits() -> None:
    res = extractor("bank_receipt").extract_document(make_doc(_grid_slip("00000"), width=1000))
    assert res.get("amount") is None


@pytest.mark.parametrize("inline", [False, True])
def test_a_two_character_label_misread_unsure_still_labels_its_value(inline: bool) -> None:
    head = [make_line("交通银行 电子回单", 300, 20), make_line("交易流水号：1117672079278329", 40, 60)]
    if inline:  # 用速：往来款 in one line, 速 read unsure
        lines = [*head, make_line("用速：往来款", 40, 100, scores=[0.99, 0.8, 0.99, 0.99, 0.99, 0.99])]
    else:  # 用速 alone in its cell, the value in the next
        lines = [*head, make_line("用速", 40, 100, scores=[0.99, 0.8]), make_line("往来款", 160, 100)]
    assert extractor("bank_receipt").extract_document(make_doc(lines)).get("purpose") == "往来款"
    # read sure, a word one character from a label is that word: 币种 is no 卡种 (card type)
    lines = [*head, make_line("币种", 40, 100, score=1.0), make_line("人民币", 160, 100)]
    assert extractor("bank_receipt").extract_document(make_doc(lines)).get("card_type") is None
    # unsure, but as near another label: 时言 (时间 or 附言?) labels nothing
    lines = [*head, make_line("时言", 40, 100, scores=[0.6, 0.9]), make_line("往来款", 160, 100)]
    assert extractor("bank_receipt").extract_document(make_doc(lines)).get("purpose") is None


@pytest.mark.parametrize("read", ["用速", "用迷"])
def test_a_two_character_label_misread_sure_as_a_look_alike_still_labels_its_value(read: str) -> None:
    # OCR is sure of 速 (0.99), but 速 is drawn like 途 and like no other label's character
    head = [make_line("交通银行 电子回单", 300, 20), make_line("交易流水号：1117672079278329", 40, 60)]
    lines = [*head, make_line(read, 40, 100, score=0.99), make_line("往来款", 160, 100)]
    assert extractor("bank_receipt").extract_document(make_doc(lines)).get("purpose") == "往来款"
    # read sure as a character drawn like no label's (用地): no label, whatever the position
    lines = [*head, make_line("用地", 40, 100, score=0.99), make_line("往来款", 160, 100)]
    assert extractor("bank_receipt").extract_document(make_doc(lines)).get("purpose") is None


@pytest.mark.parametrize("read", ["帐号", "张号"])
def test_a_generic_label_misread_as_a_look_alike_is_that_label_though_near_others(read: str) -> None:
    # 张号 is one character from 账号, 卡号 and 编号: 张 is drawn like 账 only, so it is 账号 (the
    # payee's, by its section), read sure or not
    lines = _grid([_column("付款人", 44, 100)])
    k = next(i for i, ln in enumerate(lines) if ln.text == "账号" and ln.box[0][0] > 500)
    lines[k] = make_line(read, 610, 140, score=0.99)
    res = extractor("bank_receipt").extract_document(make_doc(lines, width=1300))
    assert res.get("payee_account") == "1755033164819072456"
    assert res.get("merchant_code") is None and res.get("payer_account") == "6222105123456788"


def test_a_time_whose_first_colon_was_misread_is_the_time_for_review() -> None:
    lines = [("交通银行 电子回单", 300, 20), ("交易时间：16(01:51", 40, 60), ("日期：2024-03-05", 40, 100)]
    res = extractor("bank_receipt").extract_document(make_doc(lines))
    assert res.get("time") == "16:01:51" and res["time"].needs_review  # not 01:51
    # a date's day before a semicolon is no hour: the time after it is read as printed
    assert check_time("2024-03-05;10:11:12").value == "10:11:12"


@pytest.mark.parametrize("english", ["Payer Name", "Payer Same"])
@pytest.mark.parametrize("beside", [True, False])
def test_a_labels_english_is_never_its_value(beside: bool, english: str) -> None:
    """Bilingual forms print the label's English beside it (付款人户名 Payer Name) or under it;
    also where OCR misread one of its words by a letter (Payer Same)."""
    lines = [make_line("中信银行网上银行电子回单", 300, 20)]
    rows = (
        ("付款人户名", english, "汉中实验中学"),
        ("附言", "Remarks", "还款"),
        ("交易金额", "Amount", "5,000.00"),
    )
    for k, (zh, en, value) in enumerate(rows):
        y = 80 + 70 * k
        if beside:
            lines.append(make_line(f"{zh} {en}", 40, y))
        else:
            lines += [make_line(zh, 40, y), make_line(en, 40, y + 28, h=14, char_w=14)]
        lines.append(make_line(value, 260, y + 8))
    v = extractor("bank_receipt").extract_document(make_doc(lines, width=1100)).values()
    assert (v["payer_name"], v["purpose"], v["amount"]) == ("汉中实验中学", "还款", 5000.0)


def test_english_form_words_alone_are_printed_text_and_a_romanised_name_is_not() -> None:
    from luodi.kie.formtext import english_label

    assert english_label("Payer A/C No.") and english_label("Amount in Words")
    assert not english_label("ZHANG SAN") and not english_label("Payer 张三") and not english_label("No. 12")
    # one word a letter off beside a whole form word: a misread label; a name is no such thing
    assert english_label("Payer Same") and english_label("Amount in Wards")
    assert not english_label("Fee Lin") and not english_label("Same Li") and not english_label("BOSS LEE")


@pytest.mark.parametrize(
    ("account", "weak", "flagged"),
    [
        ("64837458831131808918", 0.93, True),  # a company account: no check digit tells a misread 0
        ("64837458831131808918", 0.97, False),
        ("6228480123456789", 0.93, False),  # a card number whose Luhn digit holds is checked
        ("6228480123456780", 0.93, True),  # ... and one whose digit fails is flagged anyway
    ],
)
def test_a_number_without_a_check_digit_needs_a_surer_digit(account: str, weak: float, flagged: bool) -> None:
    """A long number read whole with one digit at 0.93 (64837458831131868918 photographed and read
    …808918, its 0 at 0.93): nothing on the page tells the misread digit, so it is not keyed in
    unseen unless a check digit holds; the same digit read sure is accepted."""
    label = "收款人账号："
    lines = [
        make_line("招商银行 网上银行电子回单", 300, 20),
        make_line("交易日期：2024-03-05", 40, 60),
        _scored(label + account, 40, 100, {len(label) + 14: weak}),
        *(make_line(*t) for t in _FILLED),
    ]
    got = extractor("bank_receipt").extract_document(make_doc(lines))["payee_account"]
    assert got.value == account and got.needs_review is flagged  # type: ignore[attr-defined]


@pytest.mark.parametrize(("date", "time"), [("20190425", "17:20:48"), ("2090425", None)])
def test_a_time_glued_to_a_date_that_is_no_date_is_not_read_after_it(date: str, time: str | None) -> None:
    """2019042517:20:48 read 209042517:20:48: the date pattern takes 20904251 (no calendar date),
    and the time left after it, 7:20:48, lost its first digit; after a true date the cut is sure."""
    lines = [make_line(f"{date}17:20:48 流水号：544573500851", 40, 14), *(make_line(*t) for t in _FILLED)]
    got = extractor("bank_receipt").extract_document(make_doc(lines))["time"]
    assert got.value == time  # type: ignore[attr-defined]


@pytest.mark.parametrize(("sign", "amount"), [(0.54, 26778.31), (0.99, 426778.31)])
def test_a_currency_sign_read_as_a_digit_gives_way_to_the_capitals_for_review(sign: float, amount: float) -> None:
    """¥26,778.31 photographed and read 426,778.31 with its 4 at 0.54: the capitals spell the figure
    without that digit, so the amount is theirs; read sure, the digit may be one the capitals lost,
    and the figure stays. Both need review either way."""
    figure = "金额(小写)：426,778.31"
    lines = [
        make_line("中国建设银行 网上银行电子回单", 300, 20),
        make_line("交易日期：2024-03-05", 40, 60),
        _scored(figure, 40, 100, {figure.index("4"): sign}),
        make_line("金额(大写)：人民币贰万陆仟柒佰柒拾捌元叁角壹分", 40, 140),
        *(make_line(*t) for t in _FILLED[:2]),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines))
    assert res.get("amount") == amount and res["amount"].needs_review
    assert res.get("amount_in_words") == "人民币贰万陆仟柒佰柒拾捌元叁角壹分" and res["amount_in_words"].needs_review


def test_one_account_for_both_parties_flags_both_and_one_name_does_not() -> None:
    """The payee's 账号 cell given the payer's number (or the reverse): nobody transfers to the
    account paid from, so both need review; one name for both parties is a transfer between one's
    own accounts and stands."""
    for payee_account, flagged in (("48034105798892500700", True), ("38991792487700106608", False)):
        lines = [
            make_line("招商银行 网上银行电子回单", 300, 20),
            make_line("交易日期：2024-03-05", 40, 60),
            make_line("付款人户名：王建国", 40, 100),
            make_line("收款人户名：王建国", 520, 100),
            make_line("付款人账号：48034105798892500700", 40, 140),
            make_line(f"收款人账号：{payee_account}", 520, 140),
            make_line("金额：¥35,500.00", 40, 180),
        ]
        res = extractor("bank_receipt").extract_document(make_doc(lines, width=1100))
        assert res.get("payee_account") == payee_account
        assert res["payer_account"].needs_review is flagged and res["payee_account"].needs_review is flagged
        assert not res["payer_name"].needs_review and not res["payee_name"].needs_review


@pytest.mark.parametrize(
    ("weak_cent", "read", "confirmed"), [(0.57, "整", False), (0.99, "整", True), (0.57, "参", True)]
)
def test_capitals_corrected_where_they_spell_a_digit_the_figure_read_unsure_confirm_nothing(
    weak_cent: float, read: str, confirmed: bool
) -> None:
    """¥44,745.88 with its last 8 at 0.57 over capitals read …捌角整分: 整 stands where a numeral
    must, and the correction puts the figure's 捌 there, so only the weak 8 says the cents are 88
    (the receipt printed 83): both need review. Read sure, the figure alone is as good as any
    number; and 参 in that place is drawn like 叁, which the figure's 3 then agrees with."""
    figure = "¥44,745.83" if read == "参" else "¥44,745.88"
    words = f"人民币肆万肆仟柒佰肆拾伍元捌角{read}分"
    lines = [
        make_line("交通银行 电子回单", 300, 20),
        make_line("交易流水号：1117672079278329", 40, 60),
        make_line("金额", 40, 100),
        _scored(figure, 200, 100, {len(figure) - 1: weak_cent}),
        make_line(words, 200, 130),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines))
    assert res.get("amount") == float(figure[1:].replace(",", ""))
    assert res.get("amount_in_words") == "人民币肆万肆仟柒佰肆拾伍元捌角" + ("叁" if read == "参" else "捌") + "分"
    assert res["amount"].needs_review is not confirmed and res["amount_in_words"].needs_review is not confirmed


def test_an_empty_cell_does_not_borrow_the_value_of_the_label_under_it() -> None:
    """流水号 printed over an empty cell, the payee's 全称 and 账号 rows under it (账号 | 4631 0004 …):
    the first digits of that account are the account's, never the serial number."""
    lines = [
        make_line("中国民生银行 网上银行电子回单", 300, 20),
        make_line("日期：2022-11-07", 300, 60),
        make_line("流水号：", 560, 60),
        make_line("全称", 500, 92),
        make_line("晋城通嘉文化传媒有限公司", 560, 92),
        make_line("账号", 500, 124),
        make_line("4631 0004 4914 6893 775", 560, 124),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines, width=1100))
    assert res.get("serial_number") is None
    # the same page with the serial printed: read as before
    lines[2] = make_line("流水号：758578381104", 560, 60)
    res = extractor("bank_receipt").extract_document(make_doc(lines, width=1100))
    assert res.get("serial_number") == "758578381104"


@pytest.mark.parametrize(
    ("name", "flagged"), [("印", True), ("涡尔西", True), ("印菲琼", False), ("瑞汇官方旗舰店", False)]
)
def test_a_party_name_of_one_character_or_without_a_surname_needs_review(name: str, flagged: bool) -> None:
    """印 of 印菲琼 (the rest under a stamp), 涡尔西 for 满雨西 (handwriting read sure): a person's name
    has two characters or more and starts with a surname; a shop's name need not."""
    lines = [
        make_line("交通银行 电子回单", 300, 20),
        make_line("交易日期：2024-03-05", 40, 60),
        make_line(f"收款人户名：{name}", 40, 100, score=0.99),
        *(make_line(*t) for t in _FILLED),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines))
    assert res.get("payee_name") == name
    assert res["payee_name"].needs_review is flagged


@pytest.mark.parametrize("over", [True, False])
def test_a_value_right_under_its_label_is_accepted_where_the_page_prints_every_label_over_its_value(
    over: bool,
) -> None:
    """A mobile-banking receipt prints small labels over their values: where the account, the
    amount and the date stand right under their labels, the name and the purpose under theirs
    are as sure (keyed in); where those print after their labels, a name under its label could
    be an empty cell's neighbour, and is flagged as before."""
    shaped = [("付款账号", "6222 0210 0112 3456 789"), ("金额", "¥35,500.00"), ("交易日期", "2024-03-05")]
    lines = [make_line("中国农业银行 转账电子回单", 300, 20)]
    for i, (label, value) in enumerate(shaped):
        x, y = (40, 100 + 70 * i) if i < 1 else (520, 100 + 70 * (i - 1))
        if over:
            lines += [make_line(label, x, y), make_line(value, x, y + 28)]
        else:
            lines.append(make_line(f"{label}：{value}", x, y))
    lines += [
        make_line("付款户名", 40, 170),
        make_line("王建国", 40, 198),
        make_line("用途", 520, 240),
        make_line("货款", 520, 268),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines, width=1100))
    assert (res.get("payer_account"), res.get("amount"), res.get("date")) == (
        "6222021001123456789",
        35500.0,
        "2024-03-05",
    )
    assert res.get("payer_name") == "王建国" and res.get("purpose") == "货款"
    assert res["payer_name"].needs_review is not over and res["purpose"].needs_review is not over


@pytest.mark.parametrize("read", ["姓号", "账号"])
def test_a_label_misread_beyond_any_label_is_told_by_its_place_among_the_partys_labels(read: str) -> None:
    """收款人 户名 / 姓号 / 开户银行: 姓号 is no label (姓 is drawn like no 账), but it stands where the
    payee's box lacks only its account, and the number beside it has an account's shape: the
    payee's account, for review (its place is the only evidence); read right, it is accepted."""
    lines = [
        make_line("中国工商银行 网上银行电子回单", 300, 20),
        make_line("交易日期：2024-03-05", 40, 60),
        make_line("收款人", 500, 100),
        make_line("户名", 580, 100),
        make_line("品天官方旗舰店", 680, 100),
        make_line(read, 580, 130),
        make_line("8819 7820 4706 5012 4940", 680, 130),
        make_line("开户银行", 580, 160),
        make_line("招商银行重庆渝北支行", 680, 160),
        *(make_line(*t) for t in _FILLED),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines, width=1100))
    assert res.get("payee_account") == "88197820470650124940"
    assert res["payee_account"].needs_review is (read == "姓号")


def test_a_serial_whose_digits_are_lost_is_not_the_year_of_the_date_beside_it() -> None:
    """流水号： with its digits lost, then a time label OCR garbled (空照时间 for 交易时间) and its date:
    2019 is the date's year, never the serial number; the serial printed is read as before."""
    for serial, want in (("", None), ("74624815509620494354", "74624815509620494354")):
        lines = [
            make_line("中国工商银行 进账单（收账通知）", 300, 20),
            make_line(f"流水号：{serial} 空照时间：2019-06-07 15:05:51", 40, 60),
            *(make_line(*t) for t in _FILLED),
        ]
        res = extractor("bank_receipt").extract_document(make_doc(lines))
        assert res.get("serial_number") == want
