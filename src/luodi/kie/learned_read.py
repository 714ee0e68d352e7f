"""Reading a page with a learned layout (:mod:`luodi.kie.learned`), and merging what it reads with
the schema's labels and patterns.

The fields are placed one at a time. For every field not yet placed, its place is predicted from
the text frame, the anchors found on the page and the fields already placed (each offset weighted
by how closely the examples agreed on it); its candidates (the OCR substrings its shapes match)
are scored by shape × OCR confidence × closeness to that place; the field whose best candidate
scores highest is placed, and its text is no longer free for the others. So the train number,
a shape nothing else has, is placed first and then tells the two stations apart together with the
frame.

A learned value is never accepted on weak evidence: it is flagged for review when it lies far
from where the examples put it, when a second reading nearly as good exists, when it was matched
without the characters the examples print around it, when it fails its type's check, and when
the page shows too few of the learned anchors to be the learned document type.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from luodi.kie.decide import NOTHING_FILLED, SIMPLIFIED_TYPES
from luodi.kie.layout import TLine, make_lines
from luodi.kie.learned import (
    MIN_SPREAD,
    FieldModel,
    Frame,
    LearnedLayout,
    Shape,
    Variant,
    find_anchors,
    same_value,
)
from luodi.kie.normalize import fold, to_simplified
from luodi.kie.result import Extraction, FieldResult
from luodi.kie.schema import Schema
from luodi.kie.validators import check
from luodi.ocr.result import Document, Page

# A match without the context characters the examples showed counts this much.
OUT_OF_CONTEXT = 0.75
# Within this many spreads of the predicted place a value is where it belongs.
NEAR = 2.0
FAR = 3.5
# A second reading scoring this share of the best makes the field ambiguous.
AMBIGUOUS = 0.75
# The share of a variant's fields that must be found in shape and in place for any to be trusted.
WELL_PLACED = 0.6
# What the schema flags that a learned place settles: the pattern matched in several places.
_RESOLVED = frozenset({"conflicting values"})
# The schema's ways of finding a value that beat a learned position (a label next to it).
_LABELLED = ("where_inline", "where_right", "where_below")


@dataclass(frozen=True, slots=True)
class Candidate:
    field: str
    tline: TLine
    start: int
    end: int
    u: float
    v: float
    shape: float
    ocr: float
    about: Shape

    @property
    def raw(self) -> str:
        return self.tline.text[self.start : self.end]

    def overlaps(self, other: Candidate) -> bool:
        return self.tline is other.tline and self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class Placed:
    cand: Candidate
    score: float
    z: float
    runner_up: float  # the best other reading's score (0: none)
    rival: Candidate | None = None


def candidates(model: FieldModel, lines: Sequence[TLine], frame: Frame) -> list[Candidate]:
    """Every substring of the lines one of the field's shapes matches (with its context, or
    without it at OUT_OF_CONTEXT)."""
    return placed_in(matches(model, lines, [fold(t.text) for t in lines]), frame)


def matches(model: FieldModel, lines: Sequence[TLine], folded: Sequence[str]) -> list[Candidate]:
    """The field's shape matches on the lines (``folded``: their folded texts), not yet placed in
    a frame (u, v are 0): they do not depend on it, so a page read twice matches once."""
    best: dict[tuple[int, int, int], Candidate] = {}
    most = max(s.count for s in model.shapes)
    patterns = []
    for shape in model.shapes:
        # A shape few examples showed, with no context to hold it, is weak evidence.
        prior = 1.0 if shape.count * 3 >= most or (shape.before and shape.after) else 0.7
        patterns += [
            (shape, shape.regex(context=True), prior),
            (shape, shape.regex(context=False), prior * OUT_OF_CONTEXT),
        ]
    for t, text in zip(lines, folded, strict=True):
        for shape, regex, factor in patterns:
            for m in regex.finditer(text):
                s, e = m.span("v")
                while s < e and text[s].isspace():
                    s += 1
                while e > s and text[e - 1].isspace():
                    e -= 1
                key = (id(t), s, e)
                if e <= s or (key in best and best[key].shape >= factor):
                    continue
                best[key] = Candidate(model.name, t, s, e, 0.0, 0.0, factor, _ocr(t, s, e), shape)
    found = list(best.values())
    # The same text read with and without its context (金华 before 站, 金华站): the reading the
    # examples' context cuts out is the value.
    return [c for c in found if not any(o.shape > c.shape and o.overlaps(c) for o in found)]


def placed_in(found: Sequence[Candidate], frame: Frame) -> list[Candidate]:
    return [dataclasses.replace(c, u=uv[0], v=uv[1]) for c in found for uv in (frame.uv(c.tline, c.start, c.end),)]


def _ocr(t: TLine, s: int, e: int) -> float:
    scores = t.line.char_scores
    if len(scores) != len(t.text):
        return float(t.line.score)
    picked = [scores[i] for i in range(s, e) if not t.text[i].isspace()]
    return sum(picked) / len(picked) if picked else float(t.line.score)


def predict(
    model: FieldModel, anchors: Mapping[str, tuple[float, float]], placed: Mapping[str, Placed]
) -> tuple[float, float, float, float]:
    """The field's expected centre and spread: frame, anchors and placed fields, each weighted by
    the inverse of its spread; the spread grows where the sources disagree."""
    sources = [(model.u, model.v, model.su, model.sv)]
    sources += [
        (anchors[o.ref][0] + o.du, anchors[o.ref][1] + o.dv, o.su, o.sv) for o in model.anchors if o.ref in anchors
    ]
    sources += [
        (placed[o.ref].cand.u + o.du, placed[o.ref].cand.v + o.dv, o.su, o.sv) for o in model.fields if o.ref in placed
    ]
    out = []
    for axis in (0, 1):
        weights = [1.0 / max(s[2 + axis], MIN_SPREAD) ** 2 for s in sources]
        total = sum(weights)
        mean = sum(w * s[axis] for w, s in zip(weights, sources, strict=True)) / total
        spread = math.sqrt(sum(w * (s[axis] - mean) ** 2 for w, s in zip(weights, sources, strict=True)) / total)
        out.append((mean, max(MIN_SPREAD, math.sqrt(1.0 / total), spread, min(s[2 + axis] for s in sources))))
    return out[0][0], out[1][0], out[0][1], out[1][1]


def _score(c: Candidate, pu: float, pv: float, su: float, sv: float) -> tuple[float, float]:
    z = math.hypot((c.u - pu) / su, (c.v - pv) / sv)
    return c.shape * c.ocr * math.exp(-0.5 * max(0.0, z - NEAR) ** 2), z


@dataclass(frozen=True, slots=True)
class PageReading:
    placed: dict[str, Placed]
    anchors_found: int
    variant: Variant
    frame: Frame

    @property
    def well_placed(self) -> int:
        """Fields found in their context, near where the examples put them."""
        return sum(1 for p in self.placed.values() if p.z <= FAR and p.cand.shape >= 1.0)

    @property
    def mean_z(self) -> float:
        return sum(p.z for p in self.placed.values()) / len(self.placed) if self.placed else 0.0

    @property
    def total(self) -> float:
        return sum(p.score for p in self.placed.values()) + 0.5 * self.anchors_found


def read_page(layout: Variant, page: Page) -> PageReading:
    """Place the fields of one learned arrangement on one page (see the module docstring).

    The first reading's frame is the box around all text; text around the document (a
    watermark, a camera's caption, a second document) widens it. So the frame is fitted again
    to the fields the first reading found in shape, and the page is read again in it; the better
    reading is kept."""
    lines = make_lines(page)
    folded = [fold(t.text) for t in lines]
    found = {m.name: matches(m, lines, folded) for m in layout.fields}
    hits = find_anchors(layout.anchors, lines)
    first = _read_in(layout, Frame.of(lines), found, hits)
    fitted = fit_frame(layout, first)
    if fitted is None:
        return first
    second = _read_in(layout, fitted, found, hits)
    # Fewer fields in place, or further from it on average, is the worse reading (a sum of scores
    # is not: a wrong frame can fit a wrong value as well as the right one).
    return max((second, first), key=lambda r: (r.well_placed, -r.mean_z))


def _read_in(
    layout: Variant, frame: Frame, found: Mapping[str, Sequence[Candidate]], hits: Mapping[str, TLine]
) -> PageReading:
    anchors = {text: frame.uv(t, 0, len(t.text)) for text, t in hits.items()}
    anchor_lines = {id(t) for t in hits.values()}
    pool = {
        m.name: [c for c in placed_in(found[m.name], frame) if id(c.tline) not in anchor_lines] for m in layout.fields
    }
    placed: dict[str, Placed] = {}
    while True:
        step: tuple[float, str, Placed] | None = None
        for model in layout.fields:
            if model.name in placed:
                continue
            pu, pv, su, sv = predict(model, anchors, placed)
            free = [c for c in pool[model.name] if not any(c.overlaps(p.cand) for p in placed.values())]
            scored = sorted(((*_score(c, pu, pv, su, sv), c) for c in free), key=lambda x: -x[0])
            if not scored or scored[0][0] <= 0.0:
                continue
            top_score, z, top = scored[0]
            rival = next(((s, c) for s, _, c in scored[1:] if not c.overlaps(top)), (0.0, None))
            if step is None or top_score > step[0]:
                step = (top_score, model.name, Placed(top, top_score, z, rival[0], rival[1]))
        if step is None:
            break
        placed[step[1]] = step[2]
    return PageReading(placed, len(hits), layout, frame)


def fit_frame(layout: Variant, reading: PageReading) -> Frame | None:
    """The frame in which the fields read in shape lie where the examples put them: per axis,
    pixel = origin + size × learned share, by least squares, once more without the worst fits
    (None: fewer than three such fields, or too little spread to fit)."""
    f = reading.frame
    points = []
    for name, p in reading.placed.items():
        model = layout.field(name)
        if model is not None and p.cand.shape >= 1.0:
            points.append((model.u, model.v, f.x0 + f.w * p.cand.u, f.y0 + f.h * p.cand.v))
    if len(points) < 3:
        return None
    fits = []
    for axis in (0, 1):
        pairs = [(pt[axis], pt[2 + axis]) for pt in points]
        line = _fit_line(pairs)
        if line is None:
            return None
        res = sorted(abs(y - (line[0] + line[1] * x)) for x, y in pairs)
        cut = max(2 * res[len(res) // 2], 1.0)
        kept = [(x, y) for x, y in pairs if abs(y - (line[0] + line[1] * x)) <= cut]
        line = _fit_line(kept) if len(kept) >= 3 else line
        if line is None or line[1] <= 0:
            return None
        fits.append(line)
    (x0, w), (y0, h) = fits
    return Frame(x0, y0, w, h)


def _fit_line(pairs: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    n = len(pairs)
    mx = sum(x for x, _ in pairs) / n
    my = sum(y for _, y in pairs) / n
    var = sum((x - mx) ** 2 for x, _ in pairs)
    if var < 0.01 * n * 0.01:  # the learned shares spread less than 0.1: nothing to fit a size on
        return None
    slope = sum((x - mx) * (y - my) for x, y in pairs) / var
    return my - slope * mx, slope


@dataclass(frozen=True, slots=True)
class LayoutReader:
    """Reads a document with a learned layout and merges it into the schema's extraction.
    Immutable; built once by the :class:`~luodi.kie.extractor.Extractor` that is given the layout."""

    layout: LearnedLayout
    schema: Schema
    threshold: float

    def read(self, doc: Document) -> tuple[dict[str, FieldResult], tuple[str, ...]]:
        """The learned fields of the document's best-read page, and why the whole reading is
        doubtful (few anchors found)."""
        readings = [read_page(v, page) for v in self.layout.variants for page in doc.pages]
        if not readings:
            return {}, ()
        best = max(readings, key=lambda r: r.total)
        doubt: tuple[str, ...] = ()
        learned = len(best.variant.fields)
        if best.well_placed < WELL_PLACED * learned:
            # Most fields out of place or shape: not the learned document type, or a new print of it.
            doubt = (f"learned layout: only {best.well_placed} of {learned} fields where the examples put them",)
        return {name: self._field(name, p, doubt) for name, p in best.placed.items()}, doubt

    def _field(self, name: str, p: Placed, doubt: tuple[str, ...]) -> FieldResult:
        spec = self.schema.fields[name]
        ck = check(spec.type, p.cand.raw)
        if self.schema.simplified and spec.type in SIMPLIFIED_TYPES and isinstance(ck.value, str):
            ck = dataclasses.replace(ck, value=to_simplified(ck.value))
        reasons = list(doubt)
        if p.z > FAR:
            reasons.append(f"learned layout: {p.z:.1f} spreads from where the examples put it")
        if p.runner_up >= AMBIGUOUS * p.score:
            other = p.rival.raw if p.rival is not None else ""
            reasons.append(f"learned layout: another reading fits nearly as well ({other!r})")
        if p.cand.shape < 1.0:
            reasons.append(
                f"learned layout: not between the characters the examples print around it ({p.cand.about.describe()})"
            )
        if not ck.ok:
            reasons.append(ck.reason or "failed validation")
        if spec.patterns and not _fits_patterns(spec.patterns, p.cand):
            reasons.append("learned layout: the schema's patterns do not read this value here")
        flagged = bool(reasons)
        score = p.score * (0.5 if not ck.ok else 1.0)
        if score < self.threshold:
            reasons.append(f"low confidence {score:.2f} < {self.threshold:.2f}")
        t = p.cand.tline
        evidence = (
            ("learned_position_z", round(p.z, 3)),
            ("learned_ocr", round(p.cand.ocr, 4)),
            ("learned_shape", p.cand.shape),
            ("learned_runner_up", round(p.runner_up / p.score, 3) if p.score > 0 else 0.0),
        )
        return FieldResult(
            name,
            ck.value,
            p.cand.raw,
            round(min(1.0, score), 4),
            t.line.sub_box(p.cand.start, p.cand.end),
            t.page,
            flagged or score < self.threshold,
            tuple(reasons),
            (),
            flagged,
            evidence,
        )

    def __call__(self, extraction: Extraction, doc: Document) -> Extraction:
        learned, doubt = self.read(doc)
        if not learned:
            return extraction
        reasons = extraction.reasons
        schema_fields = extraction.fields
        if not doubt:
            # The schema alone saw no form (nothing labelled, too few required values): the
            # learned layout did, so its values are not the print of an empty form.
            reasons = tuple(r for r in reasons if r not in NOTHING_FILLED)
            schema_fields = tuple(_unflag(f, NOTHING_FILLED) for f in schema_fields)
        fields = tuple(merge_field(f, learned.get(f.name)) for f in schema_fields)
        specs = self.schema.fields
        needs = any(f.needs_review for f in fields if specs[f.name].required) or bool(reasons)
        return dataclasses.replace(extraction, fields=fields, reasons=reasons, needs_review=needs)


def _unflag(f: FieldResult, why: frozenset[str]) -> FieldResult:
    """``f`` without a document reason the decision step flagged it with (it flags only fields no
    rule had flagged: what is left is the score's verdict)."""
    if not any(r in why for r in f.reasons):
        return f
    rest = tuple(r for r in f.reasons if r not in why)
    return dataclasses.replace(
        f, reasons=rest, flagged=False, needs_review=any(r.startswith("low confidence") for r in rest)
    )


def _fits_patterns(patterns: Sequence[str], c: Candidate) -> bool:
    """Whether one of the field's patterns, searched in the candidate's line, reads text that
    overlaps the candidate (the user's patterns are a check of a learned value's shape)."""
    text = fold(c.tline.text)
    for pattern in patterns:
        for m in re.finditer(pattern, text):
            s, e = m.span(1) if m.re.groups else m.span()
            if s < c.end and c.start < e:
                return True
    return False


def merge_field(schema: FieldResult, learned: FieldResult | None) -> FieldResult:
    """One field from the schema's reading and the learned layout's.

    Agreeing values: the schema's, accepted when either accepted it and no rule flagged it.
    Disagreeing: a value next to its label wins and is flagged; a pattern's value read at the
    same place wins too (the user's pattern says where the value ends: 05车12号下铺, not 05车12号),
    accepted only when the learned reading was; otherwise the learned value wins and the
    pattern's stays an alternative."""
    if learned is None or not learned.found:
        return schema
    if not schema.found:
        return learned
    labelled = any(dict(schema.evidence).get(k, 0.0) == 1.0 for k in _LABELLED)
    if same_value(schema.value, learned.value):
        if not labelled and set(schema.reasons) <= _RESOLVED and not learned.needs_review:
            # Two readings by pattern and no label: the learned place picks the same one.
            return dataclasses.replace(learned, raw=schema.raw, alternatives=())
        review = schema.flagged or (schema.needs_review and learned.needs_review)
        reasons = schema.reasons if review else tuple(r for r in schema.reasons if not r.startswith("low confidence"))
        return dataclasses.replace(schema, score=max(schema.score, learned.score), needs_review=review, reasons=reasons)
    if labelled:
        why = f"the learned layout reads {learned.value!r} here"
        return dataclasses.replace(
            schema,
            needs_review=True,
            flagged=True,
            reasons=(*schema.reasons, why),
            alternatives=(*schema.alternatives, learned.value),
        )
    if _same_place(schema, learned):
        return dataclasses.replace(
            schema,
            needs_review=schema.needs_review or learned.needs_review,
            flagged=schema.flagged or learned.flagged,
            reasons=(*schema.reasons, *(r for r in learned.reasons if r not in schema.reasons)),
        )
    return dataclasses.replace(learned, alternatives=(*learned.alternatives, schema.value))


def _same_place(a: FieldResult, b: FieldResult) -> bool:
    """Whether the two values' boxes overlap on the same page (the same text read two ways)."""
    if a.box is None or b.box is None or a.page != b.page:
        return False
    ax, ay = [p[0] for p in a.box], [p[1] for p in a.box]
    bx, by = [p[0] for p in b.box], [p[1] for p in b.box]
    return min(ax) < max(bx) and min(bx) < max(ax) and min(ay) < max(by) and min(by) < max(ay)
