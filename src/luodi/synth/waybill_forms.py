"""Waybill layouts modelled on real forms: thermal e-waybills with stubs, shop labels, carbon forms.

- ``ewaybill_3stub`` (dev): the 100 x 180 mm thermal e-waybill (800 x 1440 px at 203 dpi) in three
  parts torn along dashed lines: the main part (logo, product name such as 标准快递, sort code,
  barcode, the receiver large and the sender small), a customer stub and a shipper stub that repeat
  the parties, with an 订单号 (the shop's order number, not the tracking number) and often masked
  phones (138****5678).
- ``shop_label`` (dev): a shop's shipping label: the shop (…旗舰店 or a company) as the sender, an
  order number, a product table and the buyer's note.
- ``ewaybill_compact`` (holdout): a 76 x 130 mm two-part label, sort code in white on black, the
  parties as run-on lines, the product name printed vertically down the right edge.
- ``carbon_form`` (holdout): a multi-part carbon paper form printed in colour, filled by hand in a
  handwriting-like face (per-character jitter, the writing off its lines and across the boxes), its
  tracking number pre-printed in red, checkboxes for the product, a 省 / 市 / 区县 grid over the
  address lines; the photo step gives it carbon ghosting.
- ``ewaybill_sidebyside`` (fresh: held out, added after ``ewaybill_compact`` had been looked at and
  tuned on by no one): a 100 x 150 mm one-sheet e-waybill with a tear-off receipt. The receiver and
  the sender sit side by side in two columns, each under a black 收 / 寄 square, the name and phone on
  one line and the address wrapped in the narrow column; a 集包地 line under the sort code, the
  product name in a box beside the barcode, the goods as one line; the tear-off repeats the tracking
  number and the receiver's name, phone and address on one run-on line.
- ``ewaybill_markercol`` (fresh: held out, added after ``ewaybill_sidebyside`` had been looked at):
  a 100 x 180 mm three-part thermal label. A huge 三段码 sort code across the top, the destination
  hub in a black box, the barcode; the parties without labels beside a narrow marker column (收 and
  寄 in circles, a rule between the column and the text), the name on the left and the phone pushed
  to the right of the same line, a QR code beside the sender; then two stubs (收件联 and 寄件联)
  whose party lines start with a bare 收 / 寄 character, sometimes in a small black square, right
  before the name. Phones are often masked (138****5678).
- ``ewaybill_grid`` (fresh: held out, drawn after ``ewaybill_markercol`` had been looked at): a sheet
  printed from a shipping list, the parties in a grid whose column headers (姓名 / 电话 / 地址 and
  their synonyms) sit above the values and whose row headers (收件人 / 寄方 …) sit left of them, long
  names and addresses wrapped inside their cells; the tracking number under a small 运单号 above it,
  the goods in a second grid (headers above values).
- ``form_caption_below`` (fresh: held out, drawn after ``ewaybill_grid`` had been looked at): a
  boxed form whose small captions sit at the bottom of each box, under the value (收件人 / 联系电话 /
  详细地址 …), the sender's boxes above the receiver's, the tracking number with its caption under it.
- ``shop_packing_slip`` (fresh: held out, drawn on 2026-12-08 00:40 UTC after ``form_caption_below``
  had been looked at and fixed): a shop's packing slip, the buyer's ``label：value`` rows and a goods
  table, then past a tear-off line the carrier stub with the shop's details written over ruled lines,
  their captions under the rules (left-aligned or centred).

The split is recorded in :mod:`luodi.synth.families`; holdout layouts must not be looked at while
working on the extractor.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from luodi.synth.waybill_canvas import Canvas, Style
from luodi.synth.waybill_data import Party, Phone
from luodi.synth.waybill_layouts import Layout, WaybillContent, _colon, _goods_rows, _ordered, _pick

_SERVICE = "快件送达收件人地址，经收件人或收件人（寄件人）允许的代收人签字，视为送达。"


def _sort_block(cv: Canvas, c: WaybillContent, y: int, size: int, *, inverted: bool) -> int:
    if not c.sort_code:
        return y
    if inverted:
        w = cv.text_width(c.sort_code, size, bold=True) + 30
        cv.rect(30, y, 30 + w, y + size + 16, fill=cv.style.ink)
        cv.text(45, y + 4, c.sort_code, size, bold=True, fill=cv.style.paper)
    else:
        cv.text_center(cv.width / 2, y, c.sort_code, size, bold=True)
    return y + size + 22


def _party_block(
    cv: Canvas, c: WaybillContent, role: str, party: Party, phone: Phone, *, y: int, size: int, x: int = 30
) -> int:
    """A tag (收 / 寄) box, then NAME PHONE and the address wrapped beside it."""
    tag = int(size * 1.5)
    ch = "收" if role == "receiver" else "寄"
    cv.rect(x, y + 4, x + tag, y + 4 + tag, width=3)
    cv.text(x + (tag - size) / 2, y + 4 + (tag - size) / 2 - 2, ch, size, bold=True)
    tx = x + tag + 16
    cv.text(tx, y, f"{party.name}  {phone.printed}".strip(), size, bold=role == "receiver")
    y += int(size * 1.45)
    for line, color in c.address_lines(cv, party, role, size, cv.width - tx - 30):
        cv.text(tx, y, line, size, fill=color, bold=role == "receiver")
        y += int(size * 1.4)
    return max(y, int(y + 4)) + 8


def _order_line(cv: Canvas, c: WaybillContent, x: float, y: int, *, size: int, rng: np.random.Generator) -> int:
    if not c.order_number:
        return y
    label = _pick(rng, ("订单号", "订单编号", "商家订单号", "平台订单号"))
    cv.text(x, y, f"{label}{_colon(rng)}{c.order_number}", size)
    return y + int(size * 1.5)


def ewaybill_3stub(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:
    cv = Canvas(800, 1440, style)
    s = style.size
    y = 18
    logo = int(s * 1.5)
    cv.text(30, y, c.carrier.name, logo, bold=True)
    box_w = cv.text_width(c.product, int(s * 1.1), bold=True) + 24
    cv.rect(cv.width - 30 - box_w, y, cv.width - 30, y + int(s * 1.6), width=3)
    cv.text(cv.width - 18 - box_w, y + 4, c.product, int(s * 1.1), bold=True)
    y += logo + 18
    cv.hline(20, cv.width - 20, y)
    y = _sort_block(cv, c, y + 10, int(s * 1.9), inverted=rng.random() < 0.4)
    cv.hline(20, cv.width - 20, y)
    bar_h = int(s * 2.6)
    cv.barcode(120, y + 10, cv.width - 240, bar_h, c.tracking)
    y += bar_h + 14
    cv.text_center(cv.width / 2, y, " ".join(c.tracking[i : i + 4] for i in range(0, len(c.tracking), 4)), s)
    y += int(s * 1.5)
    cv.hline(20, cv.width - 20, y)
    for role, party, phone in _ordered(c, rng, 0.0):
        size = int(s * (1.15 if role == "receiver" else 0.85))
        y = _party_block(cv, c, role, party, phone, y=y + 10, size=size)
        cv.hline(20, cv.width - 20, y)
    small = max(12, int(s * 0.6))
    cv.text(30, y + 8, "签收人：", small)
    cv.text(cv.width / 2, y + 8, "签收时间：    年   月   日", small)
    cv.text(30, y + 10 + int(small * 1.6), _SERVICE, small)
    y += int(small * 4.2)
    # customer stub: tracking, both parties again in small print, goods and the order number
    for stub in ("客户联", "寄件联"):
        cv.dashed(10, cv.width - 10, y)
        y += 14
        cv.text(30, y, c.carrier.name, int(s * 0.8), bold=True)
        cv.text_right(cv.width - 30, y, stub, int(s * 0.7))
        y += int(s * 1.2)
        cv.barcode(30, y, cv.width * 0.5, int(s * 1.3), c.tracking)
        cv.text(cv.width * 0.55, y + int(s * 0.3), c.tracking, int(s * 0.8))
        y += int(s * 1.6)
        sz = int(s * 0.75)
        for role, party, phone in _ordered(c, rng, 0.0):
            who = "收件人" if role == "receiver" else "寄件人"
            cv.text(30, y, f"{who}{_colon(rng)}{party.name} {phone.printed}", sz)
            y += int(sz * 1.4)
            if stub == "客户联" or role == "receiver":
                for line, color in c.address_lines(cv, party, role, sz, cv.width - 60):
                    cv.text(30, y, line, sz, fill=color)
                    y += int(sz * 1.4)
        if stub == "寄件联":
            y = _goods_rows(cv, c, y + 4, rng)
        y = _order_line(cv, c, 30, y + 2, size=sz, rng=rng)
        y += 6
    cv.text(30, y, f"打印时间{_colon(rng)}{c.printed_at}", small)
    return cv.finish(margin=16)


def ewaybill_compact(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:
    cv = Canvas(608, 1400, style)
    s = max(18, int(style.size * 0.85))
    y = 14
    cv.text(24, y, c.carrier.name, int(s * 1.2), bold=True)
    cv.qr(cv.width - 24 - 3 * s, y, 3 * s, rng)
    y = _sort_block(cv, c, y + int(s * 1.6), int(s * 1.7), inverted=True)
    right = cv.width - 24 - s - 10  # a strip down the right edge for the vertical product name
    cv.barcode(24, y, right - 48, int(s * 2.2), c.tracking)
    y += int(s * 2.2) + 6
    cv.text(24, y, c.tracking, s, bold=True)
    y += int(s * 1.5)
    top = y
    for role, party, phone in _ordered(c, rng, 0.0):
        size = s if role == "receiver" else int(s * 0.8)
        head = "收件：" if role == "receiver" else "寄件："
        text = f"{head}{party.name} {phone.printed} {c.address_text(party) or c.hints.get(role, '')}"
        for line in cv.wrap(text, size, right - 40):
            cv.text(24, y, line, size, bold=role == "receiver")
            y += int(size * 1.35)
        y += 8
        cv.hline(16, right, y)
        y += 8
    ty = top
    for ch in c.product:  # the product name written down the right edge
        cv.text(right + 8, ty, ch, s, bold=True)
        ty += int(s * 1.2)
    cv.vline(right, top - 4, max(y, ty))
    y = max(y, ty) + 6
    cv.dashed(8, cv.width - 8, y)
    y += 12
    sz = int(s * 0.75)
    cv.text(24, y, f"{c.carrier.name}  {c.tracking}", sz)
    y += int(sz * 1.5)
    cv.text(24, y, f"收件人：{c.receiver.name} {c.receiver_phone.printed}", sz)
    y += int(sz * 1.5)
    y = _order_line(cv, c, 24, y, size=sz, rng=rng)
    y = _goods_rows(cv, c, y, rng, x=24)
    cv.text(24, y, f"打印 {c.printed_at}", max(12, int(s * 0.6)))
    return cv.finish(margin=14)


def shop_label(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:
    cv = Canvas(800, 1500, style)
    s = style.size
    y = 20
    cv.text(30, y, c.carrier.name, int(s * 1.3), bold=True)
    cv.text_right(cv.width - 30, y + 4, c.product, s, bold=True)
    y += int(s * 1.8)
    cv.barcode(30, y, cv.width * 0.6, int(s * 2.2), c.tracking)
    cv.text(cv.width * 0.6 + 50, y + int(s * 0.6), c.tracking, int(s * 0.9), bold=True)
    y += int(s * 2.2) + 16
    cv.hline(20, cv.width - 20, y)
    y += 12
    for role, party, phone in _ordered(c, rng, 0.0):
        words = ("收货人", "收件人") if role == "receiver" else ("发货人", "寄件人", "店铺")
        head = f"{_pick(rng, words)}{_colon(rng)}"
        cv.text(30, y, f"{head}{party.name}", s, bold=role == "receiver")
        cv.text_right(cv.width - 30, y, phone.printed, s)
        y += int(s * 1.45)
        addr_head = "收货地址：" if role == "receiver" else "发货地址："
        hw = cv.text_width(addr_head, s)
        cv.text(30, y, addr_head, s)
        for line, color in c.address_lines(cv, party, role, s, cv.width - 60 - hw):
            cv.text(30 + hw, y, line, s, fill=color)
            y += int(s * 1.4)
        y += 6
        cv.hline(20, cv.width - 20, y)
        y += 12
    y = _order_line(cv, c, 30, y, size=int(s * 0.85), rng=rng)
    if c.item is not None:  # the product table: the item is the one product of the order
        small = int(s * 0.8)
        cols = (30, 420)
        cv.rect(20, y, cv.width - 20, y + int(small * 3.2), width=1)
        cv.hline(20, cv.width - 20, y + int(small * 1.6), width=1)
        cv.text(cols[0], y + 4, "商品名称", small, bold=True)
        cv.text(cols[1], y + 4, "规格", small, bold=True)
        cv.text(cols[0], y + int(small * 1.6) + 4, c.item, small)
        if c.fill != "blank":  # a blank label has no product, so no specification either
            cv.text(cols[1], y + int(small * 1.6) + 4, _pick(rng, ("默认", "颜色分类：黑色", "标准装", "M码")), small)
        y += int(small * 3.2) + 12
    if c.remarks is not None:
        cv.text(30, y, f"买家留言{_colon(rng)}{c.remarks}", int(s * 0.85))
        y += int(s * 1.4)
    for label, value in (("重量", c.weight.printed if c.weight else None), ("包裹数", c.pieces_text or None)):
        if value is not None or c.fill == "blank":
            cv.text(30, y, f"{label}{_colon(rng)}{value or ''}", int(s * 0.85))
            y += int(s * 1.4)
    cv.text(30, y + 6, f"打印时间{_colon(rng)}{c.printed_at}", max(12, int(s * 0.6)))
    cv.bottom += 12
    return cv.finish()


_CARBON_INKS = ((175, 40, 50), (30, 110, 70), (40, 70, 150))
_CARBON_PEN = (60, 50, 140)  # carbon copies come out blue-violet


def _carbon_section(
    cv: Canvas, c: WaybillContent, role: str, party: Party, phone: Phone, *, span: tuple[int, int], y: int,
    rng: np.random.Generator,
) -> int:  # fmt: skip
    """One party's boxes: 姓名 / 电话 / 单位名称 / 地址 with the 省 市 区县 grid, written by hand."""
    x0, x1 = span
    s = int(cv.style.size * 0.75)
    hand = cv.style.hand or cv.style.family
    hs = int(cv.style.size * 1.05)
    who = "收件人" if role == "receiver" else "寄件人"
    cv.rect(x0, y, x1, y + int(s * 1.8), fill=cv.style.ink)
    cv.text(x0 + 10, y + 4, f"{who}信息", s, bold=True, fill=cv.style.paper)
    y += int(s * 1.8)
    rows = [("姓名", party.name, 0.5), ("电话", phone.printed, 1.0)]
    cx = x0
    for label, value, share in rows:
        right = x0 + (x1 - x0) * share
        cv.rect(cx, y, right, y + int(s * 2.8), width=1)
        cv.text(cx + 6, y + 4, label, s)
        if value:
            cv.hand(
                cx + 6 + float(rng.uniform(0, 20)), y + int(s * 1.5), value, hs, family=hand, rng=rng, fill=_CARBON_PEN
            )
        cx = int(right)
    y += int(s * 2.8)
    cv.rect(x0, y, x1, y + int(s * 1.8), width=1)
    cv.text(x0 + 6, y + 4, "单位名称", s)
    y += int(s * 1.8)
    address = c.address_text(party)
    lines = cv.wrap(address, hs, ((x1 - x0) - 30) * 0.92, family=hand) if address else []
    box_h = max(int(s * 6.2), int(s * 2.2 + len(lines) * hs * 1.45))
    cv.rect(x0, y, x1, y + box_h, width=1)
    cv.text(x0 + 6, y + 4, "地址", s)
    gx = x0 + 6 + cv.text_width("地址", s) + 30
    for mark in ("省", "市", "区县"):  # the printed district grid
        gx += int((x1 - x0) * 0.2)
        cv.text(gx, y + 4, mark, s)
    if lines:
        ly = y + int(s * 1.6) + float(rng.uniform(-6, 10))
        for line in lines:
            slant = float(rng.uniform(-0.8, 0.8))
            cv.hand(
                x0 + 12 + float(rng.uniform(-4, 14)), ly, line, hs, family=hand, rng=rng, fill=_CARBON_PEN, slant=slant
            )
            ly += hs * 1.45
    elif c.hints.get(role):
        cv.text(x0 + 12, y + int(s * 2.2), c.hints[role], s, fill=cv.style.gray)
    return y + box_h


# long: a layout is its drawing calls, top to bottom
def carbon_form(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:
    ink = _CARBON_INKS[int(rng.integers(0, len(_CARBON_INKS)))]
    printed = Style(style.family, style.size, ink, style.paper, ink, style.hand)
    cv = Canvas(1240, 900, printed)
    s = int(style.size * 0.75)
    hand = style.hand or style.family
    y = 18
    cv.text(24, y, c.carrier.name, int(s * 2.2), bold=True)
    cv.text(24, y + int(s * 2.6), "国内快递详情单  第一联 寄件人存根", s)
    if c.tracking:
        cv.barcode(cv.width - 460, y, 420, int(s * 2.6), c.tracking)
        cv.text(cv.width - 460, y + int(s * 2.8), c.tracking, int(s * 1.3), bold=True, fill=(200, 20, 30))
    y += int(s * 5.0)
    mid = cv.width // 2
    bottoms = []
    for i, (role, party, phone) in enumerate(_ordered(c, rng, 0.0) if rng.random() < 0.3 else _sender_first(c)):
        x0, x1 = (20, mid - 6) if i == 0 else (mid + 6, cv.width - 20)
        bottoms.append(_carbon_section(cv, c, role, party, phone, span=(x0, x1), y=y, rng=rng))
    y = max(bottoms) + 10
    cv.rect(20, y, cv.width - 20, y + int(s * 3.0), width=1)
    x = 30
    for product in ("标准快递", "经济快递", "特快专递"):
        cv.rect(x, y + 10, x + s, y + 10 + s, width=1)
        if product == c.product:
            cv.hand(
                x + 2,
                y + 10 + s / 2,
                "✓" if hand.regular.covers("✓") else "X",
                s,
                family=hand,
                rng=rng,
                fill=_CARBON_PEN,
            )
        cv.text(x + s + 8, y + 8, product, s)
        x += cv.text_width(product, s) + s + 40
    goods: list[tuple[str, str]] = [
        ("内件品名", c.item or ""),
        ("件数", c.pieces_text),
        ("重量", c.weight.printed if c.weight else ""),
    ]
    y += int(s * 3.0)
    cv.rect(20, y, cv.width - 20, y + int(s * 3.0), width=1)
    x = 30
    for label, value in goods:
        cv.text(x, y + 8, label, s)
        lw = cv.text_width(label, s) + 14
        if value:
            cv.hand(
                x + lw + float(rng.uniform(0, 16)),
                y + 8 + s * 0.6,
                value,
                int(style.size * 1.05),
                family=hand,
                rng=rng,
                fill=_CARBON_PEN,
            )
        x += lw + 260
    y += int(s * 3.0)
    cv.rect(20, y, cv.width - 20, y + int(s * 2.4), width=1)
    cv.text(30, y + 8, "备注", s)
    if c.remarks:
        cv.hand(
            30 + cv.text_width("备注", s) + 20,
            y + 8 + s * 0.6,
            c.remarks,
            int(style.size),
            family=hand,
            rng=rng,
            fill=_CARBON_PEN,
        )
    y += int(s * 2.4)
    cv.text(30, y + 8, "寄件人签名：", s)
    cv.text(mid + 10, y + 8, "收件人签名：          年    月    日", s)
    cv.bottom = y + int(s * 2.4)
    return cv.finish(margin=14)


def _column_party(
    cv: Canvas, c: WaybillContent, role: str, party: Party, phone: Phone, *, x: float, y: int, width: float
) -> int:
    """A black square with 收 or 寄 in white, then NAME and PHONE on their own lines under it and the
    address wrapped to the column's ``width``."""
    s = cv.style.size
    tag = int(s * 1.3)
    cv.rect(x, y, x + tag, y + tag, fill=cv.style.ink)
    cv.text(
        x + (tag - s) / 2,
        y + (tag - s) / 2 - 2,
        "收" if role == "receiver" else "寄",
        s,
        bold=True,
        fill=cv.style.paper,
    )
    cv.text(x + tag + 10, y + (tag - s) / 2, party.name, s, bold=role == "receiver")
    y += tag + 8
    cv.text(x, y, phone.printed, s)
    y += int(s * 1.4)
    for line, color in c.address_lines(cv, party, role, s, width):
        cv.text(x, y, line, s, fill=color)
        y += int(s * 1.35)
    return y


def ewaybill_sidebyside(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:
    # one recipe, top to bottom, as the label is printed
    cv = Canvas(800, 1200, style)
    s = min(style.size, 26)
    W = cv.width
    y = 16
    cv.text(24, y, c.carrier.name, int(s * 1.4), bold=True)
    cv.text_right(W - 24, y + 6, c.printed_at, max(12, int(s * 0.6)))
    y += int(s * 1.4) + 14
    cv.hline(16, W - 16, y)
    y = _sort_block(cv, c, y + 8, int(s * 2.0), inverted=False)
    hub = _pick(rng, ("集包地", "集包"))
    city = c.receiver.city or c.receiver.province or ""
    if city and c.fill == "full":
        cv.text(24, y - 8, f"{hub}{_colon(rng)}{city.rstrip('市')}转运中心", int(s * 0.8))
        y += int(s * 1.1)
    cv.hline(16, W - 16, y)
    bar_h = int(s * 2.4)
    cv.barcode(24, y + 10, W * 0.66, bar_h, c.tracking)
    box_x = W * 0.66 + 44
    cv.rect(box_x, y + 10, W - 24, y + 10 + bar_h, width=3)
    cv.text_center((box_x + W - 24) / 2, y + 10 + (bar_h - s) / 2, c.product, s, bold=True)
    y += bar_h + 16
    cv.text(24, y, c.tracking, int(s * 1.1), bold=True)
    y += int(s * 1.6)
    cv.hline(16, W - 16, y)
    mid = W * 0.56
    top = y + 10
    left = _column_party(cv, c, "receiver", c.receiver, c.receiver_phone, x=24, y=top, width=mid - 48)
    right = _column_party(cv, c, "sender", c.sender, c.sender_phone, x=mid + 14, y=top, width=W - mid - 38)
    y = max(left, right) + 8
    cv.vline(mid, top - 10, y)
    cv.hline(16, W - 16, y)
    y = _goods_rows(cv, c, y + 8, rng, x=24)
    cv.qr(W - 24 - int(s * 3), y + 4, int(s * 3), rng)
    cv.text(24, y + 8, "签收：", s)
    y += int(s * 3) + 12
    cv.dashed(10, W - 10, y)
    y += 12
    small = int(s * 0.8)
    cv.text(24, y, c.carrier.name, small, bold=True)
    cv.text_right(W - 24, y, "收件人存根", small)
    y += int(small * 1.5)
    cv.text(24, y, f"运单号{_colon(rng)}{c.tracking}", small)
    y += int(small * 1.5)
    run_on = f"{c.receiver.name} {c.receiver_phone.printed} {c.address_text(c.receiver)}".strip()
    for line in cv.wrap(run_on, small, W - 48):
        cv.text(24, y, line, small)
        y += int(small * 1.4)
    return cv.finish(margin=14)


def _marker(cv: Canvas, ch: str, cx: float, cy: float, size: int) -> None:
    """A 收 / 寄 marker: the character in a circle centred on (cx, cy)."""
    r = size * 0.85
    cv.draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=cv.style.ink, width=3)
    cv.text(cx - size / 2, cy - size / 2 - 2, ch, size, bold=True)


def _marked_party(
    cv: Canvas, c: WaybillContent, role: str, party: Party, phone: Phone, *, y: int, size: int, right: float
) -> int:
    """A party beside the marker column: NAME on the left and PHONE at ``right`` on one line, then the
    address wrapped; the circled marker is centred on the block's height."""
    col = int(cv.style.size * 2.0)
    tx = 24 + col + 12
    top = y
    cv.text(tx, y, party.name, size, bold=role == "receiver")
    if phone.printed:
        cv.text(
            right - cv.text_width(phone.printed, size, role == "receiver"),
            y,
            phone.printed,
            size,
            bold=role == "receiver",
        )
    y += int(size * 1.4)
    for line, color in c.address_lines(cv, party, role, size, right - tx):
        cv.text(tx, y, line, size, fill=color, bold=role == "receiver")
        y += int(size * 1.35)
    y = max(y, top + int(size * 2.8)) + 6
    _marker(cv, "收" if role == "receiver" else "寄", 24 + col / 2, (top + y) / 2, int(cv.style.size * 0.95))
    cv.vline(24 + col + 4, top - 4, y)
    return y


def _stub_party(
    cv: Canvas, role: str, party: Party, phone: Phone, *, y: int, size: int, boxed: bool, address: str
) -> int:
    """A stub's party line: a bare 收 / 寄 (or one in a small black square) right before the name."""
    ch = "收" if role == "receiver" else "寄"
    x = 24
    if boxed:
        cv.rect(x, y, x + size + 6, y + size + 6, fill=cv.style.ink)
        cv.text(x + 3, y + 1, ch, size, bold=True, fill=cv.style.paper)
        text = f"{party.name} {phone.printed}".strip()
        x += size + 10
    else:
        text = f"{ch}{party.name} {phone.printed}".rstrip()
    cv.text(x, y, text, size)
    y += int(size * 1.45)
    if address:
        for line in cv.wrap(address, size, cv.width - 48 - (x - 24)):
            cv.text(x, y, line, size)
            y += int(size * 1.35)
    return y


def _grouped(tracking: str, groups: tuple[int, ...]) -> str:
    parts, i = [], 0
    for g in groups:
        if i < len(tracking):
            parts.append(tracking[i : i + g])
            i += g
    if i < len(tracking):
        parts.append(tracking[i:])
    return " ".join(parts)


def _markercol_top(cv: Canvas, c: WaybillContent, s: int, rng: np.random.Generator) -> int:
    """Logo and product, the 三段码, the destination hub in a black box, the barcode and its number."""
    W = cv.width
    y = 14
    cv.text(24, y, c.carrier.name, int(s * 1.3), bold=True)
    pw = cv.text_width(c.product, s, bold=True) + 20
    cv.rect(W - 24 - pw, y, W - 24, y + int(s * 1.5), fill=cv.style.ink)
    cv.text(W - 14 - pw, y + 4, c.product, s, bold=True, fill=cv.style.paper)
    y += int(s * 1.6) + 8
    cv.hline(16, W - 16, y, width=3)
    if c.sort_code:  # the 三段码, as large as the label allows
        code = c.sort_code.replace("-", " ") if rng.random() < 0.5 else c.sort_code
        cv.text_center(W / 2, y + 8, code, int(s * 2.6), bold=True)
        y += int(s * 2.6) + 22
    city = (c.receiver.city or c.receiver.province or "").rstrip("市")
    if city and c.fill == "full":
        hub = f"{city}{_pick(rng, ('中转', '分拨中心', '转运'))}"
        hw = cv.text_width(hub, int(s * 0.9), bold=True) + 20
        cv.rect(24, y, 24 + hw, y + int(s * 1.3), fill=cv.style.ink)
        cv.text(34, y + 3, hub, int(s * 0.9), bold=True, fill=cv.style.paper)
    cv.text_right(W - 24, y + 3, c.printed_at, max(12, int(s * 0.6)))
    y += int(s * 1.3) + 8
    cv.hline(16, W - 16, y)
    bar_h = int(s * 2.8)
    cv.barcode(60, y + 10, W - 120, bar_h, c.tracking)
    y += bar_h + 14
    groups = (3, 4, 4, 4) if rng.random() < 0.5 else (4, 4, 4, 4)
    cv.text_center(W / 2, y, _grouped(c.tracking, groups), int(s * 1.05), bold=True)
    return y + int(s * 1.6)


def _markercol_stub(
    cv: Canvas, c: WaybillContent, stub: str, *, y: int, s: int, boxed: bool, rng: np.random.Generator
) -> int:
    """收件联 (both parties, the receiver's address, the order number) or 寄件联 (both parties, the
    sender's address, the goods and the remarks)."""
    W = cv.width
    sz = int(s * 0.8)
    cv.dashed(10, W - 10, y)
    y += 12
    cv.text(24, y, c.carrier.name, sz, bold=True)
    cv.text_right(W - 24, y, stub, sz)
    y += int(sz * 1.5)
    cv.barcode(24, y, W * 0.45, int(s * 1.2), c.tracking)
    cv.text(W * 0.5, y + int(s * 0.2), c.tracking, sz)
    y += int(s * 1.2) + 10
    receipt = stub == "收件联"
    for role, party, phone in _ordered(c, rng, 0.0) if receipt else _sender_first(c):
        address = c.address_text(party) if receipt == (role == "receiver") else ""
        y = _stub_party(cv, role, party, phone, y=y, size=sz, boxed=boxed, address=address)
    if receipt:
        return _order_line(cv, c, 24, y + 2, size=sz, rng=rng) + 8
    goods = []
    if c.item is not None:
        goods.append(f"{_pick(rng, ('物品', '内件', '品名'))}{_colon(rng)}{c.item}")
    if c.pieces is not None or c.fill == "blank":
        goods.append(f"件数{_colon(rng)}{c.pieces_text}")
    if c.weight is not None:
        goods.append(f"重量{_colon(rng)}{c.weight.printed}")
    if goods:
        cv.text(24, y + 2, "  ".join(goods), sz)
        y += int(sz * 1.5)
    if c.remarks is not None:
        cv.text(24, y, f"备注{_colon(rng)}{c.remarks}", sz)
        y += int(sz * 1.5)
    return y + 8


def ewaybill_markercol(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:
    cv = Canvas(800, 1500, style)
    s = min(style.size, 28)
    W = cv.width
    y = _markercol_top(cv, c, s, rng)
    cv.hline(16, W - 16, y, width=3)
    y = _marked_party(cv, c, "receiver", c.receiver, c.receiver_phone, y=y + 10, size=int(s * 1.1), right=W - 24)
    cv.hline(16, W - 16, y)
    q = int(s * 3.2)
    top = y + 10
    y = _marked_party(cv, c, "sender", c.sender, c.sender_phone, y=top, size=int(s * 0.85), right=W - 40 - q)
    cv.qr(W - 24 - q, top, q, rng)
    y = max(y, top + q + 6)
    cv.hline(16, W - 16, y)
    small = max(12, int(s * 0.62))
    cv.text(24, y + 8, "签收人：", small)
    cv.text(W / 2, y + 8, "签收时间：", small)
    y += int(small * 2.4)
    boxed = bool(rng.random() < 0.4)
    for stub in ("收件联", "寄件联"):
        y = _markercol_stub(cv, c, stub, y=y, s=s, boxed=boxed, rng=rng)
    cv.text(24, y, f"打印时间{_colon(rng)}{c.printed_at}", small)
    return cv.finish(margin=14)


def _cell_lines(cv: Canvas, text: str, size: int, width: float) -> list[str]:
    return cv.wrap(text, size, width) if text else []


def _grid(
    cv: Canvas, heads: list[str], rows: list[list[str]], xs: list[float], *, y: int, size: int, bold_head: bool = True
) -> int:
    """A ruled grid: ``heads`` over the columns (x edges ``xs``), then each row's cells wrapped inside
    their column; returns the y under it."""
    pad = 8
    head_h = int(size * 1.6)
    for i, head in enumerate(heads):
        cv.rect(xs[i], y, xs[i + 1], y + head_h, width=1)
        if head:
            cv.text(xs[i] + pad, y + (head_h - size) / 2 - 2, head, size, bold=bold_head)
    y += head_h
    for cells in rows:
        wrapped = [_cell_lines(cv, cell, size, xs[i + 1] - xs[i] - 2 * pad) for i, cell in enumerate(cells)]
        row_h = max(1, *(len(w) for w in wrapped)) * int(size * 1.35) + 2 * pad
        for i, lines in enumerate(wrapped):
            cv.rect(xs[i], y, xs[i + 1], y + row_h, width=1)
            ly = y + pad
            for line in lines:
                cv.text(xs[i] + pad, ly, line, size)
                ly += int(size * 1.35)
        y += row_h
    return y


def ewaybill_grid(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:
    cv = Canvas(1100, 900, style)
    s = min(style.size, 26)
    W = cv.width
    y = 18
    cv.text(24, y, c.carrier.name, int(s * 1.4), bold=True)
    cv.text(W * 0.55, y - 4, _pick(rng, ("运单号", "运单号码", "快递单号")), int(s * 0.7))
    cv.text(W * 0.55, y + int(s * 0.8), c.tracking, int(s * 1.2), bold=True)
    y += int(s * 2.4)
    cv.barcode(W * 0.55, y, W * 0.4, int(s * 1.8), c.tracking)
    cv.text(24, y + 6, c.product, s)
    y += int(s * 1.8) + 16
    heads = [
        "",
        _pick(rng, ("姓名", "联系人", "名称")),
        _pick(rng, ("电话", "联系电话", "手机")),
        _pick(rng, ("地址", "详细地址")),
    ]
    xs = [20.0, 150.0, 400.0, 600.0, W - 20.0]
    rows = []
    for role, party, phone in _ordered(c, rng, 0.5):
        head = _pick(rng, ("收件人", "收方", "收货方") if role == "receiver" else ("寄件人", "寄方", "发货方"))
        rows.append([head, party.name, phone.printed, c.address_text(party) or c.hints.get(role, "")])
    y = _grid(cv, heads, rows, xs, y=y, size=s) + 18
    goods_heads = [_pick(rng, ("重量", "计费重量")), "件数", _pick(rng, ("物品", "托寄物", "品名")), "备注"]
    goods = [c.weight.printed if c.weight else "", c.pieces_text, c.item or "", c.remarks or ""]
    y = _grid(cv, goods_heads, [goods], [20.0, 200.0, 330.0, 660.0, W - 20.0], y=y, size=int(s * 0.9)) + 14
    small = max(12, int(s * 0.6))
    cv.text(24, y, f"打印时间{_colon(rng)}{c.printed_at}", small)
    cv.text_right(W - 24, y, "第1页 共1页", small)
    return cv.finish(margin=14)


def _captioned_box(cv: Canvas, x0: float, x1: float, y: int, value: str, caption: str, *, size: int, small: int) -> int:
    """A ruled box: the value (wrapped) at the top, its caption in small print at the bottom."""
    lines = cv.wrap(value, size, x1 - x0 - 16) if value else []
    h = max(1, len(lines)) * int(size * 1.35) + int(small * 1.6) + 14
    cv.rect(x0, y, x1, y + h, width=1)
    ly = y + 6
    for line in lines:
        cv.text(x0 + 8, ly, line, size)
        ly += int(size * 1.35)
    cv.text(x0 + 8, y + h - int(small * 1.3) - 4, caption, small, fill=cv.style.gray)
    return y + h


def form_caption_below(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:
    cv = Canvas(1000, 1100, style)
    s = min(style.size, 26)
    small = max(12, int(s * 0.6))
    W = cv.width
    y = 16
    cv.text(24, y, c.carrier.name, int(s * 1.4), bold=True)
    cv.text_right(W - 24, y + 8, c.product, s, bold=True)
    y += int(s * 1.4) + 16
    cv.barcode(24, y, W * 0.5, int(s * 1.8), c.tracking)
    cv.text(W * 0.55, y + 4, c.tracking, int(s * 1.1), bold=True)
    cv.text(W * 0.55, y + int(s * 1.5), _pick(rng, ("运单编号", "运单号", "快递单号")), small, bold=False)
    y += int(s * 1.8) + 14
    for role, party, phone in _sender_first(c) if rng.random() < 0.7 else _ordered(c, rng, 0.0):
        who = _pick(rng, ("收件人", "收货人") if role == "receiver" else ("寄件人", "发件人"))
        top = y
        a = _captioned_box(cv, 20, W * 0.45, top, party.name, f"{who}姓名", size=s, small=small)
        b = _captioned_box(
            cv, W * 0.45, W - 20, top, phone.printed, f"{who}{_pick(rng, ('电话', '联系电话'))}", size=s, small=small
        )
        y = max(a, b)
        addr = c.address_text(party) or c.hints.get(role, "")
        y = _captioned_box(cv, 20, W - 20, y, addr, f"{who}{_pick(rng, ('地址', '详细地址'))}", size=s, small=small)
        y += 12
    goods = [
        (c.item or "", _pick(rng, ("物品名称", "内件品名"))),
        (c.pieces_text, "件数"),
        (c.weight.printed if c.weight else "", "重量"),
    ]
    x = 20.0
    bottoms = []
    for value, caption in goods:
        bottoms.append(_captioned_box(cv, x, x + (W - 40) / 3, y, value, caption, size=s, small=small))
        x += (W - 40) / 3
    y = max(bottoms)
    y = _captioned_box(cv, 20, W - 20, y, c.remarks or "", "备注", size=s, small=small) + 10
    cv.text(24, y, f"寄件日期{_colon(rng)}{c.printed_at[:10]}", small)
    return cv.finish(margin=14)


def shop_packing_slip(c: WaybillContent, style: Style, rng: np.random.Generator) -> Image.Image:
    """A shop's packing slip with its carrier stub: the buyer's part in ``label：value`` rows, the
    goods in a small table (headers over values), then, past a tear-off line, the stub with the
    carrier and tracking number and the shop's (sender's) details written over ruled lines with
    their captions printed under the rules (left-aligned or centred)."""
    cv = Canvas(900, 1300, style)
    s = min(style.size, 26)
    small = max(12, int(s * 0.62))
    W = cv.width
    y = 18
    cv.text_center(W / 2, y, _pick(rng, ("发货清单", "配货单", "商品出库单")), int(s * 1.3), bold=True)
    y += int(s * 1.3) + 16
    y = _order_line(cv, c, 30, y, size=int(s * 0.8), rng=rng)
    cv.hline(20, W - 20, y)
    y += 12
    who = _pick(rng, ("收货人", "收件人", "买家"))
    cv.text(30, y, f"{who}{_colon(rng)}{c.receiver.name}", s)
    cv.text(W * 0.55, y, f"{_pick(rng, ('手机', '联系电话', '电话'))}{_colon(rng)}{c.receiver_phone.printed}", s)
    y += int(s * 1.5)
    head = f"{_pick(rng, ('收货地址', '收件地址'))}{_colon(rng)}"
    hw = cv.text_width(head, s)
    cv.text(30, y, head, s)
    for line, color in c.address_lines(cv, c.receiver, "receiver", s, W - 60 - hw):
        cv.text(30 + hw, y, line, s, fill=color)
        y += int(s * 1.4)
    y += 8
    cols = (30.0, W * 0.55, W * 0.78)
    heads = (_pick(rng, ("商品名称", "品名", "物品名称")), _pick(rng, ("数量", "件数")), "重量")
    values = (c.item or "", c.pieces_text, c.weight.printed if c.weight else "")
    cv.rect(20, y, W - 20, y + int(small * 1.6) + int(s * 1.5), width=1)
    for x, h, v in zip(cols, heads, values, strict=True):
        cv.text(x, y + 4, h, small, bold=True)
        if v:
            cv.text(x, y + int(small * 1.6) + 4, v, s)
    y += int(small * 1.6) + int(s * 1.5) + 12
    if c.remarks:
        cv.text(30, y, f"{_pick(rng, ('买家留言', '备注'))}{_colon(rng)}{c.remarks}", int(s * 0.85))
        y += int(s * 1.4)
    y += 10
    cv.dashed(10, W - 10, y)
    y += 18
    cv.text(30, y, c.carrier.name, int(s * 1.2), bold=True)
    cv.text_right(W - 30, y, c.tracking, int(s * 1.1), bold=True)
    y += int(s * 1.2) + 10
    cv.barcode(W * 0.4, y, W * 0.55, int(s * 1.6), c.tracking)
    y += int(s * 1.6) + 18
    centred = rng.random() < 0.5
    boxes = (
        ((30.0, W * 0.5 - 20), c.sender.name, _pick(rng, ("寄件人", "发货人", "发件人"))),
        ((W * 0.5, W - 30.0), c.sender_phone.printed, _pick(rng, ("寄件人电话", "联系电话", "客服电话"))),
    )
    y = max(_ruled_caption(cv, span, v, cap, y, s, small, centred) for span, v, cap in boxes)
    addr = c.address_text(c.sender) or c.hints.get("sender", "")
    y = _ruled_caption(
        cv, (30.0, W - 30.0), addr, _pick(rng, ("寄件地址", "发货地址", "寄件人地址")), y, s, small, centred
    )
    cv.text(30, y + 6, f"打印时间{_colon(rng)}{c.printed_at}", small)
    return cv.finish(margin=14)


def _ruled_caption(
    cv: Canvas, span: tuple[float, float], value: str, caption: str, y: int, size: int, small: int, centred: bool
) -> int:  # fmt: skip
    """A value written over a ruled line, its caption printed under the rule."""
    x0, x1 = span
    lines = cv.wrap(value, size, x1 - x0 - 12) if value else []
    for line in lines:
        cv.text(x0 + 6, y, line, size)
        y += int(size * 1.35)
    y = max(y, y + (0 if lines else int(size * 1.35))) + 4
    cv.hline(x0, x1, y, width=1)
    if centred:
        cv.text_center((x0 + x1) / 2, y + 4, caption, small)
    else:
        cv.text(x0 + 6, y + 4, caption, small)
    return y + int(small * 1.4) + 14


def _sender_first(c: WaybillContent) -> list[tuple[str, Party, Phone]]:
    return [("sender", c.sender, c.sender_phone), ("receiver", c.receiver, c.receiver_phone)]


FORM_LAYOUTS: dict[str, Layout] = {
    lay.name: lay
    for lay in (
        Layout(
            "ewaybill_3stub",
            ewaybill_3stub,
            False,
            "100x180 mm thermal e-waybill, three parts, order number, masked phones",
            mask_rate=0.5,
        ),
        Layout("shop_label", shop_label, False, "shop shipping label: shop sender, order number, product table"),
        Layout(
            "ewaybill_compact",
            ewaybill_compact,
            True,
            "76x130 mm two-part label, run-on parties, vertical product name",
            mask_rate=0.5,
        ),
        Layout("carbon_form", carbon_form, True, "multi-part carbon form filled by hand", hand=True),
        Layout(
            "ewaybill_sidebyside",
            ewaybill_sidebyside,
            True,
            "100x150 mm e-waybill, 收/寄 columns side by side, run-on tear-off",
            mask_rate=0.3,
            fresh=True,
        ),
        Layout(
            "ewaybill_markercol",
            ewaybill_markercol,
            True,
            "100x180 mm three-part label, 收/寄 marker column, huge sort code, 收/寄 glued in the stubs",
            mask_rate=0.6,
            fresh=True,
        ),
        Layout(
            "ewaybill_grid",
            ewaybill_grid,
            True,
            "sheet from a shipping list: parties in a grid, column headers above, row headers left",
            mask_rate=0.2,
            fresh=True,
        ),
        Layout(
            "form_caption_below",
            form_caption_below,
            True,
            "boxed form, small captions under the values, sender's boxes above the receiver's",
            fresh=True,
        ),
        Layout(
            "shop_packing_slip",
            shop_packing_slip,
            True,
            "shop packing slip with its carrier stub: buyer rows, goods table, the shop's details over ruled "
            "lines with captions under the rules",
            mask_rate=0.2,
            fresh=True,
        ),
    )
}
