"""The INT8 anomaly bundle's threshold (issue #14): the false-alarm rate and the defect recall at
the threshold of FP32, INT8 as before (the FP32 threshold kept), INT8 re-chosen on held-back good
images (``luodi quantize --held``) and INT8 mapped from the calibration images (no ``--held``).

    python bench/vision_int8_threshold.py quantize   # both INT8 bundles through the CLI
    python bench/vision_int8_threshold.py dev        # val good tiles + train/val defects
    python bench/vision_int8_threshold.py test       # the test split, once (not blind: scored before)

The bench's split (bench/vision_bench.py, file level): the FP32 bank is the train good tiles, its
threshold was chosen on the val good tiles (bench/out/vision/held), which ``--held`` takes again;
so on dev the re-chosen INT8 threshold is scored on the images it was chosen on, as the FP32 one
is, and the mapped one on images it never saw. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from vision_int8_search import GOOD, dev_csv  # noqa: E402 - the bench folder is put on the path just above

FP32 = "mtd-anomaly"
BEFORE = "mtd-anomaly-int8"  # made at c8c8a06: the FP32 threshold kept
HELD = "mtd-anomaly-int8-held"
MAPPED = "mtd-anomaly-int8-mapped"


def header(args: argparse.Namespace) -> dict:
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "command": " ".join(["python", "bench/vision_int8_threshold.py", *sys.argv[1:]]),
        "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_1min_start": round(os.getloadavg()[0], 2),
    }


def quantize(args: argparse.Namespace) -> dict:
    res = header(args)
    for name, extra in ((HELD, ["--held", str(args.out / "held")]), (MAPPED, [])):
        cmd = ["luodi", "quantize", FP32, "--calib", str(args.out / "good"), "--name", name]
        cmd += ["--toolchain", "ort", "--force", *extra]
        t = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "luodi", *cmd[1:]],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        if run.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed: {run.stderr[-2000:]}")
        res[name] = {
            "command": " ".join(cmd),
            "seconds": round(time.perf_counter() - t, 1),
            "threshold": json.loads(run.stdout)["threshold"],
            "stderr_warning": [line for line in run.stderr.splitlines() if "warning" in line],
        }
    res["load_1min_end"] = round(os.getloadavg()[0], 2)
    return res


def test_csv(out: Path, dest: Path) -> Path:
    with (out / "mtd.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] == "test"]
    with dest.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["path", "label", "mask"])
        w.writeheader()
        for r in rows:
            w.writerow({"path": r["path"], "label": r["label"], "mask": r["mask"]})
    return dest


def score(args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from luodi.vision.evaluate import evaluate_vision
    from luodi.vision.inspector import Inspector

    keys = ("n", "threshold", "false_alarm_rate", "recall_at_threshold", "image_auroc")
    res = header(args)
    with tempfile.TemporaryDirectory() as tmp:
        make = dev_csv if args.cmd == "dev" else test_csv
        path = make(args.out, Path(tmp) / f"{args.cmd}.csv")
        for model in (FP32, BEFORE, HELD, MAPPED):
            ins = Inspector(model)
            ev = evaluate_vision(ins, path, good_class=GOOD).to_dict()
            res[model] = {k: ev.get(k) for k in keys} | {"threshold": ins.meta.threshold, "search": ins.search}
    res["load_1min_end"] = round(os.getloadavg()[0], 2)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["quantize", "dev", "test"])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "vision")
    args = ap.parse_args()
    res = quantize(args) if args.cmd == "quantize" else score(args)
    json.dump(res, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
