"""Carrier-like waybill layouts drawn with PIL.

Each layout takes the same :class:`WaybillContent` and prints every field it holds, so the labels
follow from the content alone. Layouts marked ``holdout`` exist to measure the extractor on forms
it was not designed against; keep them out of any tuning loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from PIL import Image

from luodi.synth.waybill_canvas import Canvas, Color, Style, available_families, covers
from luodi.synth.waybill_data import Carrier, Party, Phone, Weight

Fill = Literal["full", "blank", "placeholder"]
FILLS: tuple[str, ...] = ("full", "blank", "placeholder")

# Every field a waybill label may name; a blank or placeholder form labels each of them empty.
WAYBILL_FIELDS: tuple[str, ...] = (
    "carrier",
    "tracking_number",
    *(f"{role}_{k}" for role in ("sender", "receiver") for k in ("name", "phone", "address")),
    "weight_kg",
    "pieces",
    "item",
    "remarks",
    *(f"{role}_{k}" for role in ("sender", "receiver") for k in ("province", "city", "district", "detail")),
)


@dataclass(frozen=True, slots=True)
class WaybillContent:
    carrier: Carrier
    tracking: str
    receiver: Party
    receiver_phone: Phone
    sender: Party
    sender_phone: Phone
    weight: Weight | None
    pieces: int | None
    item: str | None
    remarks: str | None
    printed_at: str
    sort_code: str
    spaced_address: bool  # address parts separated by spaces, as many e-waybills print them
    # "blank": the parties, goods and numbers are empty strings and only the form's own text is drawn;
    # "placeholder": they hold template text (XXX, 收件人姓名, 138****0000). Either way nothing is a value.
    fill: Fill = "full"
    # Printed hints drawn (in the secondary colour) where a blank form's address goes, per role.
    hints: dict[str, str] = field(default_factory=dict)
    product: str = "标准快递"  # the carrier's product name (标准快递, 经济快递, 特快专递, …)
    order_number: str = ""  # the shop's order number: printed on e-waybills, never the tracking number

    def address_text(self, party: Party) -> str:
        return (" " if self.spaced_address else "").join(party.address_parts)

    def address_lines(
        self, cv: Canvas, party: Party, role: str, size: int, width: float, **kw: Any
    ) -> list[tuple[str, Color | None]]:
        """The address wrapped to ``width`` with the colour to draw each line in (None: the value's
        ink); on a blank form, the printed hint in the secondary colour instead."""
        text = self.address_text(party)
        if not text and self.hints.get(role):
            return [(line, cv.style.gray) for line in cv.wrap(self.hints[role], size, width, **kw)]
        return [(line, None) for line in cv.wrap(text, size, width, **kw)]

    @property
    def pieces_text(self) -> str:
        return "" if self.pieces is None else str(self.pieces)

    def fields(self) -> dict[str, Any]:
        """Ground truth in the waybill field names of docs/architecture.md (only what is printed). A blank or
        placeholder form names every field as null (nothing may be read off it) except the carrier,
        whose logo is pre-printed on every form."""
        if self.fill != "full":
            return {**dict.fromkeys(WAYBILL_FIELDS), "carrier": self.carrier.name}
        out: dict[str, Any] = {"carrier": self.carrier.name, "tracking_number": self.tracking}
        for role, party, phone in (
            ("sender", self.sender, self.sender_phone),
            ("receiver", self.receiver, self.receiver_phone),
        ):
            out[f"{role}_name"] = party.name
            out[f"{role}_phone"] = phone.value
            out[f"{role}_address"] = party.address
            for part in ("province", "city", "district", "detail"):
                value = getattr(party, part)
                if value:
                    out[f"{role}_{part}"] = value
        if self.weight is not None:
            out["weight_kg"] = self.weight.kg
        if self.pieces is not None:
            out["pieces"] = self.pieces
        if self.item is not None:
            out["item"] = self.item
        if self.remarks is not None:
            out["remarks"] = self.remarks
        return out


def _pick(rng: np.random.Generator, options: tuple[str, ...] | list[str]) -> str:
    return options[int(rng.integers(0, len(options)))]


_RECEIVER_LABELS = ("收件人", "收货人", "收方")
_SENDER_LABELS = ("寄件人", "发件人", "寄方")
_PHONE_LABELS = ("电话", "手机", "联系电话", "Tel")
_ITEM_LABELS = ("物品", "托寄物", "内件品名", "品名")
_PIECE_LABELS = ("件数", "数量")
_WEIGHT_LABELS = ("重量", "计费重量", "实际重量")
_PRODUCTS = ("标准快递", "特快专递", "电子面单", "经济快递", "次日达", "代收货款")


def _colon(rng: np.random.Generator) -> str:
    return "：" if rng.random() < 0.8 else ":"


# --- shared page parts ------------------------------------------------------------------------
def _header(cv: Canvas, c: WaybillContent, y: int, rng: np.random.Generator, *, compact: bool = False) -> int:
    s = cv.style.size
    W = cv.width
    logo = int(s * (1.2 if compact else rng.uniform(1.4, 1.8)))
    x = 30
    if rng.random() < 0.4:
        w = cv.text_width(c.carrier.name, logo, bold=True) + 24
        cv.rect(x, y, x + w, y + logo + 20, fill=cv.style.ink)
        cv.text(x + 12, y + 6, c.carrier.name, logo, bold=True, fill=cv.style.paper)
        right = x + w
    else:
        right = cv.text(x, y + 6, c.carrier.name, logo, bold=True)[2]
    if not compact and rng.random() < 0.6:
        cv.text(right + 12, y + logo - s * 0.4, c.carrier.latin, max(12, int(s * 0.55)))
    if not compact:
        cv.text_right(W - 30, y + 6, _pick(rng, _PRODUCTS), int(s * 1.1), bold=True)
        if rng.random() < 0.5:
            cv.text_right(W - 30, y + 10 + int(s * 1.3), f"客服电话 {c.carrier.hotline}", int(s * 0.6))
    y += logo + 34
    if not compact and rng.random() < 0.6:
        cv.text_center(W / 2, y, c.sort_code, int(s * 1.7), bold=True)
        y += int(s * 1.7) + 18
        cv.hline(20, W - 20, y)
        y += 14
    bar_h = int(s * (1.8 if compact else rng.uniform(2.4, 3.4)))
    bar_w = W * (0.55 if compact else rng.uniform(0.6, 0.8))
    cv.barcode((W - bar_w) / 2, y, bar_w, bar_h, c.tracking)
    y += bar_h + 8
    number = c.tracking
    if not compact and rng.random() < 0.35:
        number = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    size = int(s * (0.8 if compact else 1.0))
    if rng.random() < 0.5:
        cv.text_center(W / 2, y, number, size, bold=not compact)
    else:
        cv.text_center(W / 2, y, f"运单号{_colon(rng)}{number}", size, bold=not compact)
    return y + size + 18


def _goods_rows(cv: Canvas, c: WaybillContent, y: int, rng: np.random.Generator, x: int = 30) -> int:
    s = cv.style.size
    parts = []
    if c.item is not None:
        parts.append(f"{_pick(rng, _ITEM_LABELS)}{_colon(rng)}{c.item}")
    if c.pieces is not None or c.fill == "blank":
        parts.append(f"{_pick(rng, _PIECE_LABELS)}{_colon(rng)}{c.pieces_text}")
    if c.weight is not None:
        parts.append(f"{_pick(rng, _WEIGHT_LABELS)}{_colon(rng)}{c.weight.printed}")
    if parts:
        if rng.random() < 0.5:
            cv.text(x, y, "   ".join(parts), s)
            y += int(s * 1.5)
        else:
            for part in parts:
                cv.text(x, y, part, s)
                y += int(s * 1.45)
    if c.remarks is not None:
        cv.text(x, y, f"备注{_colon(rng)}{c.remarks}", s)
        y += int(s * 1.5)
    return y


def _footer(cv: Canvas, c: WaybillContent, y: int, rng: np.random.Generator) -> int:
    s = cv.style.size
    small = max(12, int(s * 0.62))
    y += 6
    cv.hline(20, cv.width - 20, y)
    y += 12
    cv.text(30, y, f"打印时间{_colon(rng)}{c.printed_at}", small)
    if rng.random() < 0.6:
        cv.text(cv.width / 2 + 20, y, "签收人/时间：", small)
    y += int(small * 1.6)
    if rng.random() < 0.5:
        cv.text(30, y, "快件送达收件人地址，经收件人或收件人允许的代收人签字，视为送达。", small)
        y += int(small * 1.6)
    if rng.random() < 0.5:
        cv.qr(cv.width - 30 - 5 * s, y, 5 * s, rng)
        y += 5 * s + 10
    return y


def _party_line(party: Party, phone: Phone, rng: np.random.Generator) -> str:
    return f"{party.name}{' ' * int(rng.integers(1, 4))}{phone.printed}"


def _ordered(c: WaybillContent, rng: np.random.Generator, p_sender_first: float) -> list[tuple[str, Party, Phone]]:
    parties = [("receiver", c.receiver, c.receiver_phone), ("sender", c.sender, c.sender_phone)]
    if rng.random() < p_sender_first:
        parties.reverse()
    return parties


# --- (a) labelled rows --------------------------------------------------------------------------
def labelled_rows(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:
    cv = Canvas(800, 1800, style)
    s = style.size
    y = _header(cv, c, 24, rng)
    cv.hline(20, cv.width - 20, y)
    y += 16
    for role, party, phone in _ordered(c, rng, 0.3):
        label = _pick(rng, _RECEIVER_LABELS if role == "receiver" else _SENDER_LABELS)
        col = _colon(rng)
        name_text = f"{label}{col}{party.name}"
        phone_text = f"{_pick(rng, _PHONE_LABELS)}{col}{phone.printed}"
        if rng.random() < 0.65:
            cv.text(30, y, name_text, s, bold=role == "receiver")
            cv.text(max(60 + cv.text_width(name_text, s), cv.width * 0.48), y, phone_text, s)
            y += int(s * 1.5)
        else:
            cv.text(30, y, name_text, s, bold=role == "receiver")
            y += int(s * 1.45)
            cv.text(30, y, phone_text, s)
            y += int(s * 1.45)
        addr_label = "地址" if rng.random() < 0.6 else ("收件地址" if role == "receiver" else "寄件地址")
        head = f"{addr_label}{col}"
        head_w = cv.text_width(head, s)
        cv.text(30, y, head, s)
        for line, color in c.address_lines(cv, party, role, s, cv.width - 60 - head_w):
            cv.text(30 + head_w, y, line, s, fill=color)
            y += int(s * 1.45)
        y += 8
        cv.hline(20, cv.width - 20, y)
        y += 16
    y = _goods_rows(cv, c, y, rng)
    _footer(cv, c, y, rng)
    return cv.finish()


# --- (b) tag-only e-waybill blocks --------------------------------------------------------------
def tag_block(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:
    cv = Canvas(800, 1800, style)
    s = style.size
    y = _header(cv, c, 24, rng)
    tag = int(s * 1.6)
    left, right = 20, cv.width - 20
    cv.hline(left, right, y)
    filled = rng.random() < 0.4
    for role, party, phone in _ordered(c, rng, 0.15):
        big = int(s * (1.15 if role == "receiver" else 0.9))
        top = y
        y += 14
        tx = left + 14
        ch = "收" if role == "receiver" else "寄"
        if filled:
            cv.rect(tx, y, tx + tag, y + tag, fill=style.ink)
            cv.text(tx + (tag - big) / 2, y + (tag - big) / 2 - 2, ch, big, bold=True, fill=style.paper)
        else:
            cv.rect(tx, y, tx + tag, y + tag, width=3)
            cv.text(tx + (tag - big) / 2, y + (tag - big) / 2 - 2, ch, big, bold=True)
        x = tx + tag + 24
        cv.text(x, y + 2, _party_line(party, phone, rng), big, bold=role == "receiver")
        y += max(tag, int(big * 1.5)) + 4
        for line, color in c.address_lines(cv, party, role, big, right - x - 10):
            cv.text(x, y, line, big, bold=role == "receiver" and rng.random() < 0.3, fill=color)
            y += int(big * 1.45)
        y += 10
        cv.vline(left, top, y)
        cv.vline(right, top, y)
        cv.hline(left, right, y)
    y += 16
    y = _goods_rows(cv, c, y, rng)
    _footer(cv, c, y, rng)
    return cv.finish()


# --- (e) label above value ----------------------------------------------------------------------
def label_above(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:
    cv = Canvas(800, 1800, style)
    s = style.size
    small = max(12, int(s * 0.7))
    y = _header(cv, c, 24, rng)
    cv.hline(20, cv.width - 20, y)
    y += 14
    two_columns = rng.random() < 0.5
    parties = _ordered(c, rng, 0.5 if two_columns else 0.2)
    col_w = (cv.width - 60) / 2 - 10 if two_columns else cv.width - 60
    start_y = y
    bottoms = []
    for i, (role, party, phone) in enumerate(parties):
        x = 30 + (i * (col_w + 20) if two_columns else 0)
        if two_columns:
            y = start_y
        words = ("收件人", "收件人电话", "收件地址") if role == "receiver" else ("寄件人", "寄件人电话", "寄件地址")
        if rng.random() < 0.4:
            words = ("姓名", "电话", "地址")
            cv.text(x, y, "收件人信息" if role == "receiver" else "寄件人信息", s, bold=True)
            y += int(s * 1.5)
        cv.text(x, y, words[0], small, fill=style.gray)
        y += int(small * 1.35)
        cv.text(x, y, party.name, s, bold=True)
        y += int(s * 1.45)
        cv.text(x, y, words[1], small, fill=style.gray)
        y += int(small * 1.35)
        cv.text(x, y, phone.printed, s)
        y += int(s * 1.45)
        cv.text(x, y, words[2], small, fill=style.gray)
        y += int(small * 1.35)
        for line, color in c.address_lines(cv, party, role, s, col_w):
            cv.text(x, y, line, s, fill=color)
            y += int(s * 1.4)
        y += 14
        bottoms.append(y)
        if not two_columns:
            cv.hline(20, cv.width - 20, y - 6)
            y += 8
    y = max(bottoms) + 6
    if two_columns:
        cv.vline(cv.width / 2, start_y - 8, y - 10)
        cv.hline(20, cv.width - 20, y - 8)
    y += 8
    y = _goods_rows(cv, c, y, rng)
    _footer(cv, c, y, rng)
    return cv.finish()


# --- (c) boxed table (holdout) ------------------------------------------------------------------
def boxed_table(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:  # noqa: PLR0915 - a layout is its drawing calls, top to bottom
    cv = Canvas(800, 1800, style)
    s = int(style.size * 0.92)
    y = _header(cv, c, 24, rng)
    left, right = 20, cv.width - 20
    pad = 10
    row_h = int(s * 1.7)
    label_w = cv.text_width("收件人电话", s) + 2 * pad if rng.random() < 0.5 else cv.text_width("收件人", s) + 2 * pad

    def cell_text(x: float, top: float, h: float, text: str, bold: bool = False) -> None:
        cv.text(x + pad, top + (h - s) / 2 - 2, text, s, bold=bold)

    cv.hline(left, right, y)
    table_top = y
    for role, party, phone in _ordered(c, rng, 0.4):
        who = "收件人" if role == "receiver" else "寄件人"
        if label_w > cv.text_width("收件人", s) + 2 * pad + 4:
            rows = [(who, party.name), (f"{who}电话", phone.printed)]
        else:
            rows = [(who, party.name), ("电话", phone.printed)]
        for label, value in rows:
            cell_text(left, y, row_h, label)
            cell_text(left + label_w, y, row_h, value, bold=role == "receiver")
            cv.vline(left + label_w, y, y + row_h)
            y += row_h
            cv.hline(left, right, y)
        lines = c.address_lines(cv, party, role, s, right - left - label_w - 2 * pad)
        h = max(row_h, int(len(lines) * s * 1.35 + 2 * pad))
        cell_text(left, y, h, "地址")
        ty = y + (h - len(lines) * s * 1.35) / 2
        for line, color in lines:
            cv.text(left + label_w + pad, ty, line, s, fill=color)
            ty += s * 1.35
        cv.vline(left + label_w, y, y + h)
        y += h
        cv.hline(left, right, y, width=3)
    goods: list[tuple[str, str]] = []
    if c.item is not None:
        goods.append((_pick(rng, _ITEM_LABELS), c.item))
    if c.pieces is not None or c.fill == "blank":
        goods.append(("件数", c.pieces_text))
    if c.weight is not None:
        goods.append(("重量", c.weight.printed))
    half = (right - left) / 2
    for i in range(0, len(goods), 2):
        pair = goods[i : i + 2]
        for j, (label, value) in enumerate(pair):
            x0 = left + j * half
            lw = cv.text_width(label, s) + 2 * pad
            cell_text(x0, y, row_h, label)
            cell_text(x0 + lw, y, row_h, value)
            cv.vline(x0 + lw, y, y + row_h)
            if j == 1:
                cv.vline(x0, y, y + row_h)
        y += row_h
        cv.hline(left, right, y)
    if c.remarks is not None:
        cell_text(left, y, row_h, "备注")
        cv.vline(left + label_w, y, y + row_h)
        cell_text(left + label_w, y, row_h, c.remarks)
        y += row_h
        cv.hline(left, right, y)
    cv.vline(left, table_top, y)
    cv.vline(right, table_top, y)
    _footer(cv, c, y + 10, rng)
    return cv.finish()


# --- (d) two-part stub (holdout) ----------------------------------------------------------------
def two_part_stub(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:
    cv = Canvas(800, 2400, style)
    s = style.size
    y = _header(cv, c, 24, rng)
    # top part: each party as an inline "收 NAME PHONE" line with the address after it
    for role, party, phone in _ordered(c, rng, 0.0):
        size = int(s * (1.1 if role == "receiver" else 0.9))
        tag = ("收" if role == "receiver" else "寄") + ("：" if rng.random() < 0.5 else " ")
        head_w = cv.text_width(tag, size, bold=True)
        cv.text(30, y, tag, size, bold=True)
        cv.text(30 + head_w + 6, y, _party_line(party, phone, rng), size, bold=role == "receiver")
        y += int(size * 1.45)
        for line, color in c.address_lines(cv, party, role, size, cv.width - 60 - head_w - 6):
            cv.text(30 + head_w + 6, y, line, size, fill=color)
            y += int(size * 1.4)
        y += 12
    y = _goods_rows(cv, c, y, rng)
    # tear-off line, then the stub that repeats both parties in a smaller print
    y += 10
    cv.dashed(10, cv.width - 10, y)
    stub_size = int(s * 0.6)
    stub_w = cv.text_width("存根联", stub_size)
    cv.draw.rectangle((cv.width - 160, y - stub_size, cv.width - 150 + stub_w + 10, y + stub_size), fill=style.paper)
    cv.text(cv.width - 150, y - stub_size * 0.6, "存根联", stub_size)
    y += 24
    small = int(s * 0.8)
    cv.text(30, y, c.carrier.name, small, bold=True)
    cv.text_right(cv.width - 30, y, c.tracking, small)
    y += int(small * 1.6)
    for role, party, phone in _ordered(c, rng, 0.5):
        who = "收件人" if role == "receiver" else "寄件人"
        cv.text(30, y, f"{who}{_colon(rng)}{party.name}  {phone.printed}", small)
        y += int(small * 1.4)
        for line, color in c.address_lines(cv, party, role, small, cv.width - 60):
            cv.text(30, y, line, small, fill=color)
            y += int(small * 1.4)
        y += 6
    cv.barcode(30, y + 4, cv.width * 0.45, int(s * 1.4), c.tracking)
    y += int(s * 1.4) + 12
    _footer(cv, c, y, rng)
    return cv.finish()


# --- (f) inline strip (holdout) -----------------------------------------------------------------
def inline_strip(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:
    """A narrow 72 mm thermal-roll slip: each party is one run-together "NAME PHONE ADDRESS" text in
    some order, wrapped anywhere, after a short 收/寄 (or 到/发) prefix."""
    cv = Canvas(576, 2400, style)
    s = max(20, int(style.size * 0.9))
    y = 20
    cv.text_center(cv.width / 2, y, c.carrier.name, int(s * 1.4), bold=True)
    y += int(s * 1.4) + 14
    cv.barcode(40, y, cv.width - 80, int(s * 2.2), c.tracking)
    y += int(s * 2.2) + 6
    cv.text_center(cv.width / 2, y, c.tracking, s)
    y += int(s * 1.5)
    prefixes = {"receiver": ("收：", "收件：", "到："), "sender": ("寄：", "寄件：", "发：")}
    order = int(rng.integers(0, 3))
    for role, party, phone in _ordered(c, rng, 0.25):
        cv.dashed(16, cv.width - 16, y + 4)
        y += 16
        address = c.address_text(party) or c.hints.get(role, "")
        if order == 0:
            run = f"{party.name} {phone.printed} {address}"
        elif order == 1:
            run = f"{address} {party.name} {phone.printed}"
        else:
            run = f"{phone.printed} {party.name} {address}"
        text = _pick(rng, prefixes[role]) + run
        size = s if role == "receiver" else int(s * 0.85)
        for line in cv.wrap(text, size, cv.width - 48):
            cv.text(24, y, line, size, bold=role == "receiver")
            y += int(size * 1.4)
        y += 6
    cv.dashed(16, cv.width - 16, y + 4)
    y += 18
    y = _goods_rows(cv, c, y, rng, x=24)
    cv.text(24, y + 4, f"打印时间 {c.printed_at}", max(12, int(s * 0.6)))
    cv.bottom += 10
    return cv.finish()


# --- (g) pre-printed paper form filled by hand (holdout) ----------------------------------------
_FORM_INK = (165, 35, 40)  # pre-printed forms are red or green
_PEN = (25, 45, 140)  # ballpoint blue


def paper_form(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:  # noqa: PLR0915 - a layout is its drawing calls, top to bottom
    """A landscape multi-part paper waybill: sender and receiver sections side by side, each with
    generic 姓名 / 电话 / 地址 labels on underlines, filled in by "hand" (a kai face in blue)."""
    form_ink = _FORM_INK if rng.random() < 0.6 else (30, 120, 70)
    printed = Style(style.family, style.size, form_ink, style.paper, form_ink, style.hand)
    cv = Canvas(1200, 1000, printed)
    hand_family = style.hand or next(
        (f for f in available_families() if f.name == "ar-pl-ukai" and covers(f, _all_values(c))), style.family
    )
    hand_size = int(style.size * 1.1)
    s = int(style.size * 0.8)

    def write(x: float, y: float, text: str) -> None:
        # handwriting sits loosely on its line
        jitter_x, jitter_y = float(rng.uniform(0, 12)), float(rng.uniform(-6, 3))
        cv.text(x + jitter_x, y + jitter_y, text, hand_size, fill=_PEN, family=hand_family)

    y = 20
    cv.text(30, y, c.carrier.name, int(s * 2), bold=True)
    cv.text(30, y + int(s * 2.4), "国内快递详情单", s)
    cv.barcode(cv.width - 480, y, 440, int(s * 2.4), c.tracking)
    cv.text(cv.width - 480, y + int(s * 2.6), c.tracking, int(s * 1.2), bold=True)
    y += int(s * 4.6)
    left, right, mid = 20, cv.width - 20, cv.width / 2
    top = y
    cv.rect(left, top, right, top + 10)  # top rule drawn as a thin bar
    y += 20
    sections = _ordered(c, rng, 0.7)  # the sender section is usually on the left on paper forms
    bottoms = []
    for i, (role, party, phone) in enumerate(sections):
        x0 = left + 14 + i * (mid - left)
        x1 = x0 + (mid - left) - 28
        yy = y
        cv.text(x0, yy, "收件人信息" if role == "receiver" else "寄件人信息", int(s * 1.1), bold=True)
        yy += int(s * 2.0)
        lw = cv.text_width("姓名", s) + 10
        cv.text(x0, yy + 8, "姓名", s)
        cv.hline(x0 + lw, x0 + (x1 - x0) * 0.45, yy + s + 14, width=1)
        write(x0 + lw + 4, yy, party.name)
        px = x0 + (x1 - x0) * 0.48
        cv.text(px, yy + 8, "电话", s)
        cv.hline(px + lw, x1, yy + s + 14, width=1)
        write(px + lw + 4, yy, phone.printed)
        yy += int(s * 2.6)
        cv.text(x0, yy + 8, "地址", s)
        lines = cv.wrap(c.address_text(party), hand_size, x1 - x0 - lw - 20, family=hand_family)
        if not lines and c.hints.get(role):  # the printed hint sits small under the empty line
            cv.text(x0 + lw + 4, yy + s + 18, c.hints[role], max(12, int(s * 0.7)))
        for k in range(max(2, len(lines))):
            cv.hline(x0 + lw, x1, yy + s + 14, width=1)
            if k < len(lines):
                write(x0 + lw + 4, yy, lines[k])
            yy += int(s * 2.4)
        bottoms.append(yy)
    y = max(bottoms) + 6
    cv.vline(mid, top + 10, y)
    cv.hline(left, right, y)
    goods_y = y + 14
    x = left + 14
    cells: list[tuple[str, str]] = []
    if c.item is not None:
        cells.append(("内件品名", c.item))
    if c.pieces is not None or c.fill == "blank":
        cells.append(("件数", c.pieces_text))
    if c.weight is not None:
        cells.append(("重量", c.weight.printed))
    for label, value in cells:
        cv.text(x, goods_y + 8, label, s)
        lw = cv.text_width(label, s) + 10
        cv.hline(x + lw, x + lw + 150, goods_y + s + 14, width=1)
        write(x + lw + 4, goods_y, value)
        x += lw + 190
    goods_y += int(s * 2.6)
    if c.remarks is not None:
        cv.text(left + 14, goods_y + 8, "备注", s)
        lw = cv.text_width("备注", s) + 10
        cv.hline(left + 14 + lw, right - 20, goods_y + s + 14, width=1)
        write(left + 18 + lw, goods_y, c.remarks)
        goods_y += int(s * 2.6)
    cv.text(left + 14, goods_y + 8, "寄件人签名：", s)
    cv.text(mid + 14, goods_y + 8, "收件人签名：           年    月    日", s)
    goods_y += int(s * 2.4)
    cv.rect(left, top, right, goods_y, width=2)
    cv.bottom = max(cv.bottom, goods_y)
    return cv.finish(margin=20)


def _all_values(c: WaybillContent) -> str:
    return (
        "".join([c.receiver.name, c.receiver.address, c.sender.name, c.sender.address, c.item or "", c.remarks or ""])
        + "0123456789-.kgKG公斤斤"
    )


# --- (h) bilingual sheet (holdout, added last: the extractor was built without it) -----------------
def _plus86(phone: Phone, rng: np.random.Generator) -> str:
    digits = phone.value
    if "-" in digits or rng.random() < 0.5:
        return phone.printed
    return f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}" if rng.random() < 0.5 else f"+86-{digits}"


def bilingual_sheet(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:
    """An export-style sheet: each party in a box with a vertical 收件方 / 寄件方 tag column and
    English + Chinese labels (Consignee 联系人, Mobile 手机号码, Address 详细地址) in a label column,
    mobiles sometimes written with +86."""
    cv = Canvas(840, 2000, style)
    s = int(style.size * 0.9)
    small = max(12, int(s * 0.75))
    y = 22
    cv.text(30, y, c.carrier.name, int(s * 1.6), bold=True)
    cv.text(30, y + int(s * 1.9), c.carrier.latin, small)
    cv.text_right(cv.width - 30, y, "Waybill No. 运单编号", small)
    cv.text_right(cv.width - 30, y + int(small * 1.5), c.tracking, int(s * 1.1), bold=True)
    y += int(s * 3.4)
    cv.barcode(30, y, cv.width * 0.55, int(s * 1.8), c.tracking)
    y += int(s * 1.8) + 20
    left, right = 20, cv.width - 20
    tag_w = int(s * 1.8)
    label_w = cv.text_width("Consignee 联系人", small) + 24
    for role, party, phone in _ordered(c, rng, 0.5):
        top = y
        y += 12
        x_label = left + tag_w + 14
        x_value = x_label + label_w
        if role == "receiver":
            rows = [("Consignee 联系人", party.name), ("Mobile 手机号码", _plus86(phone, rng))]
        else:
            rows = [("Shipper 联系人", party.name), ("Mobile 手机号码", _plus86(phone, rng))]
        for label, value in rows:
            cv.text(x_label, y + (s - small) / 2 + 2, label, small, fill=style.gray)
            cv.text(x_value, y, value, s, bold=role == "receiver" and label.startswith("Consignee"))
            y += int(s * 1.55)
        cv.text(x_label, y + (s - small) / 2 + 2, "Address 详细地址", small, fill=style.gray)
        for line, color in c.address_lines(cv, party, role, s, right - x_value - 12):
            cv.text(x_value, y, line, s, fill=color)
            y += int(s * 1.45)
        y += 10
        cv.rect(left, top, right, y)
        cv.vline(left + tag_w, top, y)
        tag = "收件方" if role == "receiver" else "寄件方"
        ty = top + (y - top - 3 * int(s * 1.25)) / 2
        for ch in tag:  # vertical tag: one character under the other
            cv.text(left + (tag_w - s) / 2, ty, ch, s, bold=True)
            ty += int(s * 1.25)
        y += 14
    parts: list[str] = []
    if c.item is not None:
        parts.append(f"Contents 内件：{c.item}")
    if c.pieces is not None or c.fill == "blank":
        parts.append(f"Pcs 件数：{c.pieces_text}")
    if c.weight is not None:
        parts.append(f"Weight 计费重：{c.weight.printed}")
    for part in parts:
        cv.text(30, y, part, s)
        y += int(s * 1.5)
    if c.remarks is not None:
        cv.text(30, y, f"Remark 附言：{c.remarks}", s)
        y += int(s * 1.5)
    _footer(cv, c, y, rng)
    return cv.finish()


@dataclass(frozen=True, slots=True)
class Layout:
    name: str
    render: Callable[[WaybillContent, Style, np.random.Generator], Image.Image]
    holdout: bool
    description: str
    mask_rate: float = 0.0  # share of pages whose phones are printed masked (138****5678)
    hand: bool = False  # filled in by hand: a handwriting-like face is picked for it
    # held out too, but drawn after the holdout layouts had been looked at: rendered only by its name
    # or the group ``fresh``, never by ``holdout`` or ``all``, so those sets render as before
    fresh: bool = False


LAYOUTS: dict[str, Layout] = {
    lay.name: lay
    for lay in (
        Layout("labelled_rows", labelled_rows, False, "收件人：… 电话：… 地址：… rows"),
        Layout("tag_block", tag_block, False, "boxed 收/寄 tag, NAME PHONE then the address, no labels"),
        Layout("label_above", label_above, False, "small labels above their values, one or two columns"),
        Layout("boxed_table", boxed_table, True, "label cell | value cell grid"),
        Layout("two_part_stub", two_part_stub, True, "parties printed twice: main part and tear-off stub"),
        Layout("inline_strip", inline_strip, True, "narrow thermal slip, each party one run-together text"),
        Layout(
            "paper_form",
            paper_form,
            True,
            "landscape pre-printed form, sections side by side, filled by hand",
            hand=True,
        ),
        Layout(
            "bilingual_sheet",
            bilingual_sheet,
            True,
            "boxed parties, vertical 收件方/寄件方 tags, English+Chinese labels",
        ),
    )
}
DEV_LAYOUTS = tuple(name for name, lay in LAYOUTS.items() if not lay.holdout)
HOLDOUT_LAYOUTS = tuple(name for name, lay in LAYOUTS.items() if lay.holdout and not lay.fresh)
