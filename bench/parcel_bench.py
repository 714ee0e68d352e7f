"""Parcel photos: labels found, fields read against the same labels flat, time, bad input.

    .venv/bin/python bench/parcel_bench.py                 # writes bench/results/parcel.md and parcel.json
    .venv/bin/python bench/parcel_bench.py --frames 12     # a quick look

In one run:

1. renders parcel scenes with ``luodi.synth.parcel`` (4-12 MP, 1-4 labels, any rotation, folds,
   glare, blur) from the *holdout* texture families (white bags, printed cartons, rollers, wood:
   never seen by the locator's training or by whoever tuned it) and, apart, the dev families;
   waybill layouts are the dev ones (the extractor's own holdout layouts are kie_bench's business),
   parties from the express NER dev split (invented ones where ../shared is absent);
2. runs ``luodi extract``'s pipeline on each frame's JPEG bytes, and on each label's flat render;
3. matches located documents to labels (outline IoU ≥ 0.5): recall over labels fully in the frame,
   false documents over all documents found, cut-off labels counted apart; field accuracy of the
   photo against the flat render of the same labels (micro over the waybill fields; a label not
   found scores all its fields wrong);
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


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _load() -> float:
    return round(os.getloadavg()[0], 2)


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
def accuracy(pipeline: Any, out: Path, families: str, frames: int, seed: int, ner: str | None) -> dict[str, Any]:
    from luodi.synth.parcel import ParcelOptions, generate_parcels

    folder = out / families
    opts = ParcelOptions(families=(families,), layouts=("dev",), seed=seed, source="dev", ner_file=ner)
    labels_file = folder / "labels.jsonl"
    if labels_file.is_file() and len(labels_file.read_text(encoding="utf-8").splitlines()) == frames:
        records = [json.loads(x) for x in labels_file.read_text(encoding="utf-8").splitlines()]
    else:
        t0 = time.perf_counter()
        records = generate_parcels(frames, folder, opts)
        print(f"  rendered {frames} {families} frames in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    task = pipeline.processor("extract", "waybill")
    from luodi.locate import DocumentLocator
    from luodi.ocr.options import OCROptions
    from luodi.ocr.straighten import bend

    quad_task = pipeline.processor("extract", "waybill", options=OCROptions(unwarp=False))
    geometry = DocumentLocator(None)
    bent_on: list[dict[str, Any]] = []
    bent_off: list[dict[str, Any]] = []
    bent_gold: list[dict[str, Any]] = []
    photo_pred: list[dict[str, Any]] = []
    flat_pred: list[dict[str, Any]] = []
    gold: list[dict[str, Any]] = []
    found = inside = cut_found = cut_total = false = documents = 0
    geo = {"found": 0, "false": 0, "documents": 0}
    per_family: dict[str, list[int]] = {}
    seconds: list[float] = []
    for k, rec in enumerate(records):
        data = _jpeg(folder / rec["image"])
        t0 = time.perf_counter()
        result = pipeline.run(task, data, name=rec["image"]).result
        seconds.append(time.perf_counter() - t0)
        d = result.to_dict()
        located = d.get("documents", [])
        documents += len(located)
        used: set[int] = set()
        for label in rec["labels"]:
            best, best_iou = None, 0.0
            for j, entry in enumerate(located):
                iou = _iou(entry["quad"], label["polygon"])
                if j not in used and iou > best_iou:
                    best, best_iou = j, iou
            hit = best is not None and best_iou >= 0.5
            if hit:
                used.add(best)  # type: ignore[arg-type]
            if label["cut_off"]:
                cut_total += 1
                cut_found += hit
            else:
                inside += 1
                found += hit
                fam = "+".join(rec["families"])
                per_family.setdefault(fam, [0, 0])
                per_family[fam][0] += hit
                per_family[fam][1] += 1
            gold.append(_values(label["fields"]))
            photo_pred.append(_predicted(located[best] if hit else None))
            quad, outline = np.asarray(label["quad"], np.float32), np.asarray(label["polygon"], np.float32)
            if not label["cut_off"] and bend(outline, quad) > 0.03:
                # a bent label: read again through its quad alone, to see what the unwarp is worth
                off = pipeline.run(quad_task, data, name=rec["image"]).result.to_dict().get("documents", [])
                match = max(off, key=lambda e: _iou(e["quad"], label["polygon"]), default=None)
                ok = match is not None and _iou(match["quad"], label["polygon"]) >= 0.5
                bent_gold.append(_values(label["fields"]))
                bent_on.append(photo_pred[-1])
                bent_off.append(_predicted(match if ok else None))
            flat = pipeline.run(task, (folder / label["flat"]).read_bytes(), name=label["flat"]).result.to_dict()
            flat_pred.append(_predicted(flat))
        false += len(located) - len(used)
        # classical geometry alone on the same frame, for comparison
        from luodi.io import load_pages

        (page,) = load_pages(data)
        g = geometry.locate(page)
        geo["documents"] += len(g.documents)
        g_used: set[int] = set()
        for label in rec["labels"]:
            for j, doc in enumerate(g.documents):
                if j not in g_used and not label["cut_off"] and _iou(doc.quad.tolist(), label["polygon"]) >= 0.5:
                    g_used.add(j)
                    geo["found"] += 1
                    break
        geo["false"] += len(g.documents) - len(g_used)
        if (k + 1) % 10 == 0:
            print(f"  {families}: {k + 1}/{len(records)} frames (load {_load()})", file=sys.stderr)
    photo = field_metrics(photo_pred, gold, FIELDS, normalize=True)
    unwarp = {"bent_labels": len(bent_gold)}
    if bent_gold:
        unwarp["fields_unwarped"] = round(field_metrics(bent_on, bent_gold, FIELDS, normalize=True).micro_accuracy, 4)
        unwarp["fields_quad_only"] = round(field_metrics(bent_off, bent_gold, FIELDS, normalize=True).micro_accuracy, 4)
    flat = field_metrics(flat_pred, gold, FIELDS, normalize=True)
    return {
        "families": families,
        "frames": len(records),
        "labels_inside": inside,
        "labels_cut_off": cut_total,
        "recall": round(found / max(inside, 1), 4),
        "cut_off_found": f"{cut_found}/{cut_total}",
        "documents_found": documents,
        "false_documents": false,
        "false_rate": round(false / max(documents, 1), 4),
        "photo_field_accuracy": round(photo.micro_accuracy, 4),
        "flat_field_accuracy": round(flat.micro_accuracy, 4),
        "ratio": round(photo.micro_accuracy / max(flat.micro_accuracy, 1e-9), 4),
        "photo_per_field": {k: round(v.accuracy, 4) for k, v in photo.per_field.items()},
        "flat_per_field": {k: round(v.accuracy, 4) for k, v in flat.per_field.items()},
        "recall_per_family_mix": {k: f"{a}/{b}" for k, (a, b) in sorted(per_family.items())},
        "geometry_only": {
            "recall": round(geo["found"] / max(inside, 1), 4),
            "false_rate": round(geo["false"] / max(geo["documents"], 1), 4),
        },
        "bent_labels_unwarp_vs_quad": unwarp,
        "seconds_per_frame_median": round(statistics.median(seconds), 2),
        "load_average": _load(),
    }


# --- 4: time ------------------------------------------------------------------------------------------
def timing(pipeline: Any, out: Path, ner: str | None, rounds: int, shared: Path | None) -> dict[str, Any]:
    from luodi.ocr.options import OCROptions
    from luodi.synth.parcel import ParcelOptions, render_scene
    from luodi.synth.waybill import WaybillOptions, render_waybill

    opts = ParcelOptions(
        families=("holdout",), labels=(1, 1), megapixels=(12.0, 12.0), seed=5, source="dev", ner_file=ner
    )
    scene = next(s for s in (render_scene(i, opts) for i in range(20)) if s.view == "closeup" and s.labels)
    data = scene.jpeg_bytes()
    task = pipeline.processor("extract", "waybill")
    pipeline.run(task, data)  # warm-up
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
    flat_located = 0
    for _ in range(rounds):
        a = b = 0.0
        for _, page in pages:
            t0 = time.perf_counter()
            r = pipeline.run(on, page).result
            a += time.perf_counter() - t0
            flat_located += any(p.located for p in r.pages)
            t0 = time.perf_counter()
            pipeline.run(off, page)
            b += time.perf_counter() - t0
        t_on.append(a)
        t_off.append(b)
    return {
        "photo_12mp_one_label": {
            "size": list(scene.image.shape[:2]),
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
            "located_by_mistake": flat_located,
        },
        "load_average": _load(),
    }


# --- 5: bad input -----------------------------------------------------------------------------------------
def bad_input(pipeline: Any, ner: str | None) -> dict[str, Any]:
    from luodi.errors import LuodiError
    from luodi.ocr.options import OCROptions
    from luodi.synth.parcel import ParcelOptions, render_scene

    out: dict[str, Any] = {}
    task = pipeline.processor("extract", "waybill")
    ocr = pipeline.ocr
    # no label: an empty, flagged result in about a coarse detection's time
    empty = ParcelOptions(families=("holdout",), empty_rate=1.0, megapixels=(12.0, 12.0), seed=8, ner_file=ner)
    rows = []
    for i in range(3):
        scene = render_scene(i, empty)
        data = scene.jpeg_bytes()
        t0 = time.perf_counter()
        res = pipeline.run(task, data).result.to_dict()
        total = time.perf_counter() - t0
        from luodi.io import load_pages

        t0 = time.perf_counter()
        (page,) = load_pages(data)
        decode = time.perf_counter() - t0
        t0 = time.perf_counter()
        ocr.run_pages([page], OCROptions(locate=False, use_cls=False).replace(drop_score=1.0))
        coarse = time.perf_counter() - t0  # decode + det at 960 (rec of nothing: drop_score 1 keeps no line)
        rows.append(
            {
                "documents": len(res.get("documents", [])),
                "flags": res.get("reasons", []),
                "values": sum(f["value"] is not None for f in res["fields"].values()),
                "s": round(total, 2),
                "decode_plus_coarse_det_s": round(decode + coarse, 2),
            }
        )
    out["no_label"] = rows
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
            right = sum(1 for k in FIELDS if gold[k] is not None and str(gold[k]) == str(pred[k]))
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
    out["30_parcels"] = {
        "labels_rendered": len(scene.labels),
        "documents_found": len(page.documents),
        "flags": list(page.flags),
        "s": round(time.perf_counter() - t0, 1),
    }
    return out


# --- report -------------------------------------------------------------------------------------------------
def _markdown(report: dict[str, Any], command: str) -> str:
    lines = ["# Parcel photos: location, straightening, fields against flat renders", ""]
    lines += [f"Command: `{command}`", "", f"Machine: {report['machine']}", ""]
    lines += ["## Labels found and fields read", ""]
    lines += [
        "| families | frames | labels (cut off) | recall | false docs | photo fields | flat fields | ratio | "
        "geometry alone: recall / false | s/frame |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["accuracy"]:
        lines.append(
            f"| {r['families']} | {r['frames']} | {r['labels_inside']} ({r['labels_cut_off']}) | {r['recall']:.3f} | "
            f"{r['false_documents']}/{r['documents_found']} ({r['false_rate']:.3f}) | "
            f"{r['photo_field_accuracy']:.3f} | {r['flat_field_accuracy']:.3f} | **{r['ratio']:.3f}** | "
            f"{r['geometry_only']['recall']:.3f} / {r['geometry_only']['false_rate']:.3f} | "
            f"{r['seconds_per_frame_median']} (load {r['load_average']}) |"
        )
    for r in report["accuracy"]:
        b = r["bent_labels_unwarp_vs_quad"]
        if b.get("bent_labels"):
            lines.append(
                f"- {r['families']}: {b['bent_labels']} bent labels (outline > 3% off its quad): fields "
                f"{b['fields_unwarped']:.3f} through the Coons patch (default), "
                f"{b['fields_quad_only']:.3f} through the quad"
            )
    lines += [
        "",
        f"Targets: ratio ≥ {TARGET_RATIO}, recall ≥ {TARGET_RECALL}, false ≤ {TARGET_FALSE} (holdout families).",
        "",
    ]
    for r in report["accuracy"]:
        lines.append(f"Per field, {r['families']} (photo / flat):")
        lines.append("")
        lines.append("| field | photo | flat |")
        lines.append("|---|---|---|")
        for k in FIELDS:
            lines.append(f"| {k} | {r['photo_per_field'].get(k, 0):.3f} | {r['flat_per_field'].get(k, 0):.3f} |")
        lines.append("")
    t = report["timing"]
    p = t["photo_12mp_one_label"]
    f = t["flat_scans"]
    lines += ["## Time", ""]
    lines.append(
        f"- 12 MP photo ({p['size'][1]}×{p['size'][0]}), one label, bytes in → fields out, threads {p['threads']}: "
        f"median {p['wall_s_median']} s wall (best {p['wall_s_min']} s), {p['cpu_s_median']} s CPU, "
        f"{p['rounds']} rounds, load average {t['load_average']} (target ≤ {TARGET_SECONDS} s on 2 idle cores)."
    )
    lines.append(
        f"- Flat scans ({len(f['pages'])} pages: {', '.join(f['pages'])}), OCR with the location stage on vs off, "
        f"interleaved: {f['locate_on_s']} s vs {f['locate_off_s']} s per round, ratio **{f['ratio']}**; "
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
    parser.add_argument("--frames", type=int, default=60, help="frames per family group")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=BENCH / "out" / "parcel")
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    parser.add_argument("--skip", nargs="*", default=[], choices=["dev", "holdout", "timing", "bad"])
    args = parser.parse_args(argv)
    from luodi.config import load_settings
    from luodi.pipeline import Pipeline

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
            "accuracy": [],
        }
        for fam in ("holdout", "dev"):
            if fam not in args.skip:
                report["accuracy"].append(accuracy(pipeline, args.out, fam, args.frames, args.seed, ner))
        if "timing" not in args.skip:
            report["timing"] = timing(pipeline, args.out, ner, args.rounds, shared if shared.is_dir() else None)
        if "bad" not in args.skip:
            report["bad_input"] = bad_input(pipeline, ner)
    command = "python bench/parcel_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "parcel.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if "timing" in report and "bad_input" in report:
        (args.results / "parcel.md").write_text(_markdown(report, command.strip()), encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
