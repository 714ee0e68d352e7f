"""Where luodi's OCR time goes: pipeline vs pure inference, per stage, rec batching, ORT spinning, RSS.

    .venv/bin/python bench/pipeline_overhead.py --out bench/results/pipeline_overhead.md

Sections (each printed and written to the markdown report):
  1. seconds per page for each bundle on real photos from shared/data/doc_samples, split into
     det / cls / rec, and the time spent inside ``session.run`` (every call timed through the
     engine's ``wrap_session`` hook). "pipeline / inference" is the pipeline's own overhead
     (pre/post-processing, crops, decode of CTC output, reading order); decoding the image file
     is reported separately because it is not part of ``run_pages``.
  2. recognition batching: the same crops (detected on those pages) read at batch 1/4/8 with real
     widths, and at batch 1/6 padded to 320 px (PaddleOCR/RapidOCR's canvas), ms per crop.
  3. ONNX Runtime thread spinning on vs off for the recogniser (luodi turns it off).
  4. RSS over many calls on one engine, after warm-up.
  5. accuracy of padding short crops to 320 px vs real width, on the synthetic line sets made by
     bench/data/make_eval_sets.py (bench/out/eval; skipped when absent).
  7. detector settings on the synthetic pages of bench/out/eval/det_pages: lines read exactly,
     counted without box matching (those labels hug the glyphs, so IoU punishes any box growth).
  6. the recogniser on ONNX Runtime vs OpenVINO (its default precision, and f32) on those lines
     (skipped when openvino is not installed).

The machine is shared: every timing is the best of ``--repeat`` interleaved rounds (the least
disturbed one), CPU seconds of the process are shown next to wall seconds, and the load average
before and after is recorded. Compare numbers only within one report.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from luodi import OCR, OCROptions
from luodi.io import load_pages
from luodi.ocr.crop import crop_quad, is_tall, rotate_tall
from luodi.runtime.base import InferenceSession, SessionWrapper

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "data" / "doc_samples"
PAGES = [
    "paddleocr/imgs/00111002.jpg",  # bank slip
    "paddleocr/imgs/00057937.jpg",  # hospital report
    "paddleocr/imgs/00006737.jpg",  # boarding pass
    "paddleocr/imgs/00056221.jpg",  # train ticket
    "paddleocr/imgs/00015504.jpg",  # financial table
    "paddleocr/imgs/00077949.jpg",  # product tag
    "rapidocr/ch_en_num.jpg",  # product poster
]
STAGES = ("det", "cls", "rec")


class Timed(SessionWrapper):
    """An InferenceSession that adds up the wall time of its ``run`` calls."""

    def __init__(self, inner: InferenceSession) -> None:
        super().__init__(inner)
        self.seconds = 0.0
        self.calls = 0

    def run(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        t0 = time.perf_counter()
        out = self.inner.run(inputs)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        return out


def load_avg() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- 1. per-page timing ----------------------------------------------------------------------------
def bench_bundles(models: list[str], pages: dict[str, np.ndarray], repeat: int, threads: int | None) -> list[str]:
    engines: dict[str, tuple[OCR, dict[str, Timed]]] = {}
    for model in models:
        timers: dict[str, Timed] = {}

        def wrap(stage: str, session: InferenceSession, timers: dict[str, Timed] = timers) -> InferenceSession:
            timers[stage] = Timed(session)
            return timers[stage]

        engine = OCR(model, threads=threads, wrap_session=wrap)
        engines[model] = (engine, timers)
        for page in pages.values():  # warm-up: first runs allocate and pick kernels
            engine.run_pages([page])

    # best round per (model, page): rounds interleave models so load spikes hit all of them alike
    best: dict[tuple[str, str], dict[str, float]] = {}
    for _ in range(repeat):
        for name, page in pages.items():
            for model, (engine, timers) in engines.items():
                for t in timers.values():
                    t.seconds, t.calls = 0.0, 0
                c0, t0 = time.process_time(), time.perf_counter()
                doc = engine.run_pages([page])
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                row = {
                    "wall": wall,
                    "cpu": cpu,
                    "lines": float(len(doc.lines)),
                    **{s: getattr(doc.timings, s) / 1000 for s in STAGES},
                    **{f"inf_{s}": timers[s].seconds if s in timers else 0.0 for s in STAGES},
                    "rec_calls": float(timers["rec"].calls),
                }
                key = (model, name)
                if key not in best or row["wall"] < best[key]["wall"]:
                    best[key] = row

    out = [
        "| bundle | s/page | CPU s/page | det | cls | rec | inference (session.run) | pipeline / inference "
        "| lines/page |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for model in models:
        rows = [best[(model, name)] for name in pages]
        mean = {k: statistics.fmean(r[k] for r in rows) for k in rows[0]}
        inference = sum(mean[f"inf_{s}"] for s in STAGES)
        out.append(
            f"| {model} | {mean['wall']:.3f} | {mean['cpu']:.3f} | {mean['det']:.3f} | {mean['cls']:.3f} | "
            f"{mean['rec']:.3f} | {inference:.3f} | {mean['wall'] / inference:.3f}x | {mean['lines']:.1f} |"
        )
    out.append("")
    out.append("Per page (best round, seconds: wall total / inside session.run):")
    out.append("")
    out.append("| page | " + " | ".join(models) + " |")
    out.append("|---|" + "---|" * len(models))
    for name in pages:
        cells = []
        for model in models:
            r = best[(model, name)]
            inf = sum(r[f"inf_{s}"] for s in STAGES)
            cells.append(f"{r['wall']:.3f} / {inf:.3f} ({int(r['lines'])} lines)")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


# --- 2. recognition batching ------------------------------------------------------------------------
def line_crops(engine: OCR, pages: dict[str, np.ndarray]) -> list[np.ndarray]:
    crops = []
    for page in pages.values():
        for line in engine.run_pages([page], OCROptions(use_cls=False, drop_score=0.0)).lines:
            crop = crop_quad(page, np.asarray(line.box, dtype=np.float32))
            crops.append(rotate_tall(crop) if is_tall(crop, 1.5) else crop)
    return crops


def bench_batching(model: str, pages: dict[str, np.ndarray], repeat: int, threads: int | None) -> list[str]:
    engine = OCR(model, threads=threads)
    crops = line_crops(engine, pages)
    variants = {
        "batch 1, real width": OCROptions(rec_batch_size=1, rec_min_width=0),
        "batch 4, real width": OCROptions(rec_batch_size=4, rec_min_width=0),
        "batch 8, real width": OCROptions(rec_batch_size=8, rec_min_width=0),
        "batch 1, padded to 320": OCROptions(rec_batch_size=1, rec_min_width=320),
        "batch 6, padded to 320 (RapidOCR-like)": OCROptions(rec_batch_size=6, rec_min_width=320),
    }
    engine.recognize(crops, next(iter(variants.values())))
    best = {k: (float("inf"), float("inf")) for k in variants}
    texts: dict[str, list[str]] = {}
    for _ in range(repeat):
        for name, opts in variants.items():
            c0, t0 = time.process_time(), time.perf_counter()
            res = engine.recognize(crops, opts)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            texts[name] = [r.text for r in res]
            if wall < best[name][0]:
                best[name] = (wall, cpu)
    ref = texts["batch 1, real width"]
    out = [
        f"{model}: {len(crops)} line crops from the pages above (median width at height 48: "
        f"{int(np.median([48 * c.shape[1] / c.shape[0] for c in crops]))} px).",
        "",
        "| recognition | ms/crop (wall) | ms/crop (CPU) | texts differing from batch 1 real width |",
        "|---|---|---|---|",
    ]
    for name in variants:
        wall, cpu = best[name]
        diff = sum(a != b for a, b in zip(texts[name], ref, strict=True))
        out.append(f"| {name} | {1000 * wall / len(crops):.2f} | {1000 * cpu / len(crops):.2f} | {diff} |")
    return out


# --- 3. spinning --------------------------------------------------------------------------------------
def bench_spinning(model: str, pages: dict[str, np.ndarray], repeat: int, threads: int | None) -> list[str]:
    from luodi.ocr.ctc import load_characters
    from luodi.ocr.rec import Recognizer
    from luodi.runtime.onnx import OnnxSession
    from luodi.zoo import get_bundle

    bundle = get_bundle(model)
    assert bundle.rec is not None and bundle.rec.model is not None
    crops = line_crops(OCR(model, threads=threads), pages)
    chars = load_characters(bundle.dictionary)
    recs: dict[str, Callable[[], Any]] = {}
    for spin in (True, False):
        session = OnnxSession(bundle.rec.model, threads=threads, spin=spin)
        recognizer = Recognizer(session, chars)
        recognizer(crops[:4])
        recs[f"spinning {'on (ORT default)' if spin else 'off (luodi)'}"] = lambda r=recognizer: r(crops)
    best = {k: (float("inf"), float("inf")) for k in recs}
    for _ in range(repeat):
        for name, fn in recs.items():
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            if wall < best[name][0]:
                best[name] = (wall, cpu)
    out = [
        f"{model} recogniser alone, {len(crops)} crops, batch 1, real width:",
        "",
        "| intra-op pool | s (wall) | s (CPU) |",
        "|---|---|---|",
    ]
    out += [f"| {name} | {w:.2f} | {c:.2f} |" for name, (w, c) in best.items()]
    return out


# --- 4. RSS ------------------------------------------------------------------------------------------
def bench_rss(model: str, calls: int, threads: int | None) -> list[str]:
    engine = OCR(model, threads=threads)
    names = [
        "rapidocr/ch_en_num.jpg",
        "rapidocr/img_exif_orientation.jpg",
        "rapidocr/text_cls.jpg",
        "rapidocr/short.png",
    ]
    pages = [load_pages(SAMPLES / n)[0] for n in names]
    warm = max(20, calls // 10)
    for i in range(warm):
        engine.run_pages([pages[i % len(pages)]])
    after_warmup = rss_mb()
    samples = []
    t0 = time.perf_counter()
    for i in range(calls):
        engine.run_pages([pages[i % len(pages)]])
        if i % max(1, calls // 10) == 0:
            samples.append(rss_mb())
    final = rss_mb()
    return [
        f"{model}: {calls} calls on one engine cycling through {len(pages)} pages of different sizes "
        f"({time.perf_counter() - t0:.0f} s), after {warm} warm-up calls:",
        "",
        f"- RSS after warm-up {after_warmup:.1f} MB, after {calls} calls {final:.1f} MB: "
        f"growth {100 * (final - after_warmup) / after_warmup:+.2f}% (target ≤ 5%)",
        f"- RSS every {max(1, calls // 10)} calls (MB): " + ", ".join(f"{x:.1f}" for x in samples),
    ]


# --- 5. padding short crops --------------------------------------------------------------------------
EVAL_DIR = ROOT / "bench" / "out" / "eval"
LINE_SETS = ("rec_print", "rec_print_hard", "rec_thermal", "rec_stamp", "rec_dotmatrix")


def eval_lines(name: str) -> tuple[list[np.ndarray], list[str]] | None:
    from luodi.eval.datasets import read_rec_labels

    labels = EVAL_DIR / name / "labels.txt"
    if not labels.is_file():
        return None
    samples = read_rec_labels(labels)
    return [load_pages(s.path)[0] for s in samples], [s.label for s in samples]


def bench_padding(models: list[str], threads: int | None) -> list[str]:
    sets = {name: data for name in LINE_SETS if (data := eval_lines(name)) is not None}
    if not sets:
        return [f"(skipped: no line sets under {EVAL_DIR}; run bench/data/make_eval_sets.py)"]
    out = [
        "Line accuracy (exact match) reading each synthetic line crop directly, batch 1; "
        "'only real right' / 'only 320 right' count the lines that one setting reads exactly and the other not.",
        "",
        "| bundle | set | lines | real width | padded to 320 | only real right | only 320 right |",
        "|---|---|---|---|---|---|---|",
    ]
    for model in models:
        engine = OCR(model, threads=threads)
        for name, (crops, labels) in sets.items():
            real = [r.text for r in engine.recognize(crops, OCROptions(rec_min_width=0))]
            padded = [r.text for r in engine.recognize(crops, OCROptions(rec_min_width=320))]
            ok_real = [t == y for t, y in zip(real, labels, strict=True)]
            ok_pad = [t == y for t, y in zip(padded, labels, strict=True)]
            out.append(
                f"| {model} | {name} | {len(labels)} | "
                f"{statistics.fmean(ok_real):.3f} | {statistics.fmean(ok_pad):.3f} | "
                f"{sum(a and not b for a, b in zip(ok_real, ok_pad, strict=True))} | "
                f"{sum(b and not a for a, b in zip(ok_real, ok_pad, strict=True))} |"
            )
    return out


# --- 6. backends -------------------------------------------------------------------------------------
def bench_backends(model: str, repeat: int, threads: int | None) -> list[str]:
    import importlib.util

    if importlib.util.find_spec("openvino") is None:
        return ["(skipped: openvino is not installed; pip install 'luodi[openvino]')"]
    data = eval_lines("rec_print")
    if data is None:
        return [f"(skipped: {EVAL_DIR / 'rec_print'} is missing)"]
    crops, labels = data
    from luodi.ocr.ctc import load_characters
    from luodi.ocr.rec import Recognizer
    from luodi.runtime.onnx import OnnxSession
    from luodi.runtime.openvino import OpenVinoSession
    from luodi.zoo import get_bundle

    bundle = get_bundle(model)
    assert bundle.rec is not None and bundle.rec.model is not None
    chars = load_characters(bundle.dictionary)
    sessions: dict[str, InferenceSession] = {
        "onnxruntime": OnnxSession(bundle.rec.model, threads=threads),
        "openvino (its default precision)": OpenVinoSession(bundle.rec.model, threads=threads),
        "openvino f32": OpenVinoSession(bundle.rec.model, threads=threads, precision="f32"),
    }
    recs = {name: Recognizer(s, chars) for name, s in sessions.items()}
    first: dict[str, tuple[float, float]] = {}
    for name, r in recs.items():
        # the first pass sees every crop width for the first time, as real traffic keeps doing
        c0, t0 = time.process_time(), time.perf_counter()
        r(crops)
        first[name] = (time.perf_counter() - t0, time.process_time() - c0)
    best = {k: (float("inf"), float("inf")) for k in recs}
    acc: dict[str, float] = {}
    for _ in range(repeat):
        for name, r in recs.items():
            c0, t0 = time.process_time(), time.perf_counter()
            res = r(crops)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            acc[name] = statistics.fmean(x.text == y for x, y in zip(res, labels, strict=True))
            if wall < best[name][0]:
                best[name] = (wall, cpu)
    out = [
        f"{model} recogniser, {len(crops)} lines of rec_print, batch 1, real width. First pass: every crop "
        "width new to the session; repeat: best later pass over the same crops.",
        "",
        "| backend | precision (read back) | first pass s (wall / CPU) | repeat s (wall / CPU) | line accuracy |",
        "|---|---|---|---|---|",
    ]
    for name, (wall, cpu) in best.items():
        fw, fc = first[name]
        out.append(
            f"| {name} | {sessions[name].info.precision} | {fw:.2f} / {fc:.2f} | {wall:.2f} / {cpu:.2f} | "
            f"{acc[name]:.3f} |"
        )
    return out


# --- 7. detector settings -----------------------------------------------------------------------------
def bench_det_settings(models: list[str], threads: int | None) -> list[str]:
    from collections import Counter

    from luodi.eval.datasets import read_det_labels

    labels = EVAL_DIR / "det_pages" / "det_labels.txt"
    if not labels.is_file():
        return [f"(skipped: {labels} is missing; run bench/data/make_eval_sets.py)"]
    samples = read_det_labels(labels)
    pages = [load_pages(s.path)[0] for s in samples]
    truth = [Counter(r.transcription.replace(" ", "") for r in s.regions if not r.ignore) for s in samples]
    variants = {
        "luodi default (max 960, dilate, unclip 1.5)": OCROptions(),
        "no dilation (PaddleOCR's default)": OCROptions(det_dilate=False),
        "unclip 1.6": OCROptions(det_unclip_ratio=1.6),
        "RapidOCR-like (min 736, box 0.5, unclip 1.6, dilate)": OCROptions(
            det_limit_type="min", det_limit_side=736, det_box_thresh=0.5, det_unclip_ratio=1.6
        ),
    }
    n_truth = sum(sum(t.values()) for t in truth)
    out = [
        f"{len(samples)} synthetic pages, {n_truth} labelled lines. A line counts when its text (spaces ignored) "
        "is among the page's read lines; det s is the detection stage's wall time over all pages.",
        "",
        "| bundle | settings | lines read exactly | precision | det s |",
        "|---|---|---|---|---|",
    ]
    for model in models:
        engine = OCR(model, threads=threads)
        for name, opts in variants.items():
            hit = n_pred = 0
            det_ms = 0.0
            for page, want in zip(pages, truth, strict=True):
                doc = engine.run_pages([page], opts)
                det_ms += doc.timings.det
                got = Counter(line.text.replace(" ", "") for line in doc.lines)
                hit += sum((want & got).values())
                n_pred += sum(got.values())
            out.append(f"| {model} | {name} | {hit} / {n_truth} | {hit / max(n_pred, 1):.3f} | {det_ms / 1000:.2f} |")
    return out


# long: one report section after another, each skippable by --skip
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="pp-ocrv4,pp-ocrv5,pp-ocrv6-small")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--rss-calls", type=int, default=1000)
    ap.add_argument(
        "--skip",
        default="",
        help="comma-separated sections to skip: pages,batching,spinning,rss,padding,detector,backends",
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    models = args.models.split(",")
    skip = set(filter(None, args.skip.split(",")))
    pages = {name: load_pages(SAMPLES / name)[0] for name in PAGES}

    import onnxruntime

    report = [
        "# Pipeline overhead, per-stage time, recognition batching, thread spinning, RSS",
        "",
        "Command: `.venv/bin/python bench/" + Path(__file__).name + " " + " ".join(sys.argv[1:]) + "`",
        "",
        f"- machine: {cpu_model()}, {os.cpu_count()} cores; onnxruntime {onnxruntime.__version__}; "
        f"threads per session: {args.threads or 'all cores'}",
        f"- load average (1/5/15 min) at start: {load_avg()} — the machine is shared with other jobs, so "
        "each number is the best of interleaved rounds and ratios within a table are what to read",
        f"- pages: {', '.join(PAGES)} (shared/data/doc_samples, decoded once, outside the timing)",
        "",
    ]

    def section(title: str, lines: list[str]) -> None:
        report.extend([f"## {title}", "", *lines, ""])
        print("\n".join([f"## {title}", *lines, ""]), flush=True)

    decode = []
    for name in PAGES:
        t0 = time.perf_counter()
        load_pages(SAMPLES / name)
        decode.append(time.perf_counter() - t0)
    if "pages" not in skip:
        section(
            f"1. Seconds per page (mean over {len(PAGES)} pages, best of {args.repeat} rounds)",
            [
                *bench_bundles(models, pages, args.repeat, args.threads),
                "",
                f"Decoding the image files (luodi.io.load_pages, not in the numbers above): "
                f"{1000 * statistics.fmean(decode):.1f} ms per page on average.",
            ],
        )
    if "batching" not in skip:
        section(
            "2. Recognition batching (crops sorted by width, batch padded to its widest crop)",
            [line for m in models for line in [*bench_batching(m, pages, args.repeat, args.threads), ""]],
        )
    if "spinning" not in skip:
        section(
            "3. ONNX Runtime intra-op thread spinning",
            bench_spinning(models[0], pages, args.repeat, args.threads),
        )
    if "rss" not in skip and args.rss_calls > 0:
        section("4. Memory over many calls", bench_rss(models[-1], args.rss_calls, args.threads))
    if "padding" not in skip:
        section("5. Padding short crops to 320 px (accuracy)", bench_padding(models, args.threads))
    if "detector" not in skip:
        section("7. Detector settings (synthetic pages)", bench_det_settings(models, args.threads))
    if "backends" not in skip:
        section("6. Recogniser backends", bench_backends(models[-1], args.repeat, args.threads))
    report.append(f"Load average at the end: {load_avg()}.")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(report) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
