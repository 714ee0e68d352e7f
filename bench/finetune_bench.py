"""Fine-tuning benchmark: blind sets, stock models, the guard ablation and the shipped recipes.

    python bench/finetune_bench.py sets                    # render the blind sets (bench/out/blind)
    python bench/finetune_bench.py stock                   # stock v4 / v5 / v6 small on them + the regression set
    python bench/finetune_bench.py ablation --steps 60     # what each guard part buys (short runs)
    python bench/finetune_bench.py recipe --config examples/finetune/dotmatrix.yml --name pp-ocrv6-dotmatrix
    python bench/finetune_bench.py wise --run RUN --alphas 0 0.2 1   # weights blended toward stock (WiSE-FT)

Blind means: rendered with the renderer's "eval" family (fonts, dot-matrix heads, degradations that
no recipe trains on) and text no recipe trains on: news titles from ../shared THUCNews (development
data, never copied into the repository; without it the sets fall back to the shipped regression
text and say so) and bank-slip lines of the held-out slip family. Recipes train on the "train"
family with express-NER train text, jieba-sampled general text and train-family slip lines.

Stock and exported models are read through luodi's OCR pipeline (recognition only: no det, no cls).
Ablation variants are not exported: they and their stock reference are scored in dynamic graph.
Results: bench/results/finetune*.md and .json, with the load average and CPU seconds of each run
(the machine is shared; CPU seconds are the better guide to the 2-core time).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LUODI_SHARED", ROOT.parent / "shared")) / "data"
BLIND = ROOT / "bench" / "out" / "blind"
RESULTS = ROOT / "bench" / "results"
# name -> (style, severity, n, seed, text source, renderer family)
BLIND_SETS: dict[str, list[tuple[str, str, int, int, str, str]]] = {
    "blind_dotmatrix": [
        ("dotmatrix", "mild", 100, 501, "news", "eval"),
        ("dotmatrix", "hard", 100, 502, "news", "eval"),
    ],
    # held-out printers (luodi.synth.dotmatrix_heldout): 9-pin heads, faded ribbons, misregistered
    # passes, carbon copies, skew; stock v6 small reads these about as badly as the independent renderer's
    "blind_dotmatrix_heldout": [
        ("dotmatrix", "mild", 100, 511, "news", "heldout"),
        ("dotmatrix", "hard", 100, 512, "news", "heldout"),
    ],
    # fresh printers (luodi.synth.dotmatrix_fresh), faces no other family draws and news titles no
    # other set reads (THUCNews dev lines 6000 on): written to confirm the dot-joining transform
    # blind, once (bench/results/finetune_fresh.md); development data after that
    "blind_dotmatrix_fresh": [
        ("dotmatrix", "mild", 100, 521, "news_fresh", "fresh"),
        ("dotmatrix", "hard", 100, 522, "news_fresh", "fresh"),
    ],
    # late printers (luodi.synth.dotmatrix_late), faces no other family draws, THUCNews dev lines
    # 4000-6000 no other set reads: written after every other dot-matrix family had become development
    # data, to score what the dot-matrix recipe ships once (registered in bench/results/finetune.md)
    "blind_dotmatrix_late": [
        ("dotmatrix", "mild", 100, 531, "news_late", "late"),
        ("dotmatrix", "hard", 100, 532, "news_late", "late"),
    ],
    "blind_print_late": [("print", "mild", 300, 533, "news_late", "late")],
    # ledger printers (luodi.synth.dotmatrix_ledger: ROM bitmap glyphs, double density, jittered and weak
    # pins, banded ribbons, continuous forms), SMP2019 utterances no other set reads: registered on
    # 8 Dec 2026 before any score, after every other family had become development data
    # (bench/results/finetune.md, "A ledger held-out family"); scored once
    "blind_dotmatrix_ledger": [
        ("dotmatrix", "mild", 100, 541, "smp", "ledger"),
        ("dotmatrix", "hard", 100, 542, "smp", "ledger"),
    ],
    "blind_print_ledger": [("print", "mild", 300, 543, "smp", "ledger")],
    "blind_print": [("print", "mild", 300, 503, "news", "eval")],
    "blind_slip": [
        ("print", "mild", 60, 504, "slip", "eval"),
        ("dotmatrix", "mild", 80, 505, "slip", "eval"),
        ("stamp", "mild", 60, 506, "slip", "eval"),
    ],
}
# Development sets, to choose settings on (the ablation): the train renderer family's first dot-matrix
# heads (train-basic: the pixels these sets always had) and train-family print, text no recipe
# trains on (express-NER dev records, general text of other seeds). The blind sets are only reported.
DEV = ROOT / "bench" / "out" / "dev"
DEV_SETS: dict[str, list[tuple[str, str, int, int, str, str]]] = {
    "dev_dotmatrix": [
        ("dotmatrix", "mild", 60, 301, "ner_dev", "train-basic"),
        ("dotmatrix", "hard", 60, 302, "ner_dev", "train-basic"),
    ],
    "dev_print": [("print", "mild", 80, 701, "general", "train"), ("print", "hard", 40, 702, "general", "train")],
    # the train family's own printers (luodi.synth.dotmatrix_train, what the recipe trains on), other
    # seeds and text: to choose settings on without looking at the blind sets
    "dev_dotmatrix_train": [
        ("dotmatrix", "mild", 100, 911, "general", "train"),
        ("dotmatrix", "hard", 100, 912, "general", "train"),
    ],
    # printers the shipped recipe does not train on (luodi.synth.dotmatrix_random): to choose a
    # train-family run's checkpoint on dot-matrix it never saw (leave-one-family-out)
    "dev_dotmatrix_random": [
        ("dotmatrix", "mild", 100, 921, "general", "train-random"),
        ("dotmatrix", "hard", 100, 922, "general", "train-random"),
    ],
}


def news_titles(limit: int = 4000, start: int = 0) -> tuple[list[str], str]:
    """THUCNews titles (dev lines ``start`` to ``limit``) cut at punctuation to at most 18 characters
    (or the regression text without ../shared)."""
    path = SHARED / "text" / "thucnews" / "dev.txt"
    if not path.is_file():
        from luodi.train.regression import load_spec

        return load_spec().text.read_text(encoding="utf-8").splitlines(), "regression text (no ../shared)"
    out: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines()[start:limit]:
        title = line.split("\t")[0].strip()
        for piece in re.split(r"[\s，,：:！!？?（(）)]+", title):
            if 4 <= len(piece) <= 18:
                out.append(piece)
    return out, "THUCNews dev titles (../shared/data/text/thucnews/dev.txt)"


def smp_utterances() -> list[str]:
    """SMP2019 utterances (../shared/data/text/smp2019/source_2019train.json) of 4-18 characters, end
    punctuation dropped: a corpus no other line set reads (empty without ../shared)."""
    path = SHARED / "text" / "smp2019" / "source_2019train.json"
    if not path.is_file():
        return []
    out = []
    for rec in json.loads(path.read_text(encoding="utf-8")):
        text = str(rec.get("text", "")).strip().rstrip("。？?！!，,")
        if 4 <= len(text) <= 18:
            out.append(text)
    return out


def _render_sets(
    root: Path, sets: dict[str, list[tuple[str, str, int, int, str, str]]], texts: dict[str, list[str]]
) -> dict[str, Any]:
    from luodi.synth import generate_lines

    out_sets: dict[str, Any] = {}
    for name, parts in sets.items():
        rows: list[str] = []
        for k, (style, severity, n, seed, source, family) in enumerate(parts):
            out = root / name / f"part{k}"
            if not (out / "DONE").is_file():
                generate_lines(texts[source], out, style=style, n=n, seed=seed, severity=severity, family=family)
                (out / "DONE").write_text("ok\n", encoding="utf-8")
            for line in (out / "labels.txt").read_text(encoding="utf-8").splitlines():
                rows.append(f"part{k}/{line}")
        (root / name / "labels.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
        out_sets[name] = {"n": len(rows), "parts": parts}
    return out_sets


def make_sets(_: argparse.Namespace) -> dict[str, Any]:
    from luodi.synth import extract_lines, read_express_ner
    from luodi.synth.text import general_lines, slip_lines

    news, news_source = news_titles()
    texts = {
        "news": news,
        "slip": slip_lines(600, seed=77, family="eval"),
        "news_fresh": news_titles(10000, 6000)[0],
        "news_late": news_titles(6000, 4000)[0],
        "smp": smp_utterances() or news,
    }
    manifest: dict[str, Any] = {"news_source": news_source, "sets": _render_sets(BLIND, BLIND_SETS, texts)}
    (BLIND / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    ner_dev = SHARED / "express_ner" / "dev.txt"
    dev_texts = {
        "general": general_lines(400, seed=9901),
        "ner_dev": extract_lines(read_express_ner(ner_dev), seed=5)
        if ner_dev.is_file()
        else general_lines(400, seed=9902),
    }
    manifest["dev"] = _render_sets(DEV, DEV_SETS, dev_texts)
    print(json.dumps(manifest, ensure_ascii=False))
    return manifest


def regression_labels() -> dict[str, Path]:
    from luodi.train import regression

    return regression.render(regression.load_spec(), BLIND / "_regression")


def score_pipeline(model: str, label_files: dict[str, Path]) -> dict[str, dict[str, float]]:
    """Line accuracy etc. of a zoo model through the OCR pipeline (recognition only)."""
    from luodi import OCR, OCROptions
    from luodi.eval.datasets import read_rec_labels
    from luodi.eval.runner import evaluate_rec

    ocr = OCR(model)
    out: dict[str, dict[str, float]] = {}
    for name, label_file in label_files.items():
        t0 = time.process_time()
        m = evaluate_rec(ocr, read_rec_labels(label_file), OCROptions(use_det=False, use_cls=False)).metrics
        out[name] = {
            "n": m.n,
            "line_accuracy": round(m.line_accuracy, 4),
            "line_accuracy_norm": round(m.line_accuracy_norm, 4),
            "one_minus_cer": round(m.one_minus_cer, 4),
            "cpu_s": round(time.process_time() - t0, 1),
        }
        print(f"{model} {name}: {out[name]}", file=sys.stderr, flush=True)
    return out


def all_label_files(dev: bool = False) -> dict[str, Path]:
    files = {name: DEV / name / "labels.txt" for name in DEV_SETS} if dev else {}
    files.update({name: BLIND / name / "labels.txt" for name in BLIND_SETS})
    missing = [n for n, f in files.items() if not f.is_file()]
    if missing:
        raise SystemExit(f"blind sets missing ({', '.join(missing)}): run `python bench/finetune_bench.py sets` first")
    files.update({f"regression: {k}": v for k, v in regression_labels().items()})
    return files


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    models = list(results)
    sets = list(next(iter(results.values())))
    lines = ["| set | n | " + " | ".join(models) + " |", "|---|---|" + "---|" * len(models)]
    for s in sets:
        n = int(results[models[0]][s]["n"])
        cells = " | ".join(f"{results[m][s]['line_accuracy']:.3f}" for m in models)
        lines.append(f"| {s} | {n} | {cells} |")
    return "\n".join(lines)


def stock(args: argparse.Namespace) -> None:
    files = all_label_files()
    results = {m: score_pipeline(m, files) for m in args.models}
    data = {"command": "python bench/finetune_bench.py stock", "load_avg": os.getloadavg()[0], "results": results}
    (RESULTS / "finetune_stock.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    manifest = json.loads((BLIND / "manifest.json").read_text(encoding="utf-8"))
    md = [
        "# Stock recognisers on the blind sets and the general regression set",
        "",
        "Command: `python bench/finetune_bench.py sets && python bench/finetune_bench.py stock`",
        "",
        f"Blind text: {manifest['news_source']}; slip lines of the held-out slip family. All rendered with the",
        "renderer's eval family. Cell: line accuracy, recognition only (OCR pipeline, no det, no cls).",
        "",
        table(results),
        "",
    ]
    (RESULTS / "finetune_stock.md").write_text("\n".join(md), encoding="utf-8")
    print(table(results))


# --- ablation ------------------------------------------------------------------------------------
# variant -> overrides of the recipe's sections ("synth": of every Train.synth entry)
VARIANTS: dict[str, dict[str, dict[str, Any]]] = {
    "no guard": {"Guard": {"enabled": False}},
    "+ general lines (CTC only)": {"Guard": {"distill": 0.0, "backbone_lr": 1.0}},
    "+ distillation": {"Guard": {"distill": 1.0, "backbone_lr": 1.0}},
    "+ backbone lr x0.3": {"Guard": {"distill": 1.0, "backbone_lr": 0.3}},
    "+ EMA 0.99": {"Guard": {"distill": 1.0, "backbone_lr": 0.3, "ema": 0.99}},
    "backbone frozen": {"Guard": {"distill": 1.0, "backbone_lr": 0.0}},
    # why the guard still lost printed lines: BatchNorm statistics, or text without a single space
    # why the guard as first shipped still lost printed lines: BatchNorm statistics, text without a
    # single space, or guard lines of clean print only. Rows: that guard, then one change at a time.
    "guard as first shipped (BN frozen)": {"Guard": {"spaces": 0.0, "hard": 0.0}, "synth": {"spaces": 0.0}},
    "same, BN statistics updated": {
        "Guard": {"spaces": 0.0, "hard": 0.0},
        "synth": {"spaces": 0.0},
        "Train": {"freeze_bn": False},
    },
    "+ spaces in general text": {"Guard": {"hard": 0.0}},
    "+ 30% hard guard lines (new default)": {},
}


def _variants(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The named variants asked for plus ``--custom NAME JSON`` ones (overrides, as in VARIANTS)."""
    table: dict[str, dict[str, Any]] = {v: VARIANTS[v] for v in args.variants}
    for name, overrides in args.custom or ():
        table[name] = json.loads(overrides)
    return table


def _variant_recipe(recipe: Any, overrides: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The recipe of one ablation variant, as data: the short run's steps and batch, the variant's
    overrides, the synthetic and guard lines scaled down alike, no regression report or eval set."""
    data: dict[str, Any] = recipe.model_dump(mode="json")
    data["output_dir"] = str(ROOT / "bench" / "out" / "ablation")
    data["Train"]["steps"] = args.steps
    data["Train"]["batch_size"] = args.batch_size
    data["Optimizer"]["warmup_steps"] = min(data["Optimizer"]["warmup_steps"], args.steps // 5)
    for section, values in overrides.items():
        if section == "synth":
            data["Train"]["synth"] = [{**spec, **values} for spec in data["Train"]["synth"]]
        else:
            data[section] = {**data[section], **values}
    # short runs need fewer lines: the synthetic sets and the guard's lines scaled down alike
    data["Guard"]["lines"] = max(16, round(data["Guard"]["lines"] * args.scale))
    for spec in data["Train"]["synth"]:
        spec["n"] = max(8, round(spec["n"] * args.scale))
    data["Report"] = {"regression": False}
    data["Eval"] = None
    return data


def ablation(args: argparse.Namespace) -> None:
    """Short runs of the recipe with guard parts switched on one by one; scored in dynamic graph."""
    from luodi.train.config import load_config, parse_config
    from luodi.train.export import load_run_model, run_line_prep
    from luodi.train.trainer import train

    recipe = load_config(args.config)
    files = {k: v for k, v in all_label_files(dev=True).items() if k in args.sets}
    variants = _variants(args)
    out_json = RESULTS / f"{args.out}.json"
    done: dict[str, Any] = json.loads(out_json.read_text(encoding="utf-8")) if out_json.is_file() else {}
    done.setdefault("variants", {})
    if "stock" not in done or args.redo:  # first, at the load the variants run under
        done["stock"], done["stock_norm"] = stock_dygraph(recipe.base, files, args.max_lines, args.spread)
        out_json.write_text(json.dumps(done, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.stock_closing and "stock_closed" not in done:  # the stock model reading dot-closed lines
        from luodi.ocr.line_prep import LinePrep

        prep = LinePrep(dot_closing=args.stock_closing)
        done["stock_closed"] = dict(
            zip(
                ("scores", "scores_norm"),
                stock_dygraph(recipe.base, files, args.max_lines, args.spread, prep),
                strict=True,
            )
        )
        done["stock_closed"]["dot_closing"] = args.stock_closing
        out_json.write_text(json.dumps(done, ensure_ascii=False, indent=1), encoding="utf-8")
    for variant, overrides in variants.items():
        if variant in done["variants"] and not args.redo:
            continue
        config = parse_config(_variant_recipe(recipe, overrides, args), source=f"ablation {variant}")
        name = re.sub(r"[^a-z0-9]+", "-", variant.lower()).strip("-") + f"-{args.steps}"
        t0, c0, l0 = time.perf_counter(), time.process_time(), os.getloadavg()[0]
        # no eval set and no report in these runs: the last message before the loop ends the set-up
        marks: list[float] = []

        def say(message: str, marks: list[float] = marks) -> None:
            marks.append(time.process_time())
            print(message, file=sys.stderr, flush=True)

        result = train(config, name=name, progress=False, on_log=say)
        c1, l1 = time.process_time(), os.getloadavg()[0]
        model, charset = load_run_model(result.run_dir)
        prep = run_line_prep(result.run_dir)
        scores, norm = score_dygraph(model, charset, files, args.max_lines, args.spread, prep)
        done["variants"][variant] = {
            "overrides": overrides,
            "scores": scores,
            "scores_norm": norm,
            "steps": args.steps,
            "batch_size": args.batch_size,
            "wall_s": round(time.perf_counter() - t0, 1),
            "cpu_s": round(time.process_time() - c0, 1),
            # process CPU from the first step to the last (setup, rendering and scoring left out)
            "loop_cpu_s": round(c1 - marks[-1], 1) if marks else None,
            "loop_wall_s": round(result.seconds, 1),
            "load_avg": l0,
            "load_avg_end": l1,
        }
        out_json.write_text(json.dumps(done, ensure_ascii=False, indent=1), encoding="utf-8")
        print(variant, scores, file=sys.stderr, flush=True)
    write_ablation_md(done, args)


def pick_lines(samples: list[Any], max_lines: int | None, spread: bool) -> list[Any]:
    """The first ``max_lines`` of a set, or (``spread``) that many spaced evenly over all its parts."""
    if max_lines is None or len(samples) <= max_lines:
        return samples
    if not spread:
        return samples[:max_lines]
    step = len(samples) / max_lines
    return [samples[int(k * step)] for k in range(max_lines)]


def score_dygraph(
    model: Any, charset: Any, files: dict[str, Path], max_lines: int | None, spread: bool = False, prep: Any = None
) -> tuple[dict[str, float], dict[str, float]]:
    """Exact and normalised line accuracy of a dynamic-graph model on each set (``prep``: its line preprocessing)."""
    from luodi.eval.datasets import read_rec_labels
    from luodi.train.data import load_lines
    from luodi.train.trainer import evaluate

    exact, norm = {}, {}
    for set_name, label_file in files.items():
        samples = pick_lines(read_rec_labels(label_file), max_lines, spread)
        lines, _ = load_lines(samples, max_width=480, known=None, drop_unknown=False, prep=prep)
        metrics = evaluate(model, lines, charset)[1]
        exact[set_name] = round(metrics.line_accuracy, 4)
        norm[set_name] = round(metrics.line_accuracy_norm, 4)
    return exact, norm


def stock_dygraph(
    base: str, files: dict[str, Path], max_lines: int | None, spread: bool = False, prep: Any = None
) -> tuple[dict[str, float], dict[str, float]]:
    from luodi.train.charset import read_charset
    from luodi.train.model import build_model
    from luodi.train.trainer import base_files
    from luodi.train.weights import detect_architecture, load_pretrained

    onnx_path, dict_path = base_files(base)
    charset = read_charset(dict_path)
    model = build_model(charset.num_classes, detect_architecture(onnx_path))
    load_pretrained(model, onnx_path)
    return score_dygraph(model, charset, files, max_lines, spread, prep)


def write_ablation_md(done: dict[str, Any], args: argparse.Namespace) -> None:
    sets = list(done["stock"])

    def cell(exact: dict[str, float], norm: dict[str, float] | None, s: str) -> str:
        e = exact.get(s, float("nan"))
        return f"{e:.3f}" if not norm or norm.get(s, e) == e else f"{e:.3f} ({norm[s]:.3f})"

    rows = [
        "| variant | " + " | ".join(sets) + " | CPU s (loop) | load |",
        "|---|" + "---|" * (len(sets) + 2),
        "| stock (no fine-tuning) | "
        + " | ".join(cell(done["stock"], done.get("stock_norm"), s) for s in sets)
        + " | | |",
    ]
    for name, v in done["variants"].items():
        cells = " | ".join(cell(v["scores"], v.get("scores_norm"), s) for s in sets)
        loop = f" ({v['loop_cpu_s']:.0f})" if v.get("loop_cpu_s") is not None else ""
        rows.append(f"| {name} | {cells} | {v['cpu_s']:.0f}{loop} | {v['load_avg']:.0f} |")
    md = [
        "# What each part of the forgetting guard buys (short runs)",
        "",
        f"Command: `python bench/finetune_bench.py ablation --config {args.config} "
        f"--steps {args.steps} --batch-size {args.batch_size} --scale {args.scale} --max-lines {args.max_lines}`",
        "",
        "Each variant is the recipe shortened to the steps above, with the guard parts switched on one by one",
        "(the rows are cumulative down to EMA; 'backbone frozen' replaces the x0.3 factor). Scores: line",
        "accuracy in dynamic graph on the blind sets (eval renderer family, text no recipe trains on) and the",
        "general regression set's print rows. Short runs show direction, not final numbers.",
        "",
        *rows,
        "",
    ]
    path = RESULTS / f"{args.out}.md"
    # a results file written by hand under the same name (its registration, its reading) is kept
    if not path.is_file() or path.read_text(encoding="utf-8").startswith(md[0]):
        path.write_text("\n".join(md), encoding="utf-8")
    else:
        _stderr(f"{path.name} was not written by this command: kept; the table is printed below")
    print("\n".join(rows))


def bn_drift(args: argparse.Namespace) -> None:
    """What BatchNorm statistics updated on the recipe's lines alone do to the stock model (no gradient).

    Train.freeze_bn keeps them as pretraining left them; this measures what that buys: forward passes
    in training mode over batches of the recipe's training lines move only the running statistics.
    """
    import numpy as np

    from luodi.train.charset import read_charset
    from luodi.train.config import TrainSpec, load_config
    from luodi.train.data import bucketed_batches, gather_samples, load_lines, make_batch
    from luodi.train.model import build_model
    from luodi.train.trainer import base_files, import_paddle
    from luodi.train.weights import detect_architecture, load_pretrained

    paddle = import_paddle()
    recipe = load_config(args.config)
    data = recipe.model_dump(mode="json")["Train"]
    for spec in data["synth"]:
        spec["n"] = max(8, round(spec["n"] * args.scale))
    train_spec = TrainSpec.model_validate(data)
    samples = gather_samples(train_spec, ROOT / "bench" / "out" / "ablation" / "_synth")
    onnx_path, dict_path = base_files(recipe.base)
    charset = read_charset(dict_path)
    lines, _ = load_lines(samples, max_width=recipe.Preprocess.max_width, known=charset.known(), drop_unknown=True)
    files = {k: v for k, v in all_label_files().items() if k in args.sets}
    model = build_model(charset.num_classes, detect_architecture(onnx_path))
    load_pretrained(model, onnx_path)
    t0, l0 = time.perf_counter(), os.getloadavg()[0]
    # the stock scores on the same lines are the ablation's stock row (same sets, same scoring)
    before = score_dygraph(model, charset, files, args.max_lines) if args.with_stock else None
    model.train()  # BatchNorm in training mode: each forward moves its running statistics
    batches = list(bucketed_batches(lines, args.batch_size, np.random.default_rng(0)))[: args.batches]
    with paddle.no_grad():
        for idx in batches:
            batch = make_batch([lines[i].image for i in idx], [lines[i].label for i in idx], None)
            model.logits(paddle.to_tensor(batch.images))
    after = score_dygraph(model, charset, files, args.max_lines)
    out = {
        "command": "python bench/finetune_bench.py " + " ".join(sys.argv[1:]),
        "batches": len(batches),
        "batch_size": args.batch_size,
        "stock": before,
        "bn_updated": after,
        "wall_s": round(time.perf_counter() - t0, 1),
        "load_avg": l0,
    }
    (RESULTS / "finetune_bn_drift.json").write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False, indent=1))


def errors(args: argparse.Namespace) -> None:
    """Lines the stock model reads right and a fine-tuned run's checkpoint does not, by kind of error.

    Also each set's line accuracy of both, [exact, normalised], in dynamic graph: a checkpoint scored
    without exporting it (a run stopped part-way, or its step-N best).
    """
    from luodi.train.charset import read_charset
    from luodi.train.model import build_model
    from luodi.train.trainer import base_files, evaluate, import_paddle
    from luodi.train.weights import detect_architecture, load_pretrained

    paddle = import_paddle()
    onnx_path, dict_path = base_files(args.base)
    charset = read_charset(dict_path)
    arch = detect_architecture(onnx_path)
    stock, tuned = build_model(charset.num_classes, arch), build_model(charset.num_classes, arch)
    load_pretrained(stock, onnx_path)
    tuned.set_state_dict(paddle.load(str(args.checkpoint)))
    files = {k: v for k, v in all_label_files(dev=True).items() if k in args.sets}
    from luodi.eval.datasets import read_rec_labels
    from luodi.eval.metrics import normalize_text
    from luodi.train.data import load_lines
    from luodi.train.export import run_line_prep

    prep = run_line_prep(Path(args.checkpoint).parent)  # the run's own line preprocessing, for its model only
    out: dict[str, Any] = {"command": "python bench/finetune_bench.py " + " ".join(sys.argv[1:]), "sets": {}}
    for name, label_file in files.items():
        samples = read_rec_labels(label_file)[: args.max_lines]
        lines, _ = load_lines(samples, max_width=480, known=None, drop_unknown=False)
        tuned_lines = (
            lines if prep is None else load_lines(samples, max_width=480, known=None, drop_unknown=False, prep=prep)[0]
        )
        (before, m_before), (after, m_after) = evaluate(stock, lines, charset), evaluate(tuned, tuned_lines, charset)
        lost = [(ln.label, b) for ln, a, b in zip(lines, before, after, strict=True) if a == ln.label != b]
        gained = sum(a != ln.label == b for ln, a, b in zip(lines, before, after, strict=True))
        spaces = [x for x in lost if x[1].replace(" ", "") == x[0].replace(" ", "")]
        # lost even when spaces and full/half width are ignored: character errors (the normalised loss)
        chars = [x for x in lost if normalize_text(x[1]) != normalize_text(x[0])]
        out["sets"][name] = {
            "n": len(lines),
            "stock": [round(m_before.line_accuracy, 4), round(m_before.line_accuracy_norm, 4)],
            "tuned": [round(m_after.line_accuracy, 4), round(m_after.line_accuracy_norm, 4)],
            "lost": len(lost),
            "gained": gained,
            "lost_only_spaces": len(spaces),
            "lost_characters": len(chars),
            "lost_lines": [f"{label} | {pred}" for label, pred in lost],
            "lost_character_lines": [f"{label} | {pred}" for label, pred in chars],
        }
    path = RESULTS / f"{args.out}.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False, indent=1))


def runs(args: argparse.Namespace) -> None:
    """Stock and several finished runs (their best weights and line preprocessing) on the same sets,
    in dynamic graph, one process: e.g. whether a set of printers a run never saw ranks its
    checkpoints as the other unseen families do (choosing a checkpoint leave-one-family-out)."""
    from luodi.train.export import load_run_model, run_line_prep

    files = {k: v for k, v in all_label_files(dev=True).items() if k in args.sets}
    out: dict[str, Any] = {"command": "python bench/finetune_bench.py " + " ".join(sys.argv[1:]), "runs": {}}
    out["load_avg_start"] = os.getloadavg()[0]
    exact, norm = stock_dygraph(args.base, files, args.max_lines, args.spread)
    out["runs"]["stock"] = {"scores": exact, "scores_norm": norm}
    for run_dir in args.runs:
        model, charset = load_run_model(run_dir, args.checkpoint)
        exact, norm = score_dygraph(model, charset, files, args.max_lines, args.spread, run_line_prep(run_dir))
        out["runs"][f"{run_dir} ({args.checkpoint})"] = {"scores": exact, "scores_norm": norm}
        _stderr(f"{run_dir}: {exact}")
    out["load_avg_end"] = os.getloadavg()[0]
    (RESULTS / f"{args.out}.json").write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False, indent=1))


def _backbone_cache(model: Any, lines: list[Any], batch_size: int = 16) -> list[tuple[list[int], Any, Any]]:
    """Each width-sorted batch of ``lines``: its indices, the backbone's output and the CTC lengths
    (a run that froze the backbone shares it with stock, so every blend reads the same features)."""
    from luodi.train.data import make_batch
    from luodi.train.trainer import import_paddle

    paddle = import_paddle()
    order = sorted(range(len(lines)), key=lambda i: lines[i].image.shape[1])
    out = []
    with paddle.no_grad():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = make_batch([lines[i].image for i in idx], [lines[i].label for i in idx], None)
            out.append((idx, model.backbone(paddle.to_tensor(batch.images)), batch.input_lengths))
    return out


def _score_cached(model: Any, cache: list[tuple[list[int], Any, Any]], lines: list[Any], charset: Any) -> Any:
    from luodi.eval.metrics import rec_metrics
    from luodi.train.trainer import import_paddle

    paddle = import_paddle()
    preds = [""] * len(lines)
    with paddle.no_grad():
        for idx, feats, lengths in cache:
            probs = paddle.nn.functional.softmax(model.head(model.neck(feats)), axis=2).numpy()
            for row, i in enumerate(idx):
                preds[i] = charset.decode(probs[row], int(lengths[row]))
    return rec_metrics(preds, [ln.label for ln in lines])


def wise(args: argparse.Namespace) -> None:
    """Weight-space interpolation between stock and a finished run (WiSE-FT), no retraining: each
    ``alpha`` scores ``(1 - alpha) * stock + alpha * tuned`` on the same sets, in dynamic graph, one
    process. Choose ``alpha`` on development families; score a held-out family once with the choice.
    Runs that froze the backbone (the shipped recipe) share stock's backbone: its output is computed
    once per line and only the neck and head are blended and run per ``alpha``."""
    import numpy as np

    from luodi.eval.datasets import read_rec_labels
    from luodi.train.data import load_lines
    from luodi.train.export import load_run_model, run_line_prep
    from luodi.train.guard import interpolate_weights
    from luodi.train.model import build_model
    from luodi.train.trainer import base_files, import_paddle
    from luodi.train.weights import detect_architecture, load_pretrained

    paddle = import_paddle()
    files = {k: v for k, v in all_label_files(dev=True).items() if k in args.sets}
    tuned, charset = load_run_model(args.run, args.checkpoint)
    onnx_path, _ = base_files(args.base)
    model = build_model(charset.num_classes, detect_architecture(onnx_path))
    load_pretrained(model, onnx_path)
    model.eval()
    # copies: a Paddle state_dict holds the parameters themselves, which set_state_dict below
    # overwrites in place, so each alpha would otherwise blend toward the previous alpha's weights
    stock_state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    tuned_state = {k: v.numpy().copy() for k, v in tuned.state_dict().items()}
    same_backbone = all(
        np.array_equal(stock_state[k], tuned_state[k]) for k in stock_state if k.startswith("backbone.")
    )
    if not same_backbone:
        raise SystemExit(f"{args.run}: its backbone differs from stock; this command assumes a head-only run")
    prep = run_line_prep(args.run)
    out: dict[str, Any] = {"command": "python bench/finetune_bench.py " + " ".join(sys.argv[1:]), "alphas": {}}
    out["load_avg_start"] = os.getloadavg()[0]
    t0 = time.process_time()
    sets = {}
    for name, label_file in files.items():
        samples = pick_lines(read_rec_labels(label_file), args.max_lines, args.spread)
        lines, _ = load_lines(samples, max_width=480, known=None, drop_unknown=False, prep=prep)
        sets[name] = (lines, _backbone_cache(model, lines))
    for alpha in args.alphas:
        blended = interpolate_weights(stock_state, tuned_state, alpha)
        model.set_state_dict({k: paddle.to_tensor(v) for k, v in blended.items()})
        model.eval()
        exact, norm = {}, {}
        for name, (lines, cache) in sets.items():
            m = _score_cached(model, cache, lines, charset)
            exact[name], norm[name] = round(m.line_accuracy, 4), round(m.line_accuracy_norm, 4)
        out["alphas"][str(alpha)] = {"scores": exact, "scores_norm": norm}
        _stderr(f"alpha {alpha}: {exact}")
    out["n"] = {name: len(lines) for name, (lines, _) in sets.items()}
    out["cpu_s"] = round(time.process_time() - t0, 1)
    out["load_avg_end"] = os.getloadavg()[0]
    (RESULTS / f"{args.out}.json").write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False, indent=1))


# --- test-time transforms ------------------------------------------------------------------------
# Dot-matrix glyphs are separate dots and the stock model reads solid strokes well: does joining the
# dots before recognition help it? Each transform takes an RGB crop; sizes scale with the crop height
# (the glyphs fill most of it). Chosen on the dev sets; the blind sets are only reported.
def _stretch(gray: Any) -> Any:
    import numpy as np

    lo, hi = np.percentile(gray, 2), np.percentile(gray, 98)
    return np.clip((gray.astype(np.float32) - lo) * 255.0 / max(hi - lo, 1.0), 0, 255).astype(np.uint8)


def _tx(kind: str, frac: float, stretch: bool) -> Any:
    import cv2

    def apply(img: Any) -> Any:
        size = img.shape[0] * frac
        if kind == "area":  # area-average down to the recogniser's height (dots blend into strokes)
            h, w = img.shape[:2]
            return img if h <= 48 else cv2.resize(img, (max(8, round(w * 48 / h)), 48), interpolation=cv2.INTER_AREA)
        if kind == "open-rgb":  # min then max filter per channel: dark dots grow into each other, then shrink back
            k = max(1, round(size))
            return cv2.morphologyEx(img, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        if kind == "blur" and size > 0.3:
            gray = cv2.GaussianBlur(gray, (0, 0), size)
        elif kind == "open":
            k = max(1, round(size))
            gray = cv2.morphologyEx(gray, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        return cv2.cvtColor(_stretch(gray) if stretch else gray, cv2.COLOR_GRAY2RGB)

    return apply


TRANSFORMS: dict[str, tuple[str, float, bool]] = {
    "contrast stretch": ("blur", 0.0, True),
    "blur 0.015 h + stretch": ("blur", 0.015, True),
    "blur 0.025 h + stretch": ("blur", 0.025, True),
    "blur 0.05 h + stretch": ("blur", 0.05, True),
    "closing 0.03 h + stretch": ("open", 0.03, True),
    "closing 0.03 h (grey)": ("open", 0.03, False),
    "closing 0.03 h (colour)": ("open-rgb", 0.03, False),
    "area resize to 48": ("area", 0.0, False),
}


def transform(args: argparse.Namespace) -> None:
    """The stock model through the OCR pipeline's recogniser on each set, each crop transformed first."""
    import cv2

    from luodi import OCR
    from luodi.eval.datasets import read_rec_labels
    from luodi.eval.metrics import normalize_text

    files = {k: v for k, v in all_label_files(dev=True).items() if k in args.sets}
    ocr = OCR(args.model)
    out: dict[str, Any] = {"command": "python bench/finetune_bench.py " + " ".join(sys.argv[1:]), "sets": {}}
    out["load_avg_start"] = os.getloadavg()[0]
    for set_name, label_file in files.items():
        samples = read_rec_labels(label_file)
        crops = [cv2.cvtColor(cv2.imread(str(s.path)), cv2.COLOR_BGR2RGB) for s in samples]
        row: dict[str, Any] = {"n": len(samples)}
        for name in ["none", *args.transforms]:
            fn = None if name == "none" else _tx(*TRANSFORMS[name])
            t0 = time.process_time()
            results = ocr.recognize(crops if fn is None else [fn(c) for c in crops])
            pairs = [(r.text, s.label) for r, s in zip(results, samples, strict=True)]
            row[name] = {
                "exact": round(sum(a == b for a, b in pairs) / len(pairs), 4),
                "norm": round(sum(normalize_text(a) == normalize_text(b) for a, b in pairs) / len(pairs), 4),
                "cpu_s": round(time.process_time() - t0, 1),
            }
            _stderr(f"{set_name} {name}: {row[name]}")
        out["sets"][set_name] = row
    out["load_avg_end"] = os.getloadavg()[0]
    (RESULTS / f"{args.out}.json").write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    names = ["none", *args.transforms]
    rows = ["| set | n | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for set_name, row in out["sets"].items():
        cells = " | ".join(f"{row[t]['exact']:.3f} ({row[t]['norm']:.3f})" for t in names)
        rows.append(f"| {set_name} | {row['n']} | {cells} |")
    print("\n".join(rows))


# --- test-time choice: raw or dot-closed, per line ---------------------------------------------------
# The closing helps some printers and costs others: read each line both ways and keep the reading the
# recogniser is surer of. Rules compared (chosen on the dev sets): the line score (mean character
# confidence), the weakest character, the summed log-confidence per character (a longer reading is
# not penalised for its length, a reading that drops characters is not rewarded).
def _line_conf(rule: str, res: Any) -> float:
    import math

    cs = res.char_scores or (0.0,)
    if rule == "mean":
        return float(res.score)
    if rule == "min":
        return float(min(cs))
    return sum(math.log(max(c, 1e-6)) for c in cs) / len(cs)  # "logmean": geometric mean


CHOICE_RULES = ("mean", "min", "logmean")


def choose(args: argparse.Namespace) -> None:
    """The model through the OCR pipeline's recogniser, each line read raw and dot-closed; accuracy
    of each reading and of keeping, per line, the one with the higher confidence (by each rule)."""
    import cv2

    from luodi import OCR
    from luodi.eval.datasets import read_rec_labels
    from luodi.eval.metrics import normalize_text
    from luodi.ocr.line_prep import LinePrep

    files = {k: v for k, v in all_label_files(dev=True).items() if k in args.sets}
    ocr = OCR(args.model)
    prep = LinePrep(dot_closing=args.closing)
    out: dict[str, Any] = {"command": "python bench/finetune_bench.py " + " ".join(sys.argv[1:]), "sets": {}}
    out["load_avg_start"] = os.getloadavg()[0]
    for set_name, label_file in files.items():
        samples = read_rec_labels(label_file)
        crops = [cv2.cvtColor(cv2.imread(str(s.path)), cv2.COLOR_BGR2RGB) for s in samples]
        t0 = time.process_time()
        raw = ocr.recognize(crops)
        t1 = time.process_time()
        closed = ocr.recognize([prep(c) for c in crops])
        t2 = time.process_time()
        picks: dict[str, list[str]] = {"raw": [r.text for r in raw], "closed": [r.text for r in closed]}
        for rule in CHOICE_RULES:
            picks[f"pick by {rule}"] = [
                c.text if _line_conf(rule, c) > _line_conf(rule, r) else r.text
                for r, c in zip(raw, closed, strict=True)
            ]
        picks["oracle"] = [
            c.text if c.text == s.label else r.text for r, c, s in zip(raw, closed, samples, strict=True)
        ]
        row: dict[str, Any] = {"n": len(samples), "cpu_s_raw": round(t1 - t0, 1), "cpu_s_closed": round(t2 - t1, 1)}
        for name, texts in picks.items():
            row[name] = {
                "exact": round(sum(t == s.label for t, s in zip(texts, samples, strict=True)) / len(samples), 4),
                "norm": round(
                    sum(normalize_text(t) == normalize_text(s.label) for t, s in zip(texts, samples, strict=True))
                    / len(samples),
                    4,
                ),
            }
        _stderr(f"{set_name}: {row}")
        out["sets"][set_name] = row
    out["load_avg_end"] = os.getloadavg()[0]
    (RESULTS / f"{args.out}.json").write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    names = ["raw", "closed", *(f"pick by {r}" for r in CHOICE_RULES), "oracle"]
    rows = ["| set | n | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for set_name, row in out["sets"].items():
        cells = " | ".join(f"{row[t]['exact']:.3f} ({row[t]['norm']:.3f})" for t in names)
        rows.append(f"| {set_name} | {row['n']} | {cells} |")
    print("\n".join(rows))


# --- a whole recipe ------------------------------------------------------------------------------
def export_gate(run_dir: Path) -> str:
    """What `luodi train rec` / `luodi export` would do with the run without --accept-regression."""
    from luodi.errors import ModelRegressionError
    from luodi.train.regression import check_export

    try:
        report = check_export(run_dir, accept_regression=False)
    except ModelRegressionError as exc:
        return f"refused: {exc}"
    return (
        "passes (within Report.max_drop on the general set and on unseen dot-matrix)"
        if report is not None
        else "no report: not gated"
    )


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def recipe(args: argparse.Namespace) -> None:
    if args.md_only:  # rewrite the markdown from the run's JSON (no training, no scoring)
        path = RESULTS / f"finetune_{args.name}.json"
        write_recipe_md(json.loads(path.read_text(encoding="utf-8")), args.name)
        return
    from luodi.train.config import load_config, parse_config
    from luodi.train.export import export_run
    from luodi.train.trainer import train

    config = load_config(args.config)
    data = config.model_dump(mode="json")
    data["output_dir"] = str(ROOT / "bench" / "out" / "finetune")
    if args.steps is not None:
        data["Train"]["steps"] = args.steps
    config = parse_config(data, source=str(args.config))
    result: dict[str, Any] = {
        "command": "python bench/finetune_bench.py " + " ".join(sys.argv[1:]),
        "recipe": str(args.config.relative_to(ROOT)) if args.config.is_relative_to(ROOT) else str(args.config),
        "steps": config.Train.steps,
        "batch_size": config.Train.batch_size,
        "base": config.base,
        "load_avg_start": os.getloadavg()[0],
    }
    if not args.skip_train:
        t0, c0 = time.perf_counter(), time.process_time()
        resume = config.output_dir / args.name if args.resume else None
        tr = train(config, name=args.name, resume=resume, progress=False, on_log=_stderr)
        result.update(
            resumed=args.resume,  # train_cpu_s and train_wall_s are then this part's only; train_loop_s is the whole
            train_wall_s=round(time.perf_counter() - t0, 1),
            train_cpu_s=round(time.process_time() - c0, 1),
            train_loop_s=round(tr.seconds, 1),
            steps_per_s=round(tr.steps / max(tr.seconds, 1e-9), 4),
            report=tr.report.to_json() if tr.report else None,
            load_avg_after_train=os.getloadavg()[0],
        )
        result["export_gate"] = export_gate(tr.run_dir)
        # registered either way, so the blind sets can score it; the gate's verdict is reported beside it
        exported = export_run(tr.run_dir, args.name, force=True, accept_regression=True)
        result["export_max_abs_diff"] = exported.max_abs_diff
    files = all_label_files()
    result["before"] = score_pipeline(config.base, files)
    result["after"] = score_pipeline(args.name, files)
    result["load_avg_end"] = os.getloadavg()[0]
    out = RESULTS / f"finetune_{args.name}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    write_recipe_md(result, args.name)


def recipe_table(result: dict[str, Any], name: str) -> str:
    """Stock vs fine-tuned per set: exact line accuracy, its change, and normalised accuracy beside it."""
    before, after = result["before"], result["after"]
    rows = [
        f"| set | n | {result['base']} (stock) | {name} | change | normalised: stock → tuned |",
        "|---|---|---|---|---|---|",
    ]
    for s, b in before.items():
        a = after[s]
        delta = 100 * (a["line_accuracy"] - b["line_accuracy"])
        norm = f"{b['line_accuracy_norm']:.3f} → {a['line_accuracy_norm']:.3f}"
        rows.append(
            f"| {s} | {int(b['n'])} | {b['line_accuracy']:.3f} | {a['line_accuracy']:.3f} | {delta:+.1f} pt | {norm} |"
        )
    return "\n".join(rows)


def write_recipe_md(result: dict[str, Any], name: str) -> None:
    timing = ""
    if "train_wall_s" in result:
        timing = (
            f"Training {result['train_wall_s']:.0f} s wall, {result['train_cpu_s']:.0f} s process CPU, "
            f"{result['steps_per_s']:.3f} steps/s in the loop; 1-min load average {result['load_avg_start']:.1f} "
            f"at start, {result['load_avg_after_train']:.1f} after training (shared 2-core machine)."
        )
    md = [
        f"# {name}: `{result['recipe']}`",
        "",
        f"Command: `{result['command']}`",
        "",
        f"{result['steps']} steps, batch {result['batch_size']}, base {result['base']}. {timing}",
        "",
        "Line accuracy, recognition only, through the OCR pipeline (blind sets: eval renderer family;",
        "blind_dotmatrix_heldout: held-out printers; regression rows: luodi's general regression set).",
        "Normalised: NFKC (full/half width folded) and whitespace dropped before comparing.",
        "",
        recipe_table(result, name),
        "",
    ]
    if "export_gate" in result:
        md += [f"Export gate without --accept-regression: {result['export_gate']}.", ""]
    if result.get("report"):
        from luodi.train.regression import Report

        md += [
            "The run's own before/after report (dynamic graph, best checkpoint):",
            "",
            Report.from_json(result["report"]).table(),
            "",
        ]
    (RESULTS / f"finetune_{name}.md").write_text("\n".join(md), encoding="utf-8")
    print(recipe_table(result, name))


# long: one argument parser per subcommand, declared one after another (no logic)
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("sets").set_defaults(fn=make_sets)
    st = sub.add_parser("stock")
    st.add_argument("--models", nargs="+", default=["pp-ocrv4", "pp-ocrv5", "pp-ocrv6-small"])
    st.set_defaults(fn=stock)
    ab = sub.add_parser("ablation")
    ab.add_argument("--config", type=Path, default=ROOT / "examples" / "finetune" / "dotmatrix.yml")
    ab.add_argument("--steps", type=int, default=60)
    ab.add_argument("--batch-size", type=int, default=8)
    ab.add_argument("--variants", nargs="*", default=list(VARIANTS))
    ab.add_argument(
        "--custom", nargs=2, action="append", metavar=("NAME", "JSON"), help="a variant: recipe overrides as JSON"
    )
    ab.add_argument("--spread", action="store_true", help="--max-lines spaced evenly over each set (all its parts)")
    ab.add_argument("--sets", nargs="+", default=["blind_dotmatrix", "regression: print", "regression: print-hard"])
    ab.add_argument("--scale", type=float, default=0.25, help="share of the recipe's synthetic and guard lines")
    ab.add_argument("--max-lines", type=int, default=None, help="score only the first lines of each set")
    ab.add_argument("--redo", action="store_true")
    ab.add_argument("--stock-closing", type=float, default=0.0, help="also score stock on dot-closed lines (x h)")
    ab.add_argument("--out", default="finetune_ablation", help="results file name under bench/results")
    ab.set_defaults(fn=ablation)
    bn = sub.add_parser("bn-drift")
    bn.add_argument("--config", type=Path, default=ROOT / "examples" / "finetune" / "dotmatrix.yml")
    bn.add_argument("--batches", type=int, default=30)
    bn.add_argument("--batch-size", type=int, default=8)
    bn.add_argument("--scale", type=float, default=0.2)
    bn.add_argument("--sets", nargs="+", default=["blind_dotmatrix", "regression: print", "regression: print-hard"])
    bn.add_argument("--max-lines", type=int, default=100)
    bn.add_argument("--with-stock", action="store_true", help="score the stock model too")
    bn.set_defaults(fn=bn_drift)
    er = sub.add_parser("errors")
    er.add_argument("--checkpoint", type=Path, required=True, help="a run's best.pdparams")
    er.add_argument("--base", default="pp-ocrv6-small")
    er.add_argument("--sets", nargs="+", default=["regression: print", "regression: print-hard"])
    er.add_argument("--max-lines", type=int, default=100)
    er.add_argument("--out", default="finetune_errors")
    er.set_defaults(fn=errors)
    rn = sub.add_parser("runs")
    rn.add_argument("runs", nargs="+", type=Path, help="run folders (best.pdparams, dict.txt, config.json)")
    rn.add_argument("--base", default="pp-ocrv6-small")
    rn.add_argument("--checkpoint", default="best", choices=["best", "latest"])
    rn.add_argument("--sets", nargs="+", default=["dev_dotmatrix_random"])
    rn.add_argument("--max-lines", type=int, default=None)
    rn.add_argument("--spread", action="store_true")
    rn.add_argument("--out", default="finetune_runs")
    rn.set_defaults(fn=runs)
    ws = sub.add_parser("wise")
    ws.add_argument("--run", type=Path, required=True, help="a run folder (best.pdparams, dict.txt, config.json)")
    ws.add_argument("--base", default="pp-ocrv6-small")
    ws.add_argument("--checkpoint", default="best", choices=["best", "latest"])
    ws.add_argument("--alphas", nargs="+", type=float, default=[0.0, 0.25, 0.5, 0.75, 1.0])
    ws.add_argument("--sets", nargs="+", default=["blind_dotmatrix", "blind_dotmatrix_heldout", "blind_print"])
    ws.add_argument("--max-lines", type=int, default=None)
    ws.add_argument("--spread", action="store_true")
    ws.add_argument("--out", default="finetune_wise")
    ws.set_defaults(fn=wise)

    tx = sub.add_parser("transform")
    tx.add_argument("--model", default="pp-ocrv6-small")
    tx.add_argument("--transforms", nargs="+", default=list(TRANSFORMS), choices=list(TRANSFORMS))
    tx.add_argument("--sets", nargs="+", default=["dev_dotmatrix", "dev_dotmatrix_train", "dev_print"])
    tx.add_argument("--out", default="finetune_transform")
    tx.set_defaults(fn=transform)
    ch = sub.add_parser("choose")
    ch.add_argument("--model", default="pp-ocrv6-small")
    ch.add_argument("--closing", type=float, default=0.03)
    ch.add_argument("--sets", nargs="+", default=["dev_dotmatrix", "dev_dotmatrix_train", "dev_print"])
    ch.add_argument("--out", default="finetune_choose")
    ch.set_defaults(fn=choose)
    rc = sub.add_parser("recipe")
    rc.add_argument("--config", type=Path, required=True)
    rc.add_argument("--name", required=True)
    rc.add_argument("--steps", type=int, default=None)
    rc.add_argument("--skip-train", action="store_true", help="score an already registered NAME")
    rc.add_argument("--resume", action="store_true", help="continue bench/out/finetune/NAME, stopped with Ctrl-C")
    rc.add_argument("--md-only", action="store_true", help="rewrite finetune_NAME.md from its JSON")
    rc.set_defaults(fn=recipe)
    args = ap.parse_args(argv)
    args.fn(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
