"""Benchmark (a): accuracy of the stock model bundles on luodi's evaluation sets.

    .venv/bin/python bench/accuracy.py            # makes the sets first if bench/out/eval is missing

Runs the same code as ``luodi eval rec|e2e`` (luodi.eval.runner) for every bundle on every set and
writes bench/results/accuracy.md and accuracy.json, with the command at the top. Per-sample errors go
to bench/out/accuracy/<model>/<set>.jsonl (not committed) for looking at what went wrong.

Recognition sets run without the 0/180 classifier (the recogniser alone, as PaddleOCR's rec eval),
except rec_photos, which holds an upside-down crop and runs with it; det_pages runs the whole
pipeline (det + cls + rec) with default options.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench" / "data"))

REC_SETS = ["rec_print", "rec_print_hard", "rec_dotmatrix", "rec_thermal", "rec_stamp", "rec_photos"]
DET_SETS = ["det_pages"]
DEFAULT_MODELS = ["pp-ocrv4", "pp-ocrv5", "pp-ocrv6-small"]


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def run(args: argparse.Namespace) -> dict[str, Any]:
    from luodi import OCR, OCROptions
    from luodi.eval.datasets import read_det_labels, read_rec_labels
    from luodi.eval.runner import evaluate_det, evaluate_rec, write_jsonl

    sets_dir: Path = args.sets
    manifest = json.loads((sets_dir / "manifest.json").read_text(encoding="utf-8"))
    results: dict[str, Any] = {}
    for model in args.models:
        t_load = time.perf_counter()
        engine = OCR(model=model, threads=args.threads)
        load_s = time.perf_counter() - t_load
        per_set: dict[str, Any] = {"load_seconds": round(load_s, 2)}
        for name in REC_SETS:
            if name not in manifest["sets"] or (args.only and name not in args.only):
                continue
            samples = read_rec_labels(sets_dir / manifest["sets"][name]["labels"])
            use_cls = name == "rec_photos"
            opts = OCROptions(use_det=False, use_cls=use_cls, drop_score=0.0).replace(**args.option)
            report = evaluate_rec(engine, samples, opts)
            per_set[name] = {**report.to_dict(), "use_cls": use_cls}
            write_jsonl(args.errors / model / f"{name}.jsonl", report.errors())
            m = report.metrics
            print(
                f"{model:15s} {name:15s} n={m.n:4d} acc={m.line_accuracy:.3f} acc_norm={m.line_accuracy_norm:.3f} "
                f"1-CER={m.one_minus_cer:.4f} {report.seconds:.1f}s",
                file=sys.stderr,
            )
        for name in DET_SETS:
            if name not in manifest["sets"] or (args.only and name not in args.only):
                continue
            det_samples = read_det_labels(sets_dir / manifest["sets"][name]["labels"])
            det_report = evaluate_det(engine, det_samples, OCROptions().replace(**args.option))
            per_set[name] = det_report.to_dict("e2e")
            write_jsonl(args.errors / model / f"{name}.jsonl", det_report.errors("e2e"))
            d, e = det_report.det, det_report.e2e
            print(
                f"{model:15s} {name:15s} det P/R/H={d.precision:.3f}/{d.recall:.3f}/{d.hmean:.3f} "
                f"e2e H={e.hmean:.3f} H_norm={e.hmean_norm:.3f} {det_report.seconds:.1f}s",
                file=sys.stderr,
            )
        results[model] = per_set
    return {"sets_manifest": manifest["sets"], "results": results}


def _fmt_rec(r: dict[str, Any] | None) -> str:
    if r is None:
        return "–"
    return f"{r['line_accuracy']:.3f} ({r['line_accuracy_norm']:.3f}) / {r['one_minus_cer']:.4f}"


def render_markdown(report: dict[str, Any]) -> str:
    models = list(report["results"])
    sets = report["sets_manifest"]
    lines = [
        "# Accuracy of the stock bundles on luodi's evaluation sets",
        "",
        "Command:",
        "",
        "```",
        report["command"],
        "```",
        "",
        f"Machine: {report['machine']['cpu']}, {report['machine']['cores']} cores; threads per model: "
        f"{report['threads']}; luodi commit {report['commit']}; runtime onnxruntime; {report['date']}; "
        f"1-min load average {report['loadavg_1min'][0]} at start, {report['loadavg_1min'][1]} at end "
        "(the machine was shared: times are indicative, accuracy is not affected).",
        f"OCROptions overrides: {report['ocr_options'] or 'none (defaults)'}.",
        f"Sets made by `{report['sets_command']}` (text: express-NER dev split; sha256 of every label file and"
        " image set in bench/out/eval/manifest.json and accuracy.json).",
        "",
        "## Recognition (each image is one line)",
        "",
        "Cell: line accuracy (normalised line accuracy) / 1-CER. Normalised = NFKC (full width → half width)"
        " and whitespace removed on both sides, because labels and models disagree on `：` vs `:` and on"
        " spaces between a name and a phone number. No 0/180 classifier except on rec_photos.",
        "",
        "| set | n | " + " | ".join(models) + " |",
        "|---|---|" + "---|" * len(models),
    ]
    rec_sets = [n for n in REC_SETS if n in sets and any(n in report["results"][m] for m in models)]
    for name in rec_sets:
        row = [name, str(sets[name]["n"])]
        row += [_fmt_rec(report["results"][m].get(name)) for m in models]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Milliseconds per line (recognition sets, incl. image decoding):", ""]
    lines += ["| set | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
    for name in rec_sets:
        cells = [
            f"{report['results'][m][name]['ms_per_sample']:.1f}" if name in report["results"][m] else "–"
            for m in models
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for name in DET_SETS:
        if name in sets and any(name in report["results"][m] for m in models):
            lines += _det_section(report, name)
    lines += ["", "What the numbers mean and what they show: [accuracy_notes.md](accuracy_notes.md).", ""]
    return "\n".join(lines)


def _det_section(report: dict[str, Any], name: str) -> list[str]:
    """Detection and end-to-end results of each model on the page set ``name``."""
    models = list(report["results"])
    sets = report["sets_manifest"]
    lines = [
        "",
        f"## Detection and end to end: {name} ({sets[name]['n']} rendered pages, "
        f"{sets[name]['n_regions']} regions, {sets[name]['n_ignored']} marked ###)",
        "",
        "Full pipeline with default options (det limit 960, cls on). Detection at IoU ≥ 0.5, one-to-one;"
        " end to end: matched and text equal (raw / normalised).",
        "",
        "| model | det P | det R | det hmean | mean IoU | e2e hmean | e2e hmean (norm) | s/page |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in models:
        r = report["results"][m].get(name)
        if r is None:
            continue
        e = r["e2e"]
        lines.append(
            f"| {m} | {r['precision']:.3f} | {r['recall']:.3f} | {r['hmean']:.3f} | {r['mean_iou']:.3f} | "
            f"{e['hmean']:.3f} | {e['hmean_norm']:.3f} | {r['s_per_image']:.2f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", type=Path, default=ROOT / "bench" / "out" / "eval", help="made by make_eval_sets.py")
    ap.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--only", nargs="*", default=None, help="only these sets")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "accuracy", help="writes OUT.md, OUT.json")
    ap.add_argument("--errors", type=Path, default=ROOT / "bench" / "out" / "accuracy")
    ap.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=NUMBER",
        help="override a numeric OCROptions field for every set, e.g. rec_min_width=320 or det_unclip_ratio=1.2",
    )
    args = ap.parse_args(argv)
    try:
        args.option = {k: float(v) if "." in v else int(v) for k, v in (o.split("=", 1) for o in args.option)}
    except ValueError:
        ap.error("--option takes NAME=NUMBER")
    argv_used = argv if argv is not None else sys.argv[1:]
    command = " ".join([".venv/bin/python bench/accuracy.py", *map(shlex.quote, argv_used)])

    if not (args.sets / "manifest.json").is_file():
        import make_eval_sets

        print(f"making the evaluation sets in {args.sets}", file=sys.stderr)
        if make_eval_sets.main(["--out", str(args.sets)]) != 0:
            return 1
    sets_manifest = json.loads((args.sets / "manifest.json").read_text(encoding="utf-8"))

    t0 = time.perf_counter()
    load_before = os.getloadavg()[0]
    report = run(args)
    report = {
        "command": command,
        "sets_command": sets_manifest.get("command", "python bench/data/make_eval_sets.py"),
        "date": time.strftime("%Y-%m-%d"),
        "commit": _git_commit(),
        "threads": args.threads,
        "machine": {"cpu": _cpu(), "cores": os.cpu_count(), "python": platform.python_version()},
        "seconds": round(time.perf_counter() - t0, 1),
        # other work on the machine slows the per-line times; the load average says how much there was
        "loadavg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "ocr_options": args.option,
        **report,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # appended, not with_suffix(): an output name like accuracy_unclip_1.2 has a dot of its own
    md, js = Path(f"{args.out}.md"), Path(f"{args.out}.json")
    js.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md.write_text(render_markdown(report), encoding="utf-8")
    print(f"wrote {md} ({report['seconds']} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
