"""Text understanding: luodi's trained models against a char 1-3-gram TF-IDF + linear SVM, in one run.

    .venv/bin/python bench/text_bench.py [--sets smp2019 thucnews] [--out bench/results/text.md]

Sets (../shared/data/text; research use, never copied into the repository):
- ``smp2019``: train.json → test.json (dev.json is the evaluation set during training); intent accuracy,
  slot F1 (entity level, nested entities reduced to the longest as in training);
- ``thucnews``: the 10,000-title dev.txt split by line number — lines with i % 5 < 4 train (8,000), the
  rest (2,000) are the held-out test that no setting was tuned on. Training holds 10% of its 8,000 out
  for model selection (the config default). The independent measurement trains on 10,000 and tests
  elsewhere.

luodi is trained through the CLI (``luodi train text --config ... --name ...``) with the default config,
which names only the data. Timings: training wall time; inference one text per call on one thread
(latency), and batches of 64 on two threads (throughput), after a warm-up; load average beside them.
``LUODI_SHARED`` names the shared folder when it is not beside the checkout.

    .venv/bin/python bench/text_bench.py --speed MODEL [MODEL ...] --texts FILE

compares registered models' speed on the same texts in one run, in turns (three rounds each), so that
the machine's load falls on all of them alike: the ratio is what to read on a shared machine.
Needs ``luodi[bench]`` (scikit-learn) and ``luodi models pull multilingual-e5-small``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LUODI_SHARED", ROOT.parent / "shared")) / "data" / "text"
OUT = ROOT / "bench" / "out" / "text"


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def _sets(names: list[str]) -> dict[str, dict[str, Any]]:
    OUT.mkdir(parents=True, exist_ok=True)
    sets: dict[str, dict[str, Any]] = {}
    if "smp2019" in names:
        d = SHARED / "smp2019"
        sets["smp2019"] = {"task": "nlu", "train": d / "train.json", "eval": d / "dev.json", "test": d / "test.json"}
    if "thucnews" in names:
        d = SHARED / "thucnews"
        classes = [c.strip() for c in (d / "class.txt").read_text(encoding="utf-8").splitlines() if c.strip()]
        rows = [line.split("\t") for line in (d / "dev.txt").read_text(encoding="utf-8").splitlines() if line]
        train, test = OUT / "thuc_train8k.tsv", OUT / "thuc_holdout2k.tsv"
        with train.open("w", encoding="utf-8") as a, test.open("w", encoding="utf-8") as b:
            for i, (text, label) in enumerate(rows):
                (a if i % 5 < 4 else b).write(f"{text}\t{classes[int(label)]}\n")
        sets["thucnews"] = {"task": "classify", "train": train, "eval": None, "test": test}
    return sets


def _baseline(s: dict[str, Any]) -> dict[str, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    from luodi.text.data import read_examples

    tr, te = read_examples(s["train"]), read_examples(s["test"])
    started = time.perf_counter()
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    clf = LinearSVC().fit(vec.fit_transform([e.text for e in tr]), [e.label for e in tr])
    fit = time.perf_counter() - started
    pred = clf.predict(vec.transform([e.text for e in te]))
    acc = sum(p == e.label for p, e in zip(pred, te, strict=True)) / len(te)
    return {"accuracy": round(acc, 4), "train_s": round(fit, 1)}


def _luodi(name: str, s: dict[str, Any], overrides: list[str] = (), tag: str = "") -> dict[str, Any]:  # type: ignore[assignment]
    """Train through the CLI with the default config (plus ``overrides``, ``KEY=VALUE``: the "before"
    model of a comparison), score on the test split, time it."""
    cfg = OUT / f"{name}{tag}.yml"
    data: dict[str, Any] = {"task": s["task"], "train": str(s["train"]), "output_dir": str(OUT / "runs")}
    if s["eval"] is not None:
        data["eval"] = str(s["eval"])
    for item in overrides:
        key, _, value = item.partition("=")
        section, _, leaf = key.rpartition(".")
        (data.setdefault(section, {}) if section else data)[leaf] = yaml.safe_load(value)
    cfg.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    model = f"bench-text-{name}{tag}"
    shutil.rmtree(OUT / "runs" / model, ignore_errors=True)  # a fresh run each time
    cmd = [sys.executable, "-m", "luodi", "train", "text", "--config", str(cfg), "--name", model, "--force"]
    load_before = _load()
    started, cpu_before = time.perf_counter(), _child_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    train_s = time.perf_counter() - started
    train_cpu_s = _child_cpu() - cpu_before  # load-independent: about the wall time on idle cores x cores used
    if proc.returncode != 0:
        raise SystemExit(f"training {name} failed:\n{proc.stderr[-3000:]}")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    from luodi.text.evaluate import evaluate_model

    confusion = ROOT / "bench" / "results" / f"text_{name}{tag}_confusion.png"
    report = evaluate_model(model, s["test"], confusion=None if tag else confusion)
    speed = _speed(model, s["test"])
    return {
        "command": " ".join(["luodi", *cmd[3:]]),
        "config": data,
        "train_s": round(train_s, 1),
        "train_cpu_s": round(train_cpu_s, 1),
        "load_during_training": f"{load_before} -> {_load()}",
        "epochs": summary["epochs"],
        "accuracy": round(report["accuracy"], 4),
        "macro_f1": round(report["macro_f1"], 4),
        "slot_f1": None if report["slot_f1"] is None else round(report["slot_f1"], 4),
        "unknown_gold_labels": report["unknown_gold_labels"],
        **speed,
    }


def _registered(model: str, s: dict[str, Any]) -> dict[str, Any]:
    """A model registered earlier (the previous default's bench model), scored and timed in this run."""
    from luodi.text.evaluate import evaluate_model

    report = evaluate_model(model, s["test"], confusion=None)
    return {
        "command": f"registered model {model} (trained earlier; scored and timed in this run)",
        "train_s": "—",
        "train_cpu_s": "—",
        "load_during_training": "—",
        "epochs": "—",
        "accuracy": round(report["accuracy"], 4),
        "macro_f1": round(report["macro_f1"], 4),
        "slot_f1": None if report["slot_f1"] is None else round(report["slot_f1"], 4),
        "unknown_gold_labels": report["unknown_gold_labels"],
        **_speed(model, s["test"]),
    }


def _speed(model: str, test: Path) -> dict[str, Any]:
    from luodi.text.data import read_examples
    from luodi.text.model import TextModel

    texts = [e.text for e in read_examples(test)]
    one = TextModel(model, threads=1)
    one(texts[:50])
    started = time.perf_counter()
    for t in texts[:500]:
        one([t])
    latency = (time.perf_counter() - started) / min(500, len(texts)) * 1000
    two = TextModel(model, threads=2)
    two(texts[:256])
    started, cpu = time.perf_counter(), time.process_time()
    two(texts)
    throughput = len(texts) / (time.perf_counter() - started)
    per_cpu_s = len(texts) / max(1e-9, time.process_time() - cpu)  # texts per CPU second: x2 on 2 idle cores
    return {
        "ms_per_text_1thread": round(latency, 3),
        "texts_per_s_2threads": round(throughput),
        "texts_per_cpu_s": round(per_cpu_s),
        "load": _load(),
    }


def _compare_speed(models: list[str], texts: Path, rounds: int = 3) -> dict[str, Any]:
    """Each model's speed, measured in turns; per model the best of ``rounds`` (the least disturbed)."""
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in models}
    for _ in range(rounds):
        for m in models:
            runs[m].append(_speed(m, texts))
    out: dict[str, Any] = {"load": _load(), "texts": str(texts)}
    for m, r in runs.items():
        out[m] = {
            "ms_per_text_1thread": min(x["ms_per_text_1thread"] for x in r),
            "texts_per_s_2threads": max(x["texts_per_s_2threads"] for x in r),
            "texts_per_cpu_s": max(x["texts_per_cpu_s"] for x in r),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", default=["smp2019", "thucnews"], choices=["smp2019", "thucnews"])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "text.md")
    ap.add_argument("--speed", nargs="+", metavar="MODEL", help="only compare these registered models' speed")
    ap.add_argument("--texts", type=Path, help="with --speed: the texts (any format luodi reads)")
    ap.add_argument(
        "--before",
        nargs="+",
        metavar="KEY=VALUE",
        help="also train the default config with these settings (the previous default) in the same run",
    )
    ap.add_argument(
        "--before-model",
        metavar="MODEL",
        help="instead of training one, score and time this registered model as the previous default",
    )
    args = ap.parse_args()
    if args.speed:
        if args.texts is None:
            ap.error("--speed needs --texts")
        print(json.dumps(_compare_speed(args.speed, args.texts), ensure_ascii=False, indent=1))
        return
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED} is missing: this bench needs the shared text corpora")
    results: dict[str, Any] = {
        "command": "python bench/text_bench.py --sets "
        + " ".join(args.sets)
        + (" --before " + " ".join(args.before) if args.before else "")
        + (f" --before-model {args.before_model}" if args.before_model else ""),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} cores",
        "sets": {},
    }
    for name, s in _sets(args.sets).items():
        results["sets"][name] = {"baseline_tfidf_svm": _baseline(s)}
        if args.before_model:
            results["sets"][name]["luodi_before"] = _registered(args.before_model, s)
        elif args.before:
            results["sets"][name]["luodi_before"] = _luodi(name, s, args.before, "-before")
        results["sets"][name]["luodi"] = _luodi(name, s)
        print(json.dumps({name: results["sets"][name]}, ensure_ascii=False), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    args.out.write_text(_markdown(results), encoding="utf-8")


def _markdown(r: dict[str, Any]) -> str:
    lines = [
        "# Text understanding: luodi vs char 1-3-gram TF-IDF + linear SVM",
        "",
        f"`{r['command']}` — {r['date']}, {r['machine']} (shared with other jobs: load averages beside the timings).",
        "",
        "| set | TF-IDF+SVM acc | luodi acc | macro-F1 | slot F1 | train s wall, CPU s (epochs) | ms/text 1 thread "
        "| texts/s 2 threads (per CPU s) | load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in r["sets"].items():
        b = s["baseline_tfidf_svm"]
        for key, label in (("luodi_before", f"{name} (before)"), ("luodi", name)):
            if key not in s:
                continue
            m = s[key]
            slot = "—" if m["slot_f1"] is None else f"{m['slot_f1']:.4f}"
            lines.append(
                f"| {label} | {b['accuracy']:.4f} | {m['accuracy']:.4f} | {m['macro_f1']:.4f} | {slot} | "
                f"{m['train_s']}, CPU {m['train_cpu_s']} ({m['epochs']}) | {m['ms_per_text_1thread']} | "
                f"{m['texts_per_s_2threads']} ({m['texts_per_cpu_s']}) | "
                f"train {m['load_during_training']}; speed {m['load']} |"
            )
    lines += ["", "Commands per set are in text.json (`luodi.command`)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
