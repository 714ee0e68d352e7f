"""Synthetic waybills with ground-truth fields.

    from luodi.synth.waybill import WaybillOptions, generate_waybills, render_waybill
    records = generate_waybills(60, "out/clean", WaybillOptions(seed=7, source="dev"))

Each page is drawn from an express NER record pair (receiver, sender), a carrier with a tracking
number in its format, and optional weight / pieces / item / remarks, in one of several carrier-like
layouts and one of the installed CJK fonts; the ``hard`` set adds rotation, perspective, blur,
noise, thermal fading, low resolution and JPEG loss. Sample ``i`` depends only on ``(seed, i)`` and
the options, so a seed reproduces the same bytes and labels.

``fill="blank"`` renders the same layouts with no values (labels, column headers, printed hints such
as 请填写详细的收件人地址 and the 省 / 市 / 区县 grid only) and ``fill="placeholder"`` with template
stand-ins (XXX, 收件人姓名, 138****0000); their labels name every field null except the carrier,
whose logo every form carries (:mod:`luodi.synth.waybill_fill`).

Output: ``DIR/images/NNNNN.jpg`` and ``DIR/labels.jsonl`` with one record per image:
``{"image": "images/00000.jpg", "layout": ..., "holdout": bool, "degrade": "clean"|"hard",
"fill": "full"|"blank"|"placeholder", "fields": {DESIGN.md waybill field: value}, "meta": {...}}``.
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
from luodi.synth.waybill_canvas import Style, available_families, covers
from luodi.synth.waybill_data import (
    CARRIERS,
    ITEMS,
    REMARKS,
    SPLITS,
    Party,
    load_parties,
    make_phone,
    make_tracking_number,
    make_weight,
)
from luodi.synth.waybill_degrade import degrade_hard
from luodi.synth.waybill_fill import blank, placeholder
from luodi.synth.waybill_layouts import (
    DEV_LAYOUTS,
    FILLS,
    HOLDOUT_LAYOUTS,
    LAYOUTS,
    WAYBILL_FIELDS,
    Fill,
    WaybillContent,
)

__all__ = [
    "DEV_LAYOUTS",
    "FILLS",
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

Degrade = Literal["clean", "hard"]
DEGRADES: tuple[str, ...] = ("clean", "hard")
_GROUPS = {"dev": DEV_LAYOUTS, "holdout": HOLDOUT_LAYOUTS, "all": tuple(LAYOUTS)}


def resolve_layouts(names: Iterable[str]) -> tuple[str, ...]:
    """Layout names from names and the groups ``dev`` (default), ``holdout`` and ``all``; order kept,
    duplicates dropped."""
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
            raise ConfigError(f"unknown degradation {self.degrade!r}; choose clean or hard")
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

    def record(self, image_path: str) -> dict[str, Any]:
        return {
            "image": image_path,
            "layout": self.layout,
            "holdout": self.holdout,
            "degrade": self.degrade,
            "fill": self.fill,
            "fields": self.fields,
            "meta": self.meta,
        }

    def jpeg_bytes(self, quality: int = 92) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(self.image).save(buf, format="JPEG", quality=quality)
        return buf.getvalue()


def _content(parties: Sequence[Party], rng: np.random.Generator, landline_rate: float) -> WaybillContent:
    i, j = (int(k) for k in rng.choice(len(parties), size=2, replace=False))
    receiver, sender = parties[i], parties[j]
    carrier = CARRIERS[list(CARRIERS)[int(rng.integers(0, len(CARRIERS)))]]
    month, day = int(rng.integers(1, 13)), int(rng.integers(1, 29))
    hour, minute = int(rng.integers(7, 22)), int(rng.integers(0, 60))
    year = int(rng.integers(2023, 2027))
    letter = "ABCDEFGHJKLMNPQRSTUVWXYZ"[int(rng.integers(0, 24))]
    sort_code = f"{int(rng.integers(100, 999))}-{letter}{int(rng.integers(10, 99))} {int(rng.integers(0, 99)):02d}"
    return WaybillContent(
        carrier=carrier,
        tracking=make_tracking_number(carrier.code, rng),
        receiver=receiver,
        receiver_phone=make_phone(receiver, rng, landline_rate),
        sender=sender,
        sender_phone=make_phone(sender, rng, landline_rate),
        weight=make_weight(rng) if rng.random() < 0.85 else None,
        pieces=int(rng.choice([1, 1, 1, 2, 3])) if rng.random() < 0.6 else None,
        item=ITEMS[int(rng.integers(0, len(ITEMS)))] if rng.random() < 0.7 else None,
        remarks=REMARKS[int(rng.integers(0, len(REMARKS)))] if rng.random() < 0.4 else None,
        printed_at=f"{year}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}",
        sort_code=sort_code,
        spaced_address=bool(rng.random() < 0.3),
    )


def _all_text(c: WaybillContent) -> str:
    return "".join(
        [c.receiver.name, c.receiver.address, c.sender.name, c.sender.address, c.item or "", c.remarks or ""]
    )


def _style(c: WaybillContent, rng: np.random.Generator) -> Style:
    families = available_families()
    order = [families[int(k)] for k in rng.permutation(len(families))]
    text = _all_text(c) + "收寄件人电话地址物品备注重量数量托寄内名实际计费存根联签时间打印运单号客服"
    family = next((f for f in order if covers(f, text)), order[0])
    ink_level = int(rng.integers(0, 45))
    paper = int(rng.integers(244, 256))
    gray = int(rng.integers(95, 140))
    return Style(
        family=family,
        size=int(rng.integers(22, 31)),
        ink=(ink_level, ink_level, ink_level),
        paper=(paper, paper, max(paper - int(rng.integers(0, 6)), 0)),
        gray=(gray, gray, gray),
    )


def render_waybill(index: int, options: WaybillOptions | None = None) -> WaybillSample:
    """Sample number ``index`` of the set described by ``options`` (deterministic)."""
    opts = options or WaybillOptions()
    if index < 0:
        raise ConfigError("sample index must be non-negative")
    parties = load_parties(opts.source, opts.ner_file)
    rng = np.random.default_rng([opts.seed, index, 0x57A1])
    layout = LAYOUTS[opts.layouts[index % len(opts.layouts)]]
    content = _content(parties, rng, opts.landline_rate)
    style = _style(content, rng)
    if opts.fill != "full":
        # Its own stream, so a full set's pages do not move when blank and placeholder forms exist.
        fill_rng = np.random.default_rng([opts.seed, index, 0xB1A7])
        content = (blank if opts.fill == "blank" else placeholder)(content, fill_rng)
    page = np.asarray(layout.render(content, style, rng).convert("RGB"))
    applied: tuple[str, ...] = ()
    if opts.degrade == "hard":
        page, applied = degrade_hard(page, rng)
    meta = {
        "seed": opts.seed,
        "index": index,
        "font": style.family.name,
        "carrier_code": content.carrier.code,
        "ner_split": opts.source,
        "ner_records": {"receiver": content.receiver.record, "sender": content.sender.record},
        "landline": {
            "receiver": "-" in content.receiver_phone.value,
            "sender": "-" in content.sender_phone.value,
        },
        "degradations": list(applied),
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
