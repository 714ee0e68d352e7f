"""Synthetic waybills with ground-truth fields.

    from luodi.synth.waybill import WaybillOptions, generate_waybills, render_waybill
    records = generate_waybills(60, "out/clean", WaybillOptions(seed=7, source="dev"))

Each page is drawn from two parties (receiver, sender), a carrier with a tracking number in its
format, and optional weight / pieces / item / remarks, in one of twelve carrier-like layouts. The
layout decides the sample's split (:mod:`luodi.synth.families`): a dev layout takes dev fonts, dev
party sources (express NER persons, company and shop senders) and dev papers and backgrounds; a
holdout layout takes holdout ones (generated, given-name-first romanised and organisation parties) —
``meta.split`` and ``meta.families`` say which, and the record's ``split`` repeats it. Degradations:
``hard`` adds rotation, perspective, blur, noise, thermal fading, low resolution and JPEG loss;
``scan`` / ``photo`` / ``photo_hard`` render photo-like pages (:mod:`luodi.synth.photo`: paper,
background, folds, shadow, glare, stamps, carbon ghosting, camera blur, JPEG). E-waybills may print
masked phones (138****5678): the label is then the masked text as printed. Sample ``i`` depends only
on ``(seed, i)`` and the options, so a seed reproduces the same bytes and labels.

``fill="blank"`` renders the same layouts with no values (labels, column headers, printed hints such
as 请填写详细的收件人地址 and the 省 / 市 / 区县 grid only) and ``fill="placeholder"`` with template
stand-ins (XXX, 收件人姓名, 138****0000); their labels name every field null except the carrier,
whose logo every form carries (:mod:`luodi.synth.waybill_fill`).

Output: ``DIR/images/NNNNN.jpg`` and ``DIR/labels.jsonl`` with one record per image:
``{"image": "images/00000.jpg", "layout": ..., "holdout": bool, "degrade": "clean"|"hard",
"fill": "full"|"blank"|"placeholder", "fields": {waybill field (docs/architecture.md): value}, "meta": {...}}``.
Fields hold only what is printed; phones are digits (landlines keep the area-code dash),
``weight_kg`` and ``pieces`` are numbers, addresses are the parts joined without spaces even when the
page prints spaces between them.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image

from luodi.errors import ConfigError, InputNotFoundError, LabelFormatError
from luodi.synth.families import pick_font, split_name
from luodi.synth.parties import draw_party, draw_source
from luodi.synth.photo import LEVELS, carbon_ghost, photograph, stamp
from luodi.synth.waybill_canvas import Style
from luodi.synth.waybill_data import (
    CARRIERS,
    ITEMS,
    REMARKS,
    SPLITS,
    Party,
    Phone,
    load_parties,
    make_phone,
    make_tracking_number,
    make_weight,
)
from luodi.synth.waybill_degrade import degrade_hard
from luodi.synth.waybill_fill import blank, placeholder
from luodi.synth.waybill_forms import FORM_LAYOUTS
from luodi.synth.waybill_layouts import FILLS, WAYBILL_FIELDS, Fill, Layout, WaybillContent
from luodi.synth.waybill_layouts import LAYOUTS as BASE_LAYOUTS

LAYOUTS: dict[str, Layout] = {**BASE_LAYOUTS, **FORM_LAYOUTS}
DEV_LAYOUTS = tuple(name for name, lay in LAYOUTS.items() if not lay.holdout)
HOLDOUT_LAYOUTS = tuple(name for name, lay in LAYOUTS.items() if lay.holdout and not lay.fresh)
FRESH_LAYOUTS = tuple(name for name, lay in LAYOUTS.items() if lay.fresh)
_ORDER_LAYOUTS = ("ewaybill_3stub", "ewaybill_compact", "shop_label")

__all__ = [
    "DEV_LAYOUTS",
    "FILLS",
    "FRESH_LAYOUTS",
    "HOLDOUT_LAYOUTS",
    "LAYOUTS",
    "WAYBILL_FIELDS",
    "WaybillOptions",
    "WaybillSample",
    "generate_waybills",
    "read_labels",
    "render_waybill",
    "resolve_layouts",
]

Degrade = Literal["clean", "hard", "scan", "photo", "photo_hard"]
DEGRADES: tuple[str, ...] = ("clean", "hard", *LEVELS)
# "all" is dev + holdout in the registry's order (a set's page i keeps its layout): the fresh layouts
# come only by name or by the group "fresh"
_ALL = tuple(name for name, lay in LAYOUTS.items() if not lay.fresh)
_GROUPS = {"dev": DEV_LAYOUTS, "holdout": HOLDOUT_LAYOUTS, "all": _ALL, "fresh": FRESH_LAYOUTS}


def resolve_layouts(names: Iterable[str]) -> tuple[str, ...]:
    """Layout names from names and the groups ``dev`` (default), ``holdout``, ``all`` (dev + holdout)
    and ``fresh``; order kept, duplicates dropped."""
    out: list[str] = []
    for raw in names:
        for name in (n.strip() for n in raw.split(",")):
            if not name:
                continue
            group = _GROUPS.get(name)
            if group is None and name not in LAYOUTS:
                known = ", ".join([*LAYOUTS, *_GROUPS])
                raise ConfigError(f"unknown waybill layout {name!r}; choose from {known}")
            for item in group or (name,):
                if item not in out:
                    out.append(item)
    if not out:
        raise ConfigError("no waybill layout selected")
    return tuple(out)


@dataclass(frozen=True, slots=True)
class WaybillOptions:
    """What to generate. ``layouts`` are used round-robin (sample ``i`` gets ``layouts[i % k]``) so
    every layout is equally represented in a set."""

    layouts: tuple[str, ...] = DEV_LAYOUTS
    degrade: Degrade = "clean"
    fill: Fill = "full"  # "blank" / "placeholder": unfilled forms whose labels are all null
    seed: int = 0
    source: str = "train"  # express NER split the parties come from
    ner_file: str | None = None  # explicit path instead of the shared train/dev file
    landline_rate: float = 0.12
    jpeg_quality: int = 92

    def __post_init__(self) -> None:
        object.__setattr__(self, "layouts", resolve_layouts(self.layouts))
        if self.degrade not in DEGRADES:
            raise ConfigError(f"unknown degradation {self.degrade!r}; choose {', '.join(DEGRADES)}")
        if self.fill not in FILLS:
            raise ConfigError(f"unknown fill {self.fill!r}; choose {', '.join(FILLS)}")
        if self.source not in SPLITS:
            raise ConfigError(f"unknown source split {self.source!r}; choose train or dev")
        if not 0.0 <= self.landline_rate <= 1.0:
            raise ConfigError("landline_rate must be between 0 and 1")
        if not 30 <= self.jpeg_quality <= 100:
            raise ConfigError("jpeg_quality must be between 30 and 100")
        if self.seed < 0:
            raise ConfigError("seed must be a non-negative integer")


@dataclass(frozen=True, slots=True, eq=False)
class WaybillSample:
    index: int
    image: np.ndarray  # RGB uint8, H x W x 3
    layout: str
    holdout: bool
    degrade: str
    fields: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    fill: str = "full"
    # Every string drawn on the flat page and its box there (before any degradation), in drawing order.
    text_layer: tuple[tuple[str, tuple[int, int, int, int]], ...] = ()

    def record(self, image_path: str) -> dict[str, Any]:
        return {
            "image": image_path,
            "layout": self.layout,
            "holdout": self.holdout,
            "degrade": self.degrade,
            "split": "holdout" if self.holdout else "dev",
            "fill": self.fill,
            "fields": self.fields,
            "meta": self.meta,
        }

    def jpeg_bytes(self, quality: int = 92) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(self.image).save(buf, format="JPEG", quality=quality)
        return buf.getvalue()


_PRODUCTS = ("标准快递", "经济快递", "特快专递", "次日达", "电商标快", "标快")
# Party sources per role and split: receivers are mostly persons, senders often companies or shops.
_SOURCE_WEIGHTS = {
    ("dev", "receiver"): {"ner": 0.8, "company": 0.1, "romanised": 0.1},
    ("dev", "sender"): {"ner": 0.55, "company": 0.35, "romanised": 0.1},
    ("holdout", "receiver"): {"generated": 0.7, "romanised_western": 0.2, "organisation": 0.1},
    ("holdout", "sender"): {"generated": 0.35, "romanised_western": 0.15, "organisation": 0.5},
}


def _masked(phone: Phone) -> Phone:
    """A privacy-masked mobile as e-waybills print it (138****5678); the label is what is printed."""
    v = phone.value
    if "-" in v or len(v) != 11:
        return phone
    masked = f"{v[:3]}****{v[7:]}"
    return Phone(masked, masked)


def _parties(split: str, ner: Sequence[Party], rng: np.random.Generator) -> tuple[tuple[Party, str], tuple[Party, str]]:
    """(receiver, its source) and (sender, its source), never the same name twice."""
    out: list[tuple[Party, str]] = []
    for role in ("receiver", "sender"):
        source = draw_source(split, rng, _SOURCE_WEIGHTS[split, role])
        party = draw_party(source, rng, ner)
        while out and party.name == out[0][0].name:
            party = draw_party(source, rng, ner)
        out.append((party, source))
    return out[0], out[1]


def _content(
    split: str, ner: Sequence[Party], rng: np.random.Generator, landline_rate: float, layout: Layout
) -> tuple[WaybillContent, dict[str, str]]:
    (receiver, r_src), (sender, s_src) = _parties(split, ner, rng)
    carrier = CARRIERS[list(CARRIERS)[int(rng.integers(0, len(CARRIERS)))]]
    month, day = int(rng.integers(1, 13)), int(rng.integers(1, 29))
    hour, minute = int(rng.integers(7, 22)), int(rng.integers(0, 60))
    year = int(rng.integers(2023, 2027))
    letter = "ABCDEFGHJKLMNPQRSTUVWXYZ"[int(rng.integers(0, 24))]
    sort_code = f"{int(rng.integers(100, 999))}-{letter}{int(rng.integers(10, 99))} {int(rng.integers(0, 99)):02d}"
    receiver_phone = make_phone(receiver, rng, landline_rate)
    sender_phone = make_phone(sender, rng, landline_rate)
    if rng.random() < layout.mask_rate:
        receiver_phone, sender_phone = _masked(receiver_phone), _masked(sender_phone)
    # An order number of a shop platform: 16-19 digits, sometimes with a letter prefix.
    order = "".join(str(int(d)) for d in rng.integers(0, 10, size=int(rng.integers(16, 20))))
    content = WaybillContent(
        carrier=carrier,
        tracking=make_tracking_number(carrier.code, rng),
        receiver=receiver,
        receiver_phone=receiver_phone,
        sender=sender,
        sender_phone=sender_phone,
        weight=make_weight(rng) if rng.random() < 0.85 else None,
        pieces=int(rng.choice([1, 1, 1, 2, 3])) if rng.random() < 0.6 else None,
        item=ITEMS[int(rng.integers(0, len(ITEMS)))] if rng.random() < 0.7 else None,
        remarks=REMARKS[int(rng.integers(0, len(REMARKS)))] if rng.random() < 0.4 else None,
        printed_at=f"{year}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}",
        sort_code=sort_code,
        spaced_address=bool(rng.random() < 0.3),
        product=_PRODUCTS[int(rng.integers(0, len(_PRODUCTS)))],
        order_number=("DD" if rng.random() < 0.2 else "") + order,
    )
    return content, {"receiver": r_src, "sender": s_src}


def _all_text(c: WaybillContent) -> str:
    return "".join(
        [c.receiver.name, c.receiver.address, c.sender.name, c.sender.address, c.item or "", c.remarks or ""]
    )


_FORM_WORDS = (
    "收寄件人电话地址物品备注重量数量托寄内名实际计费存根联签时间打印运单号客服订单商品规格留言发货店铺省市区县"
)


def _style(c: WaybillContent, rng: np.random.Generator, split: str, hand: bool) -> Style:
    family = pick_font(split, rng, _all_text(c) + _FORM_WORDS + c.carrier.name + c.product)
    ink_level = int(rng.integers(0, 45))
    paper = int(rng.integers(244, 256))
    gray = int(rng.integers(95, 140))
    values = _all_text(c) + "0123456789-.kgKG公斤斤*" + c.receiver_phone.printed + c.sender_phone.printed
    return Style(
        family=family,
        size=int(rng.integers(22, 31)),
        ink=(ink_level, ink_level, ink_level),
        paper=(paper, paper, max(paper - int(rng.integers(0, 6)), 0)),
        gray=(gray, gray, gray),
        hand=pick_font(split, rng, values, hand=True) if hand else None,
    )


def _load_ner(opts: WaybillOptions) -> tuple[Party, ...]:
    """The NER persons; without the data (and no explicit file) generated persons stand in."""
    try:
        return load_parties(opts.source, opts.ner_file)
    except InputNotFoundError:
        if opts.ner_file is not None:
            raise
        return ()


_STAMP_TEXTS = (("已验视", "安全检查"), ("已实名", "实名收寄"), ("已收寄", "营业部"))


def _finish(
    page: np.ndarray, layout: Layout, opts: WaybillOptions, split: str, rng: np.random.Generator
) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """The degradation step: legacy ``hard``, or a photo level with stamps and carbon ghosting."""
    if opts.degrade == "clean":
        return page, [], {}
    if opts.degrade == "hard":
        out, applied = degrade_hard(page, rng)
        return out, list(applied), {}
    marks: list[str] = []
    if layout.name == "carbon_form":
        page = carbon_ghost(page, rng)
        marks.append("carbon_ghost")
    if rng.random() < 0.35:
        inner, ring = _STAMP_TEXTS[int(rng.integers(0, len(_STAMP_TEXTS)))]
        font = pick_font(split, rng, ring + inner).regular
        img = Image.fromarray(page)
        r = float(rng.uniform(55, 85))
        centre = (float(rng.uniform(0.3, 0.8)) * img.width, float(rng.uniform(0.3, 0.8)) * img.height)
        page = np.asarray(stamp(img, centre, r, ring, font=font.get(int(r * 0.32)), rng=rng, inner=inner))
        marks.append("stamp")
    out, meta = photograph(page, rng, level=opts.degrade, holdout=split == "holdout")
    return out, marks + meta.pop("effects"), meta


def render_waybill(index: int, options: WaybillOptions | None = None) -> WaybillSample:
    """Sample number ``index`` of the set described by ``options`` (deterministic)."""
    opts = options or WaybillOptions()
    if index < 0:
        raise ConfigError("sample index must be non-negative")
    ner = _load_ner(opts)
    rng = np.random.default_rng([opts.seed, index, 0x57A1])
    layout = LAYOUTS[opts.layouts[index % len(opts.layouts)]]
    split = split_name(layout.holdout)
    content, sources = _content(split, ner, rng, opts.landline_rate, layout)
    style = _style(content, rng, split, layout.hand)
    if opts.fill != "full":
        # Its own stream, so a full set's pages do not move when blank and placeholder forms exist.
        fill_rng = np.random.default_rng([opts.seed, index, 0xB1A7])
        content = (blank if opts.fill == "blank" else placeholder)(content, fill_rng)
    drawn = layout.render(content, style, rng)
    texts = list(drawn.info.get("texts", ()))
    page, applied, photo_meta = _finish(np.asarray(drawn.convert("RGB")), layout, opts, split, rng)
    families: dict[str, Any] = {
        "layout": layout.name,
        "font": style.family.name,
        **({"hand_font": style.hand.name} if style.hand else {}),
        "parties": sources,
        **{k: photo_meta[k] for k in ("paper", "background") if k in photo_meta},
    }
    meta = {
        "seed": opts.seed,
        "index": index,
        "split": split,
        "families": families,
        "font": style.family.name,
        "carrier_code": content.carrier.code,
        "ner_split": opts.source if ner else None,
        "ner_records": {"receiver": content.receiver.record, "sender": content.sender.record},
        "landline": {
            "receiver": "-" in content.receiver_phone.value,
            "sender": "-" in content.sender_phone.value,
        },
        "masked_phones": "*" in content.receiver_phone.value,
        "order_number": content.order_number if layout.name in _ORDER_LAYOUTS else None,
        "degradations": applied,
        "fill": opts.fill,
    }
    return WaybillSample(
        index=index,
        image=np.ascontiguousarray(page),
        layout=layout.name,
        holdout=layout.holdout,
        degrade=opts.degrade,
        fields=content.fields(),
        meta=meta,
        fill=opts.fill,
        text_layer=tuple(texts),
    )


def generate_waybills(
    n: int,
    out_dir: str | os.PathLike[str],
    options: WaybillOptions | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Write ``n`` waybills to ``out_dir/images`` and their labels to ``out_dir/labels.jsonl``."""
    opts = options or WaybillOptions()
    if n <= 0:
        raise ConfigError("the number of waybills must be positive")
    out = Path(out_dir)
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    for i in range(n):
        sample = render_waybill(i, opts)
        rel = f"images/{i:05d}.jpg"
        (out / rel).write_bytes(sample.jpeg_bytes(opts.jpeg_quality))
        records.append(sample.record(rel))
        if progress is not None:
            progress(i + 1)
    write_labels(out / "labels.jsonl", records)
    return records


def write_labels(path: str | os.PathLike[str], records: Iterable[dict[str, Any]]) -> None:
    with Path(path).open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")


def read_labels(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Records of a waybill labels file; each needs a string ``image`` and a mapping ``fields``."""
    p = Path(path)
    if not p.is_file():
        raise InputNotFoundError(f"labels file not found: {p}")
    records: list[dict[str, Any]] = []
    with p.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelFormatError(f"{p}:{line_no}: not valid JSON ({exc.msg})") from exc
            if not isinstance(rec, dict) or not isinstance(rec.get("image"), str):
                raise LabelFormatError(f"{p}:{line_no}: a record needs a string 'image'")
            if not isinstance(rec.get("fields"), dict):
                raise LabelFormatError(f"{p}:{line_no}: a record needs a 'fields' object")
            records.append(rec)
    return records
