"""Why parcel labels are missed and what fires as a false label (issue #19), stage by stage.

    .venv/bin/python bench/parcel_misses.py --frames 24 --seed 43                  # dev: every case
    .venv/bin/python bench/parcel_misses.py --families holdout --frames 20 --seed 12 --counts-only

Each frame is located three ways — the network's regions alone (``net``), the locator's answer
(``locator``: the net refined by geometry, cut to text blocks) and what OCR keeps (``read``: regions
with too little text dropped) — and every label fully inside the frame is matched (outline IoU ≥ 0.5)
at each stage. A label ``read`` misses is put in the first class that fits:

- ``dropped_by_reader``: the locator found it, the reader dropped it (too few text boxes or characters);
- ``merged``: one region covers most of it and most of another label;
- ``with_surround``: one region covers most of it and much more (its bag or box with it);
- ``partial``: regions cover part of it (split, or cut short);
- ``unseen``: nothing covers it; then described: small (< 1.5% of the frame), low contrast (label vs
  its surround, < 30 of 255 in lightness), turned (> 10° off the axes), bent (outline > 3% off its quad).

A false document (matching no label) is ``part_of_label`` when a label covers half of it, else
``background``, described by its frame's texture families, its lightness and its share of ink.

On held-out families pass ``--counts-only``: aggregate counts, nothing per frame (they stay blind).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from parcel_bench import _frames, _load, _match, _ner_file  # noqa: E402

STAGES = ("net", "locator", "read")


def _cover(doc: Any, label: Any) -> float:
    """Share of ``label``'s area inside ``doc``."""
    from shapely.geometry import Polygon

    d, g = Polygon(doc).buffer(0), Polygon(label).buffer(0)
    return float(d.intersection(g).area / g.area) if g.area > 0 else 0.0


def _features(page: np.ndarray, label: dict[str, Any]) -> dict[str, Any]:
    from luodi.ocr.straighten import bend

    h, w = page.shape[:2]
    quad = np.asarray(label["quad"], np.float32)
    outline = np.asarray(label["polygon"], np.float32)
    k = 4
    small = cv2.resize(page, (w // k, h // k), interpolation=cv2.INTER_AREA)
    light = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)[..., 0]
    inside = np.zeros(light.shape, np.uint8)
    cv2.fillPoly(inside, [np.round(outline / k).astype(np.int32)], 1)
    side = max(3, int(0.15 * min(cv2.minAreaRect(quad)[1]) / k))
    ring = cv2.dilate(inside, np.ones((side, side), np.uint8)) - inside
    contrast = float(np.percentile(light[inside > 0], 75)) - float(light[ring > 0].mean()) if ring.any() else 0.0
    heights = [min(cv2.minAreaRect(np.asarray(line["box"], np.float32))[1]) for line in label["lines"]]
    return {
        "area": float(cv2.contourArea(quad)) / (h * w),
        "contrast": contrast,
        "angle": abs(((label["angle"] + 45) % 90) - 45),
        "bend": bend(outline, quad),
        "line_px": float(np.median(heights)) if heights else 0.0,
    }


def _miss_class(label: dict[str, Any], others: list[dict[str, Any]], docs: list[Any]) -> str:
    poly = label["polygon"]
    covers = [(_cover(d, poly), d) for d in docs]
    best, doc = max(covers, key=lambda c: c[0], default=(0.0, None))
    if best >= 0.6 and doc is not None:
        if any(_cover(doc, o["polygon"]) >= 0.5 for o in others):
            return "merged"
        return "with_surround"
    if best >= 0.2:
        return "partial"
    return "unseen"


def _describe(feat: dict[str, Any]) -> list[str]:
    out = []
    if feat["area"] < 0.015:
        out.append("small")
    if feat["contrast"] < 30:
        out.append("low_contrast")
    if feat["angle"] > 10:
        out.append("turned")
    if feat["bend"] > 0.03:
        out.append("bent")
    return out or ["none_of_these"]


def _false_class(page: np.ndarray, quad: Any, labels: list[dict[str, Any]]) -> tuple[str, dict[str, float]]:
    from shapely.geometry import Polygon

    d = Polygon(quad).buffer(0)
    covered = max((d.intersection(Polygon(lb["polygon"]).buffer(0)).area for lb in labels), default=0.0)
    h, w = page.shape[:2]
    mask = np.zeros((h // 4, w // 4), np.uint8)
    cv2.fillPoly(mask, [np.round(np.asarray(quad) / 4).astype(np.int32)], 1)
    small = cv2.resize(page, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    ink = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, np.ones((9, 9), np.uint8)) > 35
    desc = {
        "area": round(float(d.area) / (h * w), 4),
        "lightness": round(float(gray[mask > 0].mean()), 1) if mask.any() else 0.0,
        "ink": round(float(ink[mask > 0].mean()), 3) if mask.any() else 0.0,
    }
    return ("part_of_label" if d.area > 0 and covered >= 0.5 * d.area else "background"), desc


def _stages(ocr: Any, page: np.ndarray, opts: Any) -> dict[str, list[Any]]:
    from luodi.locate.locator import GEOMETRY_SIDE, _thumbnail

    locator = ocr.locator
    base, _, _ = _thumbnail(page, GEOMETRY_SIDE)
    net = [d.quad.tolist() for d in locator._model_documents(page, base, locator.side)]
    location = locator.locate(page)
    read = ocr._run_page(page, 0, opts, None, [0.0] * 4)
    return {
        "net": net,
        "locator": [d.quad.tolist() for d in location.documents],
        "read": [list(map(list, d.quad)) for d in read.documents],
    }


def _frame(
    ocr: Any, page: np.ndarray, rec: dict[str, Any], tally: dict[str, Counter[str]], opts: Any
) -> dict[str, Any]:
    stages = _stages(ocr, page, opts)
    inside = [lb for lb in rec["labels"] if not lb["cut_off"]]
    hits = {s: _match([{"quad": q} for q in stages[s]], rec["labels"]) for s in STAGES}
    detail: dict[str, Any] = {"image": rec["image"], "families": rec["families"], "misses": [], "false": []}
    for s in STAGES:
        inside_hits = [h for lb, h in zip(rec["labels"], hits[s], strict=True) if not lb["cut_off"]]
        tally[s]["labels"] += len(inside)
        tally[s]["found"] += sum(h is not None for h in inside_hits)
        tally[s]["docs"] += len(stages[s])
        tally[s]["false"] += len(stages[s]) - sum(h is not None for h in hits[s])
    for i, (label, hit) in enumerate(zip(rec["labels"], hits["read"], strict=True)):
        if label["cut_off"]:
            continue
        for d in _describe(_features(page, label)):
            tally["all_labels"][d] += 1  # how common each trait is among all labels, missed or not
        if hit is not None:
            continue
        others = [o for j, o in enumerate(rec["labels"]) if j != i]
        why = "dropped_by_reader" if hits["locator"][i] is not None else _miss_class(label, others, stages["locator"])
        feat = _features(page, label)
        tally["miss"][why] += 1
        for d in _describe(feat):
            tally["miss_" + why][d] += 1
        detail["misses"].append({"class": why, **{k: round(v, 3) for k, v in feat.items()}})
    used = {h for h in hits["read"] if h is not None}
    for j, quad in enumerate(stages["read"]):
        if j in used:
            continue
        why, desc = _false_class(page, quad, rec["labels"])
        tally["false"][why] += 1
        if why == "background":
            tally["false_families"]["+".join(rec["families"])] += 1
        detail["false"].append({"class": why, **desc})
    return detail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--seed", type=int, default=43)
    parser.add_argument("--families", default="dev")
    parser.add_argument("--out", type=Path, default=BENCH / "out" / "parcel_misses")
    parser.add_argument("--counts-only", action="store_true", help="aggregate counts only (held-out families)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-verify", action="store_true", help="read without the text check of regions (before)")
    args = parser.parse_args(argv)
    import tempfile

    from luodi.config import load_settings
    from luodi.io import load_pages
    from luodi.ocr.options import OCROptions
    from luodi.pipeline import Pipeline

    ocr = Pipeline(load_settings(threads=2)).ocr
    with tempfile.TemporaryDirectory() as tmp:
        ner, _ = _ner_file(Path(tmp))
        folder, records = _frames(args.out, args.families, args.frames, args.seed, ner)
    tally: dict[str, Counter[str]] = {}
    for key in (*STAGES, "miss", "false", "false_families", "all_labels"):
        tally[key] = Counter()
    frames = []
    for rec in records:
        (page,) = load_pages((folder / rec["image"]).read_bytes())
        for why in ("dropped_by_reader", "merged", "with_surround", "partial", "unseen"):
            tally.setdefault("miss_" + why, Counter())
        frames.append(_frame(ocr, page, rec, tally, OCROptions(verify=not args.no_verify)))
    summary: dict[str, Any] = {
        "families": args.families,
        "frames": len(records),
        "seed": args.seed,
        "verify": not args.no_verify,
        "load": _load(),
        "stages": {
            s: {
                **dict(tally[s]),
                "recall": round(tally[s]["found"] / max(tally[s]["labels"], 1), 3),
                "false_rate": round(tally[s]["false"] / max(tally[s]["docs"], 1), 3),
            }
            for s in STAGES
        },
        "misses": {k: dict(v) for k, v in tally.items() if k == "miss" or k.startswith("miss_")},
        "false": dict(tally["false"]),
        "all_labels": dict(tally["all_labels"]),
    }
    if not args.counts_only:
        summary["false_families"] = dict(tally["false_families"])
        summary["frames_detail"] = frames
    text = json.dumps(summary, ensure_ascii=False, indent=1)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
