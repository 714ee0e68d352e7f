"""Contact parsing on the express-NER dev set: rules vs model vs combined, training and inference time.

    .venv/bin/python bench/contact_ner.py      # uses $LUODI_HOME/models/express-ner (trains it if missing)

Writes bench/results/contact_ner.md and contact_ner.json. Rows (entity-level exact-span P/R/F1 on the
200 dev records, micro-averaged over P, T, A1..A4):

* rules/gazetteer alone: phone patterns + province→city→district chains from the division table +
  position heuristics for detail and name (``ContactParser(mode="rules")``, no model);
* BiGRU-CRF alone, without gazetteer input features (an ablation trained into bench/out/, not kept);
* BiGRU-CRF with gazetteer features, its spans as they come (``mode="model"``);
* combined (the shipped parser): the model + phone rules + structural fixes + gazetteer checks.

Inference time is measured in-process on the dev texts, numpy path (the shipped one) and, for
comparison, the same network in Paddle's dynamic graph (emissions only; decoding is the same
numpy CRF); one text per call and batched. The machine is shared with other work, so every timing
is the best of several rounds and the load average is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ".venv/bin/python bench/contact_ner.py"
TRAIN_COMMAND = ".venv/bin/python -m luodi.kie.ner.train --out $LUODI_HOME/models/express-ner"


def _best_ms_per_text(fn: Any, n_texts: int, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * min(times) / n_texts


def _paddle_timing(model_dir: Path, texts: list[str]) -> dict[str, float]:
    """Emission + decode time per text with the network run by Paddle instead of numpy."""
    import numpy as np

    from luodi.kie.gazetteer import get_gazetteer
    from luodi.kie.ner import train as tr
    from luodi.kie.ner.features import GAZ_DIM, CharVocab, gazetteer_features
    from luodi.kie.ner.model import load_ner_model

    paddle = tr.import_paddle()
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    cfg = tr.TrainConfig(**{f.name: config[f.name] for f in fields(tr.TrainConfig) if f.name in config})
    vocab = CharVocab.load(model_dir / "vocab.txt")
    net = tr._build_net(paddle, len(vocab), cfg)
    with np.load(model_dir / "weights.npz") as npz:
        w = {k: npz[k] for k in npz.files}
    state = {"emb.weight": w["emb"], "fc.weight": w["fc.w"], "fc.bias": w["fc.b"]}
    state.update({"trans": w["crf.trans"], "start": w["crf.start"], "end": w["crf.end"]})
    for layer in range(cfg.layers):
        for d, cell, suffix in (("fw", "cell_fw", ""), ("bw", "cell_bw", "_reverse")):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                short = name.replace("weight_", "w_").replace("bias_", "b_")
                # nn.GRU lists each parameter twice: per cell and in the flat cuDNN-style list.
                state[f"gru.{layer}.{cell}.{name}"] = w[f"gru.{layer}.{d}.{short}"]
                state[f"gru.{name}_l{layer}{suffix}"] = w[f"gru.{layer}.{d}.{short}"]
    net.set_state_dict({k: paddle.to_tensor(v) for k, v in state.items()})
    net.eval()
    gaz = get_gazetteer()
    model = load_ner_model(model_dir)

    def run(batch: list[str]) -> None:
        steps = max(len(t) for t in batch)
        ids = np.zeros((len(batch), steps), dtype=np.int64)
        feats = np.zeros((len(batch), steps, GAZ_DIM), dtype=np.float32)
        for i, t in enumerate(batch):
            ids[i, : len(t)] = vocab.encode(t)
            feats[i, : len(t)] = gazetteer_features(t, gaz)
        lengths = np.array([len(t) for t in batch], dtype=np.int64)
        with paddle.no_grad():
            emit = net.emissions(paddle.to_tensor(ids), paddle.to_tensor(feats), paddle.to_tensor(lengths)).numpy()
        for i, t in enumerate(batch):
            model.decode(t, emit[i, : len(t)].astype(np.float64))

    def single() -> None:
        for t in texts:
            run([t])

    def batched() -> None:
        for b in range(0, len(texts), 16):
            run(texts[b : b + 16])

    single()  # warm-up
    return {
        "single_ms": _best_ms_per_text(single, len(texts), rounds=3),
        "batch16_ms": _best_ms_per_text(batched, len(texts), rounds=3),
    }


# long: one run in order: options, training when stale (and the no-gazetteer ablation), scoring, the report
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-ablation", action="store_true", help="do not train the no-gazetteer model")
    ap.add_argument("--no-train", action="store_true", help="use the installed model as it is, even if stale")
    args = ap.parse_args()

    from luodi.config import get_settings
    from luodi.data import EXPRESS_NER
    from luodi.kie.contact import ContactParser
    from luodi.kie.contact.evaluate import evaluate_records
    from luodi.kie.ner import read_bio
    from luodi.kie.ner import train as tr
    from luodi.kie.ner.model import load_ner_model
    from luodi.kie.ner.store import default_model_dir

    data = EXPRESS_NER
    model_dir = default_model_dir()
    t0 = time.perf_counter()
    manifest = None if args.no_train else tr.train(data, model_dir)  # no-op when up to date
    setup_s = time.perf_counter() - t0
    train_metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    dev = read_bio(data / "dev.txt")
    texts = [r.text for r in dev]
    load1 = os.getloadavg()[0]

    rows: list[dict[str, Any]] = []

    def row(label: str, parser: ContactParser) -> None:
        res = evaluate_records(dev, parser)
        rows.append({"system": label, **res})
        print(f"{label:55s} F1 {res['micro']['f1']:.4f}", file=sys.stderr)

    row("rules + gazetteer alone (no model)", ContactParser(mode="rules"))
    ablation: dict[str, Any] | None = None
    if not args.skip_ablation:
        out = ROOT / "bench" / "out" / "express-ner-nogaz"
        cfg = tr.TrainConfig(gazetteer_features=False)
        if not args.no_train:
            tr.train(data, out, cfg)
        ablation = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
        row("BiGRU-CRF alone, no gazetteer features", ContactParser(load_ner_model(out), mode="model"))
    row("BiGRU-CRF + gazetteer features (model spans as is)", ContactParser(mode="model"))
    combined = ContactParser()
    row("combined: model + phone rules + structure + gazetteer", combined)

    # Inference speed, numpy path.
    from luodi.kie.contact import parse_contact

    parse_contact(texts[0])  # warm-up (loads the model once)
    load2 = os.getloadavg()[0]
    single_ms = _best_ms_per_text(lambda: [combined(t) for t in texts], len(texts))
    batch_ms = _best_ms_per_text(lambda: combined.parse_many(texts), len(texts))
    lengths = [len(t) for t in texts]
    paddle_t = _paddle_timing(model_dir, texts)
    load3 = os.getloadavg()[0]

    result = {
        "command": COMMAND,
        "data": "express_ner dev.txt (200 records)",
        "rows": rows,
        "model": {
            "dir": str(model_dir),
            "config": {k: v for k, v in json.loads((model_dir / "config.json").read_text()).items() if k != "tags"},
            "best_epoch": train_metrics["best_epoch"],
            "epochs_run": train_metrics["epochs_run"],
            "train_seconds": train_metrics["train_seconds"],
            "weights_bytes": (model_dir / "weights.npz").stat().st_size,
            "setup_skip_seconds": round(setup_s, 2) if manifest else None,
        },
        "ablation_train_seconds": ablation["train_seconds"] if ablation else None,
        "inference_ms_per_text": {
            "numpy_single": round(single_ms, 2),
            "numpy_batch": round(batch_ms, 2),
            "paddle_single": round(paddle_t["single_ms"], 2),
            "paddle_batch16": round(paddle_t["batch16_ms"], 2),
        },
        "text_chars_mean": round(statistics.mean(lengths), 1),
        "load_average_1min": [round(load1, 1), round(load2, 1), round(load3, 1)],
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "luodi_home": str(get_settings().home),
    }
    res_dir = ROOT / "bench" / "results"
    res_dir.mkdir(parents=True, exist_ok=True)
    (res_dir / "contact_ner.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (res_dir / "contact_ner.md").write_text(_markdown(result), encoding="utf-8")
    print(_markdown(result))
    return 0


def _markdown(r: dict[str, Any]) -> str:
    m = r["model"]
    inf = r["inference_ms_per_text"]
    lines = [
        "# Contact parsing (express NER) — dev-set F1 and speed",
        "",
        f"Command: `{r['command']}`",
        "",
        "The model is trained at setup time (`make setup`), not stored in git:",
        f"`{TRAIN_COMMAND}`",
        "",
        f"Data: {r['data']}; entity-level exact-span precision / recall / F1, micro over P T A1 A2 A3 A4.",
        "Dev was used for early stopping, so these F1s are optimistic; the held-back test split is the real check.",
        "",
        "| system | P | R | F1 | P name | T phone | A1 | A2 | A3 | A4 detail |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in r["rows"]:
        mi, pt = row["micro"], row["per_type"]
        per = " | ".join(f"{pt[t]['f1']:.4f}" if t in pt else "-" for t in ("P", "T", "A1", "A2", "A3", "A4"))
        lines.append(f"| {row['system']} | {mi['precision']:.4f} | {mi['recall']:.4f} | **{mi['f1']:.4f}** | {per} |")
    cfg = m["config"]
    lines += [
        "",
        "## Model",
        f"BiGRU-CRF, {cfg['layers']} layers x {cfg['hidden']} per direction, char embedding {cfg['emb_dim']}, "
        f"+{9 if cfg['gazetteer_features'] else 0} gazetteer flags per character; Adam lr {cfg['lr']}, batch "
        f"{cfg['batch_size']}, seed {cfg['seed']}. Weights: {m['weights_bytes'] / 1e6:.1f} MB (weights.npz).",
        f"Training (PaddlePaddle 3.3.1 CPU, dynamic graph): {m['train_seconds']} s for {m['epochs_run']} epochs "
        f"(best epoch {m['best_epoch']}, early stopping on dev F1)"
        + (f"; the no-gazetteer ablation: {r['ablation_train_seconds']} s" if r["ablation_train_seconds"] else "")
        + " (wall-clock on this shared machine as it was then). Re-running setup with the same"
        " data/config/code skips training.",
        "",
        "## Inference time per text (ms, best of rounds, in-process)",
        f"Texts average {r['text_chars_mean']} characters. 1-min load average during the run: "
        f"{', '.join(str(x) for x in r['load_average_1min'])} on {r['machine']}.",
        "",
        "| path | one text per call | batched |",
        "| --- | --- | --- |",
        f"| numpy GRU + CRF (shipped; whole parse) | {inf['numpy_single']} | {inf['numpy_batch']} |",
        f"| Paddle dygraph emissions + numpy CRF (tagging only) | {inf['paddle_single']} | {inf['paddle_batch16']} |",
        "",
        "## Reading the numbers",
        "- The dev set is small (200 records, ~1190 entities): one entity is 0.0008 of F1, so rows within",
        "  ~0.003 of each other are within run-to-run noise (seed, epoch picked on dev).",
        "- This data is regular (six field orders, no separators), so even the rules get far; what is left",
        "  for the model is mostly where a name meets the detail address with nothing between them.",
        "- The shipped parser adds to the model: phone patterns (the model sees every phone as a plain",
        "  mobile), address parts forced into province→city→district→detail order, a second name or a",
        "  district of a district-less city folded into the detail, and a name-required re-decode when",
        "  the best path has no name. The gazetteer also checks the province/city/district chain",
        "  (`needs_review` reasons) and gives official names and the adcode (`Contact.region`).",
        "- Inference is numpy only (no Paddle import): measured faster than Paddle's dynamic graph here,",
        "  with BLAS kept single-threaded during the tagger's products (threadpoolctl).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
