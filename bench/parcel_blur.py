"""OCR options of the photo path compared on dev frames (issue #19), interleaved in one process:
fields right, labels found, documents and CPU seconds per variant — dev families only (the
held-out ones stay blind).

    PYTHONPATH=src nice .venv/bin/python bench/parcel_blur.py --seed 46 --out bench/out/parcel_dev46 \\
        --variant strict:doc_box_thresh=0.6 --variant weak:doc_box_thresh=0.5

Each frame is read through ``luodi extract`` once per variant; fields right are counted over every
label fully inside the frame (a label not found scores nothing; ``parcel_parts._score``), compared as
parcel_bench.py compares them (whitespace dropped), and exactly (``fields_exact``). With
``--empty SEED:N``, also N no-label 12 MP dev frames per seed (``parcel_gate.py``'s): documents
reported (each is a false one) and OCR CPU seconds per variant, best of 2. With ``--twelve N``,
the CPU seconds of ``luodi extract`` on parcel_bench.py's 12 MP one-label close-up per variant,
interleaved, median of N (its timing row's scene, found the same way).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from parcel_bench import _frames, _load, _ner_file, dump_result  # noqa: E402
from parcel_parts import _score  # noqa: E402


def _variant(spec: str) -> tuple[str, dict[str, Any]]:
    """``name:opt=value,opt=value`` → (name, OCR option changes); values are numbers."""
    name, _, changes = spec.partition(":")
    pairs = (item.split("=", 1) for item in changes.split(",") if item)
    return name, {k: float(v) if "." in v else int(v) for k, v in pairs}


def _no_label(pipeline: Any, variants: dict[str, Any], empty: list[str]) -> dict[str, Any]:
    from luodi.io import load_pages
    from luodi.ocr.options import OCROptions
    from luodi.synth.parcel import ParcelOptions, render_scene

    out: dict[str, list[float]] = {n: [0, 0.0] for n in variants}
    for seed, n in (tuple(int(x) for x in e.split(":")) for e in empty):
        opts = ParcelOptions(families=("dev",), empty_rate=1.0, megapixels=(12.0, 12.0), seed=seed)
        for i in range(n):
            (page,) = load_pages(render_scene(i, opts).jpeg_bytes())
            for name, changes in variants.items():
                spent = []
                for _ in range(2):
                    c0 = time.process_time()
                    got = pipeline.ocr.run_pages([page], OCROptions().replace(**changes)).pages[0]
                    spent.append(time.process_time() - c0)
                out[name][0] += len(got.documents)
                out[name][1] += min(spent)
    return {n: {"documents": int(d), "ocr_cpu_s": round(c, 2)} for n, (d, c) in out.items()}


def _twelve(pipeline: Any, tasks: dict[str, Any], rounds: int, ner: str | None) -> dict[str, Any]:
    import statistics

    from parcel_bench import closeup_12mp

    i, _, data, _, _ = closeup_12mp(pipeline, next(iter(tasks.values())), ner)
    cpu: dict[str, list[float]] = {n: [] for n in tasks}
    for _ in range(rounds):
        for name, task in tasks.items():
            c0 = time.process_time()
            pipeline.run(task, data)
            cpu[name].append(time.process_time() - c0)
    return {"scene": i, **{f"{n}_cpu_s_median": round(statistics.median(t), 3) for n, t in cpu.items()}}


# long: options, the frames read once per variant and scored, then the summary (one run's steps in order)
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--seed", type=int, default=46)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--variant", action="append", default=[], help="NAME:OPTION=VALUE[,OPTION=VALUE]")
    parser.add_argument("--empty", nargs="*", default=[], help="SEED:N no-label 12 MP dev frames")
    parser.add_argument("--twelve", type=int, default=0, help="time the 12 MP close-up this many rounds")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    from luodi.config import load_settings
    from luodi.ocr.options import OCROptions
    from luodi.pipeline import Pipeline

    variants = dict(_variant(v) for v in args.variant) or {"default": {}}
    pipeline = Pipeline(load_settings(threads=2))
    tasks = {
        n: pipeline.processor("extract", "waybill", options=OCROptions().replace(**c)) for n, c in variants.items()
    }
    totals = {n: [0, 0, 0, 0, 0.0, 0] for n in variants}  # right, fields, found, documents, CPU s, right exactly
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ner, _ = _ner_file(Path(tmp))
        out = args.out or BENCH / "out" / f"parcel_blur{args.seed}"
        folder, records = _frames(out, "dev", args.frames, args.seed, ner) if args.frames else (out, [])
        twelve = _twelve(pipeline, tasks, args.twelve, ner) if args.twelve else None
    load_start = _load()
    for rec in records:
        data = (folder / rec["image"]).read_bytes()
        row: dict[str, Any] = {"image": rec["image"]}
        for name, task in tasks.items():
            c0 = time.process_time()
            docs = pipeline.run(task, data).result.to_dict().get("documents", [])
            cpu = time.process_time() - c0
            right, total, found = _score(docs, rec["labels"])
            exact = _score(docs, rec["labels"], exact=True)[0]
            t = totals[name]
            t[0], t[1], t[2], t[3], t[4] = t[0] + right, t[1] + total, t[2] + found, t[3] + len(docs), t[4] + cpu
            t[5] += exact
            row[name] = {
                "fields": f"{right}/{total}",
                "fields_exact": exact,
                "found": found,
                "documents": len(docs),
                "cpu_s": round(cpu, 2),
            }
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    labels = sum(1 for rec in records for label in rec["labels"] if not label["cut_off"])
    summary = {
        n: {
            "fields": f"{a}/{b}",
            "ratio": round(a / max(b, 1), 3),
            "fields_exact": f"{e}/{b}",
            "found": f"{f}/{labels}",
            "documents": d,
            "cpu_s": round(c, 1),
        }
        for n, (a, b, f, d, c, e) in totals.items()
    }
    result = {"seed": args.seed, "frames": args.frames, "variants": variants, "summary": summary}
    if args.empty:
        result["no_label"] = _no_label(pipeline, variants, args.empty)
    if twelve is not None:
        result["twelve_mp"] = twelve
    dump_result(result, rows, load_start, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
