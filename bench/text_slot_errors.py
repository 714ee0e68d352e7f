"""Entity-level slot errors of a registered text model on a validation file, by kind (no training).

    PYTHONPATH=src nice -n 10 .venv/bin/python bench/text_slot_errors.py MODEL /path/to/smp2019/dev.json [TRAIN]

Each gold entity is one of: right (same span and type), type (same span, other type), boundary (an overlapping
prediction of the same type), boundary+type (an overlapping prediction of another type), missed (no overlapping
prediction); each prediction overlapping no gold entity is spurious. Counted separately for texts whose intent
was predicted right and wrong (the slot types allowed follow the predicted intent). Validation files only.
With TRAIN (the training file), a decode-time idea is scored too: a predicted span whose exact text is a training
slot value seen at least twice, always with one type, takes that type (its boundaries are kept).
"""

from __future__ import annotations

import sys
from collections import Counter

from luodi.text.data import read_examples
from luodi.text.model import TextModel


def _kind(gold: tuple[int, int, str], pred: list[tuple[int, int, str]]) -> str:
    start, end, typ = gold
    if (start, end, typ) in pred:
        return "right"
    over = [p for p in pred if p[0] < end and start < p[1]]
    if any(p[:2] == (start, end) for p in over):
        return "type"
    if any(p[2] == typ for p in over):
        return "boundary"
    return "boundary+type" if over else "missed"


def _value_types(path: str) -> dict[str, str]:
    seen: dict[str, Counter[str]] = {}
    for ex in read_examples(path):
        for sp in ex.spans or ():
            seen.setdefault(ex.text[sp.start : sp.end], Counter())[sp.type] += 1
    return {v: next(iter(c)) for v, c in seen.items() if len(c) == 1 and sum(c.values()) >= 2}


def _f1(examples: list, preds: list[list[tuple[int, int, str]]]) -> float:
    gold = {(i, s.start, s.end, s.type) for i, ex in enumerate(examples) for s in ex.spans or ()}
    got = {(i, *p) for i, ps in enumerate(preds) for p in ps}
    hit = len(gold & got)
    return 2 * hit / max(1, len(gold) + len(got))


def main() -> None:
    model, path = sys.argv[1], sys.argv[2]
    examples = read_examples(path)
    results = TextModel(model)([ex.text for ex in examples])
    preds = [[(s.start, s.end, s.type) for s in r.slots] for r in results]
    print(f"slot F1 {_f1(examples, preds):.4f}")
    if len(sys.argv) > 3:
        known = _value_types(sys.argv[3])
        typed = [[(a, b, known.get(ex.text[a:b], t)) for a, b, t in ps] for ex, ps in zip(examples, preds, strict=True)]
        changed = sum(p != q for ps, qs in zip(preds, typed, strict=True) for p, q in zip(ps, qs, strict=True))
        print(f"retyped by training values: slot F1 {_f1(examples, typed):.4f} ({changed} spans retyped)")
    counts: dict[str, Counter[str]] = {"intent right": Counter(), "intent wrong": Counter()}
    shown = Counter()
    for ex, res in zip(examples, results, strict=True):
        side = "intent right" if res.label == ex.label else "intent wrong"
        gold = [(s.start, s.end, s.type) for s in ex.spans or ()]
        pred = [(s.start, s.end, s.type) for s in res.slots]
        for g in gold:
            kind = _kind(g, pred)
            counts[side][kind] += 1
            if kind != "right" and shown[kind] < 4:
                shown[kind] += 1
                got = [(ex.text[a:b], t) for a, b, t in pred if a < g[1] and g[0] < b]
                print(f"  {kind}: {ex.text} gold {ex.text[g[0] : g[1]]}/{g[2]} predicted {got}")
        for p in pred:
            if not any(p[0] < g[1] and g[0] < p[1] for g in gold):
                counts[side]["spurious"] += 1
    for side, c in counts.items():
        print(f"{side}: " + ", ".join(f"{k} {v}" for k, v in c.most_common()))


if __name__ == "__main__":
    main()
