"""Fit the waybill extractor's confidence calibration on synthetic calibration pages.

    .venv/bin/python bench/kie_calibrate.py      # writes src/luodi/kie/calibrations/waybill.json

The calibration pages are kept apart from every evaluation set: *dev* layout families only, parties
from the express NER *train* split (the benchmark draws from *dev*), and seeds (default 5100-5105)
no benchmark or test uses. Clean, degraded, blank, placeholder and photographed pages are rendered with
``luodi.synth.waybill``, read once by the OCR (cached under ``--out``), and extracted with the
calibration switched off, so every decided field comes with its evidence
(:data:`luodi.kie.calibration.FEATURES`) and whether its value is right (the benchmark's comparison
rules). A logistic model per field-type group is fitted on half of the pages (even page numbers);
the review threshold is the lowest at which the accepted fields of that half are right at least
``--target-precision`` of the time; the other half reports how that holds on pages the fit did not see.
"""

from __future__ import annotations

import argparse
import json
import pickle
import shlex
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from kie_bench import ALL_FIELDS, canon  # noqa: E402

from luodi.kie.calibration import FEATURES, Calibration, fit_logistic, group_of, model_to_dict  # noqa: E402

CALIB_THRESHOLDS: dict[str, float] = {}  # the per-group thresholds once chosen
THRESHOLDS = (*(round(0.5 + 0.01 * i, 2) for i in range(50)), 0.995, 0.998, 0.999)


def pages(args: argparse.Namespace) -> list[tuple[str, Any, Any]]:
    """(set, label record, OCR document) of every calibration page, OCR cached per set."""
    from luodi import OCR
    from luodi.synth.waybill import WaybillOptions, generate_waybills

    plain, newer = ("labelled_rows", "tag_block", "label_above"), ("ewaybill_3stub", "shop_label")
    sets = (
        ("clean", args.n_clean, "clean", "full", plain),
        ("hard", args.n_hard, "hard", "full", plain),
        ("blank", args.n_blank, "clean", "blank", plain),
        ("placeholder", args.n_placeholder, "hard", "placeholder", plain),
        ("photo_new", args.n_newer, "photo", "full", newer),
        ("hard_new", args.n_newer, "photo_hard", "full", newer),
        # Every dev family photographed, with the generator's party sources (company and shop
        # senders, romanised names) and unfilled forms of the newer families.
        ("photo_all", args.n_all, "photo", "full", plain + newer),
        ("hard_all", args.n_all, "photo_hard", "full", plain + newer),
        ("unfilled_new", args.n_unfilled_new, "photo", "blank", newer),
        ("template_new", args.n_unfilled_new, "photo", "placeholder", newer),
    )
    ocr = None
    out: list[tuple[str, Any, Any]] = []
    for k, (name, n, degrade, fill, layouts) in enumerate(sets):
        if n <= 0:
            continue
        folder = args.out / name
        cache = folder / f"ocr-{n}-{args.seed + k}.pkl"
        if cache.is_file():
            records, docs = pickle.loads(cache.read_bytes())
        else:
            opts = WaybillOptions(layouts=layouts, degrade=degrade, seed=args.seed + k, source="train", fill=fill)  # type: ignore[arg-type]
            records = generate_waybills(n, folder / "images", opts)
            ocr = ocr or OCR(args.model)
            docs = []
            for i, rec in enumerate(records):
                docs.append(ocr(str(folder / "images" / rec["image"])))
                print(f"[{name} {i + 1}/{n}] OCR", file=sys.stderr)
            cache.write_bytes(pickle.dumps((records, docs)))
        out += [(name, r, d) for r, d in zip(records, docs, strict=True)]
    return out


def observations(data: Sequence[tuple[str, Any, Any]]) -> list[dict[str, Any]]:
    """Every decided field with a value: its evidence, its type group, and whether it is right."""
    from luodi.kie import Extractor

    ex = Extractor("waybill", calibration=None)
    rows = []
    for page, (name, rec, doc) in enumerate(data):
        res = ex.extract_document(doc)
        for f in res.fields:
            if not f.found or f.name not in ALL_FIELDS or not f.evidence:
                continue  # (a carrier inferred from the number has no evidence of its own)
            right = canon(f.name, rec["fields"].get(f.name)) == canon(f.name, f.value)
            rows.append(
                {
                    "page": page,
                    "set": name,
                    "field": f.name,
                    "group": group_of(ex.schema.fields[f.name].type),
                    "type": ex.schema.fields[f.name].type,
                    "features": dict(f.evidence),
                    "flagged": f.flagged,
                    "right": int(right),
                }
            )
    return rows


def precision_at(rows: Sequence[dict[str, Any]], probs: Sequence[float], t: float | None) -> tuple[float | None, int]:
    """Precision and count of the accepted rows at ``t`` (None: each group's own threshold)."""
    acc = [
        r
        for r, p in zip(rows, probs, strict=True)
        if not r["flagged"] and p >= (t if t is not None else CALIB_THRESHOLDS.get(r["group"], 0.0))
    ]
    return (sum(r["right"] for r in acc) / len(acc) if acc else None), len(acc)


# long: one run in order: options, the pages read, a model fitted per group on half the pages and checked on the
# rest, the report
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-clean", type=int, default=48)
    ap.add_argument("--n-hard", type=int, default=96)
    ap.add_argument("--n-blank", type=int, default=12)
    ap.add_argument("--n-placeholder", type=int, default=12)
    ap.add_argument("--n-newer", type=int, default=24, help="pages of each photo level on the newer dev families")
    ap.add_argument("--n-all", type=int, default=40, help="pages of each photo level over all dev families")
    ap.add_argument("--n-unfilled-new", type=int, default=8, help="blank and template pages of the newer families")
    ap.add_argument("--seed", type=int, default=5100, help="seed + k for the k-th set (5100-5109 by default)")
    ap.add_argument("--ocr-only", action="store_true", help="render and read the pages (cached), fit nothing")
    ap.add_argument("--model", default="pp-ocrv6-small")
    ap.add_argument("--target-precision", type=float, default=0.997)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--out", type=Path, default=BENCH / "out" / "kie_calibration")
    ap.add_argument("--result", type=Path, default=REPO / "src" / "luodi" / "kie" / "calibrations" / "waybill.json")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    data = pages(args)
    if args.ocr_only:
        return 0
    rows = observations(data)
    fit = [r for r in rows if r["page"] % 2 == 0]
    held = [r for r in rows if r["page"] % 2 == 1]
    models: dict[str, Any] = {}
    counts: dict[str, dict[str, int]] = {}
    for group in sorted({r["group"] for r in rows}):
        sel = [r for r in fit if r["group"] == group]
        wrong = sum(1 for r in sel if not r["right"])
        counts[group] = {"fit_rows": len(sel), "fit_wrong": wrong}
        if len(sel) < 30 or wrong < 3 or wrong == len(sel):
            continue  # too little to fit: the heuristic score stays for this group
        models[group] = fit_logistic([r["features"] for r in sel], [r["right"] for r in sel], l2=args.l2)
    calib = Calibration(models, threshold=None, meta={})

    def probs(sel: Sequence[dict[str, Any]]) -> list[float]:
        out = []
        for r in sel:
            p = calib.probability(r["type"], r["features"])
            out.append(r["features"]["heuristic"] if p is None else p)
        return out

    p_fit, p_held = probs(fit), probs(held)
    # One threshold per group: the lowest at which the group's accepted fields of the fitting half
    # are right often enough (a group with few errors, such as weights and counts, accepts more).
    thresholds: dict[str, float] = {}
    for group in sorted({r["group"] for r in rows}):
        sel = [(r, p) for r, p in zip(fit, p_fit, strict=True) if r["group"] == group]
        rs, ps = [r for r, _ in sel], [p for _, p in sel]
        thresholds[group] = next(
            (t for t in THRESHOLDS if (precision_at(rs, ps, t)[0] or 1.0) >= args.target_precision), THRESHOLDS[-1]
        )
    calib = Calibration(models, threshold=None, meta={}, thresholds=thresholds)
    threshold = min(thresholds.values())
    curve = []
    for t in THRESHOLDS:
        pf, nf = precision_at(fit, p_fit, t)
        ph, nh = precision_at(held, p_held, t)
        curve.append(
            {"threshold": t, "fit_precision": pf, "fit_accepted": nf, "held_precision": ph, "held_accepted": nh}
        )
    CALIB_THRESHOLDS.update(thresholds)
    held_prec, held_n = precision_at(held, p_held, None)
    heur_prec, heur_n = precision_at(held, [r["features"]["heuristic"] for r in held], 0.8)
    per_set = {}
    for name in sorted({r["set"] for r in held}):
        sel = [(r, p) for r, p in zip(held, p_held, strict=True) if r["set"] == name]
        acc = [r for r, p in sel if not r["flagged"] and p >= thresholds[r["group"]]]
        per_set[name] = {
            "fields_with_value": len(sel),
            "accepted": len(acc),
            "accepted_right": sum(r["right"] for r in acc),
        }
    result = {
        "schema": "waybill",
        "features": list(FEATURES),
        "models": {g: model_to_dict(m) for g, m in models.items()},
        "threshold": threshold,
        "thresholds": thresholds,
        "meta": {
            "command": shlex.join(
                [".venv/bin/python", "bench/kie_calibrate.py", *(argv if argv is not None else sys.argv[1:])]
            ),
            "made": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "pages": {
                "clean": args.n_clean,
                "hard": args.n_hard,
                "blank": args.n_blank,
                "placeholder": args.n_placeholder,
                "newer_families_per_photo_level": args.n_newer,
                "all_families_per_photo_level": args.n_all,
                "newer_blank_and_template_each": args.n_unfilled_new,
            },
            "seeds": [args.seed + k for k in range(10)],
            "layouts": "dev families only (labelled_rows, tag_block, label_above; ewaybill_3stub, shop_label "
            "photographed); parties from the express NER train split",
            "ocr_model": args.model,
            "target_precision": args.target_precision,
            "rows": counts,
            "held_out": {
                "accepted": held_n,
                "precision": held_prec,
                "fields_with_value": len(held),
                "per_set": per_set,
                "heuristic_at_0.8": {"accepted": heur_n, "precision": heur_prec},
            },
            "curve": curve,
        },
    }
    args.result.parent.mkdir(parents=True, exist_ok=True)
    args.result.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(
        f"thresholds {thresholds}: held-out precision {held_prec} on {held_n} accepted of {len(held)} "
        f"(heuristic at 0.8: {heur_prec} on {heur_n}); {time.perf_counter() - t0:.0f} s; wrote {args.result}",
        file=sys.stderr,
    )
    per_group = defaultdict(int)
    for r in rows:
        per_group[r["group"]] += 1
    print(dict(per_group), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
