"""Mainland China phone numbers in free text: mobiles and landlines, normalised.

- Mobile: ``1[3-9]`` + 9 digits; spaces or dashes may split the digits (``138 1234 5678``);
  an optional ``+86`` / ``86`` / ``0086`` prefix. Normalised to the 11 digits.
- Landline: area code + local number, optional extension. Area codes are ``010``, ``02X`` or
  ``0[3-9]XX`` (so the code length is known from its first digits); the local number has 7–8 digits
  and does not start with 0 or 1; the code may sit in brackets. Normalised to ``021-62538890``
  (``021-62538890-123`` with an extension). With a +86 prefix the code's leading 0 may be missing.
- Hong Kong and Macau: the country code written as one (``+852``, ``00853``, ``(852)``, ``852`` set
  off by a space or dash) and eight digits not starting with 0 or 1. Normalised to ``+852-91234567``.
  Without the code eight digits are a mainland landline missing its area code, not one of these.

A number glued to other digits (part of a longer digit run) is not a phone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from luodi.kie.ner.features import normalize_char

__all__ = ["PhoneMatch", "find_phones", "normalize_phone"]


@dataclass(frozen=True)
class PhoneMatch:
    start: int
    end: int  # exclusive; text[start:end] is the number as written (prefix and separators included)
    value: str  # normalised: digits only, landlines with the area-code dash
    kind: Literal["mobile", "landline", "sar"]


# One optional space / dash (ASCII or typographic) between digit groups; OCR reads a printed dash
# as a tilde or an underscore too (191~4994-1983).
_SEP = r"[ \u3000\-‐‑–—~～_]?"
_PREFIX = r"(?:(?:\+|＋|00)?86" + _SEP + r")"
_MOBILE = r"(?P<mobile>1[3-9]\d(?:" + _SEP + r"\d){8})"
_AREA = r"(?:010|02\d|0[3-9]\d{2})"
_AREA_NO0 = r"(?:10|2\d|[3-9]\d{2})"
_LOCAL = r"(?P<local>[2-9](?:" + _SEP + r"\d){6,7})"
_EXT = r"(?:(?:-|转|ext\.?|x|#)(?P<ext>\d{1,6}))?"
_LANDLINE = (
    r"(?:(?P<area>"
    + _AREA
    + r")|[(（](?P<area_b>"
    + _AREA
    + r")[)）]|(?<=86)"
    + _SEP
    + r"(?P<area_i>"
    + _AREA_NO0
    + r"))"
    + _SEP
    + _LOCAL
    + _EXT
)
_PHONE = re.compile(
    r"(?<![\d])" + _PREFIX + r"?(?:" + _MOBILE + r"|" + _LANDLINE + r")(?![\d])", re.IGNORECASE | re.ASCII
)
_DIGITS = re.compile(r"[^0-9]")
_SAR = re.compile(
    r"(?<![\d+])(?:(?:\+|00)"
    + _SEP
    + r"(?P<code>85[23])|[(（]?(?P<code_b>85[23])[)）]|(?P<code_s>85[23])(?=[ \-]))"
    + _SEP
    + r"(?P<sar>[2-9](?:"
    + _SEP
    + r"\d){7})(?![\d])",
    re.ASCII,
)


def _fold(text: str) -> str:
    return "".join(normalize_char(ch) for ch in text)


def _normalize(m: re.Match[str]) -> tuple[str, Literal["mobile", "landline"]]:
    if m.group("mobile"):
        return _DIGITS.sub("", m.group("mobile")), "mobile"
    area = m.group("area") or m.group("area_b") or ("0" + m.group("area_i"))
    value = f"{area}-{_DIGITS.sub('', m.group('local'))}"
    if m.group("ext"):
        value += f"-{m.group('ext')}"
    return value, "landline"


def _sar_value(m: re.Match[str]) -> str:
    code = m.group("code") or m.group("code_b") or m.group("code_s")
    return f"+{code}-{_DIGITS.sub('', m.group('sar'))}"


def find_phones(text: str) -> list[PhoneMatch]:
    """All phone numbers in ``text``, left to right, non-overlapping."""
    # Full-width digits and brackets fold to ASCII one-for-one, so offsets stay valid.
    folded = _fold(text)
    out = [PhoneMatch(m.start(), m.end(), _sar_value(m), "sar") for m in _SAR.finditer(folded)]
    for m in _PHONE.finditer(folded):
        if not any(m.start() < o.end and o.start < m.end() for o in out):
            value, kind = _normalize(m)
            out.append(PhoneMatch(m.start(), m.end(), value, kind))
    return sorted(out, key=lambda o: o.start)


def normalize_phone(raw: str) -> str | None:
    """The normalised number if ``raw`` is exactly one phone number (surrounding spaces allowed), else None."""
    sar = _SAR.fullmatch(_fold(raw.strip()))
    if sar is not None:
        return _sar_value(sar)
    m = _PHONE.fullmatch(_fold(raw.strip()))
    if m is None:
        return None
    return _normalize(m)[0]
