"""Dev-family pages for working on the extractor: rendered and read once, then every error shown.

    .venv/bin/python bench/kie_devset.py render --per-cell 8          # render + OCR (cached in bench/out)
    .venv/bin/python bench/kie_devset.py errors [--kind waybill] [--accepted-only] [--lines]
    .venv/bin/python bench/kie_devset.py reasons [--kinds waybill] [--field F]   # what flags right values

Only **dev** families (``luodi.synth.families``): the dev waybill layouts, the dev bank-receipt
styles and the dev ID-card layout, parties from the express NER *train* split, seeds 6200+ that no
benchmark, calibration or test uses. So the pages, their OCR lines and every per-field error may be
looked at while the extractor is changed. ``errors`` re-runs the extractor on the cached OCR
(seconds) and prints each wrong field with a category:

- ``accepted-wrong``: a value returned with ``needs_review`` false that is not the label's (the
  promise broken); ``invented`` when the label has no value at all;
- ``flagged-wrong`` / ``missed``: wrong or absent but sent to review (costs coverage, not trust);
- ``ocr``: the label value cannot be put together from the page's OCR lines (no extractor can).
"""

from __future__ import annotations

import argparse
import pickle
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from synth_families import VERBATIM, WAYBILL_FIELDS, canon, in_ocr_text  # noqa: E402

from luodi.eval.metrics import normalize_text  # noqa: E402

OUT = BENCH / "out" / "kie_devset"
WAYBILL_LEVELS = ("clean", "hard", "photo", "photo_hard")
DOC_LEVELS = ("clean", "photo", "photo_hard")


# Fresh layouts whose pages have been looked at since (they stay out of the ``holdout`` group so the
# benchmark draws its pages as before, but are no longer blind): ewaybill_sidebyside on 2026-12-07
# (bench/results/kie_sidebyside_unblind.md); ewaybill_markercol after its one blind score
# (bench/results/kie_fresh_markercol.md), from 2026-12-07 22:00 UTC; ewaybill_grid after its one
# (kie_fresh_grid.md), from 22:43 UTC; form_caption_below after its one (kie_fresh_caption.md), from
# 2026-12-08 00:31 UTC (bench/results/kie_caption_unblind.md).
UNBLINDED_FRESH = frozenset({"ewaybill_sidebyside", "ewaybill_markercol", "ewaybill_grid", "form_caption_below"})


def _waybill_layouts(names: str | None) -> list[str]:
    """The dev waybill layouts, or the layouts named (holdout ones that are no longer blind; a fresh
    layout is refused: it is scored once, never looked at)."""
    from luodi.synth.waybill import LAYOUTS, resolve_layouts

    if not names:
        return [n for n, lay in LAYOUTS.items() if not lay.holdout]
    chosen = list(resolve_layouts([names]))
    if fresh := [n for n in chosen if LAYOUTS[n].fresh and n not in UNBLINDED_FRESH]:
        raise SystemExit(f"{', '.join(fresh)}: fresh held-out layouts are never looked at")
    if seen := [n for n in chosen if LAYOUTS[n].holdout]:
        print(f"note: looking at {', '.join(seen)} makes them no longer blind", file=sys.stderr)
    return chosen


def _cells(kinds: Sequence[str], seed: int, layouts: str | None = None) -> Iterable[tuple[str, str, str, str, Any]]:
    """(kind, level, layout, fill, options) of every cell of the dev set (``layouts``: these waybill
    layouts instead of the dev ones)."""
    from luodi.synth.bank_receipt import STYLES
    from luodi.synth.documents import DocOptions
    from luodi.synth.id_card import CARD_LAYOUTS
    from luodi.synth.waybill import WaybillOptions

    if "waybill" in kinds:
        dev = _waybill_layouts(layouts)
        # One seed per cell: the parties of a page depend on (seed, index), not on the layout.
        for li, level in enumerate(WAYBILL_LEVELS):
            for ni, name in enumerate(dev):
                opts = WaybillOptions(layouts=(name,), degrade=level, seed=seed + 10 * ni + li)  # type: ignore[arg-type]
                yield "waybill", level, name, "full", opts
        for fi, fill in enumerate(("blank", "placeholder")):
            for li, level in enumerate(("clean", "photo")):
                for ni, name in enumerate(dev):
                    opts = WaybillOptions(
                        layouts=(name,), degrade=level, fill=fill, seed=seed + 100 + 10 * ni + 2 * fi + li
                    )  # type: ignore[arg-type]
                    yield "waybill", level, name, fill, opts
    for kind, registry in (("bank_receipt", STYLES), ("id_card", CARD_LAYOUTS)):
        if kind not in kinds:
            continue
        for li, level in enumerate(DOC_LEVELS):
            for ni, (name, item) in enumerate(registry.items()):
                if not item.holdout:
                    yield (
                        kind,
                        level,
                        name,
                        "full",
                        DocOptions(layouts=(name,), degrade=level, seed=seed + 200 + 10 * ni + li),
                    )


def _render(kind: str, index: int, opts: Any) -> Any:
    if kind == "waybill":
        from luodi.synth.waybill import render_waybill

        return render_waybill(index, opts)
    if kind == "bank_receipt":
        from luodi.synth.bank_receipt import render_bank_receipt

        return render_bank_receipt(index, opts)
    from luodi.synth.id_card import render_id_card

    return render_id_card(index, opts)


def render(args: argparse.Namespace) -> None:
    from luodi import OCR

    ocr = None
    out = args.out or OUT
    for kind, level, layout, fill, opts in _cells(args.kinds, args.seed, args.layouts):
        n = args.per_cell if fill == "full" else args.per_unfilled
        path = out / f"{kind}-{layout}-{level}-{fill}-{opts.seed}.pkl"
        have: list[dict[str, Any]] = pickle.loads(path.read_bytes()) if path.is_file() else []
        if len(have) >= n:
            continue
        ocr = ocr or OCR(args.model)
        for i in range(len(have), n):
            sample = _render(kind, i, opts)
            if sample.holdout and not args.layouts:  # never: the default cells are dev families only
                raise SystemExit(f"{layout} is a holdout family")
            jpeg = sample.jpeg_bytes(92)
            doc = ocr(jpeg, name=f"{kind}-{layout}-{level}-{fill}-{i}")
            have.append({"kind": kind, "layout": layout, "level": level, "fill": fill, "index": i,
                         "fields": sample.fields, "meta": sample.meta, "doc": doc, "jpeg": jpeg})  # fmt: skip
            out.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pickle.dumps(have))
            print(f"{path.name} {i + 1}/{n}", file=sys.stderr, flush=True)


def load(kinds: Sequence[str], *, calibration: bool = False, folder: Path | None = None) -> list[dict[str, Any]]:
    """The cached dev pages; ``calibration``: the calibration pages instead (bench/kie_calibrate.py's
    cache: dev families too, seeds 5100-5105), to count how a rule fares on pages it was not made on."""
    out = []
    if calibration:
        for path in sorted((BENCH / "out" / "kie_calibration").glob("*/ocr-*.pkl")):
            records, docs = pickle.loads(path.read_bytes())
            for i, (r, d) in enumerate(zip(records, docs, strict=True)):
                out.append({"kind": "waybill", "layout": r["layout"], "level": path.parent.name,
                            "fill": r.get("fill", "full"), "index": i, "fields": r["fields"], "doc": d})  # fmt: skip
        return [r for r in out if r["kind"] in kinds]
    for path in sorted((folder or OUT).glob("*.pkl")):
        for rec in pickle.loads(path.read_bytes()):
            if rec["kind"] in kinds:
                out.append(rec)
    return out


def field_names(kind: str, gold: dict[str, Any], pred: dict[str, Any]) -> list[str]:
    """The fields compared; on waybills also the address parts, as the benchmark counts them."""
    if kind == "waybill":
        return [*WAYBILL_FIELDS, *(f"{r}_{p}" for r in ("receiver", "sender") for p in _PARTS)]
    return sorted(set(pred) | {k for k, v in gold.items() if v})


_PARTS = ("province", "city", "district", "detail")


def outcomes(rec: dict[str, Any], result: Any) -> list[dict[str, Any]]:
    """One row per field of the page that the label or the prediction has."""
    kind = rec["kind"]
    pred = {f.name: f for f in result.fields}
    lines = [normalize_text(line.text) for page in rec["doc"].pages for line in page.lines]
    rows = []
    for name in field_names(kind, rec["fields"], pred):
        gold = rec["fields"].get(name)
        g, fr = canon(name, gold), pred.get(name)
        p = canon(name, fr.value if fr is not None else None)
        if g is None and p is None:
            continue
        accepted = p is not None and fr is not None and not fr.needs_review
        readable = in_ocr_text(name, gold, lines) if g is not None and name in VERBATIM[kind] else None
        if g == p:
            cat = "right"
        elif accepted:
            cat = "invented" if g is None else "accepted-wrong"
        elif p is None:
            cat = "missed"
        else:
            cat = "flagged-wrong"
        rows.append({"field": name, "gold": gold, "pred": None if fr is None else fr.value, "cat": cat,
                     "accepted": accepted, "readable": readable, "result": fr})  # fmt: skip
    return rows


def errors(args: argparse.Namespace) -> None:
    from luodi.kie import Extractor

    extractors: dict[str, Any] = {}
    tally: Counter[tuple[str, str, str]] = Counter()
    accepted = Counter[str]()
    with_value = Counter[str]()
    for rec in load(args.kinds, calibration=args.calibration_pages, folder=args.out):
        if args.layout and rec["layout"] != args.layout:
            continue
        if args.levels and rec["level"] not in args.levels.split(","):
            continue
        kind = rec["kind"]
        ex = extractors.get(kind) or extractors.setdefault(
            kind, Extractor(kind, calibration="builtin" if args.calibrated else None)
        )
        res = ex.extract_document(rec["doc"])
        shown = False
        tag = f"{rec['layout']}/{rec['level']}/{rec['fill']}/{rec['index']}"
        for row in outcomes(rec, res):
            key = kind if rec["fill"] == "full" else f"{kind}/{rec['fill']}"
            if row["gold"] is not None:
                with_value[key] += 1
            accepted[key] += row["accepted"]
            tally[key, row["cat"], "ocr" if row["readable"] is False else ""] += 1
            if row["cat"] == "right" or (args.accepted_only and not row["accepted"]):
                continue
            if args.field and row["field"] != args.field:
                continue
            fr = row["result"]
            why = "; ".join(fr.reasons) if fr is not None else ""
            ocr = " (not in OCR)" if row["readable"] is False else ""
            print(f"[{row['cat']}{ocr}] {tag} {row['field']}: {row['gold']!r} -> {row['pred']!r}  "
                  f"{fr.score if fr else ''} {why}")  # fmt: skip
            shown = True
        if shown and args.lines:
            for page in rec["doc"].pages:
                for line in page.lines:
                    x0 = min(p[0] for p in line.box)
                    y0 = min(p[1] for p in line.box)
                    print(f"      ({x0:5.0f},{y0:5.0f}) {line.score:.2f} {line.text}")
    print()
    for key in sorted({k for k, _, _ in tally}):
        cats = {f"{c}{'/' + o if o else ''}": v for (k, c, o), v in sorted(tally.items()) if k == key}
        print(f"{key}: with value {with_value[key]}, accepted {accepted[key]}: {cats}")


_REASON_NOISE = re.compile(r"'[^']*'|\([^)]*\)|\d+(?:\.\d+)?|character \S+|[\u4e00-\u9fff]{2,}")


def reason_key(reason: str) -> str:
    """A reason with its particulars (values, numbers, characters) taken out, to count by kind."""
    return _REASON_NOISE.sub("…", reason)


def reasons(args: argparse.Namespace) -> None:
    """Which reasons flag right values (acceptance lost: over-cautious rules) and wrong ones (the
    rules earning their keep), per field type; a right value flagged for several reasons counts
    under each."""
    from luodi.kie import Extractor

    extractors: dict[str, Any] = {}
    tally: Counter[tuple[str, str, bool]] = Counter()
    alone: Counter[tuple[str, str]] = Counter()
    for rec in load(args.kinds, calibration=args.calibration_pages, folder=args.out):
        if rec["fill"] != "full" or (args.layout and rec["layout"] != args.layout):
            continue
        if args.levels and rec["level"] not in args.levels.split(","):
            continue
        kind = rec["kind"]
        ex = extractors.get(kind) or extractors.setdefault(kind, Extractor(kind))
        for row in outcomes(rec, ex.extract_document(rec["doc"])):
            fr = row["result"]
            if fr is None or row["accepted"] or fr.value is None or (args.field and row["field"] != args.field):
                continue
            ftype = ex.schema.fields[row["field"]].type if row["field"] in ex.schema.fields else "?"
            ftype = row["field"] if args.per_field else ftype
            keys = {reason_key(r) for r in fr.reasons} or {"(none)"}
            for k in keys:
                tally[ftype, k, row["cat"] == "right"] += 1
            if len(keys) == 1 and row["cat"] == "right":
                alone[ftype, next(iter(keys))] += 1
    rows = sorted({(t, k) for t, k, _ in tally}, key=lambda tk: -tally[tk[0], tk[1], True])
    print("type | reason | right flagged | of which the only reason | wrong flagged")
    for t, k in rows:
        print(f"{t} | {k} | {tally[t, k, True]} | {alone[t, k]} | {tally[t, k, False]}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render")
    r.add_argument("--per-cell", type=int, default=6)
    r.add_argument("--per-unfilled", type=int, default=2)
    r.add_argument("--model", default="pp-ocrv6-small")
    r.add_argument("--layouts", help="these waybill layouts (no longer blind ones) instead of the dev layouts")
    e = sub.add_parser("errors")
    e.add_argument("--accepted-only", action="store_true")
    e.add_argument("--lines", action="store_true", help="print the OCR lines of pages with an error")
    e.add_argument("--field")
    e.add_argument("--layout")
    e.add_argument("--calibrated", action="store_true")
    e.add_argument("--calibration-pages", action="store_true", help="bench/kie_calibrate.py's cached pages")
    f = sub.add_parser("reasons", help="count the reasons that flag right and wrong values")
    f.add_argument("--field")
    f.add_argument("--layout")
    f.add_argument("--calibration-pages", action="store_true")
    f.add_argument("--per-field", action="store_true", help="count per field, not per field type")
    for p in (e, f):
        p.add_argument("--levels", help="only these degradation levels, comma-separated (clean,hard,photo,...)")
    for p in (r, e, f):
        p.add_argument(
            "--out", type=Path, help=f"the page cache (default {OUT.relative_to(BENCH.parent)}; another for --layouts)"
        )
        p.add_argument("--kinds", default="waybill,bank_receipt,id_card")
        p.add_argument("--seed", type=int, default=6200)
    args = ap.parse_args(argv)
    args.kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    {"render": render, "errors": errors, "reasons": reasons}[args.cmd](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
