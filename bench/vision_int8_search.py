"""The INT8 anomaly model's bank search in int8 (luodi.vision.int8search) against the float search,
on the dev images only (the bank is the train split's good tiles, so the val good tiles and the
train+val defects are images it has never seen; the test split is not read here).

    python bench/vision_int8_search.py dev [--model mtd-anomaly-int8] [--out bench/out/vision]

For every dev image, through ``Inspector``: the patches' chosen neighbour in both searches (how
often the int8 search picks the float search's nearest row; how far above the exact nearest
distance a miss lands), and image / pixel AUROC of both (``luodi eval vision``'s metrics).
Prints one JSON object.
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
GOOD = "MT_Free"


def dev_csv(out: Path, dest: Path) -> Path:
    """The dev rows of the bench's split (val good, train+val defects) as a CSV luodi eval reads."""
    with (out / "mtd.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] == "val" or (r["split"] == "train" and r["label"] != GOOD)]
    with dest.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["path", "label", "mask"])
        w.writeheader()
        for r in rows:
            w.writerow({"path": r["path"], "label": r["label"], "mask": r["mask"]})
    return dest


def patch_agreement(model: str, csv_path: Path) -> dict:
    """How the int8 search's chosen rows compare with the float search's nearest rows."""
    from luodi.vision.data import load_dataset, read_image, to_input
    from luodi.vision.inspector import Inspector
    from luodi.vision.patchcore import nearest_distances, project

    ins = Inspector(model, search="int8")
    assert ins._bank is not None and ins._search is not None
    samples, _ = load_dataset(csv_path)
    same, total, excess, cpu = 0, 0, [], {"float": 0.0, "int8": 0.0}
    for s in samples:
        x = to_input(read_image(str(s.path)), ins.meta.image_size, ins.meta.resize)
        fmap = ins.session.run({ins._input: x[None]})[0][0]
        d = fmap.shape[0]
        p = project(fmap.reshape(d, -1).T, ins._projection)
        t = time.process_time()
        exact = nearest_distances(p, ins._bank, ins._bank_norms)
        cpu["float"] += time.process_time() - t
        t = time.process_time()
        got = ins._search.distances(p)
        cpu["int8"] += time.process_time() - t
        rel = got / np.maximum(exact, 1e-6) - 1.0
        same += int((rel <= 1e-4).sum())
        total += len(p)
        excess.append(rel)
    e = np.concatenate(excess)
    return {
        "patches": total,
        "same_neighbour_or_as_near": round(same / total, 5),
        "excess_distance_rel": {
            "mean": float(e.mean()),
            "p99": float(np.quantile(e, 0.99)),
            "p999": float(np.quantile(e, 0.999)),
            "max": float(e.max()),
        },
        "search_cpu_ms_per_image": {k: round(v * 1000 / len(samples), 2) for k, v in cpu.items()},
    }


def dev(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from luodi.vision.evaluate import evaluate_vision
    from luodi.vision.inspector import Inspector

    keys = ("n", "image_auroc", "pixel_auroc", "per_class_image_auroc", "recall_at_threshold", "false_alarm_rate")
    with tempfile.TemporaryDirectory() as tmp:
        path = dev_csv(args.out, Path(tmp) / "dev.csv")
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        res: dict = {
            "command": " ".join(["python", "bench/vision_int8_search.py", *sys.argv[1:]]),
            "commit": commit,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "model": args.model,
            "load_1min_start": round(os.getloadavg()[0], 2),
        }
        res["patches"] = patch_agreement(args.model, path)
        for search in ("float", "int8"):
            ev = evaluate_vision(Inspector(args.model, search=search), path).to_dict()
            res[search] = {k: ev.get(k) for k in keys}
        res["load_1min_end"] = round(os.getloadavg()[0], 2)
    json.dump(res, sys.stdout, indent=1)
    print()


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dev")
    d.add_argument("--model", default="mtd-anomaly-int8")
    d.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "vision")
    args = ap.parse_args()
    dev(args)


if __name__ == "__main__":
    main()
