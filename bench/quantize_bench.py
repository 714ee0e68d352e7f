"""FP32 vs INT8 of the default bundle on luodi's evaluation sets, in one run.

    .venv/bin/python bench/quantize_bench.py [--model pp-ocrv6-small] [--out bench/results/quantize]

1. renders calibration pages (synthetic waybills, train-split parties, seed 777) and a KIE test set
   (hard synthetic waybills, dev-split parties, seed 4242) under bench/out/quantize/;
2. runs ``quantize_bundle`` (the code behind ``luodi quantize``) with the rec sets of
   bench/out/eval (make them with bench/data/make_eval_sets.py) and the KIE labels as eval labels;
3. adds OpenVINO timings of the same FP32 and INT8 files (f32 hint, the default bf16 where the CPU
   has it, and INT8), interleaved, on the same pages;
4. writes bench/results/quantize.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
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


def openvino_rows(base, quantized, pages, threads: int | None, rounds: int = 3) -> dict:
    """End-to-end ms/page on OpenVINO: FP32 at f32 and default precision, INT8 at default."""
    from luodi.ocr.ctc import load_characters
    from luodi.ocr.pipeline import OCR
    from luodi.runtime.openvino import OpenVinoSession
    from luodi.slim.report import stage_precision

    def engine(bundle, precision):
        s = {
            st: OpenVinoSession(getattr(bundle, st).model, threads=threads, precision=precision)
            for st in ("det", "cls", "rec")
        }
        chars = load_characters(bundle.dictionary, None)
        return OCR.from_sessions(rec=s["rec"], det=s["det"], cls_session=s["cls"], characters=chars), {
            k: stage_precision(getattr(bundle, k), v.info) for k, v in s.items()
        }

    variants = {
        "fp32 (f32 hint)": engine(base, "f32"),
        "fp32 (default precision)": engine(base, None),
        "int8 (default precision)": engine(quantized, None),
    }
    times: dict[str, list[float]] = {k: [] for k in variants}
    for eng, _ in variants.values():
        eng.run_pages(pages[:1])
    for _ in range(rounds):
        for k, (eng, _) in variants.items():
            t = time.perf_counter()
            for p in pages:
                eng.run_pages([p])
            times[k].append(1000 * (time.perf_counter() - t) / len(pages))
    return {
        k: {
            "ms_per_page": round(statistics.median(v), 1),
            "rounds": [round(x, 1) for x in v],
            "precision": variants[k][1],
        }
        for k, v in times.items()
    }


def targets(data: dict) -> str:
    """The issue's targets, each judged from the measured numbers."""
    speed = data["latency"]["speedup"]["total"]
    size = data["size"]["total"]["ratio"]
    rows = [
        ("end-to-end speed-up ≥ 2x (goal 3x)", f"{speed:.2f}x", speed >= 2),
        ("model files ≤ 40% of FP32", f"{size:.1%}", size <= 0.40),
    ]
    for acc in data["accuracy"]:
        metric = "line_accuracy_norm" if acc["kind"] == "rec" else "field_accuracy"
        f32, i8 = acc["fp32"][metric], acc["int8"][metric]
        label = Path(acc["labels"]).parent.name
        rows.append((f"≤ 1 point lost: {label} {metric}", f"{100 * (i8 - f32):+.1f} pt", i8 >= f32 - 0.01))
    out = "\n## Targets\n\n| target | measured | met |\n|---|---|---|\n"
    out += "".join(f"| {t} | {m} | {'yes' if ok else '**no**'} |\n" for t, m, ok in rows)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="pp-ocrv6-small")
    ap.add_argument("--name", default=None)
    ap.add_argument("--out", default="bench/results/quantize")
    ap.add_argument("--toolchain", default="ort")
    ap.add_argument("--rec-sets", default="rec_print,rec_dotmatrix")
    ap.add_argument("--calib-pages", type=int, default=24)
    ap.add_argument("--kie-docs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-openvino", action="store_true")
    args = ap.parse_args()

    from luodi.io import load_pages
    from luodi.slim import quantize_bundle
    from luodi.slim.calibrate import list_calibration_files

    work = ROOT / "bench" / "out" / "quantize"
    calib = synth(work / "calib", args.calib_pages, 777, "train", "clean")
    kie = synth(work / "kie_hard", args.kie_docs, 4242, "dev", "hard")
    labels = [ROOT / "bench" / "out" / "eval" / s / "labels.txt" for s in args.rec_sets.split(",") if s]
    labels.append(kie / "labels.jsonl")
    name = args.name or f"{args.model}-int8"
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
    if not args.skip_openvino:
        from luodi.zoo import get_bundle

        pages = []
        for f in list_calibration_files(calib / "images")[:8]:
            pages.extend(load_pages(f))
        data["openvino_e2e"] = openvino_rows(get_bundle(args.model), result.bundle, pages[:8], args.threads)
    data["wall_seconds"] = round(time.perf_counter() - t0, 1)
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md = result.report.to_markdown() + targets(data)
    if "openvino_e2e" in data:
        md += "\n## Same files on OpenVINO (end to end, ms per page, median of 3 interleaved rounds)\n\n"
        md += "| variant | ms/page | precision per stage |\n|---|---|---|\n"
        for k, v in data["openvino_e2e"].items():
            md += f"| {k} | {v['ms_per_page']} | {v['precision']} |\n"
    md += f"\nWall time {data['wall_seconds']} s; 1-min load average at the end {os.getloadavg()[0]:.1f}.\n"
    out.with_suffix(".md").write_text(md, encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
