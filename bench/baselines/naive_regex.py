"""A naive key-information baseline: regular expressions over OCR lines, no layout reasoning.

This is the "what a first script would do" reference the extractor is compared with in the same run
(bench/kie_bench.py). It reads the lines in OCR order and applies one rule per field:

* receiver phone = the first mobile number (``1[3-9]\\d{9}``) on the page, sender phone = the second;
* ``收件人/收货人[:：]`` and ``寄件人/发件人[:：]`` followed by CJK characters give the names;
* the first ``地址[:：]`` value is the receiver address, the second the sender address (one line each);
* tracking number = the first token of a known carrier format, carrier = the first carrier name seen;
* weight, pieces, item and remarks from their usual labels.

It is deliberately simple: no tag-only blocks, no multi-line addresses, no table cells, no OCR-noise
tolerance. Address parts are cut with a province / city / district suffix regex. For bank slips it
takes the value after a label on the same line or the next one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_RECEIVER = re.compile(r"(?:收件人|收货人)\s*[:：]\s*([\u4e00-\u9fff]{2,4})")
_SENDER = re.compile(r"(?:寄件人|发件人)\s*[:：]\s*([\u4e00-\u9fff]{2,4})")
_ADDRESS = re.compile(r"地址\s*[:：]\s*(\S.*)$")
_TRACKING = re.compile(
    r"(?<![A-Za-z0-9])(SF\d{12,13}|YT\d{13}|JD[0-9A-Z]{11,15}|JT\d{13}|E[A-Z]\d{9}CN|\d{12,15})(?![A-Za-z0-9])"
)
_WEIGHT = re.compile(r"(\d+(?:\.\d+)?)\s*(kg|KG|Kg|公斤|千克|克|g|斤)")
_PIECES = re.compile(r"(?:件数|数量)\s*[:：]\s*(\d+)")
_ITEM = re.compile(r"(?:物品|托寄物|内件品名|品名)\s*[:：]\s*([\u4e00-\u9fff]+)")
_REMARKS = re.compile(r"备注\s*[:：]\s*(.+)$")
_CARRIERS = (
    ("顺丰", "顺丰速运"),
    ("中通", "中通快递"),
    ("圆通", "圆通速递"),
    ("韵达", "韵达快递"),
    ("申通", "申通快递"),
    ("京东", "京东物流"),
    ("EMS", "中国邮政EMS"),
    ("极兔", "极兔速递"),
)
_PARTS = re.compile(
    r"^(?P<province>[\u4e00-\u9fff]{2,7}?(?:省|自治区|市))?"
    r"(?P<city>[\u4e00-\u9fff]{2,9}?(?:市|自治州|地区|盟))?"
    r"(?P<district>[\u4e00-\u9fff]{1,8}?(?:区|县|市|旗))?"
    r"(?P<detail>.*)$"
)
_UNITS_KG = {"kg": 1.0, "KG": 1.0, "Kg": 1.0, "公斤": 1.0, "千克": 1.0, "克": 0.001, "g": 0.001, "斤": 0.5}


def extract_waybill(lines: Sequence[str]) -> dict[str, object]:
    """Waybill fields (docs/architecture.md names) from OCR line texts in reading order."""
    out: dict[str, object] = {}
    text = "\n".join(lines)
    mobiles = _MOBILE.findall(text.replace(" ", ""))
    if mobiles:
        out["receiver_phone"] = mobiles[0]
    if len(mobiles) > 1:
        out["sender_phone"] = mobiles[1]
    if m := _RECEIVER.search(text):
        out["receiver_name"] = m.group(1)
    if m := _SENDER.search(text):
        out["sender_name"] = m.group(1)
    addresses = [m.group(1).strip() for line in lines if (m := _ADDRESS.search(line))]
    for role, addr in zip(("receiver", "sender"), addresses, strict=False):
        out[f"{role}_address"] = addr
        parts = _PARTS.match(addr.replace(" ", ""))
        if parts:
            for key, value in parts.groupdict().items():
                if value:
                    out[f"{role}_{key}"] = value
    for line in lines:
        if m := _TRACKING.search(line.replace(" ", "")):
            out["tracking_number"] = m.group(1)
            break
    for key, name in _CARRIERS:
        if key in text:
            out["carrier"] = name
            break
    if m := _WEIGHT.search(text):
        out["weight_kg"] = round(float(m.group(1)) * _UNITS_KG[m.group(2)], 3)
    if m := _PIECES.search(text):
        out["pieces"] = int(m.group(1))
    if m := _ITEM.search(text):
        out["item"] = m.group(1)
    for line in lines:
        if m := _REMARKS.search(line):
            out["remarks"] = m.group(1).strip()
            break
    return out


_DATE = re.compile(r"(\d{4})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})")
_TIME = re.compile(r"(?<!\d)(\d{1,2}:\d{2}:\d{2})(?!\d)")
_AMOUNT = re.compile(r"(\d+(?:,\d{3})*\.\d{2})")
_BANK = re.compile(r"((?:中国)?[\u4e00-\u9fff]{2,6}银行)")
_DIGITS = re.compile(r"(\d{2,20})")
_CJK = re.compile(r"([\u4e00-\u9fff]{2,20})")
# label words -> (field, value pattern); the value is taken after the label on its line, else on the next line
_BANK_LABELS = (
    (("流水号", "凭证号"), "serial_number", _DIGITS),
    (("参考号",), "reference_number", _DIGITS),
    (("终端号", "终端编号"), "terminal_id", _DIGITS),
    (("商户号", "商户编号", "编号"), "merchant_code", _DIGITS),
    (("批次号",), "batch_number", _DIGITS),
    (("金额",), "amount", _AMOUNT),
    (("商户名称", "收款人", "收款户名"), "payee_name", _CJK),
    (("付款人", "付款户名"), "payer_name", _CJK),
    (("卡类别", "卡类型", "卡种"), "card_type", _CJK),
)


def _after_label(lines: Sequence[str], labels: Sequence[str], pattern: re.Pattern[str]) -> str | None:
    for i, line in enumerate(lines):
        for label in labels:
            at = line.find(label)
            if at < 0:
                continue
            rest = re.sub(r"\([^)]*\)?|[:：]", "", line[at + len(label) :])
            if m := pattern.search(rest):
                return m.group(1)
            if i + 1 < len(lines) and (m := pattern.search(lines[i + 1])):
                return m.group(1)
    return None


def extract_bank_receipt(lines: Sequence[str]) -> dict[str, object]:
    """Bank-slip fields: bank name, date and time by pattern anywhere; the rest by label, the value after
    the label on the same line or on the next one."""
    out: dict[str, object] = {}
    text = "\n".join(lines)
    if m := _BANK.search(text):
        out["bank"] = m.group(1)
    if m := _DATE.search(text):
        out["date"] = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    if m := _TIME.search(text):
        out["time"] = m.group(1)
    for labels, name, pattern in _BANK_LABELS:
        value = _after_label(lines, labels, pattern)
        if value is not None:
            out[name] = value.replace(",", "") if name == "amount" else value
    return out


BASELINES = {"waybill": extract_waybill, "bank_receipt": extract_bank_receipt}


def extract(schema: str, lines: Sequence[str]) -> dict[str, object]:
    """The baseline's fields for ``schema`` (empty for a schema it has no rules for)."""
    fn = BASELINES.get(schema)
    return fn(lines) if fn is not None else {}
