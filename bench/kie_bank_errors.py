"""Why bank-receipt fields are wrong: each field's error put in one cause, counted per split.

    .venv/bin/python bench/kie_bank_errors.py --degrade scan --seed 821 --n 28
    .venv/bin/python bench/kie_bank_errors.py --degrade photo --seed 811 --n 28 --show-dev

Renders the same receipts as ``bench/kie_documents.py`` (dev split at ``seed``, holdout at
``seed + 1``), reads and extracts them, and puts every scored field in one class:

* ``right, accepted`` / ``right, flagged`` (the value is right; flagged = ``needs_review``);
* a wrong or missing value, by cause:
  - ``OCR missed``: nothing within reach of the value in what OCR read (no line holds even half of it);
  - ``OCR misread``: a line holds something near the value, never the value itself;
  - ``wrong candidate``: some line (or a row of lines) holds the value exactly, and the extractor
    chose another value or none;
* and whether the value lies under the stamp (its printed box reaches the stamp's red ink on the
  clean render of the same receipt).

Holdout sets are reported as counts only (no page, no value), so they stay blind; ``--show-dev``
prints each dev error (style, field, expected, got, what OCR read nearest).
``--cache DIR`` keeps each page's OCR reading (pickled) so extraction changes can be re-measured
without reading again.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kie_documents import read_page

CAUSES = ("OCR missed", "OCR misread", "wrong candidate")


def key_of(name: str, value: Any) -> str:
    """What to look for in OCR text: digits for numbers, dates and times; folded text otherwise."""
    from luodi.kie.normalize import compact, fold

    if name == "amount":
        return f"{float(value):.2f}".replace(".", "")
    if name in ("date", "time"):
        return re.sub(r"\D", "", str(value))
    if name.endswith("account"):
        return compact(fold(str(value)))
    return compact(fold(str(value)))


def texts_of(doc: Any) -> list[str]:
    """Each line's text and each row's lines joined (values split by OCR into pieces)."""
    from luodi.kie.normalize import compact, fold

    lines = [(compact(fold(t.text)), t.box) for t in doc.lines]
    rows: list[list[tuple[str, Any]]] = []
    for text, box in sorted(lines, key=lambda x: (sum(p[1] for p in x[1]) / 4, x[1][0][0])):
        yc = sum(p[1] for p in box) / 4
        h = max(p[1] for p in box) - min(p[1] for p in box)
        if rows and abs(sum(p[1] for p in rows[-1][-1][1]) / 4 - yc) <= 0.5 * h:
            rows[-1].append((text, box))
        else:
            rows.append([(text, box)])
    joined = ["".join(t for t, _ in sorted(r, key=lambda x: x[1][0][0])) for r in rows]
    return [t for t, _ in lines] + joined


def nearest(name: str, key: str, texts: list[str]) -> tuple[float, str]:
    from rapidfuzz import fuzz

    best, where = 0.0, ""
    for t in texts:
        hay = re.sub(r"\D", "", t) if name in ("amount", "date", "time") else t
        if name == "amount":
            hay = t.replace(",", "")
            hay = re.sub(r"[^\d]", "", hay)
        if key and key in hay:
            s = 100.0
        elif len(hay) < len(key):  # partial_ratio would align the key to a short line and call it whole
            s = fuzz.ratio(key, hay)
        else:
            s = fuzz.partial_ratio(key, hay)
        if s > best:
            best, where = s, t
    return best / 100.0, where


def stamp_mask(sample_clean: Any) -> np.ndarray:
    img = sample_clean.image.astype(np.int16)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    return (r - np.maximum(g, b)) > 60


def under_stamp(name: str, value: Any, layer: tuple[Any, ...], mask: np.ndarray) -> bool:
    from luodi.kie.normalize import compact, fold

    key = key_of(name, value)
    for text, (x0, y0, x1, y1) in layer:
        t = compact(fold(str(text)))
        hay = re.sub(r"\D", "", t) if name in ("amount", "date", "time") else t
        if key and (key in hay or (len(hay) >= 2 and hay in key)):
            region = mask[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)]
            if region.size and region.mean() > 0.02:
                return True
    return False


def classify(name: str, expected: Any, field: Any, texts: list[str]) -> tuple[str, float, str]:
    from luodi.kie.evaluate import same_value

    got = field.value if field is not None else None
    if same_value(expected, got):
        return ("right, flagged" if field is not None and field.needs_review else "right, accepted"), 1.0, ""
    key = key_of(name, expected)
    sim, where = nearest(name, key, texts)
    if sim >= 1.0:
        return "wrong candidate", sim, where
    return ("OCR misread" if sim >= 0.5 else "OCR missed"), sim, where


def _options(ex: Any, stamps: str) -> Any:
    """The OCR options the extractor reads with (none from an extractor older than them: a
    "before" run over another commit's src); ``keep``: the stamps' ink left in."""
    if not hasattr(ex, "ocr_options"):
        return None
    return ex.ocr_options() if stamps == "drop" else ex.ocr_options().replace(drop_stamps=False)


def run_split(split: str, seed: int, args: argparse.Namespace, ocr: Any) -> dict[str, Any]:
    from luodi.kie import Extractor
    from luodi.synth.bank_receipt import render_bank_receipt
    from luodi.synth.documents import DocOptions

    opts = DocOptions(layouts=(split,), degrade=args.degrade, seed=seed, source="dev")
    clean = DocOptions(layouts=(split,), degrade="clean", seed=seed, source="dev")
    ex = Extractor("bank_receipt", ocr=ocr)
    counts: Counter[str] = Counter()
    by_field: dict[str, Counter[str]] = {}
    stamped: Counter[str] = Counter()
    accepted_wrong: Counter[str] = Counter()
    for i in range(args.n):
        sample = render_bank_receipt(i, opts)
        options = _options(ex, args.stamps)
        doc, _ = read_page(ocr, sample, options, f"{args.degrade}-{split}-{seed}-{i}", args.cache)
        result = ex.extract_document(doc)
        got = {f.name: f for f in result.fields}
        texts = texts_of(doc)
        mask = stamp_mask(render_bank_receipt(i, clean))
        for name, expected in sample.fields.items():
            if expected is None:
                continue
            cls, sim, where = classify(name, expected, got.get(name), texts)
            counts[cls] += 1
            by_field.setdefault(name, Counter())[cls] += 1
            if cls in CAUSES:
                f = got.get(name)
                if f is not None and f.value is not None and not f.needs_review:
                    accepted_wrong[cls] += 1
                if under_stamp(name, expected, sample.text_layer, mask):
                    stamped[cls] += 1
                if split == "dev" and args.show_dev:
                    g = got.get(name)
                    mark = "STAMP" if under_stamp(name, expected, sample.text_layer, mask) else "     "
                    print(
                        f"{sample.layout:14s} #{i:2d} {name:16s} {cls:15s} {mark} want={expected!r} "
                        f"got={None if g is None else g.value!r} flag={None if g is None else g.needs_review} "
                        f"near={sim:.2f}:{where[:40]!r}"
                    )
            elif cls == "right, flagged" and split == "dev" and args.show_dev and args.show_flagged:
                g = got[name]
                print(f"{sample.layout:14s} #{i:2d} {name:16s} right-flagged {g.reasons}")
        print(f"[{split} {i + 1}/{args.n}]", file=sys.stderr)
    return {
        "split": split,
        "seed": seed,
        "counts": dict(counts),
        "under_stamp": dict(stamped),
        "accepted_wrong": dict(accepted_wrong),
        "by_field": {k: dict(v) for k, v in sorted(by_field.items())},
    }


def render_md(report: dict[str, Any]) -> str:
    cols = ("right, accepted", "right, flagged", *CAUSES)
    lines = [
        "# Bank receipts: why fields are wrong (counts only)",
        "",
        "```",
        report["command"],
        "```",
        "",
        f"`--degrade {report['degrade']}`, {report['n']} receipts per split, code at `{report['git_head']}`. "
        "Wrong = a wrong or missing value; (under the stamp) = its printed box reaches the stamp's ink; "
        "(accepted) = wrong and not flagged.",
        *(["", report["note"]] if report.get("note") else []),
        "",
        "| split | fields | " + " | ".join(cols) + " |",
        "|---|---|" + "---|" * len(cols),
    ]
    for s in report["splits"]:
        total = sum(s["counts"].values())
        cells = []
        for c in cols:
            n = s["counts"].get(c, 0)
            extra = ""
            if c in CAUSES:
                extra = f" ({s['under_stamp'].get(c, 0)} under the stamp, {s['accepted_wrong'].get(c, 0)} accepted)"
            cells.append(f"{n}{extra}")
        lines.append(f"| {s['split']} | {total} | " + " | ".join(cells) + " |")
    lines += ["", "Per field (wrong: missed / misread / wrong candidate; right but flagged):", ""]
    lines += ["| split | field | right | right, flagged | OCR missed | OCR misread | wrong candidate |"]
    lines += ["|---|---|---|---|---|---|---|"]
    for s in report["splits"]:
        for name, c in s["by_field"].items():
            lines.append(
                f"| {s['split']} | {name} | {c.get('right, accepted', 0) + c.get('right, flagged', 0)} | "
                f"{c.get('right, flagged', 0)} | {c.get('OCR missed', 0)} | {c.get('OCR misread', 0)} | "
                f"{c.get('wrong candidate', 0)} |"
            )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import shlex
    import subprocess

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=28)
    ap.add_argument("--seed", type=int, default=811)
    ap.add_argument("--degrade", default="photo")
    ap.add_argument("--splits", nargs="+", default=["dev", "holdout"])
    ap.add_argument("--model", default="pp-ocrv6-small")
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--stamps", choices=["drop", "keep"], default="drop", help="keep: read the stamps' ink as before")
    ap.add_argument("--show-dev", action="store_true")
    ap.add_argument("--show-flagged", action="store_true")
    ap.add_argument("--results", type=Path, default=None)
    ap.add_argument("--note", default="", help="a line of context written under the header")
    args = ap.parse_args(argv)
    from luodi import OCR

    ocr = OCR(args.model)
    splits = [run_split(s, args.seed + (0 if s == "dev" else 1), args, ocr) for s in args.splits]
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    report = {
        "command": "$ " + shlex.join([".venv/bin/python", "bench/kie_bank_errors.py", *(argv or sys.argv[1:])]),
        "degrade": args.degrade,
        "n": args.n,
        "git_head": head,
        "splits": splits,
        "note": args.note,
    }
    md = render_md(report)
    print(md)
    if args.results is not None:
        args.results.with_suffix(".json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
        args.results.with_suffix(".md").write_text(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
