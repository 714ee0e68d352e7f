"""The INT8 anomaly bundle's threshold (issue #14): the false-alarm rate and the defect recall at
the threshold of FP32, INT8 as before (the FP32 threshold kept), INT8 re-chosen on held-back good
images (``luodi quantize --held``) and INT8 mapped from the calibration images (no ``--held``).

    python bench/vision_int8_threshold.py quantize   # both INT8 bundles through the CLI
    python bench/vision_int8_threshold.py dev        # val good tiles + train/val defects
    python bench/vision_int8_threshold.py test       # the test split, once (not blind: scored before)
    python bench/vision_int8_threshold.py draws      # the maps without --held, over random calibration sets

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

import numpy as np

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


def candidate_maps(t: float, f: np.ndarray, q: np.ndarray) -> dict[str, float]:
    """The FP32 threshold ``t`` carried to INT8 by the calibration scores ``f`` (FP32), ``q`` (INT8):
    the taken map (luodi.vision.scoring.mapped_threshold) and the simpler ones it was weighed against."""
    from luodi.vision.scoring import mapped_threshold

    a, b = np.polyfit(f, q, 1)
    below = f < t
    return {
        "quadrature_below_t (taken)": mapped_threshold(t, f, q),
        "ratio_median_below_t": t * float(np.median(q[below] / f[below])),
        "offset_median_below_t": t + float(np.median(q[below] - f[below])),
        "straight_line_fit_all": float(a * t + b),
    }


# long: one dev experiment top to bottom: score the pools, then each map's flag rates
def draws(args: argparse.Namespace, n_draws: int = 300) -> dict:
    """Dev only. Every train image (the calibration pool: the bank's good tiles and the train
    defects) scored by FP32 and by the INT8 bundle, the val good tiles and the train+val defects by
    INT8; then each map from the calibration folders the bench uses and from random draws of 64
    train images (all, good only, defects only): how often the val good tiles are flagged above the
    1% asked for, and the defect recall."""
    sys.path.insert(0, str(ROOT / "src"))
    from luodi.vision.data import read_image
    from luodi.vision.inspector import Inspector
    from luodi.vision.quantize import _calibration_images

    res = header(args)
    with (args.out / "mtd.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    train = [r["path"] for r in rows if r["split"] == "train"]
    val_good = [r["path"] for r in rows if r["split"] == "val" and r["label"] == GOOD]
    defects = [r["path"] for r in rows if r["split"] in ("train", "val") and r["label"] != GOOD]
    fp32, int8 = Inspector(FP32), Inspector(HELD)
    f = np.array([fp32(read_image(p)).score for p in train])
    q = np.array([int8(read_image(p)).score for p in train])
    vg = np.array([int8(read_image(p)).score for p in val_good])
    de = np.array([int8(read_image(p)).score for p in defects])
    t = float(fp32.meta.threshold or 0.0)
    index = {p: i for i, p in enumerate(train)}
    good = np.array([r["label"] == GOOD for r in rows if r["split"] == "train"])
    res["images"] = {"train": len(train), "val_good": len(vg), "defects": len(de)}

    def rates(x: float) -> dict:
        return {"threshold": round(x, 4), "val_good_flagged": round(float(np.mean(vg >= x)), 4)} | {
            "defect_recall": round(float(np.mean(de >= x)), 4)
        }

    for folder in ("good", "calib"):  # what luodi quantize --calib takes from the bench's folders
        sel = np.array([index[os.path.realpath(s.path)] for s in _calibration_images(args.out / folder, 64)])
        res[f"calib_{folder}_64"] = {k: rates(x) for k, x in candidate_maps(t, f[sel], q[sel]).items()}
    rng = np.random.default_rng(0)
    for pool_name, pool in (("all", np.arange(len(train))), ("good", np.flatnonzero(good))):
        got: dict[str, list[tuple[float, float, float]]] = {}
        for _ in range(n_draws):
            sel = rng.choice(pool, 64, replace=False)
            for k, x in candidate_maps(t, f[sel], q[sel]).items():
                got.setdefault(k, []).append((x, float(np.mean(vg >= x)), float(np.mean(de >= x))))
        res[f"draws_{pool_name}_train_64"] = {
            k: {
                "draws_flagging_over_1pct": round(float(np.mean([a > 0.01 for _, a, _ in v])), 3),
                "val_good_flagged_max": round(max(a for _, a, _ in v), 4),
                "threshold_p5_p95": [round(float(x), 3) for x in np.quantile([x for x, _, _ in v], [0.05, 0.95])],
                "defect_recall_median": round(float(np.median([c for _, _, c in v])), 4),
            }
            for k, v in got.items()
        }
    defect_pool = np.flatnonzero(~good)
    over = []
    for _ in range(n_draws):  # a calibration folder of defects only (the failure the docs warn of)
        sel = rng.choice(defect_pool, 40, replace=False)
        if np.sum(f[sel] < t) >= 5:
            over.append(float(np.mean(vg >= candidate_maps(t, f[sel], q[sel])["quadrature_below_t (taken)"])) > 0.01)
    res["draws_defects_only_train_40"] = {
        "draws": len(over),
        "quadrature_flagging_over_1pct": round(float(np.mean(over)), 3),
    }
    res["fp32_threshold"] = t
    res["held_threshold"] = rates(float(int8.meta.threshold or 0.0))
    res["fp32_threshold_kept"] = rates(t)
    res["load_1min_end"] = round(os.getloadavg()[0], 2)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["quantize", "dev", "test", "draws"])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "vision")
    args = ap.parse_args()
    res = {"quantize": quantize, "draws": draws}.get(args.cmd, score)(args)
    json.dump(res, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
