"""Synthetic parcel photos: e-waybill labels printed as thermal labels, stuck on bags and cartons.

    from luodi.synth.parcel import ParcelOptions, generate_parcels, render_scene
    records = generate_parcels(40, "out/parcels", ParcelOptions(seed=3, families=("holdout",)))

A frame is a phone close-up (one parcel fills it) or a sorting-line view (parcels on a belt, a
floor, rollers, a table), 4–12 MP, with 1–4 labels. Each label is a waybill of
:mod:`luodi.synth.waybill` (its layouts, fonts and parties) on thermal paper, turned by any angle,
seen in perspective, folded, wrinkled or bent, then the whole frame gets uneven light, glare,
shadow, motion or focus blur, sensor noise and JPEG loss. Scene ``i`` depends only on
``(seed, i)`` and the options.

Texture families (:mod:`luodi.synth.parcel_textures`) and waybill layouts are split into ``dev``
and ``holdout`` groups: train and tune on ``dev``, report ``holdout`` apart.

Output: ``DIR/images/NNNNN.jpg`` and ``DIR/labels.jsonl``, one record per frame:
``{"image", "width", "height", "families": [...], "holdout": bool, "view": "closeup"|"overview",
"labels": [{"quad", "polygon", "fields", "layout", "holdout", "cut_off", "visible", "angle",
"flat"}]}``. ``quad`` is the label's four corners in frame pixels, clockwise from the label's own
top-left (so it carries the label's orientation); ``polygon`` its outline (it bends with the label);
``visible`` the fraction of the label inside the frame (``cut_off`` when below 1). With ``flat``,
``DIR/flat/NNNNN_J.png`` is label J as printed, flat and upright: the reference a reader of the
photo is compared with.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from luodi.errors import ConfigError
from luodi.synth.parcel_textures import DEV_FAMILIES, FAMILIES, HOLDOUT_FAMILIES, smooth_noise

__all__ = [
    "DEV_FAMILIES",
    "FAMILIES",
    "HOLDOUT_FAMILIES",
    "LabelArt",
    "ParcelOptions",
    "ParcelScene",
    "PlacedLabel",
    "generate_parcels",
    "render_scene",
    "resolve_families",
    "waybill_labels",
    "write_fake_ner",
]

_GROUPS = {"dev": DEV_FAMILIES, "holdout": HOLDOUT_FAMILIES, "all": tuple(FAMILIES)}


def resolve_families(names: Iterable[str]) -> tuple[str, ...]:
    """Family names from names and the groups ``dev``, ``holdout``, ``all`` (comma-separated too)."""
    out: list[str] = []
    for raw in names:
        for name in (n.strip() for n in raw.split(",")):
            if not name:
                continue
            group = _GROUPS.get(name)
            if group is None and name not in FAMILIES:
                raise ConfigError(
                    f"unknown parcel texture family {name!r}; choose from {', '.join([*FAMILIES, *_GROUPS])}"
                )
            for item in group or (name,):
                if item not in out:
                    out.append(item)
    if not any(FAMILIES[n].kind == "surface" for n in out):
        raise ConfigError("parcel scenes need at least one surface family (a bag or a carton to stick labels on)")
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ParcelOptions:
    """What to render. ``families``: texture families or groups; ``layouts``: waybill layouts or
    groups (``dev``, ``holdout``, ``all``); ``labels``: the least and most labels per frame;
    ``megapixels``: the frame size range; ``scale`` renders everything smaller by that factor (the
    locator trains on thumbnails); ``cut_off_rate``: frames whose label runs off the frame edge;
    ``empty_rate``: frames with no label at all."""

    families: tuple[str, ...] = DEV_FAMILIES
    layouts: tuple[str, ...] = ("dev",)
    labels: tuple[int, int] = (1, 4)
    megapixels: tuple[float, float] = (4.0, 12.0)
    scale: float = 1.0
    seed: int = 0
    source: str = "train"
    ner_file: str | None = None
    cut_off_rate: float = 0.0
    empty_rate: float = 0.0
    jpeg_quality: tuple[int, int] = (75, 95)

    def __post_init__(self) -> None:
        object.__setattr__(self, "families", resolve_families(self.families))
        lo, hi = self.labels
        if not 0 <= lo <= hi <= 40:
            raise ConfigError(f"labels per frame must be 0 <= min <= max <= 40, got {lo}..{hi}")
        mlo, mhi = self.megapixels
        if not 0.05 <= mlo <= mhi <= 100:
            raise ConfigError(f"megapixels must be within 0.05..100 and min <= max, got {mlo}..{mhi}")
        if not 0.02 <= self.scale <= 1.0:
            raise ConfigError(f"scale must be within 0.02..1, got {self.scale}")
        for what, rate in (("cut_off_rate", self.cut_off_rate), ("empty_rate", self.empty_rate)):
            if not 0.0 <= rate <= 1.0:
                raise ConfigError(f"{what} must be between 0 and 1")
        if self.seed < 0:
            raise ConfigError("seed must be a non-negative integer")


@dataclass(frozen=True, slots=True, eq=False)
class LabelArt:
    """A label as printed: upright RGB, its ground-truth fields and where it came from."""

    image: np.ndarray
    fields: dict[str, Any]
    layout: str
    holdout: bool
    index: int
    lines: tuple[tuple[str, tuple[int, int, int, int]], ...] = ()  # every string drawn and its box


@dataclass(frozen=True, slots=True, eq=False)
class PlacedLabel:
    art: LabelArt
    quad: np.ndarray  # 4×2 frame pixels, clockwise from the label's top-left
    polygon: np.ndarray  # N×2 outline in frame pixels
    angle: float  # degrees the label's top edge is turned (counter-clockwise, image y down)
    visible: float  # fraction of the label inside the frame
    lines: tuple[tuple[str, np.ndarray], ...] = ()  # each string printed and its 4×2 box in the frame

    @property
    def cut_off(self) -> bool:
        return self.visible < 0.999

    def record(self, flat: str | None) -> dict[str, Any]:
        def pts(a: np.ndarray) -> list[list[float]]:
            return [[round(float(x), 1), round(float(y), 1)] for x, y in a]

        return {
            "quad": pts(self.quad),
            "polygon": pts(self.polygon),
            "fields": self.art.fields,
            "layout": self.art.layout,
            "holdout": self.art.holdout,
            "waybill_index": self.art.index,
            "angle": round(self.angle, 1),
            "visible": round(self.visible, 3),
            "cut_off": self.cut_off,
            "flat": flat,
            "lines": [{"text": text, "box": pts(box)} for text, box in self.lines],
        }


@dataclass(frozen=True, slots=True, eq=False)
class ParcelScene:
    index: int
    image: np.ndarray  # RGB uint8
    labels: tuple[PlacedLabel, ...]
    families: tuple[str, ...]
    view: str
    jpeg_quality: int
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def holdout(self) -> bool:
        return any(FAMILIES[f].holdout for f in self.families) or any(p.art.holdout for p in self.labels)

    def jpeg_bytes(self) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(self.image).save(buf, format="JPEG", quality=self.jpeg_quality)
        return buf.getvalue()


LabelSource = Callable[[int], LabelArt]


def waybill_labels(options: ParcelOptions) -> LabelSource:
    """Label ``k`` is waybill ``k`` of :func:`luodi.synth.waybill.render_waybill` with the same seed."""
    from luodi.synth.waybill import WaybillOptions, render_waybill

    wopts = WaybillOptions(layouts=options.layouts, seed=options.seed, source=options.source, ner_file=options.ner_file)

    def source(k: int) -> LabelArt:
        sample = render_waybill(k, wopts)
        return LabelArt(sample.image, sample.fields, sample.layout, sample.holdout, k, sample.text_layer)

    return source


# --- geometry --------------------------------------------------------------------------------------
def _frame_size(rng: np.random.Generator, opts: ParcelOptions) -> tuple[int, int]:
    mp = rng.uniform(*opts.megapixels) * 1e6
    aspect = float(rng.choice([4 / 3, 16 / 9, 3 / 2]))
    short = math.sqrt(mp / aspect)
    h, w = short, short * aspect
    if rng.random() < 0.55:  # phones shoot portrait more often than not
        h, w = w, h
    return max(64, round(h * opts.scale)), max(64, round(w * opts.scale))


def _displacement(rng: np.random.Generator, lh: int, lw: int, bent: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fold and wrinkle displacement (du, dv in label pixels) and a shading field, on a coarse grid."""
    gh, gw = max(8, lh // 8), max(8, lw // 8)
    sy, sx = lh / gh, lw / gw
    v, u = np.mgrid[0:gh, 0:gw].astype(np.float32)
    u, v = u * sx, v * sy
    du = np.zeros((gh, gw), np.float32)
    dv = np.zeros((gh, gw), np.float32)
    light = np.zeros((gh, gw), np.float32)
    size = float(min(lh, lw))
    wrinkle = rng.uniform(0.0, 0.012) * size
    du += wrinkle * smooth_noise(rng, gh, gw, 4)
    dv += wrinkle * smooth_noise(rng, gh, gw, 4)
    for _ in range(int(rng.integers(0, 4))):  # folds: a crease line, paper on either side offset
        a = rng.uniform(0, np.pi)
        nx, ny = math.cos(a), math.sin(a)
        c = rng.uniform(0.2, 0.8) * np.array([lw, lh])
        dist = (u - c[0]) * nx + (v - c[1]) * ny
        width = rng.uniform(0.01, 0.05) * size
        step = np.tanh(dist / width)
        amp = rng.uniform(0.002, 0.012) * size
        du += amp * step * nx
        dv += amp * step * ny
        light += rng.uniform(-0.25, 0.25) * np.exp(-((dist / width) ** 2))
    if bent:  # wrapped over an edge or a bulge: a smooth quadratic sag
        amp = rng.uniform(0.03, 0.08) * size * rng.choice([-1.0, 1.0])
        if rng.random() < 0.5:
            dv += amp * ((u / lw - 0.5) * 2) ** 2
        else:
            du += amp * ((v / lh - 0.5) * 2) ** 2
    return du, dv, light


def _sample(grid: np.ndarray, u: np.ndarray, v: np.ndarray, lh: int, lw: int) -> np.ndarray:
    gh, gw = grid.shape
    mx = (u * (gw / lw)).astype(np.float32)
    my = (v * (gh / lh)).astype(np.float32)
    return np.asarray(cv2.remap(grid, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), dtype=np.float32)


def _outline(lw: int, lh: int, per_edge: int = 8) -> np.ndarray:
    t = np.linspace(0, 1, per_edge, endpoint=False)
    top = np.stack([t * lw, np.zeros_like(t)], 1)
    right = np.stack([np.full_like(t, lw), t * lh], 1)
    bottom = np.stack([(1 - t) * lw, np.full_like(t, lh)], 1)
    left = np.stack([np.zeros_like(t), (1 - t) * lh], 1)
    return np.concatenate([top, right, bottom, left]).astype(np.float32)


def _forward(
    points: np.ndarray, homography: np.ndarray, fields: tuple[np.ndarray, ...], lh: int, lw: int
) -> np.ndarray:
    du, dv, _ = fields
    u, v = points[:, 0].reshape(1, -1), points[:, 1].reshape(1, -1)
    shifted = points + np.stack([_sample(du, u, v, lh, lw)[0], _sample(dv, u, v, lh, lw)[0]], 1)
    return np.asarray(cv2.perspectiveTransform(shifted.reshape(-1, 1, 2).astype(np.float64), homography)).reshape(-1, 2)


def _thermal(art: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Thermal paper: a cool or warm white, ink a little faded and uneven."""
    img = art.astype(np.float32)
    tint = np.array([rng.uniform(0.94, 1.0), rng.uniform(0.95, 1.0), rng.uniform(0.93, 1.0)], np.float32)
    fade = rng.uniform(0, 50) * (0.6 + 0.4 * smooth_noise(rng, img.shape[0], img.shape[1], 3))
    ink = 1.0 - img / 255.0
    printed = 255.0 - ink * (255.0 - fade[..., None])
    return np.asarray(printed * tint, dtype=np.float32)


def _paste_label(
    frame: np.ndarray,
    art: np.ndarray,
    corners: np.ndarray,
    fields: tuple[np.ndarray, np.ndarray, np.ndarray],
    shading: float,
) -> None:
    """Warp ``art`` (float RGB, label pixels) onto ``frame`` (float RGB) in place."""
    lh, lw = art.shape[:2]
    src = np.array([[0, 0], [lw, 0], [lw, lh], [0, lh]], np.float32)
    hom = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    outline = _forward(_outline(lw, lh), hom, fields, lh, lw)
    fh, fw = frame.shape[:2]
    x0, y0 = np.floor(outline.min(0)).astype(int) - 2
    x1, y1 = np.ceil(outline.max(0)).astype(int) + 2
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(fw, x1), min(fh, y1)
    if x1 <= x0 or y1 <= y0:
        return
    inv = np.linalg.inv(hom).astype(np.float32)
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    den = inv[2, 0] * xs + inv[2, 1] * ys + inv[2, 2]
    u0 = (inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]) / den
    v0 = (inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]) / den
    du, dv, light = fields
    # first-order inverse of p -> p + D(p): the fields are smooth and small against the label
    u = (u0 - _sample(du, u0, v0, lh, lw)).astype(np.float32)
    v = (v0 - _sample(dv, u0, v0, lh, lw)).astype(np.float32)
    alpha = np.ones((lh, lw), np.float32)
    rgba = np.dstack([art, alpha])
    warped = cv2.remap(rgba, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    a = warped[..., 3:4]
    lit = warped[..., :3] * (1.0 + shading * _sample(light, u, v, lh, lw))[..., None]
    region = frame[y0:y1, x0:x1]
    region *= 1.0 - a
    region += lit * a


def _visible(polygon: np.ndarray, h: int, w: int) -> float:
    from shapely.geometry import Polygon, box

    poly = Polygon(polygon)
    if not poly.is_valid:
        poly = poly.buffer(0)
    area = poly.area
    return 1.0 if area <= 0 else float(poly.intersection(box(0, 0, w, h)).area / area)


def _overlaps(polygon: np.ndarray, placed: Sequence[np.ndarray], margin: float) -> bool:
    from shapely.geometry import Polygon

    poly = Polygon(polygon).buffer(margin)
    return any(poly.intersects(Polygon(p)) for p in placed)


def _label_corners(
    rng: np.random.Generator, centre: np.ndarray, size: tuple[float, float], angle: float, tilt: float
) -> np.ndarray:
    lw, lh = size
    rad = math.radians(angle)
    ax = np.array([math.cos(rad), -math.sin(rad)])  # the label's top edge direction (y down)
    ay = np.array([math.sin(rad), math.cos(rad)])  # its left edge, downwards
    base = np.array(
        [-lw / 2 * ax - lh / 2 * ay, lw / 2 * ax - lh / 2 * ay, lw / 2 * ax + lh / 2 * ay, -lw / 2 * ax + lh / 2 * ay]
    )
    jitter = rng.uniform(-tilt, tilt, (4, 2)) * max(lw, lh)
    return np.asarray(centre + base + jitter, dtype=np.float32)


# --- parcels in a sorting-line view ------------------------------------------------------------------
def _parcel_polygon(rng: np.random.Generator, centre: np.ndarray, pw: float, ph: float, bag: bool) -> np.ndarray:
    angle = rng.uniform(0, 2 * np.pi)
    if bag:  # a lumpy rounded outline
        t = np.linspace(0, 2 * np.pi, 36, endpoint=False)
        r = 1.0 + 0.08 * np.sin(3 * t + rng.uniform(0, 6)) + 0.05 * np.sin(5 * t + rng.uniform(0, 6))
        sq = np.sign(np.cos(t)) * np.abs(np.cos(t)) ** 0.6, np.sign(np.sin(t)) * np.abs(np.sin(t)) ** 0.6
        pts = np.stack([sq[0] * pw / 2 * r, sq[1] * ph / 2 * r], 1)
    else:
        pts = np.array([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]])
        pts = pts + rng.uniform(-0.03, 0.03, (4, 2)) * max(pw, ph)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return np.asarray(pts @ rot.T + centre, dtype=np.float32)


def _paste_parcel(frame: np.ndarray, polygon: np.ndarray, texture: np.ndarray, origin: tuple[int, int]) -> None:
    h, w = frame.shape[:2]
    ox, oy = origin
    th, tw = texture.shape[:2]
    # a soft drop shadow below and to one side, drawn on a thumbnail (it is blurry anyway)
    k = 8
    small = np.zeros((max(1, h // k), max(1, w // k)), np.float32)
    shift = np.array([0.012 * w, 0.008 * h], np.float32)
    cv2.fillPoly(small, [np.round((polygon + shift) / k).astype(np.int32)], 1.0)
    small = cv2.GaussianBlur(small, (0, 0), max(1.0, 0.006 * max(h, w) / k))
    frame *= (1.0 - 0.45 * cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))[..., None]
    mask = np.zeros((th, tw), np.float32)
    cv2.fillPoly(mask, [np.round(polygon - [ox, oy]).astype(np.int32)], 1.0, lineType=cv2.LINE_AA)
    sub = mask[..., None]
    region = frame[oy : oy + th, ox : ox + tw]
    region *= 1 - sub
    region += texture * sub


# --- the scene ---------------------------------------------------------------------------------------
def render_scene(index: int, options: ParcelOptions | None = None, *, labels: LabelSource | None = None) -> ParcelScene:
    """Frame number ``index`` of the set described by ``options`` (deterministic). ``labels`` gives
    label art by number (default: :func:`waybill_labels`)."""
    opts = options or ParcelOptions()
    if index < 0:
        raise ConfigError("scene index must be non-negative")
    source = labels or waybill_labels(opts)
    rng = np.random.default_rng([opts.seed, index, 0x9A2C])
    h, w = _frame_size(rng, opts)
    surfaces = [f for f in opts.families if FAMILIES[f].kind == "surface"]
    backgrounds = [f for f in opts.families if FAMILIES[f].kind == "background"]
    lo, hi = opts.labels
    n = 0 if rng.random() < opts.empty_rate else int(rng.integers(lo, hi + 1))
    closeup = not backgrounds or (n <= 2 and rng.random() < 0.6)
    used: list[str] = []
    regions: list[np.ndarray] = []  # where labels may go: a parcel's outline (or the whole frame)
    if closeup:
        fam = surfaces[int(rng.integers(0, len(surfaces)))]
        used.append(fam)
        frame = FAMILIES[fam].draw(rng, h, w)
        regions = [np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)] * n
        label_area = [rng.uniform(0.2, 0.5) if n <= 1 else rng.uniform(0.1, 0.22) for _ in range(n)]
    else:
        fam = backgrounds[int(rng.integers(0, len(backgrounds)))]
        used.append(fam)
        frame = FAMILIES[fam].draw(rng, h, w)
        label_area = []
        parcels = max(n, 1) + int(rng.random() < 0.3)  # sometimes a parcel without a label
        share = 0.75 / parcels
        for k in range(parcels):
            sfam = surfaces[int(rng.integers(0, len(surfaces)))]
            if sfam not in used:
                used.append(sfam)
            area = rng.uniform(0.5, 1.0) * share * h * w
            ratio = rng.uniform(0.6, 1.6)
            pw, ph = math.sqrt(area * ratio), math.sqrt(area / ratio)
            for _ in range(30):
                centre = np.array([rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h])
                poly = _parcel_polygon(rng, centre, pw, ph, sfam.startswith("poly"))
                if not _overlaps(poly, regions, -0.05 * min(pw, ph)):
                    break
            regions.append(poly)
            x0, y0 = np.clip(np.floor(poly.min(0)).astype(int), 0, [w - 1, h - 1])
            x1, y1 = np.clip(np.ceil(poly.max(0)).astype(int), [x0 + 1, y0 + 1], [w, h])
            _paste_parcel(frame, poly, FAMILIES[sfam].draw(rng, int(y1 - y0), int(x1 - x0)), (int(x0), int(y0)))
            if k < n:
                label_area.append(rng.uniform(0.25, 0.55) * area / (h * w))
        regions = regions[:n]
    placed = _place_labels(frame, rng, regions, label_area, source=source, index=index, opts=opts)
    image = _photo_effects(frame, rng, opts.scale)
    quality = int(rng.integers(opts.jpeg_quality[0], opts.jpeg_quality[1] + 1))
    return ParcelScene(index, image, tuple(placed), tuple(used), "closeup" if closeup else "overview", quality)


def _place_labels(  # noqa: PLR0915 - one placement recipe, step by step
    frame: np.ndarray,
    rng: np.random.Generator,
    regions: Sequence[np.ndarray],
    areas: Sequence[float],
    *,
    source: LabelSource,
    index: int,
    opts: ParcelOptions,
) -> list[PlacedLabel]:
    h, w = frame.shape[:2]
    placed: list[PlacedLabel] = []
    outlines: list[np.ndarray] = []
    for j, (region, frac) in enumerate(zip(regions, areas, strict=True)):
        art = source(index * 4 + j if len(regions) <= 4 else index * 40 + j)
        ah, aw = art.image.shape[:2]
        scale = math.sqrt(frac * h * w / (ah * aw))
        lw, lh = aw * scale, ah * scale
        angle = float(rng.uniform(0, 360))
        tilt = float(rng.uniform(0, 0.08))
        bent = bool(rng.random() < 0.15)
        cut = bool(rng.random() < opts.cut_off_rate) and j == 0
        corners = None
        rmin, rmax = region.min(0), region.max(0)
        for attempt in range(80):
            if attempt and attempt % 10 == 0:  # a label that will not fit gets smaller
                lw, lh = lw * 0.85, lh * 0.85
            # around the region's middle first, anywhere in it later
            spread = min(1.0, 0.3 + attempt / 40)
            middle = region.mean(0)
            centre = middle + rng.uniform(-spread, spread, 2) * (rmax - rmin) / 2
            cand = _label_corners(rng, centre, (lw, lh), angle, tilt)
            if cut:
                # push the label over an edge so 10-40% of it falls outside
                edge = int(rng.integers(0, 4))
                side = (lw + lh) / 2
                shift = rng.uniform(0.1, 0.4) * side
                target = [
                    (0, cand[:, 1].mean()),
                    (w, cand[:, 1].mean()),
                    (cand[:, 0].mean(), 0),
                    (cand[:, 0].mean(), h),
                ][edge]
                centre = np.array(target, dtype=np.float64)
                centre += [
                    (side / 2 - shift, 0),
                    (-(side / 2 - shift), 0),
                    (0, side / 2 - shift),
                    (0, -(side / 2 - shift)),
                ][edge]
                cand = _label_corners(rng, centre, (lw, lh), angle, tilt)
                # a long label pushed across its short side can lose more than that: try again
                if 0.55 <= _visible(cand, h, w) <= 0.92 and not _overlaps(cand, outlines, 0.02 * side):
                    corners = cand
                    break
                continue
            inside = all(
                cv2.pointPolygonTest(region.reshape(-1, 1, 2), (float(x), float(y)), False) >= 0 for x, y in cand
            )
            # folds and bends move the outline by up to ~13% of the short side (see _displacement)
            pad = 0.13 * min(lw, lh)
            inframe = bool((cand >= [pad, pad]).all() and (cand <= [w - pad, h - pad]).all())
            if inside and inframe and not _overlaps(cand, outlines, 0.02 * min(lw, lh)):
                corners = cand
                break
        if corners is None:
            continue
        # print the art at about the size it will have in the frame (no aliasing), never larger
        k = min(1.0, 1.25 * max(lw / aw, lh / ah))
        img = (
            art.image
            if k >= 1.0
            else cv2.resize(art.image, (max(8, round(aw * k)), max(8, round(ah * k))), interpolation=cv2.INTER_AREA)
        )
        paper = _thermal(np.asarray(img), rng)
        ph, pw = paper.shape[:2]
        fields = _displacement(rng, ph, pw, bent)
        _paste_label(frame, paper, corners, fields, shading=float(rng.uniform(0.3, 1.0)))
        src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
        hom = cv2.getPerspectiveTransform(src, corners)
        quad = _forward(src, hom, fields, ph, pw)
        polygon = _forward(_outline(pw, ph), hom, fields, ph, pw)
        outlines.append(polygon)
        lines = _line_boxes(art, (pw, ph), hom, fields)
        placed.append(PlacedLabel(art, quad, polygon, angle, _visible(polygon, h, w), lines))
    return placed


def _line_boxes(
    art: LabelArt, size: tuple[int, int], hom: np.ndarray, fields: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[tuple[str, np.ndarray], ...]:
    """Each printed string's box on the flat art, through the label's folds and perspective."""
    if not art.lines:
        return ()
    lw, lh = size
    kx, ky = lw / art.image.shape[1], lh / art.image.shape[0]
    corners = []
    for _, (x0, y0, x1, y1) in art.lines:
        corners.extend([(x0 * kx, y0 * ky), (x1 * kx, y0 * ky), (x1 * kx, y1 * ky), (x0 * kx, y1 * ky)])
    mapped = _forward(np.asarray(corners, np.float32), hom, fields, lh, lw).reshape(-1, 4, 2)
    return tuple((text, box.astype(np.float32)) for (text, _), box in zip(art.lines, mapped, strict=True))


def _photo_effects(frame: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
    """Uneven light, shadow, glare, colour cast, blur, noise; float RGB in, uint8 RGB out."""
    h, w = frame.shape[:2]
    small_h, small_w = max(8, h // 16), max(8, w // 16)
    light = 1.0 + rng.uniform(0.05, 0.3) * smooth_noise(rng, small_h, small_w, 2)
    if rng.random() < 0.35:  # a hand's or a phone's shadow from one side
        mask = np.zeros((small_h, small_w), np.float32)
        pts = rng.uniform(0, 1, (5, 2)) * [small_w, small_h]
        pts[0] = [0, 0] if rng.random() < 0.5 else [small_w, small_h]
        cv2.fillPoly(mask, [cv2.convexHull(pts.astype(np.int32))], 1.0)
        mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, small_w / 30))
        light *= 1.0 - rng.uniform(0.2, 0.55) * mask
    if rng.random() < 0.35:  # a specular glare spot
        yy, xx = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
        cx, cy = rng.uniform(0.2, 0.8) * small_w, rng.uniform(0.2, 0.8) * small_h
        rx, ry = rng.uniform(0.03, 0.15) * small_w, rng.uniform(0.03, 0.15) * small_h
        glare = np.exp(-(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2))
        light += rng.uniform(0.4, 1.2) * glare
    gain = rng.uniform(0.9, 1.1, 3).astype(np.float32)
    light_full = cv2.resize(light.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    frame *= light_full[..., None]  # in place: a 12 MP float frame is 144 MB
    frame *= gain
    np.clip(frame, 0, 255, out=frame)
    img = frame.astype(np.uint8)
    if rng.random() < 0.25:  # motion along a sorting line or a shaking hand
        length = max(2, round(rng.uniform(0.0005, 0.0035) * math.hypot(h, w)))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1.0)
        kernel = np.asarray(cv2.warpAffine(kernel, rot, (length, length)), dtype=np.float32)
        kernel /= max(float(kernel.sum()), 1e-6)
        img = np.asarray(cv2.filter2D(img, -1, kernel), dtype=np.uint8)
    sigma = rng.uniform(0, 1.2) * max(scale, 0.25)
    if sigma > 0.3:
        img = np.asarray(cv2.GaussianBlur(img, (0, 0), sigma), dtype=np.uint8)
    noise = rng.standard_normal((h, w), dtype=np.float32)
    noise *= rng.uniform(1.0, 5.0)
    out = img.astype(np.float32)
    out += noise[..., None]
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


# --- files ----------------------------------------------------------------------------------------------
def generate_parcels(
    n: int,
    out_dir: str | os.PathLike[str],
    options: ParcelOptions | None = None,
    *,
    flat: bool = True,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Write ``n`` frames to ``out_dir/images`` (and each label flat to ``out_dir/flat``) and their
    ground truth to ``out_dir/labels.jsonl``."""
    opts = options or ParcelOptions()
    if n <= 0:
        raise ConfigError("the number of frames must be positive")
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    if flat:
        (out / "flat").mkdir(parents=True, exist_ok=True)
    source = waybill_labels(opts)
    records: list[dict[str, Any]] = []
    for i in range(n):
        scene = render_scene(i, opts, labels=source)
        rel = f"images/{i:05d}.jpg"
        (out / rel).write_bytes(scene.jpeg_bytes())
        labels = []
        for j, placed in enumerate(scene.labels):
            flat_rel = None
            if flat:
                flat_rel = f"flat/{i:05d}_{j}.png"
                Image.fromarray(placed.art.image).save(out / flat_rel)
            labels.append(placed.record(flat_rel))
        h, w = scene.image.shape[:2]
        records.append(
            {
                "image": rel,
                "width": w,
                "height": h,
                "families": list(scene.families),
                "holdout": scene.holdout,
                "view": scene.view,
                "labels": labels,
                "seed": opts.seed,
                "index": i,
            }
        )
        if progress is not None:
            progress(i + 1)
    with (out / "labels.jsonl").open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
    return records


# --- parties without the shared NER data -----------------------------------------------------------------
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅琳晨宇轩浩然子涵欣怡诗雨梓萱博文"
_ROADS = "人民解放建设中山和平新华文化胜利朝阳青年光明长江黄河东风幸福育才工业友谊滨江"
_SUFFIX = ("路", "大道", "街", "巷")


def write_fake_ner(path: str | os.PathLike[str], n: int = 400, seed: int = 0) -> Path:
    """An express-NER-format file of ``n`` invented parties (gazetteer divisions, common surnames,
    made-up streets and phones): waybill art for training a locator where the shared NER data is
    absent. Nothing here is a real person."""
    from luodi.kie.gazetteer import Level, get_gazetteer
    from luodi.kie.surnames import SINGLE_SURNAMES

    gaz = get_gazetteer()
    districts = [d for d in gaz if d.level == Level.DISTRICT and d.current]
    surnames = sorted(SINGLE_SURNAMES)
    rng = np.random.default_rng([seed, 0xFA4E])
    rows = ["text_a\tlabel"]
    for _ in range(n):
        d = districts[int(rng.integers(0, len(districts)))]
        city = gaz.parent(d)
        prov = gaz.parent(city) if city is not None else None
        name = surnames[int(rng.integers(0, len(surnames)))] + "".join(
            _GIVEN[int(k)] for k in rng.integers(0, len(_GIVEN), int(rng.integers(1, 3)))
        )
        phone = "1" + str(int(rng.choice([3, 5, 7, 8, 9]))) + "".join(str(int(k)) for k in rng.integers(0, 10, 9))
        k = int(rng.integers(0, len(_ROADS) // 2)) * 2
        road = _ROADS[k : k + 2] + _SUFFIX[int(rng.integers(0, len(_SUFFIX)))]
        detail = f"{road}{int(rng.integers(1, 999))}号"
        parts: list[tuple[str, str]] = [(name, "P"), (phone, "T")]
        for text, tag in (
            (prov.name if prov else None, "A1"),
            (city.name if city else None, "A2"),
            (d.name, "A3"),
            (detail, "A4"),
        ):
            if text:
                parts.append((text, tag))
        chars: list[str] = []
        tags: list[str] = []
        for text, tag in parts:
            for i, ch in enumerate(text):
                chars.append(ch)
                tags.append(f"{tag}-{'B' if i == 0 else 'I'}")
        rows.append("\x02".join(chars) + "\t" + "\x02".join(tags))
    p = Path(path)
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return p
