"""Synthetic bank receipts (电子回单 / 业务回单 / 客户回单 / 凭条) with ``bank_receipt`` schema labels.

    luodi synth bank-receipt -n 40 -o out/receipts --layout dev --degrade photo

Each receipt has a payer and a payee block (户名 / 账号 / 开户行), an amount in figures with the
same amount in capitals (人民币柒万伍仟元整) under or beside it, a date and time, a serial number, a
purpose, distractors (the receipt's own number, the parties' branches, teller and channel) and a
stamp over the text (电子回单专用章, 业务受理专用章, 转讫). Styles and their split
(:mod:`luodi.synth.families`):

- ``icbc_ebank`` (dev): a grid e-receipt, 付款人 / 收款人 rows, the amount words under the figure;
- ``ccb_business`` (dev): label：value pairs in two columns, a ``金额（小写）`` / ``金额（大写）`` pair;
- ``ccb_unit`` (dev): a 单位客户专用回单 grid, 付 / 款 / 人 down a narrow cell beside 全称 / 账号 /
  开户行 rows, 大写金额 | 人民币… | 小写金额 | ¥… on one row;
- ``cmb_pairs`` (dev): the party word as the label (付款人：…, 收款账号：…, 收款银行：…), CNY amounts,
  date and time on one line;
- ``abc_mobile`` (dev): a mobile-banking 转账电子回单, small labels above their values in two columns,
  the capitals under a large figure without a label;
- ``icbc_counter`` (dev): a 进账单 / 电汇凭证 filled in by hand, 出票人 / 收款人 columns, the amount
  written one digit a cell under 亿千百十万千百十元角分;
- ``bocom_table`` (dev): a four-column table of label cells left of value cells (付款人账号 | … |
  收款人账号 | …), 会计日期, 金额大写 in its own cell;
- ``abc_counter`` (holdout): a counter receipt with 全称 / 账号 / 开户行 boxes and the amount written
  digit by digit in 千百十万千百十元角分 cells;
- ``boc_handwritten`` (holdout): a transfer slip filled by hand (handwriting-like face) with the
  teller's machine print across its top;
- ``citic_bilingual`` (fresh, drawn after the bank-receipt revisions of issue #11 and never tuned
  on): a portrait 网上银行电子回单 with bilingual labels (交易金额 Amount), a label and a value cell a
  row, with 币种, a 手续费 (fee) and the print time (打印时间) as distractors;
- ``boc_party_boxes`` (fresh, drawn after citic_bilingual's errors were looked at, tuned on by no
  one): a landscape 国内支付业务回单, the payer's and payee's boxes side by side headed 付款方 /
  收款方 over generic 户名 / 账号 / 开户银行, 小写 and 大写 on one row, the date without leading zeros;
- ``atm_slip`` (fresh, drawn by kie-bank on 2026-12-08 at 01:28 UTC after that session's choices,
  registered before it was scored, tuned on by no one): a self-service terminal's thermal transfer
  slip, one label a line with its value pushed to the right edge, 转出卡号 / 转入账号, a fee and a
  balance beside the amount.

Labels (``fields``) hold only what the receipt prints: ``bank`` is the issuing bank of the header,
never a party's 开户行; dates are ISO (2024-03-05), times HH:MM:SS, accounts digits as printed
(masked ones keep their ``*``), ``amount`` a number and ``amount_in_words`` the capitals as printed;
``payer_bank`` / ``payee_bank`` are the parties' 开户行. The receipt's own number (回单编号, which
the schema has no field for) is in ``meta.extra_fields``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from PIL import Image

from luodi.errors import ConfigError
from luodi.kie.banks import capital_amount
from luodi.synth.documents import DocOptions, DocSample, finish, load_ner_persons, resolve
from luodi.synth.families import pick_font, split_name
from luodi.synth.parties import draw_party, draw_source
from luodi.synth.waybill_canvas import Canvas, Style
from luodi.synth.waybill_data import Party

BANKS: dict[str, tuple[str, ...]] = {
    "icbc_ebank": ("中国工商银行", "招商银行", "交通银行"),
    "ccb_business": ("中国建设银行", "兴业银行", "上海浦东发展银行"),
    "abc_counter": ("中国农业银行", "中国邮政储蓄银行"),
    "boc_handwritten": ("中国银行", "中信银行"),
    "ccb_unit": ("中国建设银行", "宁波银行", "中国民生银行"),
    "cmb_pairs": ("招商银行", "平安银行", "广发银行"),
    "abc_mobile": ("中国农业银行", "中国邮政储蓄银行", "江苏银行"),
    "bocom_table": ("交通银行", "华夏银行", "北京银行"),
    "icbc_counter": ("中国工商银行", "中国光大银行", "兴业银行"),
    "psbc_boxes": ("中国邮政储蓄银行", "上海银行", "浙商银行"),
    "citic_bilingual": ("中信银行", "南京银行", "杭州银行"),
    "boc_party_boxes": ("中国银行", "北京银行", "恒丰银行"),
    "atm_slip": ("中国光大银行", "渤海银行", "广发银行"),
}
# The parties' banks (kept to the first styles' list, so adding a style does not change the others' draws).
_ALL_BANKS = tuple(
    sorted(
        {b for k in ("icbc_ebank", "ccb_business", "abc_counter", "boc_handwritten") for b in BANKS[k]}
        | {"中国民生银行", "平安银行", "华夏银行"}
    )
)
PURPOSES = ("货款", "工资", "报销款", "房租", "服务费", "往来款", "还款", "转账", "材料款", "运费", "押金退还")


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    number: str  # as printed (grouped with spaces, masked with *)
    bank: str  # the 开户行 (a branch)

    @property
    def digits(self) -> str:
        return self.number.replace(" ", "")


@dataclass(frozen=True, slots=True)
class Receipt:
    bank: str
    when: _dt.datetime
    serial: str
    receipt_no: str
    payer: Account
    payee: Account
    amount: Decimal
    purpose: str

    @property
    def figure(self) -> str:
        return f"{self.amount:,.2f}"

    @property
    def words(self) -> str:
        return capital_amount(self.amount)

    def fields(self, *names: str) -> dict[str, Any]:
        """The labels of the named fields, as printed on this receipt."""
        values: dict[str, Any] = {
            "bank": self.bank,
            "date": self.when.date().isoformat(),
            "time": self.when.strftime("%H:%M:%S"),
            "serial_number": self.serial,
            "payer_name": self.payer.name,
            "payer_account": self.payer.digits,
            "payee_name": self.payee.name,
            "payee_account": self.payee.digits,
            "payer_bank": self.payer.bank,
            "payee_bank": self.payee.bank,
            "amount": float(self.amount),
            "amount_in_words": self.words,
            "purpose": self.purpose,
        }
        return {n: values[n] for n in names}


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, size=n))


def luhn_digit(body: str) -> str:
    """The Luhn check digit that completes ``body`` into a valid card number."""
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c) * (1 if i % 2 else 2)
        total += d - 9 if d > 9 else d
    return str(-total % 10)


def _account(party: Party, rng: np.random.Generator, *, company: bool) -> Account:
    n = int(rng.choice([16, 19])) if not company else int(rng.choice([17, 19, 20]))
    number = ("62" if not company else str(rng.integers(1, 9))) + _digits(rng, n - 2 if not company else n - 1)
    if not company:  # a UnionPay card number ends with its Luhn check digit
        number = number[:-1] + luhn_digit(number[:-1])
    if rng.random() < 0.2 and not company:  # masked card numbers, as some e-receipts print them
        number = number[:6] + "*" * (len(number) - 10) + number[-4:]
    elif rng.random() < 0.5:
        number = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    city = (party.city or party.province or "").removesuffix("市")
    branch = _ALL_BANKS[int(rng.integers(0, len(_ALL_BANKS)))]
    place = f"{city}{(party.district or '').removesuffix('区').removesuffix('县')}"
    return Account(party.name, number, f"{branch}{place or '营业部'}支行")


def _receipt(layout: str, split: str, ner: Sequence[Party], rng: np.random.Generator) -> Receipt:
    weights = {"dev": {"ner": 0.5, "company": 0.5}, "holdout": {"generated": 0.4, "organisation": 0.6}}[split]
    payer_src, payee_src = draw_source(split, rng, weights), draw_source(split, rng, weights)
    payer, payee = draw_party(payer_src, rng, ner), draw_party(payee_src, rng, ner)
    when = _dt.datetime(int(rng.integers(2019, 2027)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
    when += _dt.timedelta(seconds=int(rng.integers(8 * 3600, 20 * 3600)))
    if rng.random() < 0.5:
        amount = Decimal(int(rng.integers(1, 200)) * int(rng.choice([100, 500, 1000])))
    else:
        amount = Decimal(int(rng.integers(100, 9_999_999))) / 100
    return Receipt(
        bank=BANKS[layout][int(rng.integers(0, len(BANKS[layout])))],
        when=when,
        serial=_digits(rng, int(rng.integers(12, 21))),
        receipt_no=_digits(rng, int(rng.integers(10, 16))),
        payer=_account(payer, rng, company=payer_src in ("company", "organisation")),
        payee=_account(payee, rng, company=payee_src in ("company", "organisation")),
        amount=amount,
        purpose=PURPOSES[int(rng.integers(0, len(PURPOSES)))],
    )


def _date_text(when: _dt.datetime, rng: np.random.Generator) -> str:
    style = int(rng.integers(0, 4))
    if style == 0:
        return when.strftime("%Y-%m-%d")
    if style == 1:
        return f"{when.year}年{when.month:02d}月{when.day:02d}日"
    if style == 2:
        return when.strftime("%Y%m%d")
    return when.strftime("%Y/%m/%d")


def _grid_row(cv: Canvas, x: Sequence[float], y: int, h: int, cells: Sequence[str], *, size: int) -> int:
    """Cells of one table row between the x stops ``x`` (len(cells) + 1 of them)."""
    for i, text in enumerate(cells):
        cv.rect(x[i], y, x[i + 1], y + h, width=1)
        cv.text(x[i] + 8, y + (h - size) / 2 - 2, text, size)
    return y + h


def _fit(cv: Canvas, text: str, size: int, width: float) -> int:
    while size > 12 and cv.text_width(text, size) > width:
        size -= 1
    return size


def _vertical(cv: Canvas, box: tuple[float, float, float, float], text: str, size: int) -> None:
    x0, y0, x1, y1 = box
    cv.rect(x0, y0, x1, y1, width=1)
    ty = (y0 + y1) / 2 - len(text) * size * 1.2 / 2
    for ch in text:
        cv.text((x0 + x1) / 2 - size / 2, ty, ch, size)
        ty += size * 1.2


def icbc_ebank(r: Receipt, style: Style, rng: np.random.Generator) -> tuple[Image.Image, dict[str, Any]]:
    cv = Canvas(1400, 900, style)
    s = style.size
    cv.text_center(700, 20, f"{r.bank}  网上银行电子回单", int(s * 1.3), bold=True)
    cv.text(40, 30 + int(s * 1.6), f"电子回单号码：{r.receipt_no}", int(s * 0.8))
    y, h = 40 + int(s * 3.0), int(s * 1.9)
    x = (30, 100, 230, 690, 760, 890, 1370)
    _vertical(cv, (x[0], y, x[1], y + 3 * h), "付款人", s)
    _vertical(cv, (x[3], y, x[4], y + 3 * h), "收款人", s)
    for k, (label, a, b) in enumerate(
        (
            ("户名", r.payer.name, r.payee.name),
            ("账号", r.payer.number, r.payee.number),
            ("开户银行", r.payer.bank, r.payee.bank),
        )
    ):
        top = y + k * h
        _grid_row(cv, (x[1], x[2], x[3]), top, h, (label, ""), size=s)
        _grid_row(cv, (x[4], x[5], x[6]), top, h, (label, ""), size=s)
        cv.text(x[2] + 8, top + (h - s) / 2 - 2, a, _fit(cv, a, s, x[3] - x[2] - 14))
        cv.text(x[5] + 8, top + (h - s) / 2 - 2, b, _fit(cv, b, s, x[6] - x[5] - 14))
    y += 3 * h
    cv.rect(x[0], y, x[2], y + 2 * h, width=1)
    cv.rect(x[2], y, x[6], y + 2 * h, width=1)
    cv.text(x[0] + 8, y + h / 2, "金额", s)
    cv.text(x[2] + 8, y + 6, f"¥{r.figure}" if rng.random() < 0.7 else f"{r.figure}元", s, bold=True)
    cv.text(x[2] + 8, y + h + 6, r.words, s)
    y += 2 * h
    when = f"{_date_text(r.when, rng)} {r.when:%H:%M:%S}"
    for a, b, c, d in (
        ("币种", "人民币", "交易渠道", "网上银行"),
        ("用途", r.purpose, "交易流水号", r.serial),
        ("交易时间", when, "", ""),
    ):
        y = _grid_row(cv, (x[0], x[2], x[3], x[5], x[6]), y, h, (a, b, c, d), size=s)
    printed = r.when + _dt.timedelta(days=int(rng.integers(0, 30)))
    cv.text(40, y + 12, f"打印时间：{printed:%Y-%m-%d}  本回单可通过网上银行验证真伪", int(s * 0.7))
    cv.bottom = y + 12 + s
    img = cv.finish(margin=20)
    return img, r.fields(*[f for f in _FULL if f != "amount_in_words"], "amount_in_words")


def ccb_business(r: Receipt, style: Style, rng: np.random.Generator) -> tuple[Image.Image, dict[str, Any]]:
    cv = Canvas(1400, 900, style)
    s = style.size
    cv.text_center(
        700, 20, f"{r.bank}  {'单位客户专用回单' if rng.random() < 0.5 else '业务回单'}", int(s * 1.3), bold=True
    )
    y = 30 + int(s * 2.4)
    cv.text(40, y, f"交易日期：{_date_text(r.when, rng)}", s)
    cv.text(700, y, f"回单编号：{r.receipt_no}", s)
    y += int(s * 1.9)
    cv.hline(30, 1370, y)
    y += 14
    for label, a, b in (
        ("名称", r.payer.name, r.payee.name),
        ("账号", r.payer.number, r.payee.number),
        ("开户行", r.payer.bank, r.payee.bank),
    ):
        left, right = f"付款人{label}：{a}", f"收款人{label}：{b}"
        cv.text(40, y, left, _fit(cv, left, s, 640))
        cv.text(720, y, right, _fit(cv, right, s, 640))
        y += int(s * 1.7)
    cv.hline(30, 1370, y)
    y += 14
    cv.text(40, y, f"金额（小写）：¥{r.figure}", s, bold=True)
    y += int(s * 1.6)
    cv.text(40, y, f"金额（大写）：{r.words}", s)
    y += int(s * 1.7)
    cv.text(40, y, f"用途：{r.purpose}", s)
    cv.text(720, y, f"交易流水号：{r.serial}", s)
    y += int(s * 1.7)
    cv.text(40, y, f"交易时间：{r.when:%H:%M:%S}", s)
    cv.text(720, y, f"柜员号：{int(rng.integers(10000, 99999))}", s)
    y += int(s * 1.7)
    cv.hline(30, 1370, y)
    cv.rect(30, 30 + int(s * 2.2), 1370, y, width=2)
    return cv.finish(margin=24), r.fields(*_FULL)


def ccb_unit(r: Receipt, style: Style, rng: np.random.Generator) -> tuple[Image.Image, dict[str, Any]]:
    """单位客户专用回单: 付 / 款 / 人 printed down a narrow cell beside 全称 / 账号 / 开户行 rows, the
    two parties side by side, then 大写金额 | 人民币… | 小写金额 | ¥… on one row."""
    cv = Canvas(1400, 900, style)
    s = style.size
    title = ("单位客户专用回单", "客户回单", "网上银行电子回单", "转账汇款回单")[int(rng.integers(0, 4))]
    cv.text_center(700, 20, f"{r.bank}  {title}", int(s * 1.3), bold=True)
    y = 30 + int(s * 2.4)
    head = ["币别：人民币元", f"日期：{_date_text(r.when, rng)}", f"流水号：{r.serial}"]
    for k, text in enumerate(head):
        cv.text(40 + k * 440, y, text, int(s * 0.85))
    y += int(s * 1.8)
    h = int(s * 1.9)
    x = (30, 80, 200, 690, 740, 860, 1370)
    for x0, x1, word in ((x[0], x[1], "付款人"), (x[3], x[4], "收款人")):
        cv.rect(x0, y, x1, y + 3 * h, width=1)
        ty = y + (3 * h - len(word) * s * 1.5) / 2
        for ch in word:  # one character per row, as printed down the cell
            cv.text((x0 + x1) / 2 - s / 2, ty, ch, s)
            ty += s * 1.5
    labels = ("全称", "账号", "开户行") if rng.random() < 0.6 else ("户名", "账号", "开户银行")
    for k, (label, a, b) in enumerate(
        zip(
            labels,
            (r.payer.name, r.payer.number, r.payer.bank),
            (r.payee.name, r.payee.number, r.payee.bank),
            strict=True,
        )
    ):
        top = y + k * h
        _grid_row(cv, (x[1], x[2], x[3]), top, h, (label, ""), size=s)
        _grid_row(cv, (x[4], x[5], x[6]), top, h, (label, ""), size=s)
        cv.text(x[2] + 8, top + (h - s) / 2 - 2, a, _fit(cv, a, s, x[3] - x[2] - 14))
        cv.text(x[5] + 8, top + (h - s) / 2 - 2, b, _fit(cv, b, s, x[6] - x[5] - 14))
    y += 3 * h
    words = r.words if rng.random() < 0.6 else r.words.removeprefix("人民币")
    big, small = ("大写金额", "小写金额") if rng.random() < 0.5 else ("金额(大写)", "金额(小写)")
    y = _grid_row(cv, (x[0], x[2], x[3], x[5], x[6]), y, h, (big, "", small, f"¥{r.figure}"), size=s)
    cv.text(x[2] + 8, y - h + (h - s) / 2 - 2, words, _fit(cv, words, s, x[3] - x[2] - 14))
    y = _grid_row(
        cv, (x[0], x[2], x[3], x[5], x[6]), y, h, ("用途", r.purpose, "交易时间", f"{r.when:%H:%M:%S}"), size=s
    )
    y = _grid_row(cv, (x[0], x[2], x[3], x[5], x[6]), y, h, ("经办", "", "复核", ""), size=s)
    cv.text(40, y + 12, f"打印日期：{r.when:%Y%m%d}  第1次打印  柜员：{int(rng.integers(1000, 9999))}", int(s * 0.75))
    cv.bottom = y + 12 + s
    fields = r.fields(*_FULL)
    fields["amount_in_words"] = words
    return cv.finish(margin=24), fields


def cmb_pairs(r: Receipt, style: Style, rng: np.random.Generator) -> tuple[Image.Image, dict[str, Any]]:
    """招商银行-like 电子回单: 付款人：… / 收款人：… pairs in two columns (the party word is the label),
    the amount as CNY 75,000.00 beside 人民币柒万伍仟元整, date and time on one line."""
    cv = Canvas(1400, 900, style)
    s = style.size
    kind = ("电子回单", "收款回单", "付款回单", "转账回单")[int(rng.integers(0, 4))]
    cv.text(40, 20, r.bank, int(s * 1.4), bold=True)
    cv.text_center(760, 24, kind, int(s * 1.2), bold=True)
    y = 34 + int(s * 2.4)
    cv.text(40, y, f"交易日期：{_date_text(r.when, rng)} {r.when:%H:%M:%S}", s)
    cv.text(720, y, f"业务参考号：{r.receipt_no}", s)
    y += int(s * 1.9)
    cv.hline(30, 1370, y, width=1)
    y += 12
    bank_label = ("开户行", "开户银行", "银行")[int(rng.integers(0, 3))]
    acct_label = ("账号", "账户", "卡号")[int(rng.integers(0, 3))] if rng.random() < 0.5 else "账号"
    rows = (
        (("付款人", r.payer.name), ("收款人", r.payee.name)),
        ((f"付款{acct_label}", r.payer.number), (f"收款{acct_label}", r.payee.number)),
        ((f"付款{bank_label}", r.payer.bank), (f"收款{bank_label}", r.payee.bank)),
    )
    for left, right in rows:
        for x0, (label, value) in ((40, left), (720, right)):
            text = f"{label}：{value}"
            cv.text(x0, y, text, _fit(cv, text, s, 640))
        y += int(s * 1.7)
    cv.hline(30, 1370, y, width=1)
    y += 12
    cur = ("CNY", "RMB", "¥")[int(rng.integers(0, 3))]
    cv.text(40, y, f"交易金额(小写)：{cur}{' ' if cur != '¥' else ''}{r.figure}", s, bold=True)
    y += int(s * 1.7)
    cv.text(40, y, f"交易金额(大写)：{r.words}", s)
    y += int(s * 1.7)
    cv.text(40, y, f"摘要：{r.purpose}", s)
    cv.text(720, y, f"交易流水号：{r.serial}", s)
    y += int(s * 1.7)
    cv.text(40, y, f"经办：{'网上银行' if rng.random() < 0.5 else '企业银行'}", s)
    cv.text(720, y, f"打印次数：{int(rng.integers(1, 4))}", s)
    y += int(s * 1.7)
    cv.rect(30, 30 + int(s * 2.2), 1370, y, width=2)
    return cv.finish(margin=24), r.fields(*_FULL)


def abc_mobile(r: Receipt, style: Style, rng: np.random.Generator) -> tuple[Image.Image, dict[str, Any]]:
    """A mobile / online banking 转账电子回单: each small grey label above its value, in two columns
    (付款方 left, 收款方 right), the amount in figures large with the capitals under it unlabelled."""
    cv = Canvas(1200, 1100, style)
    s = style.size
    small = int(s * 0.8)
    cv.text_center(600, 20, f"{r.bank}", int(s * 1.3), bold=True)
    cv.text_center(
        600, 24 + int(s * 1.7), ("转账电子回单", "网上银行电子回单", "手机银行转账回单")[int(rng.integers(0, 3))], s
    )
    y = 40 + int(s * 3.6)
    cv.text(60, y, "转账金额" if rng.random() < 0.5 else "交易金额", small, fill=style.gray)
    y += int(small * 1.5)
    cv.text(60, y, f"¥{r.figure}", int(s * 1.6), bold=True)
    y += int(s * 2.2)
    cv.text(60, y, r.words, s)
    y += int(s * 2.2)
    cv.hline(40, 1160, y, width=1)
    y += 16
    party = ("户名", "账号", "银行") if rng.random() < 0.5 else ("名称", "账号", "开户行")
    for k in range(3):
        for x0, side, acct in ((60, "付款", r.payer), (620, "收款", r.payee)):
            value = (acct.name, acct.number, acct.bank)[k]
            cv.text(x0, y, f"{side}{party[k]}", small, fill=style.gray)
            cv.text(x0, y + int(small * 1.5), value, _fit(cv, value, s, 520))
        y += int(small * 1.5) + int(s * 1.9)
    cv.hline(40, 1160, y, width=1)
    y += 16
    when = f"{_date_text(r.when, rng)} {r.when:%H:%M:%S}"
    for (la, va), (lb, vb) in (
        (("交易时间", when), ("交易流水号", r.serial)),
        (("附言", r.purpose), ("交易渠道", "手机银行")),
    ):
        cv.text(60, y, la, small, fill=style.gray)
        cv.text(60, y + int(small * 1.5), va, s)
        cv.text(620, y, lb, small, fill=style.gray)
        cv.text(620, y + int(small * 1.5), vb, s)
        y += int(small * 1.5) + int(s * 1.9)
    cv.text(60, y, "温馨提示：本回单不作为收款方发货依据，请勿重复记账", int(s * 0.7), fill=style.gray)
    cv.bottom = y + s
    return cv.finish(margin=24), r.fields(*_FULL)


def bocom_table(r: Receipt, style: Style, rng: np.random.Generator) -> tuple[Image.Image, dict[str, Any]]:
    """交通银行-like 电子回单凭证: a four-column table, each label in its own cell left of its value
    (付款人账号 | … | 收款人账号 | …), accounts first, the amount words in their own cell."""
    cv = Canvas(1500, 900, style)
    s = style.size
    cv.text_center(
        750, 20, f"{r.bank}  {'电子回单凭证' if rng.random() < 0.5 else '业务回单'}", int(s * 1.3), bold=True
    )
    y = 30 + int(s * 2.4)
    cv.text(40, y, f"回单编号：{r.receipt_no}", int(s * 0.85))
    cv.text(760, y, f"会计日期：{_date_text(r.when, rng)}", int(s * 0.85))
    y += int(s * 1.8)
    h = int(s * 2.0)
    x = (30, 210, 740, 920, 1470)
    name, bank = ("户名", "开户行") if rng.random() < 0.5 else ("名称", "开户银行")
    rows = [
        ("付款人账号", r.payer.number, "收款人账号", r.payee.number),
        (f"付款人{name}", r.payer.name, f"收款人{name}", r.payee.name),
        (f"付款人{bank}", r.payer.bank, f"收款人{bank}", r.payee.bank),
        ("交易金额", f"CNY {r.figure}" if rng.random() < 0.5 else r.figure, "金额大写", ""),
        ("交易流水号", r.serial, "交易时间", f"{r.when:%H:%M:%S}"),
        ("附言" if rng.random() < 0.5 else "用途", r.purpose, "渠道", "网上银行"),
    ]
    for a, b, c, d in rows:
        sizes = [_fit(cv, t, s, x[i + 1] - x[i] - 14) for i, t in enumerate((a, b, c, d))]
        for i, t in enumerate((a, b, c, d)):
            cv.rect(x[i], y, x[i + 1], y + h, width=1)
            cv.text(x[i] + 8, y + (h - sizes[i]) / 2 - 2, t, sizes[i])
        if c == "金额大写":
            cv.text(x[3] + 8, y + (h - s) / 2 - 2, r.words, _fit(cv, r.words, s, x[4] - x[3] - 14))
        y += h
    cv.text(40, y + 12, "本回单仅证明交易已受理，不作为收款方发货依据", int(s * 0.7))
    cv.bottom = y + 12 + s
    return cv.finish(margin=24), r.fields(*_FULL)


_UNITS = "亿千百十万千百十元角分"


# long: a layout is its drawing calls, top to bottom
def icbc_counter(r: Receipt, style: Style, rng: np.random.Generator) -> tuple[Image.Image, dict[str, Any]]:
    """A counter slip (进账单 / 电汇凭证) filled in by hand: 出票人 and 收款人 columns side by side
    (全称 / 账号 / 开户银行), the amount in capitals beside a grid of 亿千百十万千百十元角分 cells with one
    digit written in each, the bank's transaction line printed over the form afterwards."""
    cv = Canvas(1500, 1000, style)
    s = style.size
    hand = style.hand or style.family
    title = ("进账单（回单）", "进账单（收账通知）", "电汇凭证（回单）", "业务委托书（回单）")[int(rng.integers(0, 4))]
    payer_word = "汇款人" if title.startswith("电汇") else ("出票人" if title.startswith("进账") else "付款人")
    cv.text_center(750, 20, f"{r.bank}  {title}", int(s * 1.3), bold=True)
    y = 30 + int(s * 2.4)
    cv.text(980, y, "年", s)
    cv.text(1080, y, "月", s)
    cv.text(1160, y, "日", s)
    cv.hand(900, y - 2, str(r.when.year), s, family=hand, rng=rng)
    cv.hand(1035, y - 2, f"{r.when.month:02d}", s, family=hand, rng=rng)
    cv.hand(1115, y - 2, f"{r.when.day:02d}", s, family=hand, rng=rng)
    y += int(s * 1.8)
    h = int(s * 2.0)
    x = (30, 80, 210, 740, 790, 920, 1470)
    for x0, x1, word in ((x[0], x[1], payer_word), (x[3], x[4], "收款人")):
        _vertical(cv, (x0, y, x1, y + 3 * h), word, s)
    for k, (label, a, b) in enumerate(
        zip(
            ("全称", "账号", "开户银行"),
            (r.payer.name, r.payer.number, r.payer.bank),
            (r.payee.name, r.payee.number, r.payee.bank),
            strict=True,
        )
    ):
        top = y + k * h
        _grid_row(cv, (x[1], x[2], x[3]), top, h, (label, ""), size=s)
        _grid_row(cv, (x[4], x[5], x[6]), top, h, (label, ""), size=s)
        cv.hand(x[2] + 8, top + (h - s) / 2 - 2, a, _fit(cv, a, s, x[3] - x[2] - 30), family=hand, rng=rng)
        cv.hand(x[5] + 8, top + (h - s) / 2 - 2, b, _fit(cv, b, s, x[6] - x[5] - 30), family=hand, rng=rng)
    y += 3 * h
    # 金额 | 人民币（大写） words | the digit grid: unit names over one digit a cell.
    cv.rect(x[0], y, x[1] + 40, y + 2 * h, width=1)
    cv.text(x[0] + 8, y + h - s / 2, "金额", s)
    cv.rect(x[1] + 40, y, x[4] + 60, y + 2 * h, width=1)
    cv.text(x[1] + 48, y + 6, "人民币（大写）", int(s * 0.85))
    words = r.words.removeprefix("人民币")
    cv.hand(x[1] + 48, y + h + 2, words, _fit(cv, words, s, x[4] + 60 - x[1] - 80), family=hand, rng=rng)
    gx0, cell = x[4] + 60, (x[6] - x[4] - 60) / len(_UNITS)
    digits = "¥" + str(int((r.amount * 100).to_integral_value()))
    start = len(_UNITS) - len(digits)
    for i, unit in enumerate(_UNITS):
        cx = gx0 + i * cell
        cv.rect(cx, y, cx + cell, y + h, width=1)
        cv.rect(cx, y + h, cx + cell, y + 2 * h, width=1)
        cv.text(cx + cell / 2 - s * 0.4, y + (h - s) / 2, unit, int(s * 0.8))
        if i >= start:
            cv.hand(cx + cell / 2 - s * 0.3, y + h + (h - s) / 2, digits[i - start], s, family=hand, rng=rng)
    y += 2 * h
    y = _grid_row(cv, (x[0], x[2], x[3], x[5], x[6]), y, h, ("票据种类", "转账支票", "票据张数", "1"), size=s)
    y = _grid_row(cv, (x[0], x[2], x[6]), y, h, ("用途", ""), size=s)
    cv.hand(x[2] + 8, y - h + (h - s) / 2 - 2, r.purpose, s, family=hand, rng=rng)
    cv.text(40, y + 12, f"交易流水号：{r.serial}   交易时间：{r.when:%Y-%m-%d %H:%M:%S}", int(s * 0.8))
    cv.text(40, y + 14 + s, "复核          记账          此联是开户银行交给收款人的回单", int(s * 0.75))
    cv.bottom = y + 16 + 2 * s
    fields = r.fields(*_FULL)
    fields["amount_in_words"] = words
    return cv.finish(margin=24), fields


_GRID_UNITS = _UNITS


def abc_counter(r: Receipt, style: Style, rng: np.random.Generator) -> tuple[Image.Image, dict[str, Any]]:
    cv = Canvas(1400, 900, style)
    s = style.size
    cv.text_center(700, 18, f"{r.bank}  客户回单", int(s * 1.4), bold=True)
    cv.text_center(700, 24 + int(s * 1.7), f"{r.when.year}年{r.when.month:02d}月{r.when.day:02d}日", s)
    y, h = 30 + int(s * 3.4), int(s * 1.9)
    x = (30, 100, 200, 690, 760, 860, 1370)
    _vertical(cv, (x[0], y, x[1], y + 3 * h), "付款方", s)
    _vertical(cv, (x[3], y, x[4], y + 3 * h), "收款方", s)
    for k, (label, a, b) in enumerate(
        (
            ("全称", r.payer.name, r.payee.name),
            ("账号", r.payer.number, r.payee.number),
            ("开户行", r.payer.bank, r.payee.bank),
        )
    ):
        top = y + k * h
        _grid_row(cv, (x[1], x[2], x[3]), top, h, (label, ""), size=s)
        _grid_row(cv, (x[4], x[5], x[6]), top, h, (label, ""), size=s)
        cv.text(x[2] + 8, top + (h - s) / 2 - 2, a, _fit(cv, a, s, x[3] - x[2] - 14))
        cv.text(x[5] + 8, top + (h - s) / 2 - 2, b, _fit(cv, b, s, x[6] - x[5] - 14))
    y += 3 * h
    words = r.words.removeprefix("人民币")
    cv.rect(x[0], y, x[6], y + 2 * h, width=1)
    cv.text(x[0] + 8, y + 6, "人民币", s)
    cv.text(x[0] + 8, y + h + 2, "（大写）", s)
    cv.text(x[2] + 8, y + h / 2, words, _fit(cv, words, s, 860 - x[2]))
    cell = (x[6] - 880) / len(_GRID_UNITS)
    cents = f"{int(r.amount * 100)}"
    digits = ("¥" + cents).rjust(len(_GRID_UNITS))
    for i, unit in enumerate(_GRID_UNITS):  # the figure written digit by digit under its place name
        cx = 880 + i * cell
        cv.rect(cx, y, cx + cell, y + 2 * h, width=1)
        cv.text(cx + cell / 2 - s / 2, y + 6, unit, s)
        if digits[i] != " ":
            cv.text(cx + cell / 2 - s / 4, y + h + 6, digits[i], s, bold=True)
    y += 2 * h
    y = _grid_row(cv, (x[0], x[2], x[3], x[5], x[6]), y, h, ("用途", r.purpose, "凭证号", r.serial), size=s)
    cv.text(40, y + 10, f"经办：{int(rng.integers(1000, 9999))}    复核：    记账：", int(s * 0.8))
    cv.bottom = y + 10 + s
    fields = r.fields("bank", "date", "serial_number", "payer_name", "payer_account", "payee_name", "payee_account")
    fields.update(r.fields("payer_bank", "payee_bank"))
    fields.update(r.fields("amount", "purpose"), amount_in_words=words)
    return cv.finish(margin=20), fields


def boc_handwritten(r: Receipt, style: Style, rng: np.random.Generator) -> tuple[Image.Image, dict[str, Any]]:
    ink = (150, 30, 40) if rng.random() < 0.5 else (30, 90, 60)
    printed = Style(style.family, style.size, ink, style.paper, ink, style.hand)
    cv = Canvas(1400, 900, printed)
    s = style.size
    hand = style.hand or style.family
    pen = (25, 45, 140) if rng.random() < 0.7 else (30, 30, 30)
    # the teller's machine print, in black across the top
    machine = f"{r.when:%Y%m%d} {r.when:%H:%M:%S} 流水号:{r.serial} CNY {r.figure}"
    cv.text(40, 14, machine, int(s * 0.85), fill=(20, 20, 20))
    cv.text_center(700, 24 + int(s * 1.3), f"{r.bank}  转账汇款凭条", int(s * 1.3), bold=True)
    y, h = 40 + int(s * 3.2), int(s * 2.2)
    rows = (
        ("付款人户名", r.payer.name, "收款人户名", r.payee.name),
        ("付款人账号", r.payer.number, "收款人账号", r.payee.number),
        ("付款人开户行", r.payer.bank, "收款人开户行", r.payee.bank),
    )
    lw = cv.text_width("收款人开户行", s) + 20
    for a, va, b, vb in rows:
        cv.rect(30, y, 700, y + h, width=1)
        cv.rect(700, y, 1370, y + h, width=1)
        cv.text(40, y + (h - s) / 2, a, s)
        cv.text(710, y + (h - s) / 2, b, s)
        cv.hand(40 + lw, y + h / 2, va, _fit(cv, va, s, 640 - lw), family=hand, rng=rng, fill=pen)
        cv.hand(710 + lw, y + h / 2, vb, _fit(cv, vb, s, 640 - lw), family=hand, rng=rng, fill=pen)
        y += h
    for label, value in (("金额（大写）", r.words), ("金额（小写）", f"¥{r.figure}"), ("用途", r.purpose)):
        cv.rect(30, y, 1370, y + h, width=1)
        cv.text(40, y + (h - s) / 2, label, s)
        cv.hand(40 + lw, y + h / 2, value, s, family=hand, rng=rng, fill=pen, slant=float(rng.uniform(-0.5, 0.5)))
        y += h
    cv.text(40, y + 10, "客户签名：              银行签章：", s)
    cv.bottom = y + 10 + s
    return cv.finish(margin=20), r.fields(*_FULL)


def psbc_boxes(r: Receipt, style: Style, rng: np.random.Generator) -> tuple[Image.Image, dict[str, Any]]:
    """A personal-business slip (个人业务凭条) filled in by hand, black or blue ballpoint: each value
    written under its small printed label inside its own box (two columns of boxes), the date
    written with dots (2024.3.5), the amount in figures and in capitals in two boxes of one row,
    the teller's print (流水号 and time) along the bottom edge. Added as a fresh held-out style
    after the holdout styles had been looked at (group ``fresh``; never in ``holdout``)."""
    cv = Canvas(1400, 940, style)
    s = style.size
    hand = style.hand or style.family
    pen = (30, 30, 34) if rng.random() < 0.5 else (30, 50, 150)
    small = int(s * 0.75)
    cv.text_center(700, 16, f"{r.bank}  个人业务凭条", int(s * 1.35), bold=True)
    cv.text(1000, 30 + int(s * 1.6), "日期", small)
    date = f"{r.when.year}.{r.when.month}.{r.when.day}"
    cv.hand(1000 + small * 3, 30 + int(s * 1.6) + small / 2, date, s, family=hand, rng=rng, fill=pen)
    y, h = 50 + int(s * 2.8), int(s * 2.6)
    boxes = (
        (("付款人姓名", r.payer.name), ("收款人姓名", r.payee.name)),
        (("付款账号", r.payer.number), ("收款账号", r.payee.number)),
        (("付款人开户行", r.payer.bank), ("收款人开户行", r.payee.bank)),
    )
    for row in boxes:
        for k, (label, value) in enumerate(row):
            x0 = 30 + k * 675
            cv.rect(x0, y, x0 + 665, y + h, width=1)
            cv.text(x0 + 6, y + 4, label, small)
            size = _fit(cv, value, s, 620)
            cv.hand(
                x0 + 24, y + h * 0.58, value, size, family=hand, rng=rng, fill=pen, slant=float(rng.uniform(-0.4, 0.4))
            )
        y += h + 6
    figure = f"¥{r.figure}"
    for x0, x1, label, value in (
        (30, 470, "金额（小写）", figure),
        (480, 1370, "金额（大写）人民币", r.words.removeprefix("人民币")),
    ):
        cv.rect(x0, y, x1, y + h, width=1)
        cv.text(x0 + 6, y + 4, label, small)
        cv.hand(x0 + 24, y + h * 0.58, value, _fit(cv, value, s, x1 - x0 - 40), family=hand, rng=rng, fill=pen)
    y += h + 6
    cv.rect(30, y, 1370, y + h, width=1)
    cv.text(36, y + 4, "用途", small)
    cv.hand(54, y + h * 0.58, r.purpose, s, family=hand, rng=rng, fill=pen)
    y += h + 12
    cv.text(40, y, f"流水号 {r.serial}  交易时间 {r.when:%H:%M:%S}  柜员 {int(rng.integers(1000, 9999))}", int(s * 0.8))
    cv.text(40, y + s + 6, "客户签名：                    经办：", small)
    cv.bottom = y + 2 * s + 10
    fields = r.fields(*_FULL)
    fields["amount_in_words"] = r.words.removeprefix("人民币")
    return cv.finish(margin=20), fields


_FULL = (
    "bank", "date", "time", "serial_number", "payer_name", "payer_account", "payee_name", "payee_account",
    "payer_bank", "payee_bank", "amount", "amount_in_words", "purpose",
)  # fmt: skip
_BILINGUAL = (
    ("交易流水号", "Serial No.", "serial"),
    ("回单编号", "Receipt No.", "receipt_no"),
    ("付款人户名", "Payer Name", "payer.name"),
    ("付款人账号", "Payer A/C No.", "payer.number"),
    ("付款人开户行", "Payer Bank", "payer.bank"),
    ("收款人户名", "Payee Name", "payee.name"),
    ("收款人账号", "Payee A/C No.", "payee.number"),
    ("收款人开户行", "Payee Bank", "payee.bank"),
    ("币种", "Currency", "currency"),
    ("交易金额", "Amount", "figure"),
    ("金额大写", "Amount in Words", "words"),
    ("手续费", "Fee", "fee"),
    ("交易日期", "Date", "date"),
    ("交易时间", "Time", "time"),
    ("附言", "Remarks", "purpose"),
    ("交易渠道", "Channel", "channel"),
)


def citic_bilingual(r: Receipt, style: Style, rng: np.random.Generator) -> tuple[Image.Image, dict[str, Any]]:
    """A portrait 网上银行电子回单 with bilingual labels (交易金额 Amount), one label cell and one
    value cell a row, the English under the Chinese or beside it; a fee (手续费) and the currency
    (币种) in rows of their own, and the print time (打印时间) in the small print under the table."""
    cv = Canvas(1100, 1500, style)
    s = style.size
    cv.text_center(550, 20, f"{r.bank}网上银行电子回单", int(s * 1.3), bold=True)
    cv.text_center(550, 24 + int(s * 1.6), "ELECTRONIC BANKING RECEIPT", int(s * 0.75))
    two_lines = rng.random() < 0.5
    fee = "0.00" if rng.random() < 0.6 else f"{float(rng.integers(1, 50)):.2f}"
    cur = ("", "CNY ", "¥")[int(rng.integers(0, 3))]
    values = {
        "serial": r.serial,
        "receipt_no": r.receipt_no,
        "payer.name": r.payer.name,
        "payer.number": r.payer.number,
        "payer.bank": r.payer.bank,
        "payee.name": r.payee.name,
        "payee.number": r.payee.number,
        "payee.bank": r.payee.bank,
        "currency": "人民币",
        "figure": f"{cur}{r.figure}",
        "words": r.words,
        "fee": fee,
        "date": _date_text(r.when, rng),
        "time": f"{r.when:%H:%M:%S}",
        "purpose": r.purpose,
        "channel": ("网上银行", "手机银行", "企业网银")[int(rng.integers(0, 3))],
    }
    x0, x1, x2 = 40, 40 + int(s * (8.5 if two_lines else 13.5)), 1060
    h = int(s * (2.6 if two_lines else 1.9))
    y = 34 + int(s * 3.2)
    for zh, en, key in _BILINGUAL:
        cv.rect(x0, y, x1, y + h, width=1)
        cv.rect(x1, y, x2, y + h, width=1)
        if two_lines:
            cv.text(x0 + 10, y + 4, zh, s)
            cv.text(x0 + 10, y + 8 + s, en, int(s * 0.6))
        else:
            cv.text(x0 + 10, y + (h - s) / 2 - 2, f"{zh} {en}", _fit(cv, f"{zh} {en}", s, x1 - x0 - 20))
        value = values[key]
        cv.text(x1 + 12, y + (h - s) / 2 - 2, value, _fit(cv, value, s, x2 - x1 - 24))
        y += h
    printed = r.when + _dt.timedelta(days=int(rng.integers(0, 30)), seconds=int(rng.integers(60, 86_000)))
    small = int(s * 0.7)
    cv.text(x0, y + 10, f"打印时间：{printed:%Y-%m-%d %H:%M:%S}   打印次数：{int(rng.integers(1, 4))}", small)
    cv.text(x0, y + 16 + small, "重要提示：本回单不作为收款方发货依据，请勿重复记账。", small)
    return cv.finish(margin=24), r.fields(*_FULL)


def boc_party_boxes(r: Receipt, style: Style, rng: np.random.Generator) -> tuple[Image.Image, dict[str, Any]]:
    """A landscape 国内支付业务回单: the payer's and the payee's boxes side by side, each headed by
    its party (付款方 / 收款方) over generic 户名 / 账号 / 开户银行 rows; the amount as 小写 and 大写
    on one row; the date written without leading zeros beside 交易序号; 备注 left empty."""
    cv = Canvas(1500, 800, style)
    s = style.size
    title = ("国内支付业务回单", "支付业务回单（付款）", "跨行转账回单")[int(rng.integers(0, 3))]
    cv.text(40, 20, r.bank, int(s * 1.3), bold=True)
    cv.text_center(800, 22, title, int(s * 1.2), bold=True)
    y = 30 + int(s * 2.6)
    cv.text(40, y, f"日期：{r.when.year}年{r.when.month}月{r.when.day}日", s)
    cv.text(520, y, f"交易序号：{r.serial}", s)
    cv.text(1080, y, f"凭证号码：{r.receipt_no}", _fit(cv, f"凭证号码：{r.receipt_no}", s, 380))
    y += int(s * 1.8)
    top = y
    h = int(s * 1.9)
    for x0, head, acct in ((40, "付款方", r.payer), (770, "收款方", r.payee)):
        cv.rect(x0, top, x0 + 690, top + 4 * h, width=2)
        cv.text(x0 + 12, top + (h - s) / 2, head, s, bold=True)
        cv.hline(x0, x0 + 690, top + h, width=1)
        for k, (label, value) in enumerate((("户名", acct.name), ("账号", acct.number), ("开户银行", acct.bank))):
            yy = top + (k + 1) * h
            cv.text(x0 + 12, yy + (h - s) / 2, f"{label}：", s)
            width = 690 - 40 - cv.text_width(f"{label}：", s)
            cv.text(x0 + 24 + cv.text_width(f"{label}：", s), yy + (h - s) / 2, value, _fit(cv, value, s, width))
    y = top + 4 * h + 16
    cv.text(40, y, f"小写：￥{r.figure}", s, bold=True)
    cv.text(520, y, f"大写：{r.words}", _fit(cv, f"大写：{r.words}", s, 940))
    y += int(s * 1.8)
    cv.text(40, y, f"用途：{r.purpose}", s)
    cv.text(520, y, "备注：", s)
    cv.text(1080, y, f"交易时间：{r.when:%H:%M:%S}", s)
    y += int(s * 1.8)
    cv.text(40, y, f"经办柜员：{int(rng.integers(1000, 9999))}   复核：   授权：", int(s * 0.8))
    return cv.finish(margin=24), r.fields(*_FULL)


_STAMPS = (("电子回单专用章", "业务专用"), ("业务受理专用章", "转讫"), ("转讫", ""), ("业务专用章", "受理"))


@dataclass(frozen=True, slots=True)
class ReceiptStyle:
    name: str
    render: Callable[[Receipt, Style, np.random.Generator], tuple[Image.Image, dict[str, Any]]]
    holdout: bool
    hand: bool = False
    # a held-out style added after the holdout styles were looked at: rendered only by its name
    # or the group ``fresh``, never by ``holdout`` (so that set renders as before)
    fresh: bool = False


def atm_slip(r: Receipt, style: Style, rng: np.random.Generator) -> tuple[Image.Image, dict[str, Any]]:
    """A self-service terminal's transfer slip (自助设备交易凭条) off a narrow thermal roll: one
    label a line at the left, its value pushed to the right edge across a wide gap, the card
    numbers 转出卡号 / 转入账号, a fee and a balance as further amounts, dashed rules, the
    capitals on a line of their own under the figure."""
    width = 640
    cv = Canvas(width, 1300, style)
    s = max(18, style.size - 2)
    cv.text_center(width / 2, 16, r.bank, int(s * 1.3), bold=True)
    title = ("自助设备交易凭条", "自助终端转账凭条", "ATM交易凭条")[int(rng.integers(0, 3))]
    cv.text_center(width / 2, 16 + int(s * 1.8), title, s)
    y = 16 + int(s * 3.6)

    def rule() -> None:
        nonlocal y
        cv.text(24, y, "-" * 40, s)
        y += int(s * 1.4)

    def right(text: str, room: float) -> None:
        nonlocal y
        size = _fit(cv, text, s, room)
        cv.text(width - 24 - cv.text_width(text, size), y, text, size)

    def row(label: str, value: str) -> None:
        nonlocal y
        cv.text(24, y, label, s)
        right(value, width - 230)
        y += int(s * 1.55)

    rule()
    row("交易类型", ("跨行转账", "行内转账", "转账汇款")[int(rng.integers(0, 3))])
    row("交易日期", _date_text(r.when, rng))
    row("交易时间", f"{r.when:%H:%M:%S}")
    row("终端号", f"ATM{_digits(rng, 6)}")
    row("交易流水号", r.serial)
    rule()
    for word, acct, party in (("转出", "卡号", r.payer), ("转入", "账号", r.payee)):
        row(f"{word}户名", party.name)
        row(f"{word}{acct}", party.number)
        row(f"{word}行", party.bank)
    rule()
    cur = ("RMB", "CNY", "¥")[int(rng.integers(0, 3))]
    sep = "" if cur == "¥" else " "
    row("交易金额", f"{cur}{sep}{r.figure}")
    right(r.words, width - 60)
    y += int(s * 1.55)
    row("手续费", f"{cur}{sep}{Decimal(int(rng.integers(0, 51))) / 2:.2f}")
    row("可用余额", f"{cur}{sep}{Decimal(int(rng.integers(100, 99_999_999))) / 100:,.2f}")
    row("附言", r.purpose)
    rule()
    cv.text(24, y, "持卡人签名：", s)
    y += int(s * 2.2)
    cv.text_center(width / 2, y, "请妥善保管此凭条", int(s * 0.85))
    return cv.finish(margin=24), r.fields(*_FULL)


STYLES: dict[str, ReceiptStyle] = {
    st.name: st
    for st in (
        ReceiptStyle("icbc_ebank", icbc_ebank, False),
        ReceiptStyle("ccb_business", ccb_business, False),
        ReceiptStyle("ccb_unit", ccb_unit, False),
        ReceiptStyle("cmb_pairs", cmb_pairs, False),
        ReceiptStyle("abc_mobile", abc_mobile, False),
        ReceiptStyle("bocom_table", bocom_table, False),
        ReceiptStyle("icbc_counter", icbc_counter, False, hand=True),
        ReceiptStyle("abc_counter", abc_counter, True),
        ReceiptStyle("boc_handwritten", boc_handwritten, True, hand=True),
        ReceiptStyle("psbc_boxes", psbc_boxes, True, hand=True, fresh=True),
        ReceiptStyle("citic_bilingual", citic_bilingual, True, fresh=True),
        ReceiptStyle("boc_party_boxes", boc_party_boxes, True, fresh=True),
        ReceiptStyle("atm_slip", atm_slip, True, fresh=True),
    )
}


def resolve_styles(names: Sequence[str]) -> tuple[str, ...]:
    """Style names from names and the groups dev / holdout / all / fresh (the fresh held-out
    styles come only by name or by ``fresh``)."""
    wanted = [n.strip() for raw in names for n in raw.split(",") if n.strip()]
    fresh = [n for n, st in STYLES.items() if st.fresh]
    if "fresh" in wanted:
        at = wanted.index("fresh")
        wanted[at : at + 1] = fresh
    registry = {n: st.holdout for n, st in STYLES.items() if not st.fresh or n in wanted}
    return resolve(wanted, registry, "bank receipt")


def render_bank_receipt(index: int, options: DocOptions | None = None) -> DocSample:
    """Receipt number ``index`` of the set ``options`` describes (deterministic)."""
    opts = options or DocOptions()
    if index < 0:
        raise ConfigError("sample index must be non-negative")
    names = resolve_styles(opts.layouts)
    st = STYLES[names[index % len(names)]]
    split = split_name(st.holdout)
    rng = np.random.default_rng([opts.seed, index, 0xBA4C])
    receipt = _receipt(st.name, split, load_ner_persons(opts), rng)
    text = "".join([receipt.payer.name, receipt.payer.bank, receipt.payee.name, receipt.payee.bank, receipt.words])
    family = pick_font(split, rng, text + "付款收人户名账号开户银行金额大小写用途交易流水时间日期回单凭证全称方柜员")
    hand = pick_font(split, rng, text + receipt.figure + "¥", hand=True) if st.hand else None
    tone = int(rng.integers(0, 50))
    style = Style(family, int(rng.integers(20, 27)), (tone, tone, tone), (255, 255, 255), (110, 110, 110), hand)
    page, fields = st.render(receipt, style, rng)
    ring, inner = _STAMPS[int(rng.integers(0, len(_STAMPS)))]
    where = (float(rng.uniform(0.6, 0.85)), float(rng.uniform(0.55, 0.8)))
    image, applied, photo_meta = finish(
        page, opts.degrade, split, rng, stamps=((f"{receipt.bank}{ring}", inner, where),)
    )
    meta: dict[str, Any] = {
        "seed": opts.seed,
        "index": index,
        "split": split,
        "families": {
            "layout": st.name,
            "font": family.name,
            **({"hand_font": hand.name} if hand else {}),
            **{k: photo_meta[k] for k in ("paper", "background") if k in photo_meta},
        },
        # printed values the schema has no field for (only the e-receipts print their own number)
        "extra_fields": {"receipt_number": receipt.receipt_no} if st.name in ("icbc_ebank", "ccb_business") else {},
        "degradations": applied,
    }
    return DocSample(
        index=index,
        image=np.ascontiguousarray(image),
        schema="bank_receipt",
        layout=st.name,
        holdout=st.holdout,
        degrade=opts.degrade,
        fields=fields,
        meta=meta,
        text_layer=tuple(page.info.get("texts", ())),
    )
