"""Text model selection on validation slices only: one training run per call, its best evaluation appended.

    PYTHONPATH=src nice -n 10 .venv/bin/python bench/text_dev.py --set smp2019 --seed 0 -o optim.ema=0.99

Sets (never their test splits):
- ``smp2019``: train.json -> dev.json (the evaluation set that chooses the epoch; the bench's test.json is not read);
- ``thucnews``: the bench's 8,000 training titles (dev.txt lines i % 5 < 4), of which the trainer holds a
  stratified 10% out (the config default); the 2,000 held-out titles are not read.

``-o KEY=VALUE`` overrides the default config (YAML values); ``--teacher FILE_STEM`` distils sentence vectors
computed beforehand by ``--write-teacher FILE_STEM`` (``FILE_STEM.npy`` rows for the texts in ``FILE_STEM.json``),
so that several runs share one teacher pass — the cost of that pass is reported separately, not in the
run's CPU seconds.
Each run appends one JSON line to ``bench/out/textdev/runs.jsonl``: the best epoch's evaluation, CPU seconds
(this process: training runs in it) and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LUODI_SHARED", ROOT.parent / "shared")) / "data" / "text"
OUT = ROOT / "bench" / "out" / "textdev"


def _config(name: str, overrides: list[str], seed: int) -> dict[str, Any]:
    if name == "smp2019":
        cfg: dict[str, Any] = {
            "task": "nlu",
            "train": str(SHARED / "smp2019" / "train.json"),
            "eval": str(SHARED / "smp2019" / "dev.json"),
        }
    else:
        train = ROOT / "bench" / "out" / "text" / "thuc_train8k.tsv"  # written by text_bench.py's split
        if not train.is_file():
            raise SystemExit(f"{train} is missing: run bench/text_bench.py --sets thucnews once (it writes the split)")
        cfg = {"task": "classify", "train": str(train)}
    cfg.update(seed=seed, output_dir=str(OUT / "runs"))
    for item in overrides:
        key, _, value = item.partition("=")
        node = cfg
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = yaml.safe_load(value)
    return cfg


def _cached_teacher(stem: str) -> Any:
    texts = json.loads(Path(stem + ".json").read_text(encoding="utf-8"))
    vectors = np.load(stem + ".npy")
    row = {t: i for i, t in enumerate(texts)}
    return lambda batch: vectors[[row[t] for t in batch]]


def _write_teacher(name: str, stem: str) -> None:
    """e5 sentence vectors of every training text of the set, for ``--teacher STEM`` in later runs."""
    from luodi.text.data import read_examples
    from luodi.text.teacher import E5Encoder
    from luodi.zoo import bundle_file, get_bundle

    cfg = _config(name, [], 0)
    texts = sorted({e.text for e in read_examples(cfg["train"])})
    encoder = E5Encoder.load(bundle_file(get_bundle("multilingual-e5-small"), "encoder"))
    started = time.process_time()
    np.save(stem + ".npy", encoder(texts))
    Path(stem + ".json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    print(f"{len(texts)} teacher vectors in {time.process_time() - started:.1f} CPU s -> {stem}.npy")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", dest="name", choices=["smp2019", "thucnews"], required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--teacher", help="FILE_STEM of precomputed teacher vectors")
    ap.add_argument("--label", default="")
    ap.add_argument("--write-teacher", metavar="FILE_STEM", help="only compute the set's teacher vectors into it")
    args = ap.parse_args()
    if args.write_teacher:
        _write_teacher(args.name, args.write_teacher)
        return
    from luodi.text.config import parse_text_config
    from luodi.text.train import train_text

    cfg = parse_text_config(_config(args.name, args.overrides, args.seed))
    name = f"{args.name}-{args.label or 'default'}-s{args.seed}-{time.strftime('%H%M%S')}"
    teacher = _cached_teacher(args.teacher) if args.teacher else None
    load_before = " ".join(f"{v:.1f}" for v in os.getloadavg())
    started, cpu = time.perf_counter(), time.process_time()
    result = train_text(cfg, name=name, teacher=teacher)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out = {
        "set": args.name,
        "label": args.label,
        "seed": args.seed,
        "overrides": args.overrides,
        "teacher": args.teacher,
        "best": result.best,
        "epochs": result.epochs,
        "wall_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "max_rss_mb": round(usage.ru_maxrss / 1024),
        "load": f"{load_before} -> " + " ".join(f"{v:.1f}" for v in os.getloadavg()),
        "run": str(result.run_dir),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "runs.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(out, ensure_ascii=False) + "\n")
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
