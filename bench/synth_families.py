"""Synthetic document families: the OCR ceiling and the extractor's field accuracy, per family and set.

    .venv/bin/python bench/synth_families.py                    # writes bench/results/synth_families.{md,json}
    .venv/bin/python bench/synth_families.py --per-cell 1 --levels clean   # a quick look

What one run does:

1. renders fixed-seed eval pages (parties from the express NER *dev* split where a dev family takes
   NER persons) for every layout family of every document kind — waybills (``luodi.synth.waybill``),
   bank receipts and ID cards (``luodi.synth.bank_receipt`` / ``id_card``) — at each difficulty level
   (clean, photo, photo_hard), ``--per-cell`` pages per (layout, level); plus blank and placeholder
   waybills of every layout (clean and photo);
2. runs OCR once per page (the JPEG bytes, as a user would send them) and the ``Extractor`` of the
   kind's schema on that reading;
3. reports, per set (dev / holdout) and level, per layout family, and per font, paper, background
   and party-source family:
   - **OCR ceiling**: the share of verbatim label values (names, phones, addresses, numbers, banks)
     that can be put together from pieces of the OCR lines — what no extractor beats without
     correcting OCR;
   - **field accuracy**: a field counts when the label or the prediction has it, so a spurious
     value is an error; text compared after NFKC and whitespace removal, carriers by the carrier
     they name, numbers numerically;
   - **accepted precision** and **accept rate**: of the fields returned with ``needs_review`` false;
   - on blank and placeholder forms: **invented** values (anything but the carrier) and how many
     pages were flagged.

Holdout families (see ``luodi.synth.families``) are reported as aggregate numbers only: whoever
works on the extractor must not open their pages or their per-page errors (the run writes none).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

from luodi.eval.metrics import normalize_text  # noqa: E402

WAYBILL_FIELDS = (
    "carrier", "tracking_number", "receiver_name", "receiver_phone", "receiver_address", "sender_name",
    "sender_phone", "sender_address", "weight_kg", "pieces", "item", "remarks",
)  # fmt: skip
VERBATIM = {
    "waybill": ("tracking_number", "receiver_name", "receiver_phone", "receiver_address", "sender_name",
                "sender_phone", "sender_address"),
    "bank_receipt": ("bank", "serial_number", "payer_name", "payer_account", "payee_name", "payee_account",
                     "amount_in_words"),
    "id_card": ("name", "address", "id_number", "issuing_authority"),
}  # fmt: skip
NUMERIC = ("weight_kg", "pieces", "amount")
CARRIER_KEYS = (
    ("SF", ("顺丰", "SF")), ("ZTO", ("中通", "ZTO")), ("YTO", ("圆通", "YTO")), ("YUNDA", ("韵达", "YUNDA")),
    ("STO", ("申通", "STO")), ("JD", ("京东", "JD")), ("EMS", ("邮政", "EMS")), ("JT", ("极兔", "J&T", "JT")),
)  # fmt: skip
LEVELS = ("clean", "photo", "photo_hard")


def canon(name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if name in NUMERIC:
        try:
            return f"{round(float(value), 3):g}"
        except (TypeError, ValueError):
            return normalize_text(str(value))
    text = normalize_text(str(value))
    if name == "carrier":
        upper = text.upper()
        return next((code for code, keys in CARRIER_KEYS if any(k in upper for k in keys)), text)
    return text


def in_ocr_text(name: str, gold: Any, lines: Sequence[str]) -> bool:
    """Whether ``gold`` is a concatenation of pieces (2+ characters, or a single last one) each found
    in some OCR line: a value wrapped over lines or split by a column gap still counts."""
    target = normalize_text(str(gold))
    if name.endswith(("_phone", "_account")) and "-" not in target:
        lines = ["".join(ch for ch in line if ch.isdigit() or ch == "*") for line in lines]
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


# --- the eval sets --------------------------------------------------------------------------------
def samples(per_cell: int, levels: Sequence[str], seed: int) -> Iterable[tuple[str, str, Any]]:
    """(kind, set name, sample) for every page of the run, in a fixed order."""
    from luodi.synth.bank_receipt import STYLES, render_bank_receipt
    from luodi.synth.documents import DocOptions
    from luodi.synth.id_card import CARD_LAYOUTS, render_id_card
    from luodi.synth.waybill import LAYOUTS, WaybillOptions, render_waybill

    for li, level in enumerate(levels):
        for name in LAYOUTS:
            opts = WaybillOptions(layouts=(name,), degrade=level, seed=seed + li, source="dev")  # type: ignore[arg-type]
            for i in range(per_cell):
                yield "waybill", level, render_waybill(i, opts)
        for kind, registry, render in (
            ("bank_receipt", STYLES, render_bank_receipt),
            ("id_card", CARD_LAYOUTS, render_id_card),
        ):
            for name in registry:
                dopts = DocOptions(layouts=(name,), degrade=level, seed=seed + li, source="dev")
                for i in range(per_cell):
                    yield kind, level, render(i, dopts)
    for fill in ("blank", "placeholder"):
        for li, level in enumerate(lv for lv in ("clean", "photo") if lv in levels):
            for name in LAYOUTS:
                opts = WaybillOptions(layouts=(name,), degrade=level, fill=fill, seed=seed + 10 + li, source="dev")  # type: ignore[arg-type]
                yield "waybill", f"{fill}/{level}", render_waybill(0, opts)


# --- scoring --------------------------------------------------------------------------------------
def score_page(kind: str, gold: Mapping[str, Any], result: Any, lines: Sequence[str]) -> dict[str, Any]:
    """Per-field outcomes of one page: right, accepted, ceiling, spurious values."""
    pred = {f.name: f for f in result.fields}
    names = list(WAYBILL_FIELDS) if kind == "waybill" else list(pred)
    names = sorted(
        set(names) | {k for k, v in gold.items() if v is not None and (kind != "waybill" or k in WAYBILL_FIELDS)}
    )
    out: dict[str, Any] = {}
    for name in names:
        g = canon(name, gold.get(name))
        fr = pred.get(name)
        p = canon(name, fr.value if fr is not None else None)
        if g is None and p is None:
            continue
        accepted = p is not None and fr is not None and not fr.needs_review
        ceiling = in_ocr_text(name, gold[name], lines) if g is not None and name in VERBATIM[kind] else None
        out[name] = {"right": g == p, "accepted": accepted, "ceiling": ceiling, "spurious": g is None}
    return out


def _agg(fields: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    n = right = acc = acc_right = ceil_n = ceil_ok = 0
    for f in fields:
        n += 1
        right += f["right"]
        acc += f["accepted"]
        acc_right += f["accepted"] and f["right"]
        if f["ceiling"] is not None:
            ceil_n += 1
            ceil_ok += f["ceiling"]
    return {
        "fields": n,
        "accuracy": round(right / n, 4) if n else None,
        "accept_rate": round(acc / n, 4) if n else None,
        "accepted_precision": round(acc_right / acc, 4) if acc else None,
        "ocr_ceiling": round(ceil_ok / ceil_n, 4) if ceil_n else None,
    }


def _group(docs: Sequence[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for d in docs:
        k = key(d)
        if k is not None:
            groups[k].append(d)
    return {
        "/".join(map(str, k)) if isinstance(k, tuple) else str(k): {
            "docs": len(ds),
            **_agg(f for d in ds for f in d["scores"].values()),
        }
        for k, ds in sorted(
            groups.items(), key=lambda kv: tuple(map(str, kv[0])) if isinstance(kv[0], tuple) else (str(kv[0]),)
        )
    }


def _party_rows(docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Waybill party fields by the source of their party (ner, company, generated, …)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for d in docs:
        sources = d["families"].get("parties")
        if d["kind"] != "waybill" or not sources or "/" in d["set"]:
            continue
        for name, f in d["scores"].items():
            role = name.split("_")[0]
            if role in sources:
                groups[d["split"], sources[role]].append(f)
    return {f"{s}/{src}": {"fields": len(fs), **_agg(fs)} for (s, src), fs in sorted(groups.items())}


def _invented(docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    rows: dict[str, dict[str, Any]] = {}
    for d in docs:
        if "/" not in d["set"]:
            continue
        key = f"{d['set']}/{d['split']}"
        row = rows.setdefault(key, {"pages": 0, "invented": 0, "pages_with_invented": 0, "flagged": 0, "examples": []})
        bad = [n for n, f in d["scores"].items() if f["spurious"] and n != "carrier"]
        row["pages"] += 1
        row["invented"] += len(bad)
        row["pages_with_invented"] += bool(bad)
        row["flagged"] += d["needs_review"]
        if bad and d["split"] == "dev" and len(row["examples"]) < 6:  # holdout pages are not described
            row["examples"].append(f"{d['layout']}: {', '.join(bad)}")
    return rows


def report(docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    filled = [d for d in docs if "/" not in d["set"]]
    fam = lambda axis: lambda d: (d["kind"], d["split"], d["families"][axis]) if axis in d["families"] else None  # noqa: E731
    return {
        "by_set": _group(filled, lambda d: (d["kind"], d["split"], d["set"])),
        "by_layout": _group(filled, lambda d: (d["kind"], d["split"], d["layout"], d["set"])),
        "by_font": _group(filled, fam("font")),
        "by_hand_font": _group(filled, fam("hand_font")),
        "by_paper": _group(filled, fam("paper")),
        "by_background": _group(filled, fam("background")),
        "by_party_source": _party_rows(filled),
        "unfilled_forms": _invented(docs),
    }


# --- output ---------------------------------------------------------------------------------------
def _fmt(v: Any) -> str:
    return "" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def _table(title: str, rows: Mapping[str, Mapping[str, Any]], head: str) -> list[str]:
    out = [
        f"## {title}",
        "",
        f"| {head} | docs | fields | OCR ceiling | field accuracy | accept rate | accepted precision |",
    ]
    out.append("|---|---|---|---|---|---|---|")
    for k, r in rows.items():
        out.append(
            f"| {k} | {r.get('docs', '')} | {r['fields']} | {_fmt(r['ocr_ceiling'])} | {_fmt(r['accuracy'])} | "
            f"{_fmt(r['accept_rate'])} | {_fmt(r['accepted_precision'])} |"
        )
    return [*out, ""]


def markdown(rep: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    lines = [
        "# Synthetic document families: OCR ceiling and extractor accuracy",
        "",
        "```",
        f"$ {meta['command']}",
        "```",
        "",
        f"Run {meta['started']} on {meta['machine']} · OCR `{meta['model']}` · {meta['pages']} pages, "
        f"{meta['per_cell']} per (layout, level) · wall {meta['wall_s']} s · 1-min load average "
        f"{meta['load_average_1m']['start']} at start, {meta['load_average_1m']['end']} at end · "
        f"code at `{meta['git']}`.",
        "",
        "Holdout families (luodi.synth.families) are never shown to the extractor's developer: aggregate numbers "
        "only, no pages, no per-page errors. Field accuracy: a field counts when the label or the prediction "
        "has it (a spurious value is an error); waybills score the 12 main fields. OCR ceiling: the share of "
        "verbatim label values that can be pieced together from the OCR lines. Accepted: returned with "
        "needs_review false.",
        "",
    ]
    lines += _table("Per set (kind / split / level)", rep["by_set"], "kind / split / level")
    lines += _table("Per layout family", rep["by_layout"], "kind / split / layout / level")
    lines += _table("Per party source (waybill party fields)", rep["by_party_source"], "split / source")
    for axis in ("font", "hand_font", "paper", "background"):
        lines += _table(f"Per {axis.replace('_', ' ')} family", rep[f"by_{axis}"], f"kind / split / {axis}")
    lines += ["## Blank and placeholder waybills (every label null but the carrier)", ""]
    lines += ["| set / level / split | pages | invented values | pages with one | pages flagged | dev examples |"]
    lines += ["|---|---|---|---|---|---|"]
    for k, r in rep["unfilled_forms"].items():
        lines.append(
            f"| {k} | {r['pages']} | {r['invented']} | {r['pages_with_invented']} | {r['flagged']} | "
            f"{'; '.join(r['examples'])} |"
        )
    return "\n".join(lines) + "\n"


def _git_head() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# long: one run in order: options, each family rendered and read, the counts, the report
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-cell", type=int, default=3, help="pages per (layout, level)")
    ap.add_argument("--levels", default=",".join(LEVELS), help="comma-separated: clean, photo, photo_hard")
    ap.add_argument("--seed", type=int, default=4100)
    ap.add_argument("--model", default="pp-ocrv6-small")
    ap.add_argument("--results", type=Path, default=BENCH / "results" / "synth_families")
    args = ap.parse_args(argv)
    levels = [lv.strip() for lv in args.levels.split(",") if lv.strip()]

    from luodi import OCR
    from luodi.kie import Extractor

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_start = os.getloadavg()[0]
    git = _git_head()
    t0 = time.perf_counter()
    ocr = OCR(args.model)
    extractors = {k: Extractor(k, ocr=ocr) for k in ("waybill", "bank_receipt", "id_card")}
    docs: list[dict[str, Any]] = []
    for kind, set_name, sample in samples(args.per_cell, levels, args.seed):
        doc = ocr(sample.jpeg_bytes(92), name=f"{kind}-{sample.layout}-{sample.index}")
        result = extractors[kind].extract_document(doc)
        lines = [normalize_text(line.text) for page in doc.pages for line in page.lines]
        docs.append(
            {
                "kind": kind,
                "set": set_name,
                "layout": sample.layout,
                "split": "holdout" if sample.holdout else "dev",
                "families": sample.meta.get("families", {}),
                "needs_review": bool(result.needs_review),
                "scores": score_page(kind, sample.fields, result, lines),
            }
        )
        print(f"\r{len(docs)} pages", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    rep = report(docs)
    meta = {
        "command": "python bench/synth_families.py " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "started": started,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "model": args.model,
        "pages": len(docs),
        "per_cell": args.per_cell,
        "levels": levels,
        "seed": args.seed,
        "wall_s": round(time.perf_counter() - t0, 1),
        "load_average_1m": {"start": round(load_start, 2), "end": round(os.getloadavg()[0], 2)},
        "git": git,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.with_suffix(".json").write_text(
        json.dumps({"meta": meta, **rep}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    args.results.with_suffix(".md").write_text(markdown(rep, meta), encoding="utf-8")
    print(
        markdown({"by_set": rep["by_set"], **{k: v for k, v in rep.items() if k != "by_set"}}, meta).split(
            "## Per layout"
        )[0]
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
