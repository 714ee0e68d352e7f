"""Phone rules: mobiles, landlines, prefixes, separators, normalisation."""

from __future__ import annotations

import pytest

from luodi.kie import validators
from luodi.kie.contact.phones import PhoneMatch, find_phones, normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("18600009172", "18600009172"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("0086-13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits
        ("021-62538890", "021-62538890"),
        ("02162538890", "021-62538890"),
        ("(021)62538890", "021-62538890"),
        ("（０２１）６２５３８８９０", "021-62538890"),
        ("010 8888 8888", "010-88888888"),
        ("0451-8633123", "0451-8633123"),
        ("0755-23456789转123", "0755-23456789-123"),
        ("+86 21 6253 8890", "021-62538890"),
        ("+852 9123 4567", "+852-91234567"),  # Hong Kong
        ("(852) 2345-6789", "+852-23456789"),
        ("00853 6612 3456", "+853-66123456"),  # Macau
        ("852-91234567", "+852-91234567"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        *("12345678901", "1860000917", "186000091722", "021-0253889", "10086", "0000-12345678", "手机18600009172"),
        *("85291234567", "+852 1234 5678", "+852 9123 456", "91234567"),  # no code written, or not 8 digits
    ],
)
def test_not_a_phone(raw: str) -> None:
    assert normalize_phone(raw) is None


def test_find_in_text_with_offsets() -> None:
    text = "韦业涛18600009172，办公室(0451)86331234转8"
    found = find_phones(text)
    assert [(m.value, m.kind) for m in found] == [("18600009172", "mobile"), ("0451-86331234-8", "landline")]
    assert text[found[0].start : found[0].end] == "18600009172"
    assert text[found[1].start : found[1].end] == "(0451)86331234转8"


def test_digits_glued_to_other_digits_are_not_phones() -> None:
    assert find_phones("订单号2186000091721") == []
    # A house number right before a mobile does not extend it.
    assert find_phones("八马路40号18600009172") == [PhoneMatch(6, 17, "18600009172", "mobile")]


def test_a_dash_read_as_a_tilde_or_underscore_still_separates_digit_groups() -> None:
    assert [m.value for m in find_phones("天盛家坊专营店 191~4994-1983")] == ["19149941983"]
    assert [m.value for m in find_phones("191_4994_1983")] == ["19149941983"]
    assert validators.find_phones("天盛家坊专营店 191~4994-1983") == [(8, 21)]


def test_hong_kong_and_macau_numbers_in_text() -> None:
    text = "陈大文 +852 9123 4567 香港九龙弥敦道100号 / (853)28123456"
    assert [(m.value, m.kind) for m in find_phones(text)] == [("+852-91234567", "sar"), ("+853-28123456", "sar")]
    assert validators.find_phones(text) == [(4, 18), (33, 46)]
    assert validators.check_phone("+852 9123 4567").value == "+852-91234567"
    assert validators.phone_text("+852 9123 4567") == "+852-91234567"
    assert validators.phone_text("138-1234-5678") == "13812345678"
