"""The locator's print check (issue #19): regions without a label's grey print dropped before reading.

    .venv/bin/python bench/parcel_gate.py --frames bench/out/parcel_misses/dev bench/out/parcel_misses44/dev \
        --empty 21:4 23:4 --crowded 31:2

Two measurements, each with the check on and off in one process (``DocumentLocator(check_print=...)``;
``--off-join``: "off" is also without the join of a label's pieces, i.e. the locator before both), the
locator's CPU milliseconds summed per set:

- **regions**: on rendered frames (folders that ``parcel_misses.py`` / ``parcel_bench.py`` rendered, with
  their ``labels.jsonl``; dev families only — never pass held-out folders while tuning), the locator's
  regions matched to labels (outline IoU >= 0.5): labels found, regions over no label; and on 12 MP
  frames of 30 labels (``--crowded SEED:N``, dev families);
- **no label**: 12 MP frames with no label (``--empty SEED:N``, ``--empty-families``; dev unless
  told, holdout seed 8 for parcel_bench.py's own no-label frames): CPU seconds of decode + OCR
  (locate, probe regions, the coarse detection) over decode + the coarse detection alone (the
  denominator of parcel_bench.py's no-label row), best of 2 per frame, on and off interleaved.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from parcel_bench import _load, _match  # noqa: E402


def _regions(locators: dict[str, Any], page: Any, labels: list[dict[str, Any]], tally: Counter[str]) -> None:
    tally["labels"] += len(labels)
    for mode, locator in locators.items():
        c0 = time.process_time()
        docs = locator.locate(page).documents
        tally[f"{mode}_cpu_ms"] += round(1000 * (time.process_time() - c0))
        hits = _match([{"quad": d.quad.tolist()} for d in docs], labels)
        found = sum(h is not None for h in hits)
        tally[f"{mode}_found"] += found
        tally[f"{mode}_regions"] += len(docs)
        tally[f"{mode}_false"] += len(docs) - found


def regions(locators: dict[str, Any], folders: list[Path], crowded: list[tuple[int, int]]) -> dict[str, Any]:
    from luodi.io import load_pages
    from luodi.synth.parcel import ParcelOptions, render_scene

    out: dict[str, Any] = {}
    for folder in folders:
        tally: Counter[str] = Counter()
        for line in (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            (page,) = load_pages((folder / rec["image"]).read_bytes())
            _regions(locators, page, rec["labels"], tally)
        out[str(folder)] = dict(tally)
    for seed, n in crowded:
        tally = Counter()
        opts = ParcelOptions(families=("dev",), labels=(30, 30), megapixels=(12.0, 12.0), seed=seed, source="dev")
        for i in range(n):
            scene = render_scene(i, opts)
            _regions(locators, scene.image, [lb.record(None) for lb in scene.labels], tally)
        out[f"crowded dev seed {seed} x{n}"] = dict(tally)
    return out


def no_label(engines: dict[str, Any], empty: list[tuple[int, int]], families: str = "dev") -> dict[str, Any]:
    from luodi.io import load_pages
    from luodi.ocr.options import OCROptions
    from luodi.synth.parcel import ParcelOptions, render_scene

    frames = [
        render_scene(
            i, ParcelOptions(families=(families,), empty_rate=1.0, megapixels=(12.0, 12.0), seed=s)
        ).jpeg_bytes()
        for s, n in empty
        for i in range(n)
    ]
    coarse = OCROptions(locate=False, use_cls=False).replace(drop_score=1.0)
    rows = []
    first = next(iter(engines.values()))
    (warm,) = load_pages(frames[0])
    for engine in engines.values():
        engine.run_pages([warm], OCROptions())
    for data in frames:
        best: dict[str, tuple[float, int, tuple[str, ...]]] = {}
        for _ in range(2):
            for mode, engine in engines.items():
                c0 = time.process_time()
                (page,) = load_pages(data)
                got = engine.run_pages([page], OCROptions()).pages[0]
                spent = time.process_time() - c0
                c0 = time.process_time()
                (page,) = load_pages(data)
                first.run_pages([page], coarse)
                ratio = spent / max(time.process_time() - c0, 1e-9)
                if mode not in best or ratio < best[mode][0]:
                    best[mode] = (ratio, len(got.documents), got.flags)
        rows.append({m: {"ratio": round(r, 3), "documents": d, "flags": list(f)} for m, (r, d, f) in best.items()})
        print(rows[-1], file=sys.stderr, flush=True)
    summary = {
        m: {
            "median": round(statistics.median(r[m]["ratio"] for r in rows), 3),
            "worst": round(max(r[m]["ratio"] for r in rows), 3),
            "small_documents_flags": sum("small_documents" in r[m]["flags"] for r in rows),
        }
        for m in engines
    }
    return {"frames": rows, "summary": summary}


def _pairs(values: list[str]) -> list[tuple[int, int]]:
    return [(int(v.split(":")[0]), int(v.split(":")[1])) for v in values]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=Path, nargs="*", default=[], help="rendered dev folders (labels.jsonl)")
    parser.add_argument("--empty", nargs="*", default=[], help="SEED:N no-label 12 MP dev frames")
    parser.add_argument(
        "--empty-families", default="dev", help="families of the no-label frames (holdout: the bench's, seed 8)"
    )
    parser.add_argument("--crowded", nargs="*", default=[], help="SEED:N 30-label 12 MP dev frames")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--off-join", action="store_true", help="'off' also without the join of a label's pieces")
    args = parser.parse_args(argv)
    from luodi.config import load_settings
    from luodi.locate.locator import DocumentLocator
    from luodi.pipeline import Pipeline

    ocr = Pipeline(load_settings(threads=2)).ocr
    if ocr.locator is None or not ocr.locator.has_model:
        raise SystemExit("the trained locator is not installed (make setup)")
    # the engine is immutable: a copy (the same sessions) whose locator skips the check, for this comparison only
    off = object.__new__(type(ocr))
    for name in type(ocr).__slots__:
        object.__setattr__(off, name, getattr(ocr, name))
    plain = DocumentLocator(ocr.locator.session, check_print=False, join_pieces=not args.off_join)
    object.__setattr__(off, "_locator", plain)
    report: dict[str, Any] = {"load_start": _load()}
    locators = {"off": off.locator, "on": ocr.locator}
    report["regions"] = regions(locators, args.frames, _pairs(args.crowded))
    if args.empty:
        report["no_label"] = no_label({"off": off, "on": ocr}, _pairs(args.empty), args.empty_families)
    report["load_end"] = _load()
    text = json.dumps(report, ensure_ascii=False, indent=1)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
