"""Blank and placeholder waybills: the same layouts with nothing a reader may take as a value.

A *blank* form prints only the form's own text: labels (收件人：, 电话：), column headers, printed hints
where the address goes (请填写详细的收件人地址, the 省 / 市 / 区县 grid) and the carrier's logo. A
*placeholder* form is a template: its values are stand-ins (XXX, 收件人姓名, 138****0000,
XX省XX市XX区…). Either way the labels name every field as null except the carrier (see
:meth:`WaybillContent.fields`): an extractor that returns anything else has invented it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from luodi.synth.waybill_data import Party, Phone, Weight
from luodi.synth.waybill_layouts import WaybillContent

ROLE_WORDS = {"receiver": "收件人", "sender": "寄件人"}

# Hints printed in a blank address cell. The grid variants are the district cells of paper forms.
ADDRESS_HINTS: tuple[str, ...] = (
    "请填写详细的{who}地址",
    "请详细填写{who}地址（省、市、区县、街道门牌号）",
    "省          市          区/县",
    "省(自治区)        市        区(县)",
    "省      市      区县      街道/乡镇",
    "{who}详细地址（请精确到门牌号）",
    "请写明{who}的详细地址及邮编",
)

NAME_PLACEHOLDERS = ("XXX", "{who}姓名", "姓名", "某某某", "XX", "{who}")
PHONE_PLACEHOLDERS = ("138****0000", "1XXXXXXXXXX", "XXX-XXXXXXXX", "手机号码", "139****8888", "1**********")
ADDRESS_PLACEHOLDERS: tuple[tuple[str | None, str | None, str | None, str | None], ...] = (
    ("XX省", "XX市", "XX区", "XX路XX号"),
    ("XX省", "XX市", "XX县", "XX镇XX村"),
    (None, None, None, "XXXXXXXXXXXXXXXX"),
    (None, None, None, "{who}详细地址"),
    ("省", "市", "区", "详细地址"),
    ("XXX省", "XXX市", "XXX区", "XXX街道XXX号"),
)
TRACKING_PLACEHOLDERS = ("XXXXXXXXXXXX", "XXXX XXXX XXXX", "运单号码")
ITEM_PLACEHOLDERS = ("XXX", "物品名称", "托寄物内容")
REMARK_PLACEHOLDERS = ("XXXXXX", "备注信息", "无")


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(0, len(options)))]


def _blank_party(record: int) -> Party:
    return Party(name="", phone="", province=None, city=None, district=None, detail=None, record=record)


def blank(c: WaybillContent, rng: np.random.Generator) -> WaybillContent:
    """``c`` with every value emptied; goods labels stay on the page (empty), addresses get hints."""
    hints = {role: _pick(rng, ADDRESS_HINTS).format(who=who) for role, who in ROLE_WORDS.items()}
    return dataclasses.replace(
        c,
        tracking="",
        receiver=_blank_party(c.receiver.record),
        receiver_phone=Phone("", ""),
        sender=_blank_party(c.sender.record),
        sender_phone=Phone("", ""),
        weight=Weight("", 0.0),
        pieces=None,
        item="",
        remarks="",
        printed_at="",
        sort_code="",
        order_number="",
        fill="blank",
        hints=hints,
    )


def _placeholder_party(role: str, record: int, rng: np.random.Generator) -> tuple[Party, Phone]:
    who = ROLE_WORDS[role]
    parts = [
        p.format(who=who) if p else None for p in ADDRESS_PLACEHOLDERS[int(rng.integers(0, len(ADDRESS_PLACEHOLDERS)))]
    ]
    phone = _pick(rng, PHONE_PLACEHOLDERS)
    party = Party(
        name=_pick(rng, NAME_PLACEHOLDERS).format(who=who),
        phone=phone,
        province=parts[0],
        city=parts[1],
        district=parts[2],
        detail=parts[3],
        record=record,
    )
    return party, Phone(phone, phone)


def placeholder(c: WaybillContent, rng: np.random.Generator) -> WaybillContent:
    """``c`` as a template: stand-in text where the values go."""
    receiver, receiver_phone = _placeholder_party("receiver", c.receiver.record, rng)
    sender, sender_phone = _placeholder_party("sender", c.sender.record, rng)
    return dataclasses.replace(
        c,
        tracking=_pick(rng, TRACKING_PLACEHOLDERS),
        receiver=receiver,
        receiver_phone=receiver_phone,
        sender=sender,
        sender_phone=sender_phone,
        weight=Weight(_pick(rng, ("XXkg", "X.XKG", "XX公斤")), 0.0) if rng.random() < 0.6 else None,
        pieces=None,
        item=_pick(rng, ITEM_PLACEHOLDERS) if rng.random() < 0.6 else None,
        remarks=_pick(rng, REMARK_PLACEHOLDERS) if rng.random() < 0.4 else None,
        printed_at="XXXX-XX-XX XX:XX",
        sort_code="XXX-XX XX",
        order_number="XXXXXXXXXXXXXXXX",
        fill="placeholder",
    )
