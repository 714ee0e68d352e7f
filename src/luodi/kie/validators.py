"""Validators and normalisers, one per field type.

Each takes the raw value text (as read from the page) and returns a :class:`Checked`: the
normalised value, whether it passed, and a reason when it did not. A failing value is never
dropped: the extractor keeps it and marks the field ``needs_review`` with the reason.

Carrier tracking-number formats are the publicly visible ones as far as we know them (printed
labels, carrier query pages); carriers change their number ranges, so a number that matches no
pattern is reported for review rather than rejected.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from luodi.kie.normalize import compact, fold, to_simplified


@dataclass(frozen=True, slots=True)
class Checked:
    value: Any
    ok: bool = True
    reason: str | None = None


# --- phones ------------------------------------------------------------------------------------
# A dash between digit groups may be read as a tilde or an underscore (191~4994-1983).
MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d[-~_ ]?\d{4}[-~_ ]?\d{4})(?!\d)")
# Area codes: 010 and 02x have three digits, all others four. Optional parentheses and dash.
LANDLINE_RE = re.compile(r"(?<!\d)(\(?0(?:10|2\d|[3-9]\d{2})\)?[- ]?[2-9]\d{6,7})(?:[-转]\d{1,5})?(?!\d)")
SERVICE_RE = re.compile(r"(?<![\d])([48]00[- ]?\d{3}[- ]?\d{4})(?!\d)")
# Hong Kong (852) and Macau (853): eight digits, never starting 0 or 1, after the country code
# written as one (+852, 00852, (852), or 852 set off by a space or dash): without it eight digits are
# a mainland landline missing its area code.
SAR_RE = re.compile(r"(?<![\d+])((?:(?:\+|00) ?85[23]|\(?85[23]\)|85[23](?=[- ]))[- ]?[2-9]\d{3}[- ]?\d{4})(?!\d)")
_SAR_FULL = re.compile(r"(?:\+|00)?\(?(85[23])\)?[- ]?([2-9]\d{3})[- ]?(\d{4})")


def find_phones(text: str) -> list[tuple[int, int]]:
    """Spans of every mobile, landline or 400/800 number in ``text`` (folded), in order."""
    folded = fold(text)
    spans: list[tuple[int, int]] = []
    for regex in (MOBILE_RE, LANDLINE_RE, SERVICE_RE, SAR_RE):
        for m in regex.finditer(folded):
            s, e = m.span(1)
            if not any(s < e2 and s2 < e for s2, e2 in spans):
                spans.append((s, e))
    return sorted(spans)


# A mobile masked for privacy as e-waybills print it (138****5678; OCR may count the stars one off):
# no number to key in, but it marks its line as a party's contact line as surely as a phone does.
MASKED_MOBILE_RE = re.compile(r"(?<![\d*＊])(1[3-9]\d[*＊]{3,5}\d{4})(?![\d*＊])")


def find_contact_numbers(text: str) -> list[tuple[int, int]]:
    """:func:`find_phones` and the masked mobiles (138****5678) of ``text`` (folded), in order: where
    the question is whether a line is a contact line, not what number to call."""
    spans = find_phones(text)
    for m in MASKED_MOBILE_RE.finditer(fold(text)):
        s, e = m.span(1)
        if not any(s < e2 and s2 < e for s2, e2 in spans):
            spans.append((s, e))
    return sorted(spans)


def phone_text(raw: str) -> str:
    """What a phone found in the text is kept as: its digits, or a Hong Kong or Macau number
    normalised with its country code (+852-91234567), which its digits alone would lose."""
    sar = SAR_RE.fullmatch(fold(raw.strip()))
    return check_phone(raw).value if sar is not None else re.sub(r"\D", "", raw)


def check_phone(raw: str) -> Checked:
    sar = SAR_RE.fullmatch(fold(raw.strip()))
    if sar is not None:
        code, head, tail = _SAR_FULL.fullmatch(sar.group(1)).groups()  # type: ignore[union-attr]
        return Checked(f"+{code}-{head}{tail}")
    text = compact(raw).replace("(", "").replace(")", "")
    digits = re.sub(r"\D", "", text)
    if digits.startswith("86") and len(digits) == 13 and digits[2] == "1":
        digits = digits[2:]
    if re.fullmatch(r"1[3-9]\d{9}", digits):
        return Checked(digits)
    if re.fullmatch(r"[48]00\d{7}", digits):
        return Checked(digits)
    m = re.fullmatch(r"(0(?:10|2\d|[3-9]\d{2}))([2-9]\d{6,7})", digits)
    if m:
        return Checked(f"{m.group(1)}-{m.group(2)}")
    if re.fullmatch(r"[2-9]\d{6,7}", digits):
        return Checked(digits, False, "landline without area code")
    if re.fullmatch(r"1\d{10}", digits):
        return Checked(digits, False, "not a valid mainland mobile prefix")
    return Checked(digits or raw.strip(), False, "not a mainland mobile or landline number")


# --- ID card (GB 11643-1999) -------------------------------------------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")


def id_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def check_id_number(raw: str) -> Checked:
    value = compact(raw).upper()
    if re.fullmatch(r"\d{15}", value):
        return Checked(value, False, "legacy 15-digit ID number")
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return Checked(value, False, "ID number must be 17 digits and a check digit")
    if value[0] not in "12345678":
        return Checked(value, False, "unknown region code")
    birth = _parse_ymd(value[6:14])
    if birth is None or birth.year < 1900 or birth > _dt.date.today():
        return Checked(value, False, "birth date in ID number is not a valid date")
    if id_check_digit(value[:17]) != value[17]:
        return Checked(value, False, "ID number checksum mismatch")
    return Checked(value)


def id_birth_date(id_number: str) -> str | None:
    d = _parse_ymd(id_number[6:14]) if len(id_number) == 18 else None
    return d.isoformat() if d else None


def id_sex(id_number: str) -> str | None:
    """Sex encoded by the 17th digit: odd = 男, even = 女."""
    if len(id_number) != 18 or not id_number[16].isdigit():
        return None
    return "男" if int(id_number[16]) % 2 else "女"


# --- dates and times ---------------------------------------------------------------------------
def _parse_ymd(s: str) -> _dt.date | None:
    try:
        return _dt.date(int(s[0:4]), int(s[4:6]), int(s[6:8]))
    except ValueError:
        return None


DATE_RE = re.compile(
    r"(?<!\d)(\d{4})\s*(?:[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*日?|(\d{2})(\d{2})(?!\d))",
)


def check_date(raw: str) -> Checked:
    text = fold(raw).strip()
    if text in ("长期", "長期"):
        return Checked("长期")
    m = DATE_RE.search(text)
    if not m:
        return Checked(text, False, "not a date")
    y = int(m.group(1))
    mo = int(m.group(2) or m.group(4))
    d = int(m.group(3) or m.group(5))
    try:
        return Checked(_dt.date(y, mo, d).isoformat())
    except ValueError:
        return Checked(text, False, "not a valid calendar date")


TIME_RE = re.compile(r"(?<!\d)([01]?\d|2[0-3])\s*[:：时]\s*([0-5]\d)(?:\s*[:：分]\s*([0-5]\d))?")


# HH.MM.SS: a core-banking timestamp's time (2024-03-05-10.11.12.345678); all three parts, so a
# decimal number is not taken for a time.
TIME_DOTS_RE = re.compile(r"(?<![\d.])([01]?\d|2[0-3])\.([0-5]\d)\.([0-5]\d)(?!\d)")


# HH(MM:SS: the first colon read as a bracket, semicolon or comma (16(01:51), which TIME_RE would
# read as 01:51: the time, flagged.
TIME_ODD_RE = re.compile(r"(?<![\d\-/.年月:：])([01]?\d|2[0-3])[(（;；,，·]([0-5]\d)[:：]([0-5]\d)(?![\d:：])")


# HH:MM-SS / HH:MMSS: the second colon read as a dash, a point or a bracket, or lost (10:56-07,
# 10:4211); not a range (12:30-13:30) nor a fraction of a second (10:11:12.345).
TIME_ODD_SECONDS_RE = re.compile(
    r"(?<![\d\-/.年月:：])([01]?\d|2[0-3])[:：]([0-5]\d)(?:[-.·;；,，(（])?([0-5]\d)(?![\d:：.])"
)


def check_time(raw: str) -> Checked:
    odd = TIME_ODD_RE.search(fold(raw)) or TIME_ODD_SECONDS_RE.search(fold(raw))
    if odd:
        h, mi, s = (int(g) for g in odd.groups())
        return Checked(f"{h:02d}:{mi:02d}:{s:02d}", False, "a separator of the time misread")
    m = TIME_RE.search(fold(raw)) or TIME_DOTS_RE.search(fold(raw))
    if not m:
        return Checked(raw.strip(), False, "not a time of day")
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    return Checked(f"{h:02d}:{mi:02d}:{s:02d}")


# --- weights and counts ------------------------------------------------------------------------
# The figure whole or nothing: 5.93F is no weight, not 5.9 (a letter glued on is a misread unit).
WEIGHT_RE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(?![\d.])\s*(kg|KG|Kg|kG|公斤|千克|斤|克|g|G)?(?![a-zA-Z])")
_WEIGHT_FACTORS = {"kg": 1.0, "公斤": 1.0, "千克": 1.0, "斤": 0.5, "克": 0.001, "g": 0.001}


def check_weight(raw: str) -> Checked:
    m = WEIGHT_RE.search(fold(raw).replace(",", "."))
    if not m:
        return Checked(raw.strip(), False, "no weight figure")
    number = float(m.group(1))
    unit = (m.group(2) or "kg").lower()
    kg = round(number * _WEIGHT_FACTORS[unit], 3)
    if not 0 < kg < 100_000:
        return Checked(kg, False, "implausible weight")
    return Checked(kg)


def check_count(raw: str) -> Checked:
    m = re.search(r"\d+", fold(raw))
    if m:
        return Checked(int(m.group()))
    words = parse_chinese_integer(compact(raw).rstrip("件个箱包票"))
    if words is not None:
        return Checked(words)
    return Checked(raw.strip(), False, "no count")


# --- amounts -----------------------------------------------------------------------------------
AMOUNT_RE = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)(?![\d])")


# A thousands comma OCR read as a point (93.625.04): a point followed by three digits and another
# separator before the cents.
_POINT_FOR_COMMA = re.compile(r"(?<=\d)\.(?=\d{3}[.,]\d)")


def check_amount(raw: str) -> Checked:
    text = fold(raw).replace("，", ",")
    commas = _POINT_FOR_COMMA.sub(",", text)
    m = AMOUNT_RE.search(commas)
    if not m:
        return Checked(raw.strip(), False, "no amount figure")
    try:
        value = Decimal(m.group(1).replace(",", ""))
    except InvalidOperation:
        return Checked(raw.strip(), False, "no amount figure")
    if commas != text:
        return Checked(float(value), False, "a thousands separator read as a decimal point")
    return Checked(float(value))


_DIGITS = {
    "零": 0, "〇": 0, "○": 0, "壹": 1, "一": 1, "贰": 2, "貳": 2, "二": 2, "两": 2, "兩": 2,
    "叁": 3, "參": 3, "三": 3, "肆": 4, "四": 4, "伍": 5, "五": 5, "陆": 6, "陸": 6, "六": 6,
    "柒": 7, "七": 7, "捌": 8, "八": 8, "玖": 9, "九": 9,
}  # fmt: skip
_SMALL_UNITS = {"拾": 10, "十": 10, "佰": 100, "百": 100, "仟": 1000, "千": 1000}
_BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}


def parse_chinese_integer(text: str) -> int | None:
    """壹仟贰佰零伍 -> 1205; 拾伍 -> 15; None when ``text`` is not a Chinese numeral."""
    if not text:
        return None
    total = 0  # completed 亿 / 万 groups
    section = 0  # the group under construction
    digit: int | None = None
    for c in text:
        if c in _DIGITS:
            if digit is not None and digit != 0 and _DIGITS[c] != 0:
                return None  # two digits without a unit between them
            digit = _DIGITS[c]
        elif c in _SMALL_UNITS:
            section += (1 if digit is None else digit) * _SMALL_UNITS[c]
            digit = None
        elif c in _BIG_UNITS:
            section += digit or 0
            digit = None
            unit = _BIG_UNITS[c]
            if unit == 100_000_000:
                total = (total + section) * unit
            else:
                total += section * unit
            section = 0
        else:
            return None
    return total + section + (digit or 0)


def parse_capital_amount(raw: str) -> Decimal | None:
    """人民币壹仟贰佰叁拾肆元伍角陆分 -> Decimal('1234.56'); None if it is not such an amount."""
    text = compact(raw)
    for prefix in ("人民币", "大写", "金额", "(大写)", ":", "￥", "¥"):
        text = text.removeprefix(prefix)
    text = text.rstrip("整正")
    if not any(c in _DIGITS for c in text) and text[:1] not in _SMALL_UNITS:
        return None
    yuan_part, sep, rest = text.replace("圆", "元").partition("元")
    if not sep:
        yuan_part, rest = "", text
    yuan = parse_chinese_integer(yuan_part) if yuan_part else 0
    if yuan is None:
        return None
    jiao = fen = 0
    m = re.fullmatch(r"零?(?:(.)角)?零?(?:(.)分)?", rest)
    if m is None:
        return None
    if m.group(1):
        if m.group(1) not in _DIGITS:
            return None
        jiao = _DIGITS[m.group(1)]
    if m.group(2):
        if m.group(2) not in _DIGITS:
            return None
        fen = _DIGITS[m.group(2)]
    if not sep and not m.group(1) and not m.group(2):
        return None
    return Decimal(yuan) + Decimal(jiao) / 10 + Decimal(fen) / 100


LOOKALIKE_CAPITALS = "capital numerals read with look-alike characters"


def check_amount_words(raw: str) -> Checked:
    value = compact(raw)
    if parse_capital_amount(value) is None:
        from luodi.kie.capitals import describe, repair_capitals  # its grammar check is this function

        repaired = repair_capitals(value)
        if repaired is not None:  # a guess from shapes: flagged unless the figure agrees
            return Checked(repaired[0], False, f"{LOOKALIKE_CAPITALS} ({describe(repaired[2])})")
        return Checked(value, False, "not an amount in Chinese capital numerals")
    if value.removeprefix("人民币").startswith(tuple("佰仟万亿元圆角分整")):
        return Checked(value, False, "starts with a unit: the first numerals are cut off")
    return Checked(value)


# --- tracking numbers and carriers -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Carrier:
    code: str  # the canonical carrier_code
    name: str
    keywords: tuple[str, ...]
    patterns: tuple[str, ...]
    # True when the pattern alone identifies the carrier (a letter prefix); pure-digit ranges overlap.
    distinctive: bool
    # Customer-service hotlines printed on labels (public numbers; a number names one carrier).
    hotlines: tuple[str, ...] = ()
    # Product names that name this carrier alone (顺丰标快, 特快专递); shared ones (标准快递,
    # 经济快递) are in SHARED_PRODUCTS.
    products: tuple[str, ...] = ()


CARRIERS: tuple[Carrier, ...] = (
    Carrier(
        "SF", "顺丰速运", ("顺丰", "SF EXPRESS", "SFEXPRESS"), (r"SF\d{12,13}",), True, ("95338",),
        ("顺丰标快", "顺丰特快", "顺丰即日", "顺丰次晨", "顺丰特惠"),
    ),
    Carrier(
        # 15 characters: JD + 13 digits, or JD and letters (JDVA, JDX) + digits; a parcel suffix.
        "JD", "京东物流", ("京东", "JD LOGISTICS"), (r"JD(?:\d{13}|[A-Z]\d{12}|[A-Z]{2}\d{11})(?:-\d+-\d+-?)?",),
        True, ("950616",), ("京准达", "特快送"),
    ),
    Carrier("YTO", "圆通速递", ("圆通", "YTO"), (r"YT\d{13,15}",), True, ("95554",)),
    Carrier("JT", "极兔速递", ("极兔", "J&T", "JT EXPRESS"), (r"JT\d{13}",), True, ("956025",)),
    Carrier("DEPPON", "德邦快递", ("德邦", "DEPPON"), (r"DPK\d{12,13}",), True, ("95353",), ("大件快递360",)),
    Carrier(
        "EMS", "中国邮政EMS", ("EMS", "邮政", "中国邮政"), (r"[A-Z]{2}\d{9}[A-Z]{2}", r"1\d{12}", r"9\d{12}"), False,
        ("11183",), ("邮政快递包裹", "EMS特快专递", "邮政特快专递"),
    ),
    Carrier("ZTO", "中通快递", ("中通", "ZTO"), (r"7\d{11,14}", r"[356]\d{11,14}"), False, ("95311",)),
    Carrier("STO", "申通快递", ("申通", "STO"), (r"(?:77|88|66|55|22|33)\d{10,13}",), False, ("95543",)),
    Carrier("YUNDA", "韵达快递", ("韵达", "YUNDA"), (r"\d{13}", r"\d{15}"), False, ("95546",)),
    Carrier("BEST", "百世快递", ("百世", "汇通", "BEST EXPRESS"), (r"\d{12}",), False, ("95320",)),
)  # fmt: skip
# Product names several carriers print: evidence only together with another sign.
SHARED_PRODUCTS: dict[str, tuple[str, ...]] = {
    "标准快递": ("EMS", "SF", "DEPPON", "JD", "ZTO", "YTO", "STO", "YUNDA", "JT", "BEST"),
    "经济快递": ("EMS", "DEPPON", "SF", "ZTO", "YTO", "STO", "YUNDA", "JT", "BEST"),
    "特快专递": ("EMS", "ZTO", "YTO", "STO", "YUNDA", "JT", "BEST", "SF", "JD", "DEPPON"),
}
CARRIER_BY_NAME = {c.name: c for c in CARRIERS}
TRACKING_RE = re.compile(
    r"(?<![0-9A-Za-z])"
    r"((?:SF|YT|JT|JD[A-Z]{0,2}|DPK)\s?\d[\d ]{9,17}\d|[A-Z]{2}\d{9}[A-Z]{2}|\d[\d ]{10,16}\d)"
    r"(?![0-9A-Za-z])"
)


_JD_PARCEL = re.compile(r"^(JD[A-Z0-9]{13})-\d+-\d+-?$")


def carriers_for_number(number: str) -> list[Carrier]:
    return [c for c in CARRIERS if any(re.fullmatch(p, number) for p in c.patterns)]


def check_tracking_number(raw: str, carrier: str | None = None) -> Checked:
    # JD prints its 15-character number (JD + 13 digits, JDVA + 11 …) with the parcel's place in
    # the shipment after it (JD0012345678901-1-1-): the number is the part before.
    value = _JD_PARCEL.sub(r"\1", compact(raw).upper())
    value = re.sub(r"[\s\-—]", "", value)
    if carrier in CARRIER_BY_NAME:
        spec = CARRIER_BY_NAME[carrier]
        if any(re.fullmatch(p, value) for p in spec.patterns):
            return Checked(value)
        return Checked(value, False, f"does not match the {spec.name} tracking-number format")
    if carriers_for_number(value):
        return Checked(value)
    return Checked(value, False, "does not match any known carrier tracking-number format")


def carrier_keyword(text: str) -> tuple[Carrier, int, int] | None:
    """The carrier named in ``text`` and where (start, end in ``fold(text)``). English keywords
    count only as whole words: ITEMS does not name EMS, STOCK does not name STO. A name printed or
    read in traditional characters (順豐速運, or OCR's 順 in 順丰速运) names its carrier too."""
    upper = to_simplified(fold(text)).upper()
    best: tuple[Carrier, int, int] | None = None
    for c in CARRIERS:
        for k in c.keywords:
            key = k.upper()
            start = upper.find(key)
            while start != -1:
                end = start + len(key)
                if not key.isascii() or not (
                    (start > 0 and upper[start - 1].isascii() and upper[start - 1].isalpha())
                    or (end < len(upper) and upper[end].isascii() and upper[end].isalpha())
                ):
                    # A Chinese name beats an English code on the same line.
                    if best is None or (best[0] is not c and not key.isascii() and upper[best[1]].isascii()):
                        best = (c, start, end)
                    break
                start = upper.find(key, start + 1)
    return best


CARRIER_BY_CODE = {c.code: c for c in CARRIERS}


def carrier_hotline(text: str) -> tuple[Carrier, int, int] | None:
    """A carrier's service hotline in ``text`` (a whole number: 195546 is not 95546)."""
    folded = fold(text)
    for c in CARRIERS:
        for number in c.hotlines:
            for m in re.finditer(rf"(?<!\d){number}(?!\d)", folded):
                return c, m.start(), m.end()
    return None


def carrier_products(text: str) -> tuple[tuple[str, ...], int, int] | None:
    """Carrier codes a product name in ``text`` may stand for, and where it is."""
    folded = to_simplified(fold(text))
    for c in CARRIERS:
        for product in c.products:
            i = folded.find(product)
            if i != -1:
                return (c.code,), i, i + len(product)
    for product, codes in SHARED_PRODUCTS.items():
        i = folded.find(product)
        if i != -1:
            return codes, i, i + len(product)
    return None


def check_carrier_code(raw: str) -> Checked:
    value = raw.strip().upper()
    if value in CARRIER_BY_CODE:
        return Checked(value)
    found = carrier_from_text(raw)
    if found is None:
        return Checked(value, False, "unknown carrier")
    return Checked(found.code)


def carrier_from_text(text: str) -> Carrier | None:
    found = carrier_keyword(text)
    return found[0] if found else None


def check_carrier(raw: str) -> Checked:
    found = carrier_from_text(raw)
    if found is None:
        return Checked(raw.strip(), False, "unknown carrier")
    return Checked(found.name)


# --- names and free text -----------------------------------------------------------------------
def check_name(raw: str) -> Checked:
    value = raw.strip()
    if not value:
        return Checked(value, False, "empty name")
    if re.search(r"\d", value):
        return Checked(value, False, "name contains digits")
    if len(value) > 20:
        return Checked(value, False, "name is unusually long")
    return Checked(value)


def check_sex(raw: str) -> Checked:
    value = compact(raw)
    if value in ("男", "女"):
        return Checked(value)
    return Checked(value, False, "sex must be 男 or 女")


def check_text(raw: str) -> Checked:
    value = raw.strip()
    return Checked(value, bool(value), None if value else "empty value")


def check_address(raw: str) -> Checked:
    """Any text with a word in it: an address of digits and marks alone (131, 2-3) names no place
    (a phone's piece, a number cut off from its line)."""
    value = raw.strip()
    if not value:
        return Checked(value, False, "empty value")
    if not any(c.isalpha() for c in value):
        return Checked(value, False, "no place name in it")
    return Checked(value)


def check_digits(raw: str) -> Checked:
    value = re.sub(r"[\s\-]", "", compact(raw))
    if re.fullmatch(r"[0-9*xX]+", value):
        return Checked(value)
    return Checked(value, False, "expected digits")


def luhn_ok(number: str) -> bool:
    """The Luhn (mod 10) check digit of a card number holds."""
    total = 0
    for i, c in enumerate(reversed(number)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def check_account(raw: str) -> Checked:
    value = re.sub(r"\s", "", compact(raw))
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 6 and re.fullmatch(r"[0-9*xX]+", value):
        if len(digits) < len(value):
            # 622848******1234: OCR does not count the stars reliably (626109**2142), and a masked
            # number cannot be keyed in as a number anyway: kept as printed, for review.
            return Checked(value, False, "masked account number: the hidden digits are not counted reliably")
        if len(value) < 10:
            # Bank cards have 16-19 digits, company accounts 10 or more: a shorter one lost digits
            # (a masked card number read as 622210512).
            return Checked(value, False, "too short for an account or card number")
        if value.startswith("62") and len(value) < 16:
            # A card number (62…) has 16 to 19 digits: one read shorter lost digits, or its stars.
            return Checked(value, False, "card number (62…) too short: digits or a mask lost?")
        if value.startswith("62") and 16 <= len(value) <= 19 and not luhn_ok(value):
            # A UnionPay card number (62…) ends with a Luhn check digit: one misread or lost
            # digit (6231903390106054267 read as 623190390106054267) breaks it.
            return Checked(value, False, "card number fails its check digit (a digit misread or lost?)")
        return Checked(value)
    return Checked(value, False, "not an account or card number")


def check_bank_name(raw: str) -> Checked:
    from luodi.kie.banks import check_bank  # its list of banks imports this module's Checked

    return check_bank(raw)


def check_bank_branch(raw: str) -> Checked:
    """A party's 开户行: a bank and its branch (a head bank alone was cut off, or is the issuer)."""
    from luodi.kie.banks import check_bank

    return check_bank(raw, branch=True)


CHECKERS: dict[str, Callable[[str], Checked]] = {
    "text": check_text,
    "name": check_name,
    "address": check_address,
    "phone": check_phone,
    "id_number": check_id_number,
    "amount": check_amount,
    "amount_words": check_amount_words,
    "date": check_date,
    "time": check_time,
    "weight": check_weight,
    "count": check_count,
    "tracking_number": check_tracking_number,
    "carrier": check_carrier,
    "carrier_code": check_carrier_code,
    "sex": check_sex,
    "digits": check_digits,
    "account": check_account,
    "bank": check_bank_name,
    "branch": check_bank_branch,
}
FIELD_TYPES = frozenset(CHECKERS) | {"address_part"}


def check(field_type: str, raw: str) -> Checked:
    checker = CHECKERS.get(field_type, check_text)
    return checker(raw)
