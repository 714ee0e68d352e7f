"""Bank slips and ID cards: a real OCR reading of a POS slip, and synthetic ID-card documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docfactory import extractor, make_doc, make_line

from luodi.kie.validators import id_check_digit
from luodi.ocr.result import Document, Line, Page

DATA = Path(__file__).parent / "data"


def slip_document() -> Document:
    d = json.loads((DATA / "icbc_slip_ocr.json").read_text(encoding="utf-8"))
    lines = tuple(
        Line(
            x["text"],
            x["score"],
            tuple(tuple(p) for p in x["box"]),
            tuple(x["char_scores"]),
            tuple(x["char_positions"]),
        )
        for x in d["lines"]
    )
    return Document(d["source"], d["model"], (Page(0, d["width"], d["height"], lines),))


def test_icbc_pos_slip_from_real_ocr_lines() -> None:
    truth = json.loads((DATA / "icbc_slip.jsonl").read_text(encoding="utf-8").splitlines()[0])["fields"]
    res = extractor("bank_receipt").extract_document(slip_document())
    got = res.values()
    wrong = {k: (v, got[k]) for k, v in truth.items() if got[k] != v}
    # Only the card type misses: the OCR read 贷 as 货.
    assert wrong == {"card_type": ("牡丹准贷记卡", "牡丹准货记卡")}
    # No money amount on a points-redemption slip: the required amount is missing -> review.
    assert res.needs_review and res["amount"].reasons == ("not found",)
    assert not res["date"].needs_review and not res["serial_number"].needs_review
    box = res["serial_number"].box
    assert box is not None and 300 < box[0][0] < 330 and 420 < box[0][1] < 435


def test_transfer_receipt_amount_in_words_checked_against_figure() -> None:
    lines = [
        ("中国建设银行 转账凭证", 50, 20),
        ("日期：2024年3月5日", 50, 60),
        ("流水号：202403050001234", 400, 60),
        ("付款人：北京某某科技有限公司", 50, 100),
        ("付款账号：6217 0000 1111 2222", 50, 130),
        ("收款人：张三", 50, 170),
        ("收款账号：6222021234567890123", 50, 200),
        ("金额(小写)：¥1,234.56", 50, 240),
        ("金额(大写)：人民币壹仟贰佰叁拾肆元伍角陆分", 50, 270),
        ("用途：货款", 50, 310),
    ]
    res = extractor("bank_receipt").extract_document(make_doc(lines))
    v = res.values()
    assert v["bank"] == "中国建设银行"
    assert v["date"] == "2024-03-05"
    assert v["serial_number"] == "202403050001234"
    assert v["payer_name"] == "北京某某科技有限公司"
    assert v["payer_account"] == "6217000011112222"
    assert v["payee_name"] == "张三"
    assert v["payee_account"] == "6222021234567890123"
    assert v["amount"] == 1234.56
    assert v["amount_in_words"] == "人民币壹仟贰佰叁拾肆元伍角陆分"
    assert v["purpose"] == "货款"
    assert not res.needs_review

    lines[8] = ("金额(大写)：人民币壹仟贰佰叁拾肆元伍角整", 50, 270)
    res = extractor("bank_receipt").extract_document(make_doc(lines))
    assert res["amount"].needs_review and res["amount_in_words"].needs_review
    assert any("does not match" in r for r in res["amount"].reasons)
    assert res.needs_review


def _id(first17: str) -> str:
    return first17 + id_check_digit(first17)


def _id_card(number: str, sex: str = "男", birth: str = "1990年1月5日") -> Document:
    return make_doc(
        [
            ("姓名 韦小宝", 40, 40),
            (f"性别 {sex}  民族 汉", 40, 90),
            (f"出生 {birth}", 40, 140),
            ("住址 广西壮族自治区南宁市青秀区", 40, 190),
            ("民族大道100号", 112, 218),
            (f"公民身份号码 {number}", 40, 300),
        ]
    )


def test_id_card_front() -> None:
    number = _id("45010319900105003")  # 17th digit 3: male
    res = extractor("id_card").extract_document(_id_card(number))
    v = res.values()
    assert v["name"] == "韦小宝"
    assert v["sex"] == "男"
    assert v["ethnicity"] == "汉"
    assert v["birth_date"] == "1990-01-05"
    assert v["address"] == "广西壮族自治区南宁市青秀区民族大道100号"
    assert v["id_number"] == number
    assert not res.needs_review


@pytest.mark.parametrize(
    ("sex", "birth", "bad_field"),
    [("女", "1990年1月5日", "sex"), ("男", "1991年1月5日", "birth_date")],
)
def test_id_card_inconsistent_with_number(sex: str, birth: str, bad_field: str) -> None:
    number = _id("45010319900105003")
    res = extractor("id_card").extract_document(_id_card(number, sex, birth))
    assert res[bad_field].needs_review
    assert res["id_number"].needs_review
    assert any("does not match the ID number" in r for r in res[bad_field].reasons)


def test_a_birth_date_digit_read_unsure_is_settled_by_the_id_number() -> None:
    """出生 1990年1月5日 with its 9 at 0.75: a date digit read unsure is flagged, unless the accepted
    ID number (its checksum holds) encodes the same date; a validity date has no such check."""
    number = _id("45010319900105003")
    lines = [make_line(*t) if isinstance(t, tuple) else t for t in _id_card(number).pages[0].lines]
    birth = next(i for i, t in enumerate(lines) if t.text.startswith("出生"))
    weak = lines[birth].text.index("9")
    lines[birth] = Line(
        lines[birth].text,
        lines[birth].score,
        lines[birth].box,
        tuple(0.75 if k == weak else 0.98 for k in range(len(lines[birth].text))),
        lines[birth].char_positions,
    )
    res = extractor("id_card").extract_document(make_doc(lines))
    assert res.get("birth_date") == "1990-01-05" and not res["birth_date"].needs_review
    # both sides on one page (a side alone reads as a blank form, flagged whatever its digits)
    lines = [*_id_card(number).pages[0].lines, make_line("签发机关 南宁市公安局青秀分局", 40, 400)]
    valid = make_line("有效期限 2015.03.05-2035.03.05", 40, 450)
    at = valid.text.index("2035") + 2
    scores = tuple(0.75 if k == at else 0.98 for k in range(len(valid.text)))
    lines.append(Line(valid.text, valid.score, valid.box, scores, valid.char_positions))
    res = extractor("id_card").extract_document(make_doc(lines))
    assert res.get("valid_to") == "2035-03-05" and res["valid_to"].needs_review
    assert res["valid_to"].reasons == ("character 3 read with confidence 0.75",)


def test_id_card_bad_checksum_is_kept_for_review() -> None:
    number = _id("45010319900105003")
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    res = extractor("id_card").extract_document(_id_card(wrong))
    assert res.get("id_number") == wrong
    assert res["id_number"].needs_review
    assert "ID number checksum mismatch" in res["id_number"].reasons


def test_id_card_back() -> None:
    doc = make_doc([("签发机关 南宁市公安局青秀分局", 40, 200), ("有效期限 2015.03.05-2035.03.05", 40, 250)])
    v = extractor("id_card").extract_document(doc).values()
    assert v["issuing_authority"] == "南宁市公安局青秀分局"
    assert (v["valid_from"], v["valid_to"]) == ("2015-03-05", "2035-03-05")
    doc = make_doc([("有效期限 2015.03.05-长期", 40, 250)])
    v = extractor("id_card").extract_document(doc).values()
    assert (v["valid_from"], v["valid_to"]) == ("2015-03-05", "长期")


def test_id_card_without_the_name_and_sex_labels_read() -> None:
    """OCR missed 姓名 and the 性别 line: the name is the lone name above the labels (for review),
    the sex comes from the checksum-valid number."""
    number = "11010519491231002" + id_check_digit("11010519491231002")
    lines = [
        ("袁湘奇", 196, 125),
        ("民族汉", 253, 164),
        ("出生", 148, 183),
        ("1949年12月31日", 195, 189),
        ("住址", 146, 214),
        ("北京市朝阳区建国路88号", 192, 221),
        ("公民身份号码", 137, 320),
        (number, 300, 331),
    ]
    res = extractor("id_card").extract_document(make_doc(lines))
    assert res.get("name") == "袁湘奇" and res["name"].needs_review
    assert res.get("sex") == "女" and not res["sex"].needs_review


def test_bank_receipt_party_sections_side_by_side() -> None:
    """户名 / 账号 / 开户行 repeated under 付款人 and 收款人 row headers printed vertically; the
    issuing bank from the header, never a party's 开户行."""
    from luodi.ocr.result import Line as OcrLine

    def vertical(text: str, x: float, y: float) -> OcrLine:
        box = ((x + 38, y), (x + 38, y + 89), (x, y + 89), (x, y))
        return OcrLine(
            text, 0.99, box, tuple(0.99 for _ in text), tuple((i + 0.5) / len(text) for i in range(len(text)))
        )

    lines = [
        make_line("中国工商银行网上银行电子回单", 374, 22),
        make_line("户名", 89, 95),
        make_line("余切轹", 193, 98),
        make_line("户名", 605, 100),
        make_line("北海诚锦文化传媒有限公司", 712, 106),
        vertical("付款人", 44, 109),
        make_line("账号", 89, 134),
        make_line("6286148828741996", 197, 141),
        vertical("收款人", 562, 114),
        make_line("账号", 605, 138),
        make_line("1755 0331 6481 9072 456", 710, 145),
        make_line("开户银行", 93, 177),
        make_line("招商银行泰安泰山支行", 197, 179),
        make_line("开户银行", 607, 179),
        make_line("平安银行北海合浦支行", 711, 182),
        make_line("金额", 36, 221),
        make_line("14,376.89元", 197, 217),
        make_line("人民币壹万肆仟叁佰柒拾陆元捌角玖分", 197, 252),
        make_line("币种", 36, 287),
    ]
    v = extractor("bank_receipt").extract_document(make_doc(lines, width=1000)).values()
    assert v["bank"] == "中国工商银行"
    assert (v["payer_name"], v["payer_account"], v["payer_bank"]) == (
        "余切轹",
        "6286148828741996",
        "招商银行泰安泰山支行",
    )
    assert v["payee_name"] == "北海诚锦文化传媒有限公司" and v["payee_bank"] == "平安银行北海合浦支行"
    assert v["payee_account"] == "1755033164819072456"
    assert v["amount"] == 14376.89 and v["amount_in_words"] == "人民币壹万肆仟叁佰柒拾陆元捌角玖分"


def test_a_receipt_number_is_not_the_merchant_code_and_words_need_the_figure() -> None:
    doc = make_doc(
        [
            ("中国建设银行业务回单", 300, 20),
            ("回单编号：323115216473139", 600, 80),
            ("交易流水号：1117672079278329", 30, 80),
            ("人民币柒万伍仟元整", 30, 160),
        ]
    )
    res = extractor("bank_receipt").extract_document(doc)
    assert res["merchant_code"].value is None
    assert res.get("serial_number") == "1117672079278329"
    words = res["amount_in_words"]
    assert words.value == "人民币柒万伍仟元整" and words.needs_review


@pytest.mark.parametrize(("sex", "accepted"), [("男", True), ("女", False)])
def test_a_sex_read_unsure_is_settled_by_the_id_number_it_agrees_with(sex: str, accepted: bool) -> None:
    number = _id("45010319900105003")  # 17th digit 3: male
    lines = [make_line(*t) if isinstance(t, tuple) else t for t in _id_card(number, sex).pages[0].lines]
    at = next(i for i, t in enumerate(lines) if t.text.startswith("性别"))
    lines[at] = make_line(lines[at].text, 40, 90, scores=[0.6] * len(lines[at].text))  # all read unsure
    res = extractor("id_card").extract_document(make_doc(lines))
    assert res.get("sex") == sex and res["sex"].needs_review is not accepted
