"""Validators and normalisers, one field type at a time."""

from __future__ import annotations

from decimal import Decimal

import pytest

from luodi.kie import validators as v


def _id(first17: str) -> str:
    return first17 + v.id_check_digit(first17)


@pytest.mark.parametrize(
    ("raw", "value", "ok"),
    [
        ("138 1234 5678", "13812345678", True),
        ("+86 138-1234-5678", "13812345678", True),
        ("１３８１２３４５６７８", "13812345678", True),
        ("021-62538890", "021-62538890", True),
        ("(021)62538890", "021-62538890", True),
        ("02162538890", "021-62538890", True),
        ("0571 8888 6666", "0571-88886666", True),
        ("010-12345678", "01012345678", False),  # local numbers do not start with 1
        ("4008111111", "4008111111", True),
        ("62538890", "62538890", False),
        ("12812345678", "12812345678", False),
        ("1381234567", "1381234567", False),
        ("+852 9123 4567", "+852-91234567", True),
        ("(853) 2812 3456", "+853-28123456", True),
        ("85291234567", "85291234567", False),  # the code not written as one: no Hong Kong number
    ],
)
def test_phone(raw: str, value: str, ok: bool) -> None:
    got = v.check_phone(raw)
    assert (got.value, got.ok) == (value, ok)
    assert got.ok or got.reason


def test_find_phones_reports_every_number() -> None:
    text = "电话 13812345678/021-62538890 13987654321"
    assert [text[s:e] for s, e in v.find_phones(text)] == ["13812345678", "021-62538890", "13987654321"]


def test_id_number_checksum_birth_date_and_sex() -> None:
    good = _id("11010519491231002")
    assert v.check_id_number(good).ok
    assert v.id_birth_date(good) == "1949-12-31"
    assert v.id_sex(good) == "女"  # 17th digit 2 is even
    assert v.id_sex(_id("11010519491231001")) == "男"
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    bad = v.check_id_number(wrong)
    assert not bad.ok and "checksum" in (bad.reason or "")
    bad_date = v.check_id_number(_id("11010519491331002"))
    assert not bad_date.ok and "birth date" in (bad_date.reason or "")
    assert v.check_id_number(good.lower() if good.endswith("X") else good).value == good
    assert not v.check_id_number("110105194912310").ok  # legacy 15 digits: review


def test_id_check_digit_x() -> None:
    # Search a number whose check digit is X and make sure it normalises to upper case.
    for tail in range(1000):
        first17 = f"44030419900101{tail:03d}"
        if v.id_check_digit(first17) == "X":
            assert v.check_id_number(first17 + "x").value == first17 + "X"
            assert v.check_id_number(first17 + "x").ok
            return
    raise AssertionError("no X check digit found")


@pytest.mark.parametrize(
    ("raw", "carrier", "ok"),
    [
        ("SF1234567890123", None, True),
        ("SF 1234 5678 9012", None, True),
        ("YT1234567890123", None, True),
        ("JT1234567890123", None, True),
        ("JDVA12345678901", None, True),
        ("EA123456789CN", None, True),
        ("73123456789012", None, True),
        ("773012345678901", "申通快递", True),
        ("4312345678901", "韵达快递", True),
        ("YT1234567890123", "顺丰速运", False),
        ("SF12345", None, False),
        ("ABCDEF", None, False),
    ],
)
def test_tracking_numbers(raw: str, carrier: str | None, ok: bool) -> None:
    assert v.check_tracking_number(raw, carrier).ok is ok


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("JD0012345678901", True),  # JD + 13 digits
        ("JDVA12345678901", True),  # JDV? + 11 digits
        ("JDX012345678901", True),
        ("JD0012345678901-1-1-", True),  # parcel 1 of 1
        ("JD001234567890", False),  # a digit lost
        ("JDVA1234567890", False),
        ("JD00123456789012", False),  # a digit too many
        ("JD12345678901", False),
    ],
)
def test_jd_numbers_have_fifteen_characters(raw: str, ok: bool) -> None:
    checked = v.check_tracking_number(raw, "京东物流")
    assert checked.ok is ok
    if ok:
        assert checked.value == raw[:15]
    assert (v.carriers_for_number(raw[:15] if ok else raw) != []) is ok


def test_carrier_from_number_prefix() -> None:
    assert [c.name for c in v.carriers_for_number("SF1234567890123")] == ["顺丰速运"]
    assert "中通快递" in [c.name for c in v.carriers_for_number("73123456789012")]
    assert v.check_carrier("顺丰速运").value == "顺丰速运"
    assert not v.check_carrier("某某物流").ok


@pytest.mark.parametrize(
    ("raw", "kg"),
    [
        ("1.5kg", 1.5),
        ("1.5 KG", 1.5),
        ("500g", 0.5),
        ("500克", 0.5),
        ("3斤", 1.5),
        ("2公斤", 2.0),
        ("12千克", 12.0),
        ("0.8", 0.8),
    ],
)
def test_weight(raw: str, kg: float) -> None:
    got = v.check_weight(raw)
    assert got.ok and got.value == kg


@pytest.mark.parametrize(
    ("words", "amount"),
    [
        ("壹仟贰佰叁拾肆元伍角陆分", "1234.56"),
        ("人民币壹万元整", "10000"),
        ("贰拾万零伍佰元整", "200500"),
        ("拾伍元", "15"),
        ("壹亿贰仟万元整", "120000000"),
        ("伍角", "0.5"),
        ("叁佰元零伍分", "300.05"),
        ("玖仟玖佰玖拾玖元玖角玖分", "9999.99"),
        ("壹佰零伍圆整", "105"),
    ],
)
def test_capital_numerals(words: str, amount: str) -> None:
    assert v.parse_capital_amount(words) == Decimal(amount)
    assert v.check_amount_words(words).ok


@pytest.mark.parametrize("words", ["壹贰元", "hello", "", "元整"])
def test_capital_numerals_rejects_garbage(words: str) -> None:
    assert not v.check_amount_words(words).ok


@pytest.mark.parametrize(("raw", "value"), [("¥1,234.56", 1234.56), ("RMB 88.00元", 88.0), ("50000", 50000.0)])
def test_amount(raw: str, value: float) -> None:
    assert v.check_amount(raw).value == value


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2024年3月5日", "2024-03-05"),
        ("2024-03-05", "2024-03-05"),
        ("2024/3/5", "2024-03-05"),
        ("20240305", "2024-03-05"),
        ("2012.10.23", "2012-10-23"),
        ("2024 年 12 月 31 日", "2024-12-31"),
    ],
)
def test_dates(raw: str, iso: str) -> None:
    got = v.check_date(raw)
    assert got.ok and got.value == iso


def test_invalid_date_kept_with_reason() -> None:
    got = v.check_date("2023年2月30日")
    assert not got.ok and got.reason == "not a valid calendar date"
    assert got.value == "2023年2月30日"


def test_time_sex_count_name() -> None:
    assert v.check_time("12:43:15").value == "12:43:15"
    assert v.check_time("9:05").value == "09:05:00"
    assert v.check_sex("男").ok and not v.check_sex("南").ok
    assert v.check_count("共3件").value == 3
    assert v.check_count("叁件").value == 3
    assert v.check_name("张三").ok and not v.check_name("张3").ok


@pytest.mark.parametrize(
    ("raw", "value", "ok"),
    [
        ("中国银行淮北相山支行", "中国银行淮北相山支行", True),
        ("中国工商银行", "中国工商银行", True),
        ("浙江绍兴瑞丰农村商业银行柯桥支行", "浙江绍兴瑞丰农村商业银行柯桥支行", True),
        ("中国邮政绪蓄银行台南北支行", "中国邮政储蓄银行台南北支行", False),  # corrected, flagged
        ("中国银行淮北相山支", "中国银行淮北相山支", False),  # cut off
        ("中国银行苏州昆山市", "中国银行苏州昆山市", False),
    ],
)
def test_bank_names(raw: str, value: str, ok: bool) -> None:
    from luodi.kie.validators import check_bank_name

    got = check_bank_name(raw)
    assert (got.value, got.ok) == (value, ok), got.reason


def test_amount_words_cut_at_the_start_and_short_accounts_fail() -> None:
    from luodi.kie.validators import check

    assert not check("amount_words", "仟元整").ok
    assert check("amount_words", "人民币拾万元整").ok
    assert not check("account", "622210512").ok
    assert check("account", "6222 1051 2345 6788").ok  # a UnionPay card: its Luhn digit holds


def test_card_numbers_keep_their_check_digit_and_masks_are_for_review() -> None:
    from luodi.kie.validators import check

    assert not check("account", "6222 1051 2345 6789").ok  # one digit misread: Luhn fails
    assert not check("account", "622210512345678").ok  # a digit lost
    assert not check("account", "6268975173").ok  # 626897******5173 with its stars lost
    masked = check("account", "626109******2142")
    assert masked.value == "626109******2142" and not masked.ok and "masked" in str(masked.reason)
    assert check("account", "38991792487700106608").ok  # a company account: no check digit


def test_masked_mobiles_are_contact_numbers_not_phones() -> None:
    from luodi.kie.validators import find_contact_numbers, find_phones

    text = "收任强138****6673 寄 137＊＊＊＊0239"
    assert find_phones(text) == []
    spans = find_contact_numbers(text)
    assert [text[s:e] for s, e in spans] == ["138****6673", "137＊＊＊＊0239"]
    # a real number is found once; a run of stars with too few digits is no number
    assert find_contact_numbers("13812345678 和 13****") == [(0, 11)]


def test_an_address_of_digits_alone_names_no_place() -> None:
    from luodi.kie.validators import check

    assert not check("address", "131").ok and not check("address", " 2-3 ").ok
    assert check("address", "四川省宜宾市长宁县光福大道876号").ok and check("address", "Flat 3, 12 Nathan Road").ok


@pytest.mark.parametrize(
    ("text", "code"), [("順丰速运", "SF"), ("順豐速運", "SF"), ("中通快遞", "ZTO"), ("韻達快遞", "YUNDA")]
)
def test_carrier_named_in_traditional_characters(text: str, code: str) -> None:
    pytest.importorskip("opencc")  # the conversion is OpenCC's; without it the text is left as read
    found = v.carrier_keyword(text)
    assert found is not None and found[0].code == code
    assert found[1] == 0  # offsets in the text as read: the conversion keeps its length
