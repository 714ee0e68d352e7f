"""What every synthetic document kind shares: options, the sample, the degradation step, writing a set.

``luodi synth waybill`` keeps its own options (:class:`luodi.synth.waybill.WaybillOptions`); bank
receipts and ID cards use :class:`DocOptions`. A set is ``DIR/images/NNNNN.jpg`` and
``DIR/labels.jsonl``, one record per image in the format ``luodi eval kie`` reads:
``{"image", "schema", "layout", "holdout", "split", "degrade", "fill", "fields", "meta"}``.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from luodi.errors import ConfigError
from luodi.synth.families import pick_font
from luodi.synth.photo import LEVELS, photograph, stamp
from luodi.synth.waybill_data import SPLITS, Party, load_parties

DOC_DEGRADES: tuple[str, ...] = ("clean", *LEVELS)
TextLayer = tuple[tuple[str, tuple[int, int, int, int]], ...]


@dataclass(frozen=True, slots=True)
class DocOptions:
    """What to generate: ``layouts`` round-robin (names or the groups ``dev``, ``holdout``, ``all``)."""

    layouts: tuple[str, ...] = ("dev",)
    degrade: str = "clean"
    seed: int = 0
    source: str = "train"  # express NER split person names come from (dev sources only)
    ner_file: str | None = None
    jpeg_quality: int = 92

    def __post_init__(self) -> None:
        if self.degrade not in DOC_DEGRADES:
            raise ConfigError(f"unknown degradation {self.degrade!r}; choose {', '.join(DOC_DEGRADES)}")
        if self.source not in SPLITS:
            raise ConfigError(f"unknown source split {self.source!r}; choose train or dev")
        if self.seed < 0:
            raise ConfigError("seed must be a non-negative integer")
        if not 30 <= self.jpeg_quality <= 100:
            raise ConfigError("jpeg_quality must be between 30 and 100")


def resolve(names: Iterable[str], registry: dict[str, bool], kind: str) -> tuple[str, ...]:
    """Layout names of ``registry`` (name → holdout) from names and the groups dev / holdout / all."""
    groups = {
        "dev": tuple(n for n, h in registry.items() if not h),
        "holdout": tuple(n for n, h in registry.items() if h),
        "all": tuple(registry),
    }
    out: list[str] = []
    for raw in names:
        for name in (n.strip() for n in raw.split(",")):
            if not name:
                continue
            if name not in registry and name not in groups:
                raise ConfigError(f"unknown {kind} layout {name!r}; choose from {', '.join([*registry, *groups])}")
            for item in groups.get(name, (name,)):
                if item not in out:
                    out.append(item)
    if not out:
        raise ConfigError(f"no {kind} layout selected")
    return tuple(out)


@dataclass(frozen=True, slots=True, eq=False)
class DocSample:
    index: int
    image: np.ndarray  # RGB uint8
    schema: str
    layout: str
    holdout: bool
    degrade: str
    fields: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    text_layer: TextLayer = ()

    def record(self, image_path: str) -> dict[str, Any]:
        return {
            "image": image_path,
            "schema": self.schema,
            "layout": self.layout,
            "holdout": self.holdout,
            "split": "holdout" if self.holdout else "dev",
            "degrade": self.degrade,
            "fill": "full",
            "fields": self.fields,
            "meta": self.meta,
        }

    def jpeg_bytes(self, quality: int = 92) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(self.image).save(buf, format="JPEG", quality=quality)
        return buf.getvalue()


def load_ner_persons(opts: DocOptions) -> tuple[Party, ...]:
    """NER persons for the dev party sources; empty (generated persons stand in) without the data."""
    from luodi.errors import InputNotFoundError

    try:
        return load_parties(opts.source, opts.ner_file)
    except InputNotFoundError:
        if opts.ner_file is not None:
            raise
        return ()


def finish(
    page: Image.Image,
    degrade: str,
    split: str,
    rng: np.random.Generator,
    *,
    stamps: tuple[tuple[str, str, tuple[float, float]], ...] = (),
) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """Stamps (ring text, inner text, centre as a share of the page) on every non-clean page, then a
    photo-like level; ``clean`` returns the page as drawn (stamps included: they are part of a receipt)."""
    img = page.convert("RGB")
    for ring, inner, (fx, fy) in stamps:
        font = pick_font(split, rng, ring + inner).regular
        r = float(rng.uniform(0.09, 0.13)) * min(img.width, img.height * 2)
        img = stamp(img, (fx * img.width, fy * img.height), r, ring, font=font.get(int(r * 0.3)), rng=rng, inner=inner)
    arr = np.asarray(img)
    if degrade == "clean":
        return arr, ["stamp"] * len(stamps), {}
    out, meta = photograph(arr, rng, level=degrade, holdout=split == "holdout")
    return out, ["stamp"] * len(stamps) + meta.pop("effects"), meta


def write_set(
    n: int,
    out_dir: str | os.PathLike[str],
    render: Callable[[int], Any],
    *,
    jpeg_quality: int = 92,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Render samples ``0..n-1`` with ``render`` into ``out_dir/images`` and ``out_dir/labels.jsonl``."""
    if n <= 0:
        raise ConfigError("the number of documents must be positive")
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    for i in range(n):
        sample = render(i)
        rel = f"images/{i:05d}.jpg"
        (out / rel).write_bytes(sample.jpeg_bytes(jpeg_quality))
        records.append(sample.record(rel))
        if progress is not None:
            progress(i + 1)
    with (out / "labels.jsonl").open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
    return records
