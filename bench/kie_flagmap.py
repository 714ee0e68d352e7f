"""The map of what costs acceptance and what lets errors through, from one run of bench/kie_bench.py.

``kie_bench.py`` writes it beside its results (``bench/results/kie_flags.md``):

- **right but flagged**: for each field whose value is right and was sent to review, the reasons it
  was flagged for, counted per reason and field (a field flagged for two reasons counts under both;
  "alone" counts the fields whose only reason it is: what relaxing that rule alone would win; "wrong
  values flagged" counts the wrong values the same reason sent to review: what the rule earns);
- **wrong but accepted**: for each field keyed in unseen with a wrong value, why nothing stopped it:
  what kind of error it is (OCR misread the value, the value is cut short or runs over, another
  party's value, an invented one) and how sure OCR was of its least sure character.

Families are reported in three groups: the dev layouts, the holdout layouts that are no longer blind
(earlier revisions fixed failures seen on them) and the blind ones, of which only totals over all
fields are shown (no field, no page), so that nobody tunes on them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# Holdout layouts nobody has looked at the pages or errors of (docs/kie.md says which are blind).
# ewaybill_compact was unblinded on 2026-12-07 (its fresh pages' failures were looked at and fixed);
# ewaybill_sidebyside was the fresh family drawn before that (unblinded since: kie_sidebyside_unblind.md);
# ewaybill_markercol, drawn on 2026-12-07 22:00 UTC, was scored once and then looked at
# (kie_markercol_unblind.md); ewaybill_grid, drawn at 22:20 UTC, likewise (kie_grid_unblind.md);
# form_caption_below, drawn at 22:50 UTC, likewise from 2026-12-08 00:31 (kie_caption_unblind.md);
# shop_packing_slip is the fresh family drawn at 00:40 UTC.
BLIND_LAYOUTS = ("carbon_form", "shop_packing_slip")
_NOISE = re.compile(r"'[^']*'|\([^)]*\)|\d+(?:\.\d+)?|character \S+|[\u4e00-\u9fff]{2,}|\S+_\S+")


def reason_key(reason: str) -> str:
    """A reason with its particulars (values, numbers, characters, field names) taken out."""
    return _NOISE.sub("…", reason)


def family_group(doc: Mapping[str, Any]) -> str:
    if not doc["holdout"]:
        return "dev"
    return "blind" if doc["layout"] in BLIND_LAYOUTS else "holdout"


_PARTS = ("province", "city", "district", "detail")


def _bucket(ocr_min: float | None) -> str:
    if ocr_min is None:
        return "no characters"
    if ocr_min >= 0.98:
        return "every character ≥ 0.98"
    return "least sure 0.90–0.98" if ocr_min >= 0.90 else "least sure < 0.90"


def why_wrong(name: str, gold: str | None, pred: str, doc: Mapping[str, Any], canon: Callable[..., Any]) -> str:
    """The kind of a wrong value (compared in the bench's canonical form)."""
    if gold is None:
        return "invented (the label has none)"
    # an address part is as readable as its address
    parent = next((f"{r}_address" for r in ("receiver", "sender") for p in _PARTS if name == f"{r}_{p}"), name)
    if parent in doc.get("ocr_misses", ()):
        return "OCR misread (the label value is not in the OCR text)"
    other = name.replace("receiver", "\0").replace("sender", "receiver").replace("\0", "sender")
    if other != name and canon(other, doc["gold"].get(other)) == pred:
        return "the other party's value"
    if pred in gold:
        return "cut short (inside the label value)"
    if gold in pred:
        return "runs over (holds the label value)"
    if len(pred) == len(gold) and sum(a != b for a, b in zip(pred, gold, strict=True)) <= 2:
        return "one or two characters misread (the right reading is on the page)"
    return "another value"


def _keys(name: str, review: Mapping[str, Any], doc: Mapping[str, Any], canon: Callable[..., Any]) -> set[str]:
    """The reasons a field was flagged for; an address part flagged because its address was is
    counted under the address's own reasons (and whether the address itself was right)."""
    keys = {reason_key(x) for x in review.get("reasons", ())} or {"(no reason given)"}
    source = next((f"{r}_address" for r in ("receiver", "sender") for p in _PARTS if name == f"{r}_{p}"), None)
    inherited = {k for k in keys if k.startswith("the address … needs review")}
    if source is None or not inherited:
        return keys
    addr = doc.get("review", {}).get(source, {})
    right = canon(source, doc["gold"].get(source)) == canon(source, doc["extractor"].get(source))
    own = sorted({reason_key(x) for x in addr.get("reasons", ())} or {"(no reason given)"})
    tag = "right" if right else "wrong"
    return (keys - inherited) | {f"address part of a {tag} address flagged for: {k}" for k in own}


_TALLIES = ("flag", "alone", "wrong", "caught", "n")
_ORDER = ("dev", "holdout", "blind")


def tally(
    docs: Sequence[Mapping[str, Any]], fields: Sequence[str], canon: Callable[..., Any]
) -> dict[tuple[str, str], dict[str, Counter[Any]]]:
    """Per (set, family group): right-flagged reasons (by field and alone) and wrong-accepted kinds."""
    out: dict[tuple[str, str], dict[str, Counter[Any]]] = {}
    for d in docs:
        if d["set"] not in ("clean", "hard"):
            continue
        t = out.setdefault((d["set"], family_group(d)), {k: Counter() for k in _TALLIES})
        for name in fields:
            gold, pred = canon(name, d["gold"].get(name)), canon(name, d["extractor"].get(name))
            r = d.get("review", {}).get(name, {})
            if pred is None:
                continue
            accepted = not r.get("needs_review", True)
            t["n"]["accepted" if accepted else "flagged"] += 1
            if gold == pred and not accepted:
                t["n"]["right flagged"] += 1
                keys = _keys(name, r, d, canon)
                for k in keys:
                    t["flag"][k, name] += 1
                if len(keys) == 1:
                    t["alone"][next(iter(keys)), name] += 1
            elif gold != pred and not accepted:
                for k in _keys(name, r, d, canon):
                    t["caught"][k] += 1
            elif gold != pred and accepted:
                t["wrong"][why_wrong(name, gold, pred, d, canon), _bucket(r.get("ocr_min")), name] += 1
    return out


def _flag_rows(t: Mapping[str, Counter[Any]], blind: bool, limit: int = 30) -> list[str]:
    by_reason: Counter[str] = Counter()
    alone: Counter[str] = Counter()
    fields: dict[str, Counter[str]] = {}
    for (k, name), v in t["flag"].items():
        by_reason[k] += v
        fields.setdefault(k, Counter())[name] += v
    for (k, _), v in t["alone"].items():
        alone[k] += v
    rows = [
        "| reason | right values flagged | of which the only reason | wrong values flagged | fields (count) |",
        "|---|---|---|---|---|",
    ]
    for k, v in by_reason.most_common(limit):
        per = "–" if blind else ", ".join(f"{n} {c}" for n, c in fields[k].most_common(6))
        rows.append(f"| {k.replace('|', '/')} | {v} | {alone[k]} | {t['caught'][k]} | {per} |")
    return rows


def _wrong_rows(t: Mapping[str, Counter[Any]], blind: bool) -> list[str]:
    rows = ["| kind of error | OCR confidence | fields (count) |", "|---|---|---|"]
    kinds: dict[tuple[str, str], Counter[str]] = {}
    for (kind, bucket, name), v in t["wrong"].items():
        kinds.setdefault((kind, bucket), Counter())[name] += v
    for (kind, bucket), c in sorted(kinds.items(), key=lambda kv: -sum(kv[1].values())):
        per = f"{sum(c.values())}" if blind else ", ".join(f"{n} {k}" for n, k in c.most_common())
        rows.append(f"| {kind} | {bucket} | {per} |")
    return rows if len(rows) > 2 else ["None."]


def render(docs: Sequence[Mapping[str, Any]], fields: Sequence[str], canon: Callable[..., Any], head: str) -> str:
    lines = [
        "# Waybill KIE: what flags right values, what lets wrong ones through",
        "",
        head,
        "",
        __doc__.split("\n\n", 1)[1].strip() if __doc__ else "",
        "",
        f"Blind layouts: {', '.join(f'`{b}`' for b in BLIND_LAYOUTS)}.",
        "",
    ]
    groups = sorted(tally(docs, fields, canon).items(), key=lambda kv: (kv[0][0], _ORDER.index(kv[0][1])))
    for (cond, grp), t in groups:
        n = t["n"]
        lines += [
            f"## {cond}, {grp} layouts",
            "",
            f"Fields with a value: {n['accepted']} accepted, {n['flagged']} flagged; right but flagged: "
            f"{n['right flagged']}, of which {sum(t['alone'].values())} for one reason only.",
            "",
            "Right but flagged:",
            "",
            *_flag_rows(t, grp == "blind"),
            "",
            "Wrong but accepted:",
            "",
            *_wrong_rows(t, grp == "blind"),
            "",
        ]
    return "\n".join(lines)
