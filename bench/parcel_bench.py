"""Parcel photos (issue #19): labels found, fields read against the same labels flat, time, bad input.

    .venv/bin/python bench/parcel_bench.py                 # writes bench/results/parcel.md and parcel.json
    .venv/bin/python bench/parcel_bench.py --frames 6 --dev-frames 4 --rounds 1   # a quick look

In one run:

1. renders parcel scenes with ``luodi.synth.parcel`` (4-12 MP, 1-4 labels, any rotation, folds,
   glare, blur) from the *holdout* texture families (woven sacks, bubble mailers, printed cartons,
   rollers, wood: never seen by the locator's training or by whoever tuned it) and, apart, the dev
   families; waybill layouts are the dev ones (the extractor's own holdout layouts are kie_bench's
   business), parties from the express NER dev split (invented ones where ../shared is absent);
2. runs ``luodi extract``'s pipeline on each frame's JPEG bytes, on each label's flat render, and on
   the frame with ``--no-locate`` (the before: one frame, one document);
3. matches located documents to labels (outline IoU ≥ 0.5): recall over labels fully in the frame,
   false documents over all documents found, cut-off labels counted apart; field accuracy of the
   photo against the flat render of the same labels (micro over the waybill fields; a label not
   found scores all its fields wrong); the ``--no-locate`` extraction is scored against the label of
   its frame it agrees with most, the frame's other labels get nothing;
4. times a 12 MP frame with one label end to end (bytes in, extraction out), and flat scans with
   the location stage on and off in interleaved rounds (the ratio is the "no slower" target);
5. bad input: frames with no label, labels cut by the frame edge, a 100 MP photo, 30 parcels.

Every number depends on the machine's load: the load average is written beside the timings.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

from luodi.eval.metrics import field_metrics  # noqa: E402

FIELDS = (
    "carrier",
    "tracking_number",
    "receiver_name",
    "receiver_phone",
    "receiver_address",
    "sender_name",
    "sender_phone",
    "sender_address",
    "weight_kg",
    "pieces",
    "item",
    "remarks",
)
_CARRIERS = (
    ("SF", ("顺丰", "SF")),
    ("ZTO", ("中通", "ZTO")),
    ("YTO", ("圆通", "YTO")),
    ("YUNDA", ("韵达", "YUNDA")),
    ("STO", ("申通", "STO")),
    ("JD", ("京东", "JD")),
    ("EMS", ("邮政", "EMS")),
    ("JT", ("极兔", "J&T", "JT")),
)
TARGET_RATIO, TARGET_RECALL, TARGET_FALSE, TARGET_SECONDS = 0.95, 0.99, 0.01, 1.5
# "a flat scan no slower than today": the interleaved median ratio, with 5% for a shared machine's noise
TARGET_FLAT = 1.05


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def dump_result(result: dict[str, Any], rows: list[Any], load_start: float, path: Path | None) -> None:
    """A dev script's result finished: the load at its start and now, and its rows; all but the rows on
    stdout, the whole as JSON at ``path``."""
    result.update({"load": [load_start, _load()], "rows": rows})
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}))
    if path:
        path.write_text(json.dumps(result, indent=1))


def _carrier(value: Any) -> Any:
    if value is None:
        return None
    text = str(value).upper()
    for key, names in _CARRIERS:
        if any(n.upper() in text for n in names):
            return key
    return text


def _values(fields: dict[str, Any]) -> dict[str, Any]:
    out = {k: fields.get(k) for k in FIELDS}
    out["carrier"] = _carrier(out["carrier"])
    return out


def _predicted(entry: dict[str, Any] | None) -> dict[str, Any]:
    if entry is None:
        return dict.fromkeys(FIELDS)
    return _values({k: v.get("value") for k, v in entry["fields"].items()})


def _same(gold: Any, pred: Any) -> bool:
    """A field read right, compared as the accuracy rows compare it (``normalize_text``: NFKC,
    whitespace dropped)."""
    from luodi.eval.metrics import normalize_text

    return gold is not None and pred is not None and normalize_text(str(gold)) == normalize_text(str(pred))


def _iou(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> float:
    from shapely.geometry import Polygon

    pa, pb = Polygon(a).buffer(0), Polygon(b).buffer(0)
    union = pa.union(pb).area
    return float(pa.intersection(pb).area / union) if union > 0 else 0.0


def _jpeg(path: Path) -> bytes:
    return path.read_bytes()


def _ner_file(tmp: Path) -> tuple[str | None, str]:
    """The express NER dev split when ../shared has it, else invented parties."""
    from luodi.errors import InputNotFoundError
    from luodi.synth.waybill_data import resolve_ner_file

    try:
        return str(resolve_ner_file("dev")), "express NER dev split"
    except InputNotFoundError:
        from luodi.synth.parcel import write_fake_ner

        return str(write_fake_ner(tmp / "parties.txt", 400, seed=99)), "invented parties (no ../shared)"


# --- 1-3: location and fields --------------------------------------------------------------------------
def _frames(out: Path, families: str, frames: int, seed: int, ner: str | None) -> tuple[Path, list[dict[str, Any]]]:
    """The frames of one family group, rendered once into ``out/families`` (reused when the count matches)."""
    from luodi.synth.parcel import ParcelOptions, generate_parcels

    folder = out / families
    labels_file = folder / "labels.jsonl"
    if labels_file.is_file() and len(labels_file.read_text(encoding="utf-8").splitlines()) == frames:
        return folder, [json.loads(x) for x in labels_file.read_text(encoding="utf-8").splitlines()]
    opts = ParcelOptions(families=(families,), layouts=("dev",), seed=seed, source="dev", ner_file=ner)
    t0 = time.perf_counter()
    records = generate_parcels(frames, folder, opts)
    print(f"  rendered {frames} {families} frames in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return folder, records


def _match(located: Sequence[dict[str, Any]], labels: Sequence[dict[str, Any]]) -> list[int | None]:
    """For each label, the located document over it (outline IoU >= 0.5, each document used once)."""
    used: set[int] = set()
    out: list[int | None] = []
    for label in labels:
        best, best_iou = None, 0.0
        for j, entry in enumerate(located):
            iou = _iou(entry["quad"], label["polygon"])
            if j not in used and iou > best_iou:
                best, best_iou = j, iou
        hit = best if best is not None and best_iou >= 0.5 else None
        if hit is not None:
            used.add(hit)
        out.append(hit)
    return out


def _before(whole: dict[str, Any], golds: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``--no-locate`` reads a frame as one document: its one extraction is scored against the label
    it agrees with most; every other label of the frame gets nothing."""
    pred = _predicted(whole)
    agree = [sum(1 for k in FIELDS if g[k] is not None and str(g[k]) == str(pred[k])) for g in golds]
    best = max(range(len(golds)), key=lambda i: agree[i]) if golds else -1
    return [pred if i == best else dict.fromkeys(FIELDS) for i in range(len(golds))]


def _invented(preds: Sequence[dict[str, Any]], golds: Sequence[dict[str, Any]]) -> int:
    """Fields given a value where the label has none."""
    return sum(
        1 for p, g in zip(preds, golds, strict=True) for k in FIELDS if g[k] in (None, "") and p[k] not in (None, "")
    )


def _geometry_hits(geometry: Any, data: bytes, labels: Sequence[dict[str, Any]]) -> tuple[int, int, int]:
    """Classical geometry alone on the same frame: (labels inside the frame found, false documents, documents)."""
    from luodi.io import load_pages

    (page,) = load_pages(data)
    docs = [{"quad": d.quad.tolist()} for d in geometry.locate(page).documents]
    hits = _match(docs, labels)
    found = sum(hit is not None for label, hit in zip(labels, hits, strict=True) if not label["cut_off"])
    return found, len(docs) - sum(hit is not None for hit in hits), len(docs)


def _bent_pair(pipeline: Any, patch_task: Any, data: bytes, label: dict[str, Any]) -> dict[str, Any] | None:
    """A bent label read again through the Coons patch of its outline (``unwarp``): what the unwarp is worth."""
    off = pipeline.run(patch_task, data).result.to_dict().get("documents", [])
    match = max(off, key=lambda e: _iou(e["quad"], label["polygon"]), default=None)
    return match if match is not None and _iou(match["quad"], label["polygon"]) >= 0.5 else None


def accuracy(pipeline: Any, out: Path, families: str, frames: int, seed: int, ner: str | None) -> dict[str, Any]:
    # one loop over the frames gathering every count the report needs: long, but each step is one call
    from luodi.locate import DocumentLocator
    from luodi.ocr.options import OCROptions
    from luodi.ocr.straighten import bend

    folder, records = _frames(out, families, frames, seed, ner)
    task = pipeline.processor("extract", "waybill")
    patch_task = pipeline.processor("extract", "waybill", options=OCROptions(unwarp=True))
    whole_task = pipeline.processor("extract", "waybill", options=OCROptions(locate=False))
    # the same frames without the text check of located regions (``verify``): before/after in one run
    unverified_task = pipeline.processor("extract", "waybill", options=OCROptions(verify=False))
    geometry = DocumentLocator(None)
    bent: dict[str, list[dict[str, Any]]] = {"quad": [], "patch": [], "gold": []}
    pred: dict[str, list[dict[str, Any]]] = {"photo": [], "flat": [], "before": [], "gold": [], "unverified": []}
    cut: dict[str, list[dict[str, Any]]] = {"photo": [], "gold": []}
    count = dict.fromkeys(
        [
            "inside",
            "found",
            "cut",
            "cut_found",
            "docs",
            "false",
            "geo_found",
            "geo_false",
            "geo_docs",
            "unv_found",
            "unv_docs",
            "unv_false",
        ],
        0,
    )
    per_family: dict[str, list[int]] = {}
    seconds: list[float] = []
    before_seconds: list[float] = []
    for k, rec in enumerate(records):
        data = _jpeg(folder / rec["image"])
        t0 = time.perf_counter()
        located = pipeline.run(task, data, name=rec["image"]).result.to_dict().get("documents", [])
        seconds.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        whole = pipeline.run(whole_task, data, name=rec["image"]).result.to_dict()
        before_seconds.append(time.perf_counter() - t0)
        hits = _match(located, rec["labels"])
        unverified = pipeline.run(unverified_task, data, name=rec["image"]).result.to_dict().get("documents", [])
        unv_hits = _match(unverified, rec["labels"])
        count["unv_docs"] += len(unverified)
        count["unv_false"] += len(unverified) - sum(h is not None for h in unv_hits)
        count["docs"] += len(located)
        count["false"] += len(located) - sum(h is not None for h in hits)
        inside = [(label, hit) for label, hit in zip(rec["labels"], hits, strict=True) if not label["cut_off"]]
        golds = [_values(label["fields"]) for label, _ in inside]
        pred["before"] += _before(whole, golds)
        for label, hit, unv in zip(rec["labels"], hits, unv_hits, strict=True):
            got = _predicted(located[hit] if hit is not None else None)
            if not label["cut_off"]:
                count["unv_found"] += unv is not None
                pred["unverified"].append(_predicted(unverified[unv] if unv is not None else None))
            if label["cut_off"]:
                count["cut"] += 1
                count["cut_found"] += hit is not None
                cut["photo"].append(got)
                cut["gold"].append(_values(label["fields"]))
                continue
            count["inside"] += 1
            count["found"] += hit is not None
            tally = per_family.setdefault("+".join(rec["families"]), [0, 0])
            tally[0] += hit is not None
            tally[1] += 1
            pred["gold"].append(_values(label["fields"]))
            pred["photo"].append(got)
            flat = pipeline.run(task, (folder / label["flat"]).read_bytes(), name=label["flat"]).result.to_dict()
            pred["flat"].append(_predicted(flat))
            quad, outline = np.asarray(label["quad"], np.float32), np.asarray(label["polygon"], np.float32)
            if bend(outline, quad) > 0.03:
                bent["gold"].append(pred["gold"][-1])
                bent["quad"].append(got)
                bent["patch"].append(_predicted(_bent_pair(pipeline, patch_task, data, label)))
        g_found, g_false, g_docs = _geometry_hits(geometry, data, rec["labels"])
        count["geo_found"] += g_found
        count["geo_false"] += g_false
        count["geo_docs"] += g_docs
        if (k + 1) % 5 == 0:
            print(f"  {families}: {k + 1}/{len(records)} frames (load {_load()})", file=sys.stderr)
    return _accuracy_report(families, records, pred, cut, bent, count, per_family, seconds, before_seconds)


# long: one table after another, in the order the report reads
def _accuracy_report(
    families: str,
    records: Sequence[dict[str, Any]],
    pred: dict[str, list[dict[str, Any]]],
    cut: dict[str, list[dict[str, Any]]],
    bent: dict[str, list[dict[str, Any]]],
    count: dict[str, int],
    per_family: dict[str, list[int]],
    seconds: Sequence[float],
    before_seconds: Sequence[float],
) -> dict[str, Any]:
    def micro(which: Sequence[dict[str, Any]], gold: Sequence[dict[str, Any]]) -> Any:
        return field_metrics(which, gold, FIELDS, normalize=True)

    photo, flat, before, unverified = (micro(pred[k], pred["gold"]) for k in ("photo", "flat", "before", "unverified"))
    unwarp: dict[str, Any] = {"bent_labels": len(bent["gold"])}
    if bent["gold"]:
        unwarp["fields_unwarped"] = round(micro(bent["patch"], bent["gold"]).micro_accuracy, 4)
        unwarp["fields_quad_only"] = round(micro(bent["quad"], bent["gold"]).micro_accuracy, 4)
    flat_acc = max(flat.micro_accuracy, 1e-9)
    return {
        "families": families,
        "frames": len(records),
        "megapixels": [
            round(min(r["width"] * r["height"] for r in records) / 1e6, 1),
            round(max(r["width"] * r["height"] for r in records) / 1e6, 1),
        ],
        "labels_inside": count["inside"],
        "labels_cut_off": count["cut"],
        "recall": round(count["found"] / max(count["inside"], 1), 4),
        "cut_off_found": f"{count['cut_found']}/{count['cut']}",
        "cut_off_field_accuracy": round(micro(cut["photo"], cut["gold"]).micro_accuracy, 4) if cut["gold"] else None,
        "documents_found": count["docs"],
        "false_documents": count["false"],
        "false_rate": round(count["false"] / max(count["docs"], 1), 4),
        "photo_field_accuracy": round(photo.micro_accuracy, 4),
        "flat_field_accuracy": round(flat.micro_accuracy, 4),
        "ratio": round(photo.micro_accuracy / flat_acc, 4),
        "before_field_accuracy": round(before.micro_accuracy, 4),
        "before_ratio": round(before.micro_accuracy / flat_acc, 4),
        "invented_fields": {
            "photo": _invented(pred["photo"], pred["gold"]),
            "flat": _invented(pred["flat"], pred["gold"]),
            "before": _invented(pred["before"], pred["gold"]),
        },
        "photo_per_field": {k: round(v.accuracy, 4) for k, v in photo.per_field.items()},
        "flat_per_field": {k: round(v.accuracy, 4) for k, v in flat.per_field.items()},
        "before_per_field": {k: round(v.accuracy, 4) for k, v in before.per_field.items()},
        "recall_per_family_mix": {k: f"{a}/{b}" for k, (a, b) in sorted(per_family.items())},
        "geometry_only": {
            "recall": round(count["geo_found"] / max(count["inside"], 1), 4),
            "false_rate": round(count["geo_false"] / max(count["geo_docs"], 1), 4),
        },
        "bent_labels_unwarp_vs_quad": unwarp,
        "without_verify": {
            "recall": round(count["unv_found"] / max(count["inside"], 1), 4),
            "false_documents": count["unv_false"],
            "documents_found": count["unv_docs"],
            "false_rate": round(count["unv_false"] / max(count["unv_docs"], 1), 4),
            "photo_field_accuracy": round(unverified.micro_accuracy, 4),
            "ratio": round(unverified.micro_accuracy / flat_acc, 4),
        },
        "seconds_per_frame_median": round(statistics.median(seconds), 2),
        "before_seconds_per_frame_median": round(statistics.median(before_seconds), 2),
        "load_average": _load(),
    }


# --- 4: time ------------------------------------------------------------------------------------------
def closeup_12mp(pipeline: Any, task: Any, ner: str | None) -> tuple[int, Any, bytes, list[dict[str, Any]], int]:
    """The timing row's scene: the first 12 MP one-label close-up (dev families, seed 5, parties from
    ``ner``) whose label ``task`` finds — a frame where nothing is found would time the cheap path.
    Its index, the scene, its JPEG bytes, the documents read (the run is also the warm-up) and how
    many close-ups before it were skipped. parcel_parts.py and parcel_blur.py time the same scene."""
    from luodi.synth.parcel import ParcelOptions, render_scene

    opts = ParcelOptions(families=("dev",), labels=(1, 1), megapixels=(12.0, 12.0), seed=5, source="dev", ner_file=ner)
    skipped = 0
    for i in range(20):
        scene = render_scene(i, opts)
        if scene.view != "closeup" or not scene.labels:
            continue
        data = scene.jpeg_bytes()
        docs = pipeline.run(task, data).result.to_dict().get("documents", [])
        polygon = scene.labels[0].record(None)["polygon"]
        if any(_iou(d["quad"], polygon) >= 0.5 for d in docs):
            return i, scene, data, docs, skipped
        skipped += 1
    raise RuntimeError("no 12 MP close-up with its label found in 20 scenes")


def timing(pipeline: Any, out: Path, ner: str | None, rounds: int, shared: Path | None) -> dict[str, Any]:
    from luodi.ocr.options import OCROptions
    from luodi.synth.waybill import WaybillOptions, render_waybill

    task = pipeline.processor("extract", "waybill")
    _, scene, data, docs, skipped = closeup_12mp(pipeline, task, ner)
    gold, got = _values(scene.labels[0].art.fields), _predicted(docs[0])
    right = sum(1 for k in FIELDS if _same(gold[k], got[k]))
    walls, cpus = [], []
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), _cpu()
        pipeline.run(task, data)
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu() - c0)
    # flat scans: the location stage on (default) and off, interleaved
    pages: list[tuple[str, bytes]] = []
    wopts = WaybillOptions(seed=3, source="dev", ner_file=ner)
    for i in range(4):
        buf = io.BytesIO()
        from PIL import Image

        Image.fromarray(render_waybill(i, wopts).image).save(buf, format="PNG")
        pages.append((f"waybill render {i}", buf.getvalue()))
    if shared is not None:
        imgs = shared / "data" / "doc_samples" / "paddleocr" / "imgs"
        pages += [(p.name, p.read_bytes()) for p in sorted(imgs.glob("*.jpg"))[:13]]
    on = pipeline.processor("ocr")
    off = pipeline.processor("ocr", options=OCROptions(locate=False))
    # a 300 dpi A4 scan (8.7 MP) is over the pixel floor: the locator runs and must say "flat"
    from PIL import Image

    scan = np.full((3508, 2480, 3), 250, np.uint8)
    scan[200:3300, 150:2330] = np.asarray(
        Image.fromarray(render_waybill(9, wopts).image).resize((2180, 3100)), dtype=np.uint8
    )
    buf = io.BytesIO()
    Image.fromarray(scan).save(buf, format="JPEG", quality=90)
    pages.append(("A4 scan 300 dpi", buf.getvalue()))
    t_on: list[float] = []
    t_off: list[float] = []
    c_on: list[float] = []
    c_off: list[float] = []
    flat_located = 0
    for _ in range(rounds):
        a = b = ca = cb = 0.0
        for _, page in pages:
            t0, c0 = time.perf_counter(), _cpu()
            r = pipeline.run(on, page).result
            a += time.perf_counter() - t0
            ca += _cpu() - c0
            flat_located += any(p.located for p in r.pages)
            t0, c0 = time.perf_counter(), _cpu()
            pipeline.run(off, page)
            b += time.perf_counter() - t0
            cb += _cpu() - c0
        t_on.append(a)
        t_off.append(b)
        c_on.append(ca)
        c_off.append(cb)
    return {
        "photo_12mp_one_label": {
            "size": list(scene.image.shape[:2]),
            "families": list(scene.families),
            "scenes_skipped_label_not_found": skipped,
            "fields_right": f"{right}/{sum(v is not None for v in _values(scene.labels[0].art.fields).values())}",
            "wall_s_median": round(statistics.median(walls), 3),
            "wall_s_min": round(min(walls), 3),
            "cpu_s_median": round(statistics.median(cpus), 3),
            "rounds": rounds,
            "threads": pipeline.settings.threads,
        },
        "flat_scans": {
            "pages": [name for name, _ in pages],
            "locate_on_s": round(statistics.median(t_on), 3),
            "locate_off_s": round(statistics.median(t_off), 3),
            "ratio": round(statistics.median(t_on) / max(statistics.median(t_off), 1e-9), 4),
            "cpu_on_s": round(statistics.median(c_on), 3),
            "cpu_off_s": round(statistics.median(c_off), 3),
            "cpu_ratio": round(statistics.median(c_on) / max(statistics.median(c_off), 1e-9), 4),
            "located_by_mistake": flat_located,
        },
        "load_average": _load(),
    }


# --- 5: bad input -----------------------------------------------------------------------------------------
def bad_input(pipeline: Any, ner: str | None, rounds: int) -> dict[str, Any]:
    from parcel_nolabel import frame_cost, no_label_frames

    from luodi.errors import LuodiError
    from luodi.synth.parcel import ParcelOptions, render_scene

    out: dict[str, Any] = {}
    task = pipeline.processor("extract", "waybill")
    # no label: an empty, flagged result in about a coarse detection's time (decode + det at 960 over
    # the whole frame), both timed in ``rounds`` interleaved rounds, wall and CPU (parcel_nolabel.py)
    frames = no_label_frames("holdout", ["8:3"], ner)
    pipeline.run(task, frames[0][1])  # warm-up
    out["no_label"] = [frame_cost(pipeline, task, data, rounds) for _, data in frames]
    # cut off: the fields on the part in the frame, the rest flagged
    cut = ParcelOptions(families=("holdout",), labels=(1, 1), cut_off_rate=1.0, seed=9, source="dev", ner_file=ner)
    rows = []
    for i in range(4):
        scene = render_scene(i, cut)
        res = pipeline.run(task, scene.jpeg_bytes()).result.to_dict()
        docs = res.get("documents", [])
        flagged = [
            name for d in docs for name, f in d["fields"].items() if any("frame" in r for r in f.get("reasons", []))
        ]
        right = 0
        if docs and scene.labels:
            gold = _values(scene.labels[0].art.fields)
            pred = _predicted(docs[0])
            right = sum(1 for k in FIELDS if _same(gold[k], pred[k]))
        rows.append(
            {
                "visible": round(scene.labels[0].visible, 2) if scene.labels else None,
                "documents": len(docs),
                "cut_off_flag": bool(docs and docs[0]["cut_off"]),
                "fields_right": right,
                "fields_flagged": len(flagged),
            }
        )
    out["cut_off"] = rows
    # 100 MP: the pixel limit, before decoding
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (10000, 10000), (120, 120, 120)).save(buf, format="JPEG", quality=50)
    try:
        pipeline.run(task, buf.getvalue())
        out["100mp"] = "no error (wrong)"
    except LuodiError as exc:
        out["100mp"] = f"{type(exc).__name__}: {exc.message}"
    # 30 parcels in one frame
    many = ParcelOptions(
        families=("dev",), labels=(30, 30), megapixels=(12.0, 12.0), seed=10, source="dev", ner_file=ner
    )
    scene = render_scene(0, many)
    t0 = time.perf_counter()
    res = pipeline.run(pipeline.processor("ocr"), scene.jpeg_bytes()).result
    (page,) = res.pages
    areas = [cv2.contourArea(p.quad.astype(np.float32)) / scene.image[..., 0].size for p in scene.labels]
    hits = _match([{"quad": d.quad} for d in page.documents], [{"polygon": p.polygon.tolist()} for p in scene.labels])
    out["30_parcels"] = {
        "labels_rendered": len(scene.labels),
        "documents_found": len(page.documents),
        "labels_matched": sum(h is not None for h in hits),
        "label_area_pct": [round(100 * min(areas), 2), round(100 * max(areas), 2)],
        "flags": list(page.flags),
        "s": round(time.perf_counter() - t0, 1),
    }
    return out


# --- report -------------------------------------------------------------------------------------------------
def _verdict(ok: bool) -> str:
    return "met" if ok else "**NOT met**"


def _bad_input_targets(bad: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    empty = bad["no_label"]
    ok = all(r["documents"] == 0 and r["values"] == 0 and r["flags"] for r in empty)
    slow = max(r["s"] / max(r["decode_plus_coarse_det_s"], 1e-9) for r in empty)
    # rows of earlier runs hold one wall reading a frame; later ones medians of interleaved rounds and CPU
    cpu = f", CPU worst {max(r['cpu_ratio'] for r in empty):.2f}×" if all("cpu_ratio" in r for r in empty) else ""
    rows.append(
        (
            "no label: empty, flagged, about a coarse detection's time",
            "0 documents, 0 values, flagged; ≤ 1.5× decode + coarse det (wall)",
            f"{sum(r['documents'] for r in empty)} documents, {sum(r['values'] for r in empty)} values, "
            f"flagged {sum(bool(r['flags']) for r in empty)}/{len(empty)}; wall worst {slow:.2f}×{cpu}",
            _verdict(ok and slow <= 1.5),
        )
    )
    cut = bad["cut_off"]
    ok = all(r["documents"] >= 1 and r["cut_off_flag"] for r in cut)
    rows.append(
        (
            "label cut off by the frame edge",
            "found, marked cut off, cut-off fields flagged",
            "; ".join(
                f"{r['visible']} visible: {r['documents']} doc, cut_off={r['cut_off_flag']}, "
                f"{r['fields_right']} right, {r['fields_flagged']} flagged"
                for r in cut
            ),
            _verdict(ok),
        )
    )
    rows.append(("100 MP photo", "the pixel limit, a clear error", bad["100mp"], _verdict("wrong" not in bad["100mp"])))
    many = bad["30_parcels"]
    # the documented caps (docs/ocr.md, "Photos"): a count (max_documents) and a size (small_documents)
    capped = any(f in ("too_many_documents", "small_documents") for f in many["flags"])
    rows.append(
        (
            "30 parcels in one frame",
            "all found, or a documented cap with a flag (`too_many_documents`, `small_documents`)",
            f"{many['documents_found']} documents for {many['labels_rendered']} labels "
            f"({many.get('labels_matched', '?')} matched, IoU ≥ 0.5; labels "
            f"{'–'.join(map(str, many.get('label_area_pct', [])))}% of the frame), flags {many['flags']}, "
            f"{many['s']} s",
            _verdict(many.get("labels_matched", many["documents_found"]) >= many["labels_rendered"] or capped),
        )
    )
    return rows


# long: one row per target of issue #19, in the order the report lists them
def _targets(report: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(target, bound, measured, verdict) for every target of issue #19 this bench can measure."""
    rows: list[tuple[str, str, str, str]] = []
    for r in report["accuracy"]:
        blind = "held-out (blind)" if r["families"] == "holdout" else "dev (tuned on)"
        rows.append(
            (
                f"fields vs flat renders, {blind}",
                f"ratio ≥ {TARGET_RATIO}",
                f"{r['ratio']:.3f} ({r['photo_field_accuracy']:.3f} / {r['flat_field_accuracy']:.3f}); "
                f"before (`--no-locate`): {r['before_ratio']:.3f}",
                _verdict(r["ratio"] >= TARGET_RATIO),
            )
        )
        rows.append(
            (
                f"labels found, {blind}",
                f"recall ≥ {TARGET_RECALL}",
                f"{r['recall']:.3f} ({r['labels_inside']} labels in {r['frames']} frames)",
                _verdict(r["recall"] >= TARGET_RECALL),
            )
        )
        rows.append(
            (
                f"false labels, {blind}",
                f"≤ {TARGET_FALSE}",
                f"{r['false_rate']:.3f} ({r['false_documents']}/{r['documents_found']})",
                _verdict(r["false_rate"] <= TARGET_FALSE),
            )
        )
    t = report["timing"]
    p, f = t["photo_12mp_one_label"], t["flat_scans"]
    # on a shared machine wall time is mostly waiting for a core: CPU seconds (all threads) bound the
    # wall time on 2 idle cores from above, as nothing in the path waits on I/O
    rows.append(
        (
            "12 MP photo, one label, end to end",
            f"≤ {TARGET_SECONDS} s on 2 idle cores",
            f"{p['cpu_s_median']} s CPU (median of {p['rounds']}); wall {p['wall_s_median']} s "
            f"(best {p['wall_s_min']}) at load {t['load_average']}",
            _verdict(min(p["cpu_s_median"], p["wall_s_median"]) <= TARGET_SECONDS),
        )
    )
    rows.append(
        (
            "flat scans no slower",
            f"locate on / off ≤ {TARGET_FLAT} (CPU, interleaved), none read as a photo",
            f"CPU {f['cpu_ratio']}, wall {f['ratio']}; {f['located_by_mistake']} read as photos",
            _verdict(f["cpu_ratio"] <= TARGET_FLAT and f["located_by_mistake"] == 0),
        )
    )
    rows += _bad_input_targets(report["bad_input"])
    rows.append(
        (
            "real parcel photos",
            "the same fields as from the straightened label, nothing invented",
            "not measurable here: no real parcel photo is in ../shared (an independent check)",
            "not measured",
        )
    )
    return rows


def _accuracy_lines(report: dict[str, Any]) -> list[str]:
    lines = [
        "| families | frames (MP) | labels (cut off) | recall | false docs | photo fields | flat fields | "
        "ratio | before: fields / ratio | invented fields photo / flat / before | geometry alone: recall / false | "
        "s/frame (before) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["accuracy"]:
        inv = r["invented_fields"]
        lines.append(
            f"| {r['families']} | {r['frames']} ({r['megapixels'][0]}–{r['megapixels'][1]}) | "
            f"{r['labels_inside']} ({r['labels_cut_off']}) | {r['recall']:.3f} | "
            f"{r['false_documents']}/{r['documents_found']} ({r['false_rate']:.3f}) | "
            f"{r['photo_field_accuracy']:.3f} | {r['flat_field_accuracy']:.3f} | **{r['ratio']:.3f}** | "
            f"{r['before_field_accuracy']:.3f} / {r['before_ratio']:.3f} | "
            f"{inv['photo']} / {inv['flat']} / {inv['before']} | "
            f"{r['geometry_only']['recall']:.3f} / {r['geometry_only']['false_rate']:.3f} | "
            f"{r['seconds_per_frame_median']} ({r['before_seconds_per_frame_median']}), load {r['load_average']} |"
        )
    lines.append("")
    for r in report["accuracy"]:
        u = r.get("without_verify")
        if u:
            lines.append(
                f"- {r['families']}, the same run without the text check of located regions (`verify=False`): "
                f"recall {u['recall']:.3f}, false docs {u['false_documents']}/{u['documents_found']} "
                f"({u['false_rate']:.3f}), fields {u['photo_field_accuracy']:.3f}, ratio {u['ratio']:.3f}"
            )
    for r in report["accuracy"]:
        b = r["bent_labels_unwarp_vs_quad"]
        if b.get("bent_labels"):
            lines.append(
                f"- {r['families']}: {b['bent_labels']} bent labels (outline > 3% off its quad): fields "
                f"{b['fields_unwarped']:.3f} through the Coons patch (`unwarp`), "
                f"{b['fields_quad_only']:.3f} through the quad (default)"
            )
        if r["labels_cut_off"]:
            lines.append(
                f"- {r['families']}: labels cut off by the frame edge found {r['cut_off_found']}, their fields "
                f"{r['cut_off_field_accuracy']:.3f} (scored apart: the missing part cannot be read)"
            )
        mix = ", ".join(f"{k} {v}" for k, v in r["recall_per_family_mix"].items())
        lines.append(f"- {r['families']}: labels found per texture mix: {mix}")
    lines.append("")
    for r in report["accuracy"]:
        lines += [f"Per field, {r['families']}:", "", "| field | photo | flat | before |", "|---|---|---|---|"]
        for k in FIELDS:
            lines.append(
                f"| {k} | {r['photo_per_field'].get(k, 0):.3f} | {r['flat_per_field'].get(k, 0):.3f} | "
                f"{r['before_per_field'].get(k, 0):.3f} |"
            )
        lines.append("")
    return lines


def _markdown(report: dict[str, Any], command: str) -> str:
    lines = ["# Parcel photos (issue #19): location, straightening, fields against flat renders", ""]
    lines += [f"Command: `{command}`", "", f"Machine: {report['machine']}; finished at load {report['load_end']}."]
    lines += [
        "",
        f"Locator: {report['locator']}. Parties: {report['parties']}. Held-out families "
        f"(never in the locator's training, never tuned on): {', '.join(report['families']['holdout'])}; "
        f'dev: {", ".join(report["families"]["dev"])}. "before" is the same frames through '
        "`--no-locate` (one frame, one document, detector at its usual limit).",
        "",
        "## Targets",
        "",
        "| target | bound | measured | verdict |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in _targets(report)]
    lines += ["", "## Labels found and fields read", ""]
    lines += _accuracy_lines(report)
    t = report["timing"]
    p = t["photo_12mp_one_label"]
    f = t["flat_scans"]
    lines += ["## Time", ""]
    lines.append(
        f"- 12 MP photo ({p['size'][1]}×{p['size'][0]}, {'+'.join(p['families'])}; its label found, "
        f"{p['fields_right']} fields right; {p['scenes_skipped_label_not_found']} earlier close-ups skipped "
        f"because their label was not found), one label, bytes in → fields out, threads {p['threads']}: "
        f"median {p['wall_s_median']} s wall (best {p['wall_s_min']} s), {p['cpu_s_median']} s CPU, "
        f"{p['rounds']} rounds, load average {t['load_average']} (target ≤ {TARGET_SECONDS} s on 2 idle cores)."
    )
    lines.append(
        f"- Flat scans ({len(f['pages'])} pages: {', '.join(f['pages'])}), OCR with the location stage on vs off, "
        f"interleaved: {f['locate_on_s']} s vs {f['locate_off_s']} s wall per round (ratio {f['ratio']}), "
        f"{f['cpu_on_s']} s vs {f['cpu_off_s']} s CPU (ratio **{f['cpu_ratio']}**); "
        f"pages read as photos by mistake: {f['located_by_mistake']}."
    )
    lines += [
        "",
        "## Bad input",
        "",
        "```json",
        json.dumps(report["bad_input"], ensure_ascii=False, indent=1),
        "```",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=40, help="holdout frames")
    parser.add_argument("--dev-frames", type=int, default=20, help="dev frames")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=BENCH / "out" / "parcel")
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    parser.add_argument("--skip", nargs="*", default=[], choices=["dev", "holdout", "timing", "bad"])
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="sections skipped are taken from the results' parcel.json (its command kept)",
    )
    args = parser.parse_args(argv)
    from luodi.config import load_settings
    from luodi.pipeline import Pipeline
    from luodi.synth.parcel import DEV_FAMILIES, HOLDOUT_FAMILIES

    pipeline = Pipeline(load_settings(threads=args.threads))
    shared_env = os.environ.get("LUODI_SHARED")
    shared = Path(shared_env) if shared_env else REPO.parent / "shared"
    with tempfile.TemporaryDirectory() as tmp:
        ner, parties = _ner_file(Path(tmp))
        report: dict[str, Any] = {
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load at start {_load()}",
            "parties": parties,
            "locator": "model"
            if pipeline.ocr.locator is not None and pipeline.ocr.locator.has_model
            else "geometry only",
            "families": {"holdout": list(HOLDOUT_FAMILIES), "dev": list(DEV_FAMILIES)},
            "accuracy": [],
        }
        for fam, frames in (("holdout", args.frames), ("dev", args.dev_frames)):
            if fam not in args.skip:
                report["accuracy"].append(accuracy(pipeline, args.out, fam, frames, args.seed, ner))
        if "timing" not in args.skip:
            report["timing"] = timing(pipeline, args.out, ner, args.rounds, shared if shared.is_dir() else None)
        if "bad" not in args.skip:
            report["bad_input"] = bad_input(pipeline, ner, args.rounds)
        report["load_end"] = _load()
    command = ".venv/bin/python bench/parcel_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report["command"] = command.strip()
    previous = args.results / "parcel.json"
    if args.reuse and previous.is_file():
        old = json.loads(previous.read_text(encoding="utf-8"))
        kept = [k for k in ("timing", "bad_input") if k not in report and k in old]
        if "accuracy" in old and not report["accuracy"]:
            kept.append("accuracy")
        for key in kept:
            report[key] = old[key]
        report["command"] = f"{old.get('command', '?')}; then {command.strip()} ({', '.join(kept)} from the first)"
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "parcel.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if "timing" in report and "bad_input" in report:
        (args.results / "parcel.md").write_text(_markdown(report, report["command"]), encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
