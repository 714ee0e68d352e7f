"""Waybill key-information extraction benchmark: the Extractor against a naive regex baseline.

    .venv/bin/python bench/kie_bench.py            # writes bench/results/kie.md and kie.json

What it does, in one run:

1. generates a clean and a hard (degraded) set of synthetic waybills with ``luodi.synth.waybill``
   (parties from the express NER *dev* split, every layout round-robin, fixed seeds) into bench/out/;
2. runs OCR once per image, then on the same OCR Document both the ``Extractor`` (waybill schema)
   and the naive baseline (bench/baselines/naive_regex.py), timing each;
3. adds any labelled real photos committed in the repository (``*.jsonl`` files whose records are
   ``{"image", "fields"[, "schema"]}`` with images found on disk, e.g. the ICBC slip 00111002.jpg);
4. reports per-field accuracy, micro accuracy and document exact rate, per layout and for clean vs
   hard, with the holdout layouts (never used to design the extractor) reported separately, and the
   extraction time as a share of OCR time.

Comparison rules (both systems alike): text values are compared after NFKC and whitespace removal
(``luodi.eval.metrics.normalize_text``); ``carrier`` is compared as the carrier it names (顺丰 = 顺丰速运
= SF); ``weight_kg`` numerically (±0.001 kg); ``pieces`` as integers. A field counts when the label or
the prediction has it, so a spurious value is an error.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from baselines.naive_regex import extract as baseline_extract  # noqa: E402
from kie_flagmap import render as flag_map  # noqa: E402

from luodi.eval.metrics import field_metrics, normalize_text  # noqa: E402
from luodi.synth.waybill import LAYOUTS, WaybillOptions, generate_waybills, read_labels, resolve_layouts  # noqa: E402

FIELDS = (
    "carrier",
    "tracking_number",
    "receiver_name",
    "receiver_phone",
    "receiver_address",
    "sender_name",
    "sender_phone",
    "sender_address",
    "weight_kg",
    "pieces",
    "item",
    "remarks",
)
PART_FIELDS = tuple(f"{r}_{p}" for r in ("receiver", "sender") for p in ("province", "city", "district", "detail"))
ALL_FIELDS = FIELDS + PART_FIELDS
CONTACT_FIELDS = ("receiver_name", "receiver_phone", "sender_name", "sender_phone")
# Issue #11's field-accuracy targets on unseen layouts (clean, degraded).
TARGET_CLEAN, TARGET_HARD = 0.98, 0.93

_CARRIER_KEYS = (
    ("SF", ("顺丰", "SF")),
    ("ZTO", ("中通", "ZTO")),
    ("YTO", ("圆通", "YTO")),
    ("YUNDA", ("韵达", "YUNDA")),
    ("STO", ("申通", "STO")),
    ("JD", ("京东", "JD")),
    ("EMS", ("邮政", "EMS")),
    ("JT", ("极兔", "J&T", "JT")),
)


# --- comparison -----------------------------------------------------------------------------------
def canon(name: str, value: Any) -> str | None:
    """The form both sides are compared in (see the module docstring)."""
    if value is None or value == "":
        return None
    if name == "weight_kg":
        try:
            return f"{round(float(value), 3):g}"
        except (TypeError, ValueError):
            return normalize_text(str(value))
    if name == "pieces":
        try:
            return str(int(float(value)))
        except (TypeError, ValueError):
            return normalize_text(str(value))
    text = normalize_text(str(value))
    if name == "carrier":
        upper = text.upper()
        for code, keys in _CARRIER_KEYS:
            if any(k in upper for k in keys):
                return code
    return text


def canon_fields(fields: Mapping[str, Any], names: Iterable[str]) -> dict[str, str | None]:
    return {n: canon(n, fields.get(n)) for n in names}


# --- data -----------------------------------------------------------------------------------------
def shared_dir() -> Path | None:
    env = os.environ.get("LUODI_SHARED")
    path = Path(env) if env else REPO.parent / "shared"
    return path if path.is_dir() else None


def _resolve_image(raw: str, labels_file: Path) -> Path | None:
    p = Path(raw)
    candidates = [p] if p.is_absolute() else [labels_file.parent / p, REPO / p]
    shared = shared_dir()
    if shared is not None and not p.is_absolute():
        candidates.append(shared / p)
        candidates.extend(sorted((shared / "data" / "doc_samples").rglob(p.name)))
    return next((c for c in candidates if c.is_file()), None)


def discover_real_labels(explicit: Sequence[Path]) -> list[dict[str, Any]]:
    """Labelled real photos: the files given, else every tracked ``*.jsonl`` whose records are
    ``{"image", "fields"}`` with images that exist (synthetic sets under bench/out are skipped)."""
    files = list(explicit)
    if not files:
        try:
            listed = subprocess.run(
                ["git", "ls-files", "*.jsonl"], cwd=REPO, capture_output=True, text=True, check=True
            ).stdout.split()
        except (OSError, subprocess.CalledProcessError):
            listed = []
        files = [REPO / f for f in listed if not f.startswith("bench/out/")]
    out: list[dict[str, Any]] = []
    for file in files:
        try:
            records = read_labels(file)
        except Exception:  # not a KIE labels file (some other JSONL): skip it
            if explicit:
                raise
            continue
        for rec in records:
            image = _resolve_image(rec["image"], file)
            if image is None or rec.get("layout") is not None:  # synthetic records carry a layout
                continue
            out.append(
                {
                    **rec,
                    "path": str(image),
                    "labels_file": str(file.relative_to(REPO) if file.is_relative_to(REPO) else file),
                }
            )
    return out


def infer_schema(fields: Mapping[str, Any]) -> str:
    """The built-in schema whose field names cover most of the labelled ones (labels may omit it)."""
    from luodi.kie import list_schemas, load_schema

    best, best_hits = "waybill", -1
    for name in list_schemas():
        hits = len(set(fields) & set(load_schema(name).fields))
        if hits > best_hits:
            best, best_hits = name, hits
    return best


# --- running --------------------------------------------------------------------------------------
def read_page(ocr: Any, path: Path, cache: Path | None) -> Any:
    """The OCR of one page; with ``cache`` (``--reuse-ocr``, for iterating on the extractor) a
    reading made earlier of the same image bytes by the same model is reused. Its timings are
    those of the run that read it, so committed results are made without it."""
    if cache is None:
        return ocr(str(path))
    import hashlib
    import pickle

    key = cache / f"{hashlib.sha256(path.read_bytes()).hexdigest()[:24]}-{ocr.model_name}.pkl"
    if key.is_file():
        return pickle.loads(key.read_bytes())
    doc = ocr(str(path))
    cache.mkdir(parents=True, exist_ok=True)
    key.write_bytes(pickle.dumps(doc))
    return doc


def run_one(
    path: Path, schema: str, extractors: dict[str, Any], ocr: Any, cache: Path | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, float], list[str]]:
    doc = read_page(ocr, path, cache)
    t0 = time.perf_counter()
    crash = None
    result = None
    try:
        result = extractors[schema].extract_document(doc)
        fields = result.fields
    except Exception as exc:  # a crash is scored as an empty result and reported, not hidden
        fields, crash = (), f"{type(exc).__name__}: {exc}"
    t1 = time.perf_counter()
    lines = [line.text for line in doc.lines]
    base = baseline_extract(schema, lines)
    t2 = time.perf_counter()
    pred: dict[str, Any] = {f.name: f.value for f in fields if f.value is not None}
    # what straight-through processing needs: was the value accepted without review, its score
    pred["__fields__"] = {
        f.name: {
            "score": f.score,
            "needs_review": f.needs_review,
            "flagged": f.flagged,
            "reasons": list(f.reasons),
            "ocr_min": dict(f.evidence).get("ocr_min"),
        }
        for f in fields
    }
    pred["__needs_review__"] = result.needs_review if result is not None else True
    calibrated = extractors.get(schema + "+calibrated")
    if calibrated is not None and crash is None:
        cal = calibrated.extract_document(doc)
        pred["__calibrated__"] = {
            "values": {f.name: f.value for f in cal.fields if f.value is not None},
            "review": {
                f.name: {"score": f.score, "needs_review": f.needs_review, "flagged": f.flagged} for f in cal.fields
            },
            "needs_review": cal.needs_review,
        }
    second = extractors.get(schema + "+second")
    timing = {"ocr_ms": float(doc.timings.total), "extract_ms": (t1 - t0) * 1000, "baseline_ms": (t2 - t1) * 1000}
    if second is not None and crash is None:
        from luodi.io import load_pages

        # the page decoded again for the crops (not timed: the extractor's image call decodes once)
        pages = load_pages(path)
        t3 = time.perf_counter()
        sec = second.extract_document(doc, pages=pages)
        timing["second_ms"] = (time.perf_counter() - t3) * 1000
        pred["__second__"] = {
            "values": {f.name: f.value for f in sec.fields if f.value is not None},
            "review": {
                f.name: {"score": f.score, "needs_review": f.needs_review, "flagged": f.flagged} for f in sec.fields
            },
            "needs_review": sec.needs_review,
        }
    if crash is not None:
        pred["__crash__"] = crash
    return pred, base, timing, [normalize_text(line) for line in lines]


# Fields whose label value is printed verbatim (phones may be printed grouped, so digits are compared).
CEILING_FIELDS = ("tracking_number", *CONTACT_FIELDS, "receiver_address", "sender_address")


def in_ocr_text(name: str, gold: Any, ocr_lines: Sequence[str]) -> bool:
    """Whether the label value can be read off the OCR lines at all: it must be a concatenation of
    pieces (two characters or more, or a single last one) each found inside some line, so a value
    wrapped over lines or split by a column gap still counts. A rough upper bound for any extractor
    that does not correct OCR."""
    target = normalize_text(str(gold))
    lines = list(ocr_lines)
    if name.endswith("_phone") and "-" not in target:
        lines = [re.sub(r"[^0-9]", "", line) for line in lines]
    while target:
        best = 0
        for line in lines:
            k = len(target)
            while k > best and target[:k] not in line:
                k -= 1
            best = max(best, k)
        if best == 0 or (best == 1 and len(target) > 1):
            return False
        target = target[best:]
    return True


def score(docs: Sequence[dict[str, Any]], system: str, fields: Sequence[str]) -> dict[str, Any]:
    if not docs:
        return {"n_documents": 0}
    preds = [canon_fields(d[system], fields) for d in docs]
    golds = [canon_fields(d["gold"], fields) for d in docs]
    return field_metrics(preds, golds, fields).to_dict()


def mismatches(doc: dict[str, Any], system: str, fields: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for name in fields:
        g, p = canon(name, doc["gold"].get(name)), canon(name, doc[system].get(name))
        if g != p:
            out.append({"field": name, "gold": doc["gold"].get(name), "pred": doc[system].get(name)})
    return out


def outcomes(docs: Sequence[dict[str, Any]], fields: Sequence[str] | None = None) -> list[Any]:
    """Every scored field of ``docs`` as a FieldOutcome (compared by the bench's rules, see above)."""
    from luodi.kie.evaluate import FieldOutcome

    out = []
    for d in docs:
        for name in fields if fields is not None else d["fields_scored"]:
            gold, pred = canon(name, d["gold"].get(name)), canon(name, d["extractor"].get(name))
            r = d.get("review", {}).get(name, {})
            out.append(
                FieldOutcome(
                    name,
                    gold is not None,
                    pred is not None,
                    gold == pred,
                    float(r.get("score", 0.0)),
                    bool(r.get("flagged", False)),
                    bool(r.get("needs_review", True)),
                )
            )
    return out


def calibrated_view(docs: Sequence[dict[str, Any]], variant: str = "calibrated") -> list[dict[str, Any]]:
    """The documents as a variant of the extractor decided them (same OCR): the calibrated one, or
    the one with a second reading (``variant="second"``)."""
    out = []
    for d in docs:
        cal = d.get(variant)
        if cal:
            out.append(
                {**d, "extractor": cal["values"], "review": cal["review"], "doc_needs_review": cal["needs_review"]}
            )
    return out


def stp(docs: Sequence[dict[str, Any]], fields: Sequence[str] | None = None) -> dict[str, Any]:
    from luodi.kie.evaluate import stp_curve, stp_summary

    got = outcomes(docs, fields)
    per_field: dict[str, Any] = {}
    for name in dict.fromkeys(o.name for o in got):
        per_field[name] = stp_summary([o for o in got if o.name == name])
    # A phone printed masked (138****5678) has no number to key in: flagged by design, kept as
    # printed. Counted apart so the rate over what can be keyed in is seen beside the headline.
    names = list(fields) if fields is not None else None
    masked = [(d, n) for d in docs for n in (names or d["fields_scored"]) if n.endswith("_phone")
              and "*" in str(d["gold"].get(n) or "")]  # fmt: skip
    keyable = [o for o, (d, n) in zip(got, ((d, n) for d in docs for n in (names or d["fields_scored"])), strict=True)
               if o.expected_value and not (n.endswith("_phone") and "*" in str(d["gold"].get(n) or ""))]  # fmt: skip
    return {
        **stp_summary(got),
        "masked_phones": len(masked),
        "masked_kept_flagged": sum(
            1
            for d, n in masked
            if canon(n, d["extractor"].get(n)) == canon(n, d["gold"].get(n))
            and d.get("review", {}).get(n, {}).get("needs_review", True)
        ),
        "masked_accepted": sum(
            1
            for d, n in masked
            if d["extractor"].get(n) is not None and not d.get("review", {}).get(n, {}).get("needs_review", True)
        ),
        "auto_accept_rate_keyable": round(sum(o.accepted for o in keyable) / len(keyable), 4) if keyable else None,
        "documents": len(docs),
        "documents_flagged": sum(1 for d in docs if d.get("doc_needs_review")),
        "per_field": per_field,
        "curve": stp_curve(got),
    }


# --- report ---------------------------------------------------------------------------------------
def _pct(m: Mapping[str, Any], key: str = "micro_accuracy") -> str:
    return "–" if not m.get("n_documents") else f"{m[key]:.3f}"


def _ceiling(group: Mapping[str, Any]) -> str:
    c = group["ocr_ceiling"]
    return "–" if not c["total"] else f"{c['readable'] / c['total']:.3f}"


def _field_acc(m: Mapping[str, Any], name: str) -> str:
    f = m.get("per_field", {}).get(name)
    return "–" if not f or not f["total"] else f"{f['accuracy']:.2f} ({f['correct']}/{f['total']})"


# long: the report's sections in reading order (render_stp and the flag map are apart)
def render_markdown(report: dict[str, Any]) -> str:
    g = report["groups"]
    lines = [
        "# Waybill KIE benchmark: Extractor vs naive regex baseline",
        "",
        "```",
        report["command"],
        "```",
        "",
        f"Run {report['started']} on {report['machine']} · OCR model `{report['model']}` ({report['runtime']}) · "
        f"contact parsing: {report['contact_parser']} · "
        f"{report['n_clean']} clean + {report['n_hard']} hard synthetic waybills (seeds {report['seed']} / "
        f"{report['seed'] + 1}, parties from express NER dev) · wall time {report['wall_s']:.0f} s · "
        f"1-min load average {report['load_average_1m']['start']} at start, {report['load_average_1m']['end']} at end "
        f"· code at `{report['git_head']}`.",
        "",
        *([report["note"], ""] if report.get("note") else []),
        "",
        "Layouts: "
        + ", ".join(f"`{k}`{' (holdout)' if v else ''}" for k, v in report["layouts"].items())
        + ". The extractor's author was told only the labels format, not the holdout layouts; the generator's "
        "code sits in the shared tree, so this is a discipline, not a seal.",
        "Both systems read the same OCR output. Text compared after NFKC + whitespace removal; carrier by the "
        "carrier it names; weight numerically. A field counts when the label or the prediction has it. "
        "Micro accuracy pools the fields; document exact = every field of the page right. "
        "OCR ceiling = share of the tracking numbers, names, phones and addresses whose label value can be "
        "put together from pieces of the page's OCR lines (whitespace removed, pieces of 2+ characters): "
        "roughly what no extractor can beat without correcting OCR.",
        "",
        *render_stp(report),
        "## Summary",
        "",
        'Micro = all 20 fields (the 12 waybill fields and the 8 address parts); "12 fields" leaves the address '
        "parts out (their labels follow the NER data's conventions, e.g. province 台湾, 天津 + 天津市). "
        "Names+phones = the four contact fields.",
        "",
        "| set | layouts | docs | Extractor micro | Extractor micro, 12 fields | Extractor doc exact "
        "| Extractor names+phones | baseline micro | baseline micro, 12 fields | baseline doc exact | OCR ceiling "
        "| target (micro) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cond in ("clean", "hard"):
        for grp in ("dev", "holdout", "all"):
            key = f"{cond}/{grp}"
            ex, base, contact = g[key]["extractor"], g[key]["baseline"], g[key]["extractor_contact"]
            ex_core, base_core = g[key]["extractor_core"], g[key]["baseline_core"]
            target = TARGET_CLEAN if cond == "clean" else TARGET_HARD
            verdict = ""
            if grp == "holdout" and ex.get("n_documents"):
                verdict = f"≥ {target}: {'met' if ex['micro_accuracy'] >= target else 'NOT met'}"
            lines.append(
                f"| {cond} | {grp} | {ex.get('n_documents', 0)} | {_pct(ex)} | {_pct(ex_core)} | "
                f"{_pct(ex, 'document_exact_rate')} | {_pct(contact)} | {_pct(base)} | {_pct(base_core)} | "
                f"{_pct(base, 'document_exact_rate')} | {_ceiling(g[key])} | "
                f"{verdict} |"
            )
    lines += [
        "",
        "## Per field (Extractor; baseline in the last two columns)",
        "",
        "| field | clean dev | clean holdout | hard dev | hard holdout | baseline clean | baseline hard |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ALL_FIELDS:
        row = [name]
        for key in ("clean/dev", "clean/holdout", "hard/dev", "hard/holdout"):
            row.append(_field_acc(g[key]["extractor"], name))
        row += [_field_acc(g["clean/all"]["baseline"], name), _field_acc(g["hard/all"]["baseline"], name)]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "## Per layout (micro accuracy / document exact rate)",
        "",
        "| layout | holdout | clean Extractor | clean baseline | hard Extractor | hard baseline |",
        "|---|---|---|---|---|---|",
    ]
    for layout, holdout in report["layouts"].items():
        row = [f"`{layout}`", "yes" if holdout else "no"]
        for cond in ("clean", "hard"):
            m = report["per_layout"][cond][layout]
            for system in ("extractor", "baseline"):
                row.append(f"{_pct(m[system])} / {_pct(m[system], 'document_exact_rate')}")
        lines.append("| " + " | ".join(row) + " |")
    t = report["timing"]
    lines += [
        "",
        "## Time: extraction as a share of OCR",
        "",
        f"Over {t['n']} synthetic pages: OCR {t['ocr_ms_mean']:.0f} ms per page (mean), Extractor "
        f"{t['extract_ms_mean']:.1f} ms (mean, p95 {t['extract_ms_p95']:.1f} ms), naive baseline "
        f"{t['baseline_ms_mean']:.2f} ms. **Extraction adds {100 * t['extract_share']:.1f}% to OCR time** "
        f"(sum of extraction time / sum of OCR time; per-page p95 {100 * t['extract_share_p95']:.1f}%). "
        "Target ≤ 10%."
        + (
            f" With the second reading (the opt-in variant: the extraction, then the accepted values' lines"
            f" read again by `{report.get('second_reading')}`"
            + (
                f", only those with a character read below {report['second_doubt_below']} and the values"
                " in doubt for single characters"
                if report.get("second_doubt_below") is not None
                else ""
            )
            + f"): **{100 * t['second_extract_share']:.1f}% of OCR"
            " time**, measured in the same run."
            if "second_extract_share" in t
            else ""
        ),
        "",
        "## Real photos",
        "",
    ]
    if not report["real"]:
        lines.append(
            "No labelled real photos were found in the repository in this run (looked for tracked "
            '`*.jsonl` files with `{"image", "fields"}` records whose images exist).'
        )
        if report.get("shared_found") is False:
            # the tracked labels' photos live in the shared data, beside a checkout, not in a worktree
            lines[-1] += (
                " **The shared data folder was not found** (`$LUODI_SHARED` or `../shared`): labelled photos "
                "whose images live there were not scored, so their rows are missing, not measured."
            )
    else:
        lines += [
            "| image | schema | labels file | field | label | Extractor | baseline |",
            "|---|---|---|---|---|---|---|",
        ]
        for doc in report["real"]:
            for name in doc["fields_scored"]:
                gold, ex, base = doc["gold"].get(name), doc["extractor"].get(name), doc["baseline"].get(name)
                ok_e = "✓" if canon(name, gold) == canon(name, ex) else "✗"
                ok_b = "✓" if canon(name, gold) == canon(name, base) else "✗"
                lines.append(
                    f"| {Path(doc['image']).name} | {doc['schema']} | {doc['labels_file']} | {name} | {gold} | "
                    f"{ok_e} {ex} | {ok_b} {base} |"
                )
        for doc in report["real_scores"]:
            lines.append("")
            lines.append(
                f"{doc['image']}: Extractor {doc['extractor']['correct']}/{doc['extractor']['total']} fields, "
                f"baseline {doc['baseline']['correct']}/{doc['baseline']['total']}."
            )
    lines += ["", "## What the Extractor gets wrong (most frequent field errors)", ""]
    if report["crashes"]:
        lines += [
            f"The Extractor raised on {len(report['crashes'])} page(s) (scored as empty results): "
            + "; ".join(f"`{c['image']}` {c['error'][:120]}" for c in report["crashes"][:5]),
            "",
        ]
    lines += [
        "Errors where the label value is not in the OCR text at all are OCR's (the extractor could only have "
        "guessed); the rest are the extractor's.",
        "",
        "| set | layouts | field | errors | of which OCR-unreadable | example label → prediction |",
        "|---|---|---|---|---|---|",
    ]
    for row in report["error_summary"]:
        lines.append(
            f"| {row['set']} | {row['group']} | {row['field']} | {row['errors']} | {row['ocr_unreadable']} | "
            f"{row['example_gold']!s} → {row['example_pred']!s} (`{row['example_image']}`) |"
        )
    lines.append("")
    return "\n".join(lines)


TARGET_PRECISION, TARGET_ACCEPT_CLEAN = 0.995, 0.90


def _f(x: Any, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _masked_phone_rows(g: dict[str, Any]) -> list[str]:
    """Beside the headline: masked phones counted apart, and the auto-accept rate without them."""
    masked_rows = []
    for cond in ("clean", "hard"):
        for grp in ("dev", "holdout", "all"):
            st = g.get(f"{cond}/{grp}", {}).get("stp")
            if st and st.get("masked_phones"):
                masked_rows.append(
                    f"| {cond} | {grp} | {st['masked_phones']} | {st['masked_kept_flagged']} | {st['masked_accepted']} "
                    f"| {_f(st['auto_accept_rate'])} | {_f(st['auto_accept_rate_keyable'])} |"
                )
    if masked_rows:
        return [
            "",
            "Masked phones (138****5678 printed for privacy): a value that is filled in but has no number to key "
            "in, so it is flagged by design, kept as printed (not wrong, not invented). The headline rate counts "
            "them as not accepted; the last column leaves them out (the fields that can be keyed in).",
            "",
            "| set | layouts | masked phones | kept as printed, flagged | accepted | auto-accept rate | "
            "auto-accept rate, masked phones left out |",
            "|---|---|---|---|---|---|---|",
            *masked_rows,
        ]
    return []


def _stp_row(first: str, grp: str, st: Mapping[str, Any], target: str) -> str:
    """One row of the straight-through table: a set's auto-accept rate, precision and review rate."""
    return (
        f"| {first} | {grp} | {st['documents']} | {st['fields_with_value']} | {_f(st['auto_accept_rate'])} | "
        f"{_f(st['accepted_precision'], 4)} | {st['invented_accepted']} | {_f(st['review_rate'])} | "
        f"{st['documents_flagged']}/{st['documents']} | {target} |"
    )


def _stp_target(cond: str, grp: str, st: Mapping[str, Any]) -> str:
    """The target a set's row is read against, met or not ("" for a set with none)."""
    if grp == "holdout" and cond == "hard" and st["accepted_precision"] is not None:
        ok = st["accepted_precision"] >= TARGET_PRECISION
        return f"precision ≥ {TARGET_PRECISION}: {'met' if ok else 'NOT met'}"
    if grp == "holdout" and cond == "clean" and st["auto_accept_rate"] is not None:
        ok = st["auto_accept_rate"] >= TARGET_ACCEPT_CLEAN
        return f"accepted ≥ {TARGET_ACCEPT_CLEAN:.0%}: {'met' if ok else 'NOT met'}"
    if cond in ("blank", "placeholder") and grp == "all":
        return f"0 invented: {'met' if st['invented_accepted'] == 0 else 'NOT met'}"
    return ""


def render_stp(report: dict[str, Any]) -> list[str]:
    """The headline: what is keyed in without a human look, and how often it is right."""
    g = report["groups"]
    lines = [
        "## Straight-through processing (headline)",
        "",
        "A field is auto-accepted when it has a value and `needs_review` is false: it is keyed in without a "
        "human look. Auto-accept rate = auto-accepted / fields whose label has a value; precision = right "
        "auto-accepted / all auto-accepted (a value accepted where the label is null, an invented value, "
        "is wrong); review rate = fields with `needs_review` / all fields (20 per page).",
        "",
        "| set | layouts | pages | fields with a value | auto-accept rate | precision of accepted | "
        "invented and accepted | review rate | pages flagged | target |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cond in ("clean", "hard", "blank", "placeholder"):
        for grp in ("dev", "holdout", "all"):
            st = g.get(f"{cond}/{grp}", {}).get("stp")
            if st and st["documents"]:
                lines.append(_stp_row(cond, grp, st, _stp_target(cond, grp, st)))
    for variant, label, groups_of in (
        ("stp_calibrated", "calibrated", ("dev", "holdout")),
        ("stp_second", "second reading", ("dev", "holdout", "all")),
    ):
        for cond in ("clean", "hard", "blank", "placeholder"):
            for grp in groups_of:
                st = g.get(f"{cond}/{grp}", {}).get(variant)
                if st and st["documents"]:
                    lines.append(_stp_row(f"{cond}, {label}", grp, st, "(opt-in)"))
    lines += [_stp_row(f"real ({sch})", "–", st, "") for sch, st in report.get("real_stp", {}).items()]
    for cond in ("blank", "placeholder"):
        if f"{cond}/all" in g and g[f"{cond}/all"]["stp"]["documents"]:
            b = g[f"{cond}/all"]
            lines += [
                "",
                f"{cond.capitalize()} forms: {b['invented_any']} values extracted where the form has none "
                f"({b['stp']['invented_accepted']} of them accepted without review); "
                f"{b['stp']['documents_flagged']} of {b['stp']['documents']} pages flagged.",
            ]
    return [*lines, *_masked_phone_rows(g), *_stp_per_field(g), *_stp_curve(report, g)]


def _stp_per_field(g: Mapping[str, Any]) -> list[str]:
    lines = ["", "Per field (all clean / all hard pages): auto-accept rate · precision of accepted.", ""]
    lines += ["| field | clean | hard |", "|---|---|---|"]
    for name in ALL_FIELDS:
        cells = []
        for cond in ("clean", "hard"):
            pf = g.get(f"{cond}/all", {}).get("stp", {}).get("per_field", {}).get(name)
            cells.append("–" if not pf else f"{_f(pf['auto_accept_rate'])} · {_f(pf['accepted_precision'], 4)}")
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    return lines


def _stp_curve(report: dict[str, Any], g: Mapping[str, Any]) -> list[str]:
    lines = ["", f"Precision / coverage over the review threshold: `{report.get('stp_png', '')}`.", ""]
    lines += ["| threshold | clean: coverage · precision | hard: coverage · precision |", "|---|---|---|"]
    clean = {r["threshold"]: r for r in g.get("clean/all", {}).get("stp", {}).get("curve", [])}
    hard = {r["threshold"]: r for r in g.get("hard/all", {}).get("stp", {}).get("curve", [])}
    for t in sorted(set(clean) | set(hard)):
        if t < 0.5:
            continue
        cells = [f"{_f(c.get('coverage'))} · {_f(c.get('precision'), 4)}" for c in (clean.get(t, {}), hard.get(t, {}))]
        lines.append(f"| {t:.2f} | {cells[0]} | {cells[1]} |")
    lines.append("")
    return lines


def _parts_of(role: str) -> tuple[str, ...]:
    return tuple(f"{role}_{p}" for p in ("province", "city", "district", "detail"))


def error_summary(docs: Sequence[dict[str, Any]], limit: int = 40) -> list[dict[str, Any]]:
    counts: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for d in docs:
        for mm in d["extractor_errors"]:
            # an address part inherits its address's readability
            parent = next((f"{r}_address" for r in ("receiver", "sender") if mm["field"] in _parts_of(r)), mm["field"])
            unreadable = parent in d["ocr_misses"]
            counts[(d["set"], "holdout" if d["holdout"] else "dev", mm["field"])].append(
                {**mm, "image": d["image"], "unreadable": unreadable}
            )
    rows = []
    for (cond, grp, name), items in sorted(counts.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        # Holdout pages are counted, never shown: their values and pages would unblind them.
        ex = items[0] if grp == "dev" else {"gold": "–", "pred": "–", "image": "holdout: not shown"}
        rows.append(
            {
                "set": cond,
                "group": grp,
                "field": name,
                "errors": len(items),
                "ocr_unreadable": sum(1 for i in items if i["unreadable"]),
                "example_gold": ex["gold"],
                "example_pred": ex["pred"],
                "example_image": ex["image"],
            }
        )
    return rows[:limit]


def _git_head() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# long: one run in order: options, the sets rendered and read, each system scored, the reports written
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-clean", type=int, default=64)
    ap.add_argument("--n-hard", type=int, default=64)
    ap.add_argument("--n-blank", type=int, default=16, help="blank forms (labels and hints only)")
    ap.add_argument("--n-placeholder", type=int, default=16, help="forms filled with template text (XXX, 收件人姓名)")
    ap.add_argument("--seed", type=int, default=2026, help="clean set seed; the hard set uses seed + 1")
    ap.add_argument("--model", default="pp-ocrv6-small")
    ap.add_argument("--runtime", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", type=Path, default=BENCH / "out" / "kie")
    ap.add_argument("--results", type=Path, default=BENCH / "results" / "kie")
    ap.add_argument("--real-labels", type=Path, action="append", default=[], help="labelled real photos (JSONL)")
    ap.add_argument(
        "--second-reading",
        default="pp-ocrv4",
        help="model bundle of the second reading variant (luodi.kie.second_reading); '' for none",
    )
    ap.add_argument(
        "--second-doubt-below",
        type=float,
        default=None,
        help="the second reading variant reads again only the accepted values with a character read below "
        "this, and those in doubt for single characters (SecondReading.doubt_below); default: every accepted value",
    )
    ap.add_argument(
        "--layouts",
        default="all",
        help="waybill layouts or groups (dev, holdout, all = dev + holdout, fresh); 'fresh' scores the fresh "
        "held-out layouts on their own (write them to another --results)",
    )
    ap.add_argument("--note", default="", help="a sentence printed under the run line (context of this run)")
    ap.add_argument(
        "--reuse-ocr", action="store_true", help="keep and reuse page readings in OUT/ocr-cache (iterating only)"
    )
    args = ap.parse_args(argv)
    cache = args.out / "ocr-cache" if args.reuse_ocr else None
    drawn = resolve_layouts([args.layouts])

    from luodi import OCR
    from luodi.kie import Extractor

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_start = os.getloadavg()[0]
    git_head = _git_head()  # at the start: the code this run imported (the tree is shared and moves)
    t_start = time.perf_counter()
    ocr = OCR(args.model, runtime=args.runtime, threads=args.threads)
    extractors: dict[str, Any] = {}

    def extractor(schema: str) -> Any:
        if schema not in extractors:
            extractors[schema] = Extractor(schema, ocr=ocr)
        return extractors[schema]

    extractor("waybill")
    # the same extractor with the fitted calibration (bench/kie_calibrate.py), on the same OCR
    extractors["waybill+calibrated"] = Extractor("waybill", ocr=ocr, calibration="builtin")
    if args.second_reading:
        from luodi.kie.second_reading import SecondReading

        # the same extractor with a second recogniser reading the accepted values' lines again
        second = SecondReading.from_model(
            args.second_reading, threads=args.threads, doubt_below=args.second_doubt_below
        )
        extractors["waybill+second"] = Extractor("waybill", ocr=ocr, second_reading=second)
    docs: list[dict[str, Any]] = []
    sets = (
        ("clean", args.n_clean, args.seed, "clean", "full"),
        ("hard", args.n_hard, args.seed + 1, "hard", "full"),
        # unfilled forms: every label null but the carrier; any other value is invented
        ("blank", args.n_blank, args.seed + 2, "clean", "blank"),
        ("placeholder", args.n_placeholder, args.seed + 3, "hard", "placeholder"),
    )
    for cond, n, seed, degrade, fill in sets:
        if n <= 0:
            continue
        folder = args.out / cond
        opts = WaybillOptions(layouts=(args.layouts,), degrade=degrade, seed=seed, source="dev", fill=fill)  # type: ignore[arg-type]
        records = generate_waybills(n, folder, opts)
        for i, rec in enumerate(records):
            pred, base, timing, ocr_lines = run_one(folder / rec["image"], "waybill", extractors, ocr, cache)
            crash = pred.pop("__crash__", None)
            review = pred.pop("__fields__", {})
            calibrated = pred.pop("__calibrated__", None)
            second = pred.pop("__second__", None)
            doc = {
                "set": cond,
                "review": review,
                "calibrated": calibrated,
                "second": second,
                "doc_needs_review": pred.pop("__needs_review__", None),
                "crash": crash,
                "image": f"{cond}/{rec['image']}",
                "layout": rec["layout"],
                "holdout": rec["holdout"],
                "gold": rec["fields"],
                "extractor": pred,
                "baseline": base,
                **timing,
            }
            doc["ocr_misses"] = [
                k for k in CEILING_FIELDS if k in rec["fields"] and not in_ocr_text(k, rec["fields"][k], ocr_lines)
            ]
            doc["extractor_errors"] = mismatches(doc, "extractor", ALL_FIELDS)
            doc["baseline_errors"] = mismatches(doc, "baseline", ALL_FIELDS)
            docs.append(doc)
            print(
                f"[{cond} {i + 1}/{n}] {rec['layout']:<14} ocr {timing['ocr_ms']:6.0f} ms  "
                f"extract {timing['extract_ms']:5.1f} ms  errors {len(doc['extractor_errors'])} "
                f"(baseline {len(doc['baseline_errors'])})",
                file=sys.stderr,
            )

    groups: dict[str, dict[str, Any]] = {}
    per_layout: dict[str, dict[str, Any]] = {"clean": {}, "hard": {}}
    for cond in ("clean", "hard"):
        for grp, keep in (("dev", False), ("holdout", True), ("all", None)):
            sel = [d for d in docs if d["set"] == cond and (keep is None or d["holdout"] == keep)]
            n_ceiling = sum(1 for d in sel for k in CEILING_FIELDS if k in d["gold"])
            n_missing = sum(len(d["ocr_misses"]) for d in sel)
            groups[f"{cond}/{grp}"] = {
                "ocr_ceiling": {"fields": list(CEILING_FIELDS), "total": n_ceiling, "readable": n_ceiling - n_missing},
                "extractor": score(sel, "extractor", ALL_FIELDS),
                "baseline": score(sel, "baseline", ALL_FIELDS),
                "extractor_core": score(sel, "extractor", FIELDS),
                "baseline_core": score(sel, "baseline", FIELDS),
                "extractor_contact": score(sel, "extractor", CONTACT_FIELDS),
                "baseline_contact": score(sel, "baseline", CONTACT_FIELDS),
                "stp": stp(sel, ALL_FIELDS),
                "stp_calibrated": stp(calibrated_view(sel), ALL_FIELDS),
                "stp_second": stp(calibrated_view(sel, "second"), ALL_FIELDS),
            }
        for layout in drawn:
            sel = [d for d in docs if d["set"] == cond and d["layout"] == layout]
            per_layout[cond][layout] = {s: score(sel, s, ALL_FIELDS) for s in ("extractor", "baseline")}

    for cond in ("blank", "placeholder"):
        for grp, keep in (("dev", False), ("holdout", True), ("all", None)):
            sel = [d for d in docs if d["set"] == cond and (keep is None or d["holdout"] == keep)]
            invented = sum(
                1
                for d in sel
                for k in ALL_FIELDS
                if canon(k, d["gold"].get(k)) is None and canon(k, d["extractor"].get(k)) is not None
            )
            groups[f"{cond}/{grp}"] = {
                "stp": stp(sel, ALL_FIELDS),
                "stp_second": stp(calibrated_view(sel, "second"), ALL_FIELDS),
                "invented_any": invented,
                "extractor": score(sel, "extractor", ALL_FIELDS),
            }

    ocr_ms = [d["ocr_ms"] for d in docs]
    ex_ms = [d["extract_ms"] for d in docs]
    shares = sorted(e / o for e, o in zip(ex_ms, ocr_ms, strict=True) if o > 0)

    def p95(values: Sequence[float]) -> float:
        s = sorted(values)
        return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))] if s else 0.0

    crashes = [{"image": d["image"], "error": d["crash"]} for d in docs if d["crash"]]
    timing = {
        "n": len(docs),
        "ocr_ms_mean": statistics.fmean(ocr_ms) if ocr_ms else 0.0,
        "extract_ms_mean": statistics.fmean(ex_ms) if ex_ms else 0.0,
        "extract_ms_p95": p95(ex_ms),
        "baseline_ms_mean": statistics.fmean([d["baseline_ms"] for d in docs]) if docs else 0.0,
        "extract_share": sum(ex_ms) / sum(ocr_ms) if sum(ocr_ms) else 0.0,
        "extract_share_p95": p95(shares),
    }
    second_ms = [d.get("second_ms") for d in docs]
    if all(x is not None for x in second_ms) and sum(ocr_ms):
        timing["second_extract_share"] = sum(x for x in second_ms if x is not None) / sum(ocr_ms)

    real_docs: list[dict[str, Any]] = []
    real_scores: list[dict[str, Any]] = []
    for rec in discover_real_labels(args.real_labels):
        schema = str(rec.get("schema") or infer_schema(rec["fields"]))
        extractor(schema)
        pred, base, t, _ = run_one(Path(rec["path"]), schema, extractors, ocr)
        pred.pop("__crash__", None)
        review = pred.pop("__fields__", {})
        pred.pop("__calibrated__", None)
        pred.pop("__second__", None)
        doc_review = pred.pop("__needs_review__", None)
        # every labelled key counts, null ones too: a value where the slip has none is an error
        scored = list(rec["fields"])
        doc = {
            "image": rec["image"],
            "schema": schema,
            "labels_file": rec["labels_file"],
            "gold": rec["fields"],
            "extractor": pred,
            "baseline": base,
            "fields_scored": scored,
            "review": review,
            "doc_needs_review": doc_review,
            **t,
        }
        real_docs.append(doc)
        real_scores.append(
            {
                "image": rec["image"],
                "extractor": score([doc], "extractor", scored),
                "baseline": score([doc], "baseline", scored),
            }
        )

    import onnxruntime

    from luodi.config import get_settings

    ner_dir = get_settings().home / "models" / "express-ner"
    contact_parser = "express-ner model" if ner_dir.is_dir() else "rule-based (express-ner model not installed)"

    report = {
        "command": "$ "
        + shlex.join([".venv/bin/python", "bench/kie_bench.py", *(argv if argv is not None else sys.argv[1:])]),
        "started": started,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"onnxruntime {onnxruntime.__version__}",
        "model": args.model,
        "git_head": git_head,
        "note": args.note,
        "contact_parser": contact_parser,
        "second_reading": args.second_reading or None,
        "second_doubt_below": args.second_doubt_below if args.second_reading else None,
        "runtime": args.runtime or "default",
        "seed": args.seed,
        "n_clean": args.n_clean,
        "n_hard": args.n_hard,
        "layouts": {k: LAYOUTS[k].holdout for k in drawn},
        "groups": groups,
        "per_layout": per_layout,
        "timing": timing,
        "real": real_docs,
        "shared_found": shared_dir() is not None,
        "real_scores": real_scores,
        "real_stp": {
            sch: stp([d for d in real_docs if d["schema"] == sch]) for sch in sorted({d["schema"] for d in real_docs})
        },
        "error_summary": error_summary(docs),
        "crashes": crashes,
        "documents": [
            {
                k: d[k]
                for k in (
                    "set",
                    "image",
                    "layout",
                    "holdout",
                    "ocr_ms",
                    "extract_ms",
                    "ocr_misses",
                    "crash",
                    "extractor_errors",
                    "baseline_errors",
                )
            }
            for d in docs
        ],
    }
    report["wall_s"] = time.perf_counter() - t_start
    # other work on the machine slows OCR; say how busy it was
    report["load_average_1m"] = {"start": round(load_start, 2), "end": round(os.getloadavg()[0], 2)}
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.with_suffix(".json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    from luodi.kie.evaluate import plot_curve

    curves = {
        f"{k} ({g['stp']['documents']} pages)": g["stp"]["curve"]
        for k, g in groups.items()
        if k.split("/")[0] in ("clean", "hard") and not k.endswith("/all") and g["stp"]["documents"]
    }
    curves |= {f"real {k} ({v['documents']})": v["curve"] for k, v in report["real_stp"].items()}
    png = args.results.with_name(args.results.name + "_stp.png")
    plot_curve(curves, png, title="precision of auto-accepted fields vs coverage, over the review threshold")
    report["stp_png"] = png.name
    args.results.with_suffix(".md").write_text(render_markdown(report), encoding="utf-8")
    head = (
        f"```\n{report['command']}\n```\n\nRun {started}, code at `{git_head}`: the same run as "
        f"`{args.results.with_suffix('.md').name}`."
    )
    flags = args.results.with_name(args.results.name + "_flags.md")
    flags.write_text(flag_map(docs, ALL_FIELDS, canon, head) + "\n", encoding="utf-8")
    print(f"wrote {args.results.with_suffix('.md')} and .json in {report['wall_s']:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
