"""FP32 vs INT8 of the default bundle on luodi's evaluation sets, in one run.

    .venv/bin/python bench/quantize_bench.py [--model pp-ocrv6-small] [--out bench/results/quantize]

1. renders calibration pages (synthetic waybills, train-split parties, seed 777) and a KIE test set
   (hard synthetic waybills, dev-split parties, seed 4242) under bench/out/quantize/;
2. runs ``quantize_bundle`` (the code behind ``luodi quantize``) with the rec sets of
   bench/out/eval (make them with bench/data/make_eval_sets.py) and the KIE labels as eval labels;
   (the report times the FP32 bundle on onnxruntime — the default — and on the INT8 model's
   runtime, and the INT8 bundle on its own runtime, interleaved round by round on the same pages);
3. writes bench/results/quantize.{json,md} (``--toolchain ort`` writes the comparison run
   bench/results/quantize_ort.{json,md}).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LUODI = str(ROOT / ".venv" / "bin" / "luodi")


def synth(out: Path, n: int, seed: int, source: str, degrade: str) -> Path:
    if not (out / "labels.jsonl").is_file():
        cmd = [LUODI, "synth", "waybill", "-n", str(n), "-o", str(out), "--seed", str(seed)]
        cmd += ["--source", source, "--layout", "all", "--degrade", degrade]
        subprocess.run(cmd, check=True, capture_output=True)
    return out


def targets(data: dict) -> str:
    """The issue's targets, each judged from the measured numbers."""
    speed = data["latency"]["speedup"]["total"]
    size = data["size"]["total"]["ratio"]
    rows = [
        (
            "end-to-end speed-up ≥ 2x (goal 3x), against the FP32 bundle on the default runtime",
            f"{speed:.2f}x",
            speed >= 2,
        ),
        ("model files ≤ 40% of FP32", f"{size:.1%}", size <= 0.40),
    ]
    rec = [a for a in data["accuracy"] if a["kind"] == "rec"]
    for metric in ("line_accuracy", "line_accuracy_norm"):
        # every rec line of every set, pooled: the per-set rows below are 100-300 lines each,
        # where one line is 0.3-1 point
        n = sum(a["n"] for a in rec)
        f32 = sum(a["n"] * a["fp32"][metric] for a in rec) / max(n, 1)
        i8 = sum(a["n"] * a["int8"][metric] for a in rec) / max(n, 1)
        rows.append((f"≤ 1 point lost: all {n} rec lines, {metric}", f"{100 * (i8 - f32):+.2f} pt", i8 >= f32 - 0.01))
    for acc in data["accuracy"]:
        metric = "line_accuracy_norm" if acc["kind"] == "rec" else "field_accuracy"
        f32, i8 = acc["fp32"][metric], acc["int8"][metric]
        label = f"{Path(acc['labels']).parent.name} ({acc['n']})"
        rows.append((f"≤ 1 point lost: {label} {metric}", f"{100 * (i8 - f32):+.1f} pt", i8 >= f32 - 0.01))
        if acc["kind"] == "rec":
            f32, i8 = acc["fp32"]["line_accuracy"], acc["int8"]["line_accuracy"]
            rows.append((f"≤ 1 point lost: {label} line_accuracy", f"{100 * (i8 - f32):+.1f} pt", i8 >= f32 - 0.01))
    out = "\n## Targets\n\n| target | measured | met |\n|---|---|---|\n"
    out += "".join(f"| {t} | {m} | {'yes' if ok else '**no**'} |\n" for t, m, ok in rows)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="pp-ocrv6-small")
    ap.add_argument("--name", default=None)
    ap.add_argument("--out", default=None, help="default bench/results/quantize (quantize_ort for --toolchain ort)")
    ap.add_argument("--toolchain", default="openvino")
    ap.add_argument("--rec-sets", default="rec_print,rec_dotmatrix,rec_print_hard,rec_thermal,rec_stamp,rec_photos")
    ap.add_argument("--calib-pages", type=int, default=24)
    ap.add_argument("--kie-docs", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    from luodi.slim import quantize_bundle

    work = ROOT / "bench" / "out" / "quantize"
    calib = synth(work / "calib", args.calib_pages, 777, "train", "clean")
    kie = synth(work / f"kie_hard_{args.kie_docs}", args.kie_docs, 4242, "dev", "hard")
    labels = [ROOT / "bench" / "out" / "eval" / s / "labels.txt" for s in args.rec_sets.split(",") if s]
    labels.append(kie / "labels.jsonl")
    name = args.name or (
        f"{args.model}-int8" if args.toolchain == "openvino" else f"{args.model}-int8-{args.toolchain}"
    )
    command = shlex.join([".venv/bin/python", "bench/quantize_bench.py", *sys.argv[1:]])
    t0 = time.perf_counter()
    result = quantize_bundle(
        args.model,
        calib / "images",
        name,
        force=True,
        toolchain=args.toolchain,
        eval_labels=labels,
        threads=args.threads,
        max_pages=args.calib_pages,
        command=command,
        progress=lambda m: print(m, file=sys.stderr, flush=True),
    )
    data = result.report.to_dict()
    data["wall_seconds"] = round(time.perf_counter() - t0, 1)
    out = ROOT / (
        args.out
        or ("bench/results/quantize" if args.toolchain == "openvino" else f"bench/results/quantize_{args.toolchain}")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md = result.report.to_markdown() + targets(data)
    md += f"\nWall time {data['wall_seconds']} s; 1-min load average at the end {os.getloadavg()[0]:.1f}.\n"
    out.with_suffix(".md").write_text(md, encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
