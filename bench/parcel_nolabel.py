"""Photos of no label (issue #19): the time of ``luodi extract`` end to end against a coarse detection.

    PYTHONPATH=src nice .venv/bin/python bench/parcel_nolabel.py --empty 21:4 22:4 23:4 --rounds 3
    PYTHONPATH=src nice .venv/bin/python bench/parcel_nolabel.py --families holdout --empty 8:3   # parcel_bench's

The target: "a photo with no label: an empty result and the document flagged, in about the time of a
coarse detection". For each 12 MP no-label frame (``luodi.synth.parcel``, ``empty_rate=1``), in
interleaved rounds in one process: the extraction from the JPEG's bytes (decode, location, whatever
is probed, KIE), and the reference, decoding the same bytes and running the detector at its usual
limit over the whole frame with location off (and recognising what it boxes with nothing kept:
``drop_score`` 1, no classifier). Wall and CPU seconds each, the ratio of their medians per frame;
the CPU ratio is the steadier on a shared machine (the wall one waits on other processes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from parcel_bench import _load, dump_result  # noqa: E402


def frame_cost(pipeline: Any, task: Any, data: bytes, rounds: int) -> dict[str, Any]:
    """One no-label frame: the extraction and the coarse reference, ``rounds`` interleaved, medians."""
    from luodi.io import load_pages
    from luodi.ocr.options import OCROptions

    coarse = OCROptions(locate=False, use_cls=False).replace(drop_score=1.0)
    spent: dict[str, list[float]] = {"wall": [], "cpu": [], "ref_wall": [], "ref_cpu": []}
    res: dict[str, Any] = {}
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        res = pipeline.run(task, data).result.to_dict()
        spent["wall"].append(time.perf_counter() - t0)
        spent["cpu"].append(time.process_time() - c0)
        t0, c0 = time.perf_counter(), time.process_time()
        (page,) = load_pages(data)
        pipeline.ocr.run_pages([page], coarse)
        spent["ref_wall"].append(time.perf_counter() - t0)
        spent["ref_cpu"].append(time.process_time() - c0)
    med = {k: statistics.median(v) for k, v in spent.items()}
    return {
        "documents": len(res.get("documents", [])),
        "flags": res.get("reasons", []),
        "values": sum(f["value"] is not None for f in res["fields"].values()),
        "s": round(med["wall"], 3),
        "decode_plus_coarse_det_s": round(med["ref_wall"], 3),
        "cpu_s": round(med["cpu"], 3),
        "ref_cpu_s": round(med["ref_cpu"], 3),
        "wall_ratio": round(med["wall"] / max(med["ref_wall"], 1e-9), 3),
        "cpu_ratio": round(med["cpu"] / max(med["ref_cpu"], 1e-9), 3),
    }


def no_label_frames(families: str, specs: list[str], ner: str | None = None) -> list[tuple[str, bytes]]:
    """``SEED:N`` → the first N no-label 12 MP frames of that seed, as JPEG bytes."""
    from luodi.synth.parcel import ParcelOptions, render_scene

    out = []
    for seed, n in (tuple(int(x) for x in s.split(":")) for s in specs):
        opts = ParcelOptions(families=(families,), empty_rate=1.0, megapixels=(12.0, 12.0), seed=seed, ner_file=ner)
        out += [(f"{families} {seed}:{i}", render_scene(i, opts).jpeg_bytes()) for i in range(n)]
    return out


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "frames": len(rows),
        "documents": sum(r["documents"] for r in rows),
        "values": sum(r["values"] for r in rows),
        "cpu_ratio_median": round(statistics.median(r["cpu_ratio"] for r in rows), 3),
        "cpu_ratio_worst": max(r["cpu_ratio"] for r in rows),
        "wall_ratio_median": round(statistics.median(r["wall_ratio"] for r in rows), 3),
        "wall_ratio_worst": max(r["wall_ratio"] for r in rows),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", default="dev", choices=("dev", "holdout"))
    parser.add_argument("--empty", nargs="+", default=["21:4", "22:4", "23:4"], help="SEED:N no-label frames")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    from luodi.config import load_settings
    from luodi.pipeline import Pipeline

    pipeline = Pipeline(load_settings(threads=2))
    task = pipeline.processor("extract", "waybill")
    frames = no_label_frames(args.families, args.empty)
    pipeline.run(task, frames[0][1])  # warm-up
    load_start = _load()
    rows = []
    for name, data in frames:
        row = {"frame": name, **frame_cost(pipeline, task, data, args.rounds)}
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    result = {"families": args.families, "empty": args.empty, "rounds": args.rounds, "summary": summary(rows)}
    dump_result(result, rows, load_start, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
