"""What a second, independent reading of the lines that carry accepted values buys, on dev pages.

    nice .venv/bin/python bench/kie_second_reading.py [--readers pp-ocrv4,pp-ocrv5,pp-ocrv6-small+pad]

Reads the cached pages of ``bench/kie_devset.py`` (dev families, seeds 6200+) and the fresh pages
of the holdout families that are no longer blind (``bench/out/kie_seen_holdout*``, seeds
7300+/7500+; never the benchmark's pages), extracts each once, then applies each second reader
(``luodi.kie.second_reading``) to the same result and counts, per set and degradation: fields
accepted, accepted wrong, right values the second reading sends to review and wrong ones it
catches, and its CPU time against the OCR's CPU time of a sample of pages re-read in the same run.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import pickle
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from kie_devset import outcomes  # noqa: E402

from luodi.io import load_pages  # noqa: E402

SETS = {"dev": "kie_devset", "seen1": "kie_seen_holdout", "seen2": "kie_seen_holdout2"}


def load(folder: str) -> list[dict[str, Any]]:
    out = []
    for path in sorted((BENCH / "out" / folder).glob("waybill-*.pkl")):
        out += pickle.loads(path.read_bytes())
    return out


class CachedReader:
    """A line reader that remembers its readings by the crop's pixels (kept in bench/out), so
    that the comparison rules can be varied without reading again."""

    def __init__(self, model: str, threads: int) -> None:
        self.model, self.threads = model, threads
        self.path = BENCH / "out" / "kie_second_reading" / f"{model}.pkl"
        self.memo: dict[str, Any] = pickle.loads(self.path.read_bytes()) if self.path.is_file() else {}
        self.engine: Any = None
        self.cpu = 0.0
        self.lines = 0
        self.asked = 0  # lines asked for, read now or found in the cache

    def recognize(self, crops: Sequence[Any]) -> list[Any]:
        keys = [hashlib.sha1(c.tobytes() + str(c.shape).encode()).hexdigest() for c in crops]
        self.asked += len(keys)
        todo = [i for i, k in enumerate(keys) if k not in self.memo]
        if todo:
            if self.engine is None:
                from luodi.ocr.pipeline import OCR

                self.engine = OCR(self.model, threads=self.threads, locator=None)
            t0 = time.process_time()
            got = self.engine.recognize([crops[i] for i in todo])
            self.cpu += time.process_time() - t0
            self.lines += len(todo)
            for i, r in zip(todo, got, strict=True):
                self.memo[keys[i]] = r
        return [self.memo[k] for k in keys]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(pickle.dumps(self.memo))


def reader(
    model: str, threads: int, differ_min: float, settle_min: float, crop: str = "line", doubt_below: float | None = None
) -> Any:
    from luodi.kie.second_reading import SecondReading
    from luodi.ocr.ctc import load_characters
    from luodi.zoo import get_bundle

    charset = frozenset(load_characters(get_bundle(model).dictionary))
    return SecondReading(
        CachedReader(model, threads),
        charset,
        differ_min=differ_min,
        settle_min=settle_min,
        crop=crop,  # type: ignore[arg-type]
        doubt_below=doubt_below,
    )


# long: one run in order: options, each reader over each set, the tallies, the printed table
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--readers", default="pp-ocrv4")
    ap.add_argument("--sets", default="dev,seen1,seen2")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--show", action="store_true", help="print each field a reader changes")
    ap.add_argument("--cost", type=int, default=0, help="only measure CPU: OCR vs second reading on N dev pages")
    ap.add_argument("--differ-min", type=float, default=0.8)
    ap.add_argument("--crop", choices=("line", "value"), default="line", help="what the second reading cuts out")
    ap.add_argument("--settle-min", type=float, default=0.95)
    ap.add_argument(
        "--doubt-below",
        default="",
        help="comma-separated: also run SecondReading(doubt_below=X) per reader (accepted values read "
        "again only where a character was read below X), as reader@X",
    )
    args = ap.parse_args(argv)
    from luodi.kie import Extractor

    ex = Extractor("waybill")
    if args.cost:
        return cost(ex, args.cost, args.threads)
    readers = {s: reader(s, args.threads, args.differ_min, args.settle_min, args.crop) for s in args.readers.split(",")}
    for s in args.readers.split(","):
        for x in filter(None, args.doubt_below.split(",")):
            readers[f"{s}@{x}"] = reader(s, args.threads, args.differ_min, args.settle_min, args.crop, float(x))
    tally: Counter[tuple[str, ...]] = Counter()
    cpu: Counter[str] = Counter()
    for set_name in args.sets.split(","):
        for rec in load(SETS[set_name]):
            level = rec["level"] if rec["fill"] == "full" else f"{rec['fill']}"
            key = (set_name, level)
            base = ex.extract_document(rec["doc"])
            rows = outcomes(rec, base)
            img = cv2.cvtColor(cv2.imdecode(np.frombuffer(rec["jpeg"], np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
            for row in rows:
                tally[(*key, "base", "accepted")] += row["accepted"]
                tally[(*key, "base", "wrong")] += row["accepted"] and row["cat"] != "right"
                tally[(*key, "base", "with value")] += row["gold"] is not None
            for name, second in readers.items():
                t0 = time.process_time()
                res = second(base, [img], ex.schema, ex._divisions)
                cpu[name] += time.process_time() - t0
                for row, after in zip(rows, outcomes(rec, res), strict=True):
                    wrong = row["cat"] != "right"
                    if after["accepted"]:
                        tally[(*key, name, "accepted")] += 1
                        tally[(*key, name, "wrong")] += wrong
                    if row["accepted"] == after["accepted"]:
                        continue
                    what = (
                        ("caught" if wrong else "lost")
                        if row["accepted"]
                        else ("settled wrong" if wrong else "settled")
                    )
                    tally[(*key, name, what)] += 1
                    if args.show:
                        fr = after["result"]
                        print(f"{name} {what} {set_name}/{rec['layout']}/{level}/{rec['index']} {row['field']}: "
                              f"gold {row['gold']!r} first {row['pred']!r} {fr.reasons[-1] if fr.reasons else ''}"
                              f" / before: {row['result'].reasons}")  # fmt: skip
    print("set level | base accepted / wrong / with value | per reader: accepted wrong | lost caught | settled (wrong)")
    for key in sorted({k[:2] for k in tally}):
        b = [tally[(*key, "base", w)] for w in ("accepted", "wrong", "with value")]
        cells = [f"{n}: {tally[(*key, n, 'accepted')]} {tally[(*key, n, 'wrong')]} | "
                 f"{tally[(*key, n, 'lost')]} {tally[(*key, n, 'caught')]} | "
                 f"{tally[(*key, n, 'settled')]} ({tally[(*key, n, 'settled wrong')]})" for n in readers]  # fmt: skip
        print(f"{key[0]} {key[1]} | {b[0]} / {b[1]} / {b[2]} | " + " | ".join(cells))
    for second in readers.values():
        second.reader.save()
    print("CPU s of the second readings (new lines read, lines asked for):",
          {k: (round(r.reader.cpu, 1), r.reader.lines, r.reader.asked) for k, r in readers.items()})  # fmt: skip
    return 0


def cost(ex: Any, n: int, threads: int) -> int:
    """CPU seconds of a fresh OCR of ``n`` dev pages (every n-th of the cache, all four
    degradations) against those of their extraction and of the second reading (whole lines, the
    stretch of each line that holds values, and whole lines of the doubted values only), in one run."""
    import os

    from luodi.kie.second_reading import SecondReading
    from luodi.ocr.pipeline import OCR

    recs = [r for r in load(SETS["dev"]) if r["fill"] == "full"]
    recs = recs[:: max(1, len(recs) // n)][:n]
    ocr = OCR("pp-ocrv6-small", threads=threads)
    line = SecondReading.from_model("pp-ocrv4", threads=threads)
    value = dataclasses.replace(line, crop="value")
    doubtful = dataclasses.replace(line, doubt_below=0.9)
    ocr(recs[0]["jpeg"])  # warm-up
    line.reader.recognize([np.zeros((48, 200, 3), np.uint8)])
    load0 = os.getloadavg()[0]
    t = Counter[str]()
    for rec in recs:
        t0 = time.process_time()
        pages = load_pages(rec["jpeg"])
        doc = ocr.run_pages(pages)
        t1 = time.process_time()
        res = ex.extract_document(doc)
        t2 = time.process_time()
        line(res, pages, ex.schema, ex._divisions)
        t3 = time.process_time()
        value(res, pages, ex.schema, ex._divisions)
        t4 = time.process_time()
        doubtful(res, pages, ex.schema, ex._divisions)
        t["second reading, doubted values only (doubt_below=0.9)"] += time.process_time() - t4
        t["ocr"] += t1 - t0
        t["extraction"] += t2 - t1
        t["second reading, lines"] += t3 - t2
        t["second reading, value stretches"] += t4 - t3
    shares = ", ".join(f"{k} {v:.2f} ({100 * v / t['ocr']:.1f}% of OCR)" for k, v in t.items() if k != "ocr")
    print(f"{len(recs)} dev pages, {threads} thread(s), load {load0:.1f} -> {os.getloadavg()[0]:.1f}: "
          f"CPU s: OCR {t['ocr']:.1f}, {shares}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
