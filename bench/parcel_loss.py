"""Where found labels lose their fields (issue #19): the same labels read through the locator's
quad, through the true quad, and flat — on dev families only (the held-out ones stay blind).

    .venv/bin/python bench/parcel_loss.py --frames 12 --seed 41

For each label fully inside a frame (dev texture families, a seed the bench does not use):

- ``photo``: what ``luodi extract`` reports for the document matched to it (outline IoU ≥ 0.5);
- ``true quad``: the label's own quad (from the renderer) read through the photo path as if the
  locator had given it, corners in frame order (the reader decides the text direction itself);
- ``true quad, upright``: the same with its corners in the label's own order (direction known);
- ``found quad``: the locator's quad alone (its outline taken as the quad: no unwarp), corners as found;
- ``found quad, upright``: the locator's quad with its corners turned to the label's own order;
- ``flat``: the label as printed.

The gaps between them say whether fields are lost to the quad (its accuracy), to the text direction,
or to reading the warped label (resolution, deskew, extraction). The printed line height in frame
pixels (from the renderer's line boxes) is reported against the fields read.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from parcel_bench import FIELDS, _frames, _iou, _load, _match, _ner_file, _predicted, _values  # noqa: E402


def _located(doc_quad: np.ndarray, polygon: np.ndarray, frame: tuple[int, int]) -> Any:
    from luodi.locate.locator import LocatedDocument, Location

    h, w = frame
    area = float(cv2.contourArea(doc_quad.astype(np.float32))) / (h * w)
    doc = LocatedDocument(doc_quad.astype(np.float32), polygon.astype(np.float32), 1.0, "model", False, area)
    return Location((doc,), False, area, "model")


def _read(pipeline: Any, extractor: Any, page: np.ndarray, location: Any, opts: Any) -> dict[str, Any]:
    from luodi.locate.extract import extract_documents
    from luodi.ocr.result import Document, Timings

    ocr = pipeline.ocr
    out = ocr._run_photo(page, 0, location, opts, recognizer=None, totals=[0.0] * 4)
    doc = Document("x", ocr.model_name, (out,), Timings(0, 0, 0, 0))
    docs = extract_documents(extractor, doc).to_dict().get("documents", [])
    return _predicted(docs[0]) if docs else dict.fromkeys(FIELDS)


def _value(default: Any, text: str) -> Any:
    return text.lower() in ("1", "true", "yes") if isinstance(default, bool) else type(default)(text)


def _upright(quad: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``quad``'s corners rolled so that the first is the one nearest the label's own top-left."""
    best = min(range(4), key=lambda r: float(np.abs(np.roll(quad, -r, axis=0) - truth).sum()))
    return np.roll(quad, -best, axis=0)


def _right(pred: dict[str, Any], gold: dict[str, Any]) -> tuple[int, int]:
    keys = [k for k in FIELDS if gold[k] not in (None, "")]
    return sum(1 for k in keys if str(pred[k]) == str(gold[k])), len(keys)


# long: one run in order: options, frames rendered and read, where each field was lost, the report
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--seed", type=int, default=41)
    parser.add_argument("--out", type=Path, default=BENCH / "out" / "parcel_loss")
    parser.add_argument("--families", default="dev")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--option", action="append", default=[], help="an OCR option for every reading: NAME=VALUE")
    parser.add_argument("--no-photo", action="store_true", help="skip the locator's reading (true quads and flat only)")
    args = parser.parse_args(argv)
    if args.families != "dev":
        print("note: reading held-out families makes them no longer blind", file=sys.stderr)
    import tempfile

    from luodi.config import load_settings
    from luodi.io import load_pages
    from luodi.locate.locator import order_quad
    from luodi.ocr.options import OCROptions
    from luodi.pipeline import Pipeline

    pipeline = Pipeline(load_settings(threads=2))
    pairs = (o.split("=") for o in args.option)
    opts = OCROptions().replace(**{k: _value(getattr(OCROptions(), k), v) for k, v in pairs})
    task = pipeline.processor("extract", "waybill", options=opts)
    extractor = task.extractor
    totals: dict[str, list[int]] = {}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ner, _ = _ner_file(Path(tmp))
        folder, records = _frames(args.out, args.families, args.frames, args.seed, ner)
        t0 = time.perf_counter()
        for rec in records:
            data = (folder / rec["image"]).read_bytes()
            (page,) = load_pages(data)
            frame = page.shape[:2]
            located = [] if args.no_photo else pipeline.run(task, data).result.to_dict().get("documents", [])
            hits = _match(located, rec["labels"])
            for label, hit in zip(rec["labels"], hits, strict=True):
                if label["cut_off"]:
                    continue
                gold = _values(label["fields"])
                truth = np.asarray(label["quad"], np.float32)
                outline = np.asarray(label["polygon"], np.float32)
                got: dict[str, dict[str, Any]] = {"photo": _predicted(located[hit] if hit is not None else None)}
                got["true quad"] = _read(pipeline, extractor, page, _located(order_quad(truth), outline, frame), opts)
                got["true quad, upright"] = _read(pipeline, extractor, page, _located(truth, outline, frame), opts)
                row: dict[str, Any] = {"image": rec["image"], "families": rec["families"], "found": hit is not None}
                if hit is not None:
                    fq = np.asarray(located[hit]["quad"], np.float32)
                    got["found quad"] = _read(pipeline, extractor, page, _located(fq, fq, frame), opts)
                    got["found quad, upright"] = _read(
                        pipeline, extractor, page, _located(_upright(fq, truth), outline, frame), opts
                    )
                    row["iou"] = round(_iou(fq.tolist(), label["polygon"]), 3)
                    row["corner_err"] = round(
                        float(np.abs(_upright(fq, truth) - truth).max() / max(np.ptp(truth, 0).max(), 1)), 3
                    )
                flat = pipeline.run(task, (folder / label["flat"]).read_bytes()).result.to_dict()
                got["flat"] = _predicted(flat)
                heights = [
                    float(np.linalg.norm(np.asarray(x["box"][3]) - np.asarray(x["box"][0]))) for x in label["lines"]
                ]
                row["line_px"] = round(statistics.median(heights), 1) if heights else None
                row["angle"] = label["angle"]
                for name, pred in got.items():
                    r, n = _right(pred, gold)
                    row[name] = f"{r}/{n}"
                    t = totals.setdefault(name, [0, 0])
                    t[0] += r
                    t[1] += n
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False), file=sys.stderr)
        print(f"{len(records)} frames in {time.perf_counter() - t0:.0f} s, load {_load()}", file=sys.stderr)
    summary = {k: round(a / max(b, 1), 3) for k, (a, b) in totals.items()}
    print(json.dumps({"summary": summary, "labels": len(rows)}, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
