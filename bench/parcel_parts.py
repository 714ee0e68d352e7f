"""Labels cut out of a larger located region (issue #19): read from a crop of the straightened region
(the earlier way, kept here as ``crop``) or warped from the photo and detected on their own (the
pipeline's way now, ``rewarp``) — on dev families only (the held-out ones stay blind).

    PYTHONPATH=src nice .venv/bin/python bench/parcel_parts.py --seed 45 --frames 12

Each frame is read through ``luodi extract`` both ways, interleaved in one process; fields right are
counted over every label fully inside the frame (a label not found scores nothing), with the CPU
seconds each way. Only regions the text check cuts (``luodi.locate.verify``) read differently.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from parcel_bench import FIELDS, _frames, _load, _match, _ner_file, _predicted, _values, dump_result  # noqa: E402


def _crop_read_located(ocr_cls: type) -> Callable[..., Any]:
    """The earlier ``_read_located``: each label a crop of the straightened region, with the boxes
    found there (no second warp or detection)."""
    from luodi.ocr import pipeline as p

    def read_located(self: Any, page: np.ndarray, found: Any, opts: Any, recognizer: Any, totals: Any) -> Any:
        image, quads, placed, _ = self._straighten(page, found, opts, totals)
        groups = p.text_groups(quads, image) if opts.verify else None
        if groups is None or not groups.cut:
            got = self._read_document(page, found, opts, recognizer, totals, straightened=(image, quads, placed))
            return [(found, got, len(quads))]
        out = []
        h, w = image.shape[:2]
        for rect in groups.rects:
            x0, y0 = (int(v) for v in np.clip(np.floor(rect.min(0)), 0, [w - 1, h - 1]))
            x1, y1 = (int(v) for v in np.clip(np.ceil(rect.max(0)), [x0 + 1, y0 + 1], [w, h]))
            shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
            inside = [
                (q - np.array([x0, y0], np.float32)).astype(np.float32)
                for q in quads
                if x0 <= float(q[:, 0].mean()) <= x1 and y0 <= float(q[:, 1].mean()) <= y1
            ]
            crop = np.ascontiguousarray(image[y0:y1, x0:x1])
            part = p._part_of(found, placed.to_page(rect), page.shape[:2])
            out.append((part, (crop, inside, placed.then(shift))))
        out.sort(key=lambda x: (float(x[0].quad[:, 1].min()), float(x[0].quad[:, 0].min())))
        return [
            (part, self._read_document(page, part, opts, recognizer, totals, straightened=s), len(s[1]))
            for part, s in out
        ]

    return read_located


@contextmanager
def _variant(name: str) -> Iterator[None]:
    from luodi.ocr.pipeline import OCR

    if name == "rewarp":
        yield
        return
    saved = OCR._read_located
    OCR._read_located = _crop_read_located(OCR)  # type: ignore[method-assign]
    try:
        yield
    finally:
        OCR._read_located = saved  # type: ignore[method-assign]


def _score(docs: list[dict[str, Any]], labels: list[dict[str, Any]], *, exact: bool = False) -> tuple[int, int, int]:
    """Fields right and fields in the labels fully inside the frame, and labels found. Values are
    compared as parcel_bench.py compares them (``normalize_text``: NFKC, whitespace dropped: an
    address read with or without the spaces printed between its parts is the same address);
    ``exact``: as strings."""
    from luodi.eval.metrics import normalize_text

    def same(a: Any, b: Any) -> bool:
        return str(a) == str(b) if exact else normalize_text(str(a)) == normalize_text(str(b))

    hits = _match(docs, labels)
    right = total = 0
    for label, hit in zip(labels, hits, strict=True):
        if label["cut_off"]:
            continue
        gold, pred = _values(label["fields"]), _predicted(docs[hit] if hit is not None else None)
        keys = [k for k in FIELDS if gold[k] not in (None, "")]
        right += sum(pred[k] is not None and same(pred[k], gold[k]) for k in keys)
        total += len(keys)
    return right, total, sum(h is not None for h in hits)


def _twelve(pipeline: Any, task: Any, rounds: int, ner: str | None) -> dict[str, Any]:
    """The bench's 12 MP one-label close-up (parcel_bench.timing's scene), CPU seconds each way,
    interleaved; median of ``rounds``."""
    import statistics

    from parcel_bench import closeup_12mp

    i, _, data, _, _ = closeup_12mp(pipeline, task, ner)
    cpu: dict[str, list[float]] = {"crop": [], "rewarp": []}
    for _ in range(rounds):
        for v, times in cpu.items():
            with _variant(v):
                c0 = time.process_time()
                pipeline.run(task, data)
                times.append(time.process_time() - c0)
    return {"scene": i, **{f"{v}_cpu_s_median": round(statistics.median(t), 3) for v, t in cpu.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--seed", type=int, default=45)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--twelve", type=int, default=0, help="also time the 12 MP close-up this many rounds")
    args = parser.parse_args(argv)
    from luodi.config import load_settings
    from luodi.pipeline import Pipeline

    out = args.out or BENCH / "out" / f"parcel_parts{args.seed}"
    pipeline = Pipeline(load_settings(threads=2))
    task = pipeline.processor("extract", "waybill")
    variants = ("crop", "rewarp")
    totals = {v: [0, 0, 0, 0.0] for v in variants}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ner, _ = _ner_file(Path(tmp))
        folder, records = _frames(out, "dev", args.frames, args.seed, ner) if args.frames else (out, [])
        # the close-up's parties come from the same file as the bench's (it is deleted with ``tmp``)
        twelve = _twelve(pipeline, task, args.twelve, ner) if args.twelve else None
        load_start = _load()
        for rec in records:
            data = (folder / rec["image"]).read_bytes()
            row: dict[str, Any] = {"image": rec["image"]}
            for v in variants:
                with _variant(v):
                    c0 = time.process_time()
                    docs = pipeline.run(task, data).result.to_dict().get("documents", [])
                    cpu = time.process_time() - c0
                right, total, found = _score(docs, rec["labels"])
                t = totals[v]
                t[0], t[1], t[2], t[3] = t[0] + right, t[1] + total, t[2] + found, t[3] + cpu
                row[v] = {"fields": f"{right}/{total}", "found": found, "documents": len(docs), "cpu_s": round(cpu, 2)}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    summary = {
        v: {"fields": f"{a}/{b}", "ratio": round(a / max(b, 1), 3), "found": f, "cpu_s": round(c, 1)}
        for v, (a, b, f, c) in totals.items()
    }
    result: dict[str, Any] = {"seed": args.seed, "frames": args.frames, "summary": summary}
    if twelve is not None:
        result["twelve_mp"] = twelve
    dump_result(result, rows, load_start, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
