"""Learned layouts: where a document type that prints no labels keeps each field, learned from a
few labelled examples.

A schema of labels and patterns cannot say which of two station names on a railway ticket is the
departure: only their place does. ``luodi train kie --schema ticket.yaml --labels labels.jsonl``
reads about ten labelled examples and learns, per field:

* its **text shape**: the value's characters as class runs (``D`` digits, ``A``/``a`` ASCII
  letters, ``H`` Chinese characters) with the characters every example prints kept literally
  (年 月 日, 车 号, ``*``), one shape per distinct arrangement seen (05车12A号 and 05车12号下铺),
  and the character just before and after it on its line where the examples agree (站 after a
  station, ``¥`` before a price, the start of the line);
* its **position**: the centre of the value in the frame of the page's text, and its offset from
  every *anchor* (printed text that recurs on most examples, such as 限乘当日当次车) and from every
  other field, each with the spread the examples showed.

That is a small JSON file beside the schema (``ticket.learned.json``, no weights). Reading a page
(:mod:`luodi.kie.learned_read`) matches the shapes on the OCR lines and assigns the fields one at a
time, most certain first, predicting each field's place from the frame, the anchors found and the
fields already placed.

The examples are the KIE JSONL the review export writes (``{"image", "fields", "boxes"}``): the
learner finds each labelled value in the OCR lines of its image (the value as the field's type
normalises it, so a label ``2026-01-05`` finds ``2026年01月05日``); a labelled box, where given,
picks between equal readings.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from luodi.errors import InputError, SchemaError
from luodi.kie.layout import TLine, make_lines
from luodi.kie.normalize import compact, fold, fold_label
from luodi.kie.schema import Schema
from luodi.kie.validators import check
from luodi.ocr.result import Page, Quad

FORMAT = "luodi-learned-layout/1"
# A context character (before / after a value) or an anchor must be shared by this share of the
# examples to be learned.
CONTEXT_SHARE = 0.6
ANCHOR_SHARE = 0.6
# A letter or Chinese character most values print (年 月 日, 车 号) is part of the shape.
LITERAL_SHARE = 0.8
# Two OCR readings of one printed line match when this similar (OCR misreads a character or two).
ANCHOR_SIMILARITY = 0.75
# The least spread a position is trusted to (share of the text frame): ten examples of one
# template can agree to the pixel, photos of it do not.
MIN_SPREAD = 0.025


def char_class(c: str) -> str:
    """``D`` digit, ``A`` ASCII upper, ``a`` ASCII lower, ``H`` Chinese, ``s`` space, else the
    character itself."""
    if c.isdigit() and c.isascii():
        return "D"
    if c.isascii() and c.isalpha():
        return "A" if c.isupper() else "a"
    if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf":
        return "H"
    if c.isspace():
        return "s"
    return c


_CLASS_RE = {"D": r"\d", "A": "[A-Z]", "a": "[a-z]", "H": "[\u3400-\u4dbf\u4e00-\u9fff]", "s": r"\s"}


@dataclass(frozen=True, slots=True)
class Token:
    """A run of one character class (``kind`` in D A a H s) or a literal text (``kind`` "L")."""

    kind: str
    lo: int = 1
    hi: int = 1
    text: str = ""

    def pattern(self) -> str:
        if self.kind == "L":
            return re.escape(self.text)
        if self.kind == "s":
            return r"\s*"
        # Widened by one or two characters: ten examples rarely show the shortest and longest value.
        lo, hi = max(1, self.lo - 1), self.hi + 2
        return f"{_CLASS_RE[self.kind]}{{{lo},{hi}}}"


@dataclass(frozen=True, slots=True)
class Shape:
    """One arrangement of a field's value: tokens, the context before and after it on its line
    (``^``/``$`` the line's start/end, a class letter, a literal character, or "" for any) and how
    many examples showed it."""

    tokens: tuple[Token, ...]
    before: str = ""
    after: str = ""
    count: int = 1

    def regex(self, *, context: bool) -> re.Pattern[str]:
        body = "".join(t.pattern() for t in self.tokens)
        head = _context_before(self.before) if context else ""
        tail = _context_after(self.after) if context else ""
        return re.compile(f"{head}(?P<v>{body}){tail}")

    def describe(self) -> str:
        out = []
        for t in self.tokens:
            if t.kind == "L":
                out.append(t.text)
            else:
                out.append(t.kind if t.lo == t.hi == 1 else f"{t.kind}{{{t.lo},{t.hi}}}")
        return "".join(out)


def _context_before(ctx: str) -> str:
    if not ctx:
        return ""
    if ctx == "^":
        return r"^\s*"
    inner = _CLASS_RE.get(ctx, re.escape(ctx)) if len(ctx) == 1 else re.escape(ctx)
    return f"(?:(?<={inner})|(?<={inner}\\s))"


def _context_after(ctx: str) -> str:
    if not ctx:
        return ""
    if ctx == "$":
        return r"(?=\s*$)"
    inner = _CLASS_RE.get(ctx, re.escape(ctx)) if len(ctx) == 1 else re.escape(ctx)
    return f"(?=\\s*{inner})"


@dataclass(frozen=True, slots=True)
class Offset:
    """Where a field lies from a reference (an anchor, another field): mean and spread of the
    difference of centres, in shares of the text frame, over ``count`` examples."""

    ref: str
    du: float
    dv: float
    su: float
    sv: float
    count: int


@dataclass(frozen=True, slots=True)
class FieldModel:
    name: str
    type: str
    u: float  # centre, share of the text frame's width
    v: float
    su: float
    sv: float
    count: int  # examples the value was found in
    shapes: tuple[Shape, ...]
    anchors: tuple[Offset, ...] = ()
    fields: tuple[Offset, ...] = ()


@dataclass(frozen=True, slots=True)
class Anchor:
    """Printed text that recurs across the examples (its folded text) and where it sits."""

    text: str
    u: float
    v: float
    count: int


@dataclass(frozen=True, slots=True)
class Variant:
    """One arrangement of the document type (a ticket office's print, an older card): the fields
    and anchors of the examples that share it."""

    fields: tuple[FieldModel, ...]
    anchors: tuple[Anchor, ...] = ()
    examples: int = 0

    def field(self, name: str) -> FieldModel | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True, slots=True)
class LearnedLayout:
    """What ``luodi train kie`` learned for one schema (see the module docstring)."""

    schema: str
    examples: int
    variants: tuple[Variant, ...]
    # Per example and field, why a value was not found (what the user should look at).
    notes: tuple[str, ...] = ()

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.name for v in self.variants for f in v.fields))

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LearnedLayout:
        if data.get("format") != FORMAT:
            raise InputError(f"not a learned layout (format {data.get('format')!r}, expected {FORMAT})")
        try:
            variants = tuple(
                Variant(
                    tuple(_field_from(f) for f in v["fields"]),
                    tuple(Anchor(**a) for a in v["anchors"]),
                    int(v["examples"]),
                )
                for v in data["variants"]
            )
            return cls(str(data["schema"]), int(data["examples"]), variants, tuple(data.get("notes", ())))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"learned layout is malformed: {exc}") from exc

    @classmethod
    def load(cls, path: str | Path) -> LearnedLayout:
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read learned layout {p}: {exc}") from exc
        if not isinstance(data, dict):
            raise InputError(f"learned layout {p} is not a JSON object")
        return cls.from_dict(data)

    def check_schema(self, schema: Schema) -> None:
        """The layout belongs to ``schema``: same name, every learned field one of its fields."""
        if self.schema != schema.name:
            raise SchemaError(f"learned layout is for schema {self.schema!r}, not {schema.name!r}")
        unknown = [n for n in self.field_names if n not in schema.fields]
        if unknown:
            raise SchemaError(f"learned layout has fields the schema {schema.name!r} lacks: {', '.join(unknown)}")


def _field_from(f: Mapping[str, Any]) -> FieldModel:
    return FieldModel(
        **{k: v for k, v in f.items() if k not in ("shapes", "anchors", "fields")},
        shapes=tuple(
            Shape(tuple(Token(**t) for t in s["tokens"]), s["before"], s["after"], s["count"]) for s in f["shapes"]
        ),
        anchors=tuple(Offset(**o) for o in f["anchors"]),
        fields=tuple(Offset(**o) for o in f["fields"]),
    )


def learned_path(schema_path: str | Path) -> Path:
    """Where the learned layout of a schema file lives: ``my.yaml`` → ``my.learned.json``."""
    p = Path(schema_path)
    return p.with_name(p.stem + ".learned.json")


# --- frames and found values --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Frame:
    """The box around a page's text (deskewed): positions are shares of it."""

    x0: float
    y0: float
    w: float
    h: float

    @classmethod
    def of(cls, lines: Sequence[TLine]) -> Frame:
        if not lines:
            return cls(0.0, 0.0, 1.0, 1.0)
        x0, y0 = min(t.x0 for t in lines), min(t.y0 for t in lines)
        x1, y1 = max(t.x1 for t in lines), max(t.y1 for t in lines)
        return cls(x0, y0, max(x1 - x0, 1.0), max(y1 - y0, 1.0))

    def uv(self, tline: TLine, start: int, end: int) -> tuple[float, float]:
        """Centre of characters ``start:end`` of a line, in shares of the frame."""
        c, s = tline.rot
        box = tline.line.sub_box(start, end) if (start, end) != (0, len(tline.text)) else tline.line.box
        pts = [(x * c + y * s, -x * s + y * c) for x, y in box]
        cx = sum(p[0] for p in pts) / 4
        cy = sum(p[1] for p in pts) / 4
        return (cx - self.x0) / self.w, (cy - self.y0) / self.h


@dataclass(frozen=True, slots=True)
class Found:
    """A labelled value found on an example's OCR lines."""

    tline: TLine
    start: int
    end: int
    u: float
    v: float

    @property
    def raw(self) -> str:
        return self.tline.text[self.start : self.end]


def same_value(expected: Any, got: Any) -> bool:
    """Whether a normalised value is the labelled one (numbers within rounding, text compacted)."""
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        try:
            return abs(float(got) - float(expected)) <= 1e-6 + 1e-3 * abs(float(expected))
        except (TypeError, ValueError):
            return False
    return compact(str(expected)) == compact(str(got))


def find_value(
    field_type: str, value: Any, lines: Sequence[TLine], box: Quad | None = None
) -> tuple[TLine, int, int] | None:
    """The shortest substring of an OCR line that reads as ``value`` (normalised by the field's
    type); a near match (one or two characters misread) where no exact one exists. Several equal
    readings: the one nearest the labelled ``box``, else the first in reading order."""
    want = compact(str(value))
    if not want:
        return None
    exact: list[tuple[int, TLine, int, int]] = []
    near: list[tuple[float, TLine, int, int]] = []
    for t in lines:
        for i in range(len(t.text)):
            if not t.text[i].isspace():
                _readings_from(field_type, value, want, t, i, exact, near)
    if exact:
        shortest = min(e[0] for e in exact)
        best = [(t, i, j) for k, t, i, j in exact if k == shortest]
    elif near:
        top = max(r for r, *_ in near)
        best = [(t, i, j) for r, t, i, j in near if r == top]
    else:
        return None
    if box is not None and len(best) > 1:
        bx = sum(p[0] for p in box) / 4
        by = sum(p[1] for p in box) / 4

        def dist(item: tuple[TLine, int, int]) -> float:
            q = item[0].line.sub_box(item[1], item[2])
            return math.hypot(sum(p[0] for p in q) / 4 - bx, sum(p[1] for p in q) / 4 - by)

        best.sort(key=dist)
    return best[0]


def _readings_from(
    field_type: str,
    value: Any,
    want: str,
    t: TLine,
    i: int,
    exact: list[tuple[int, TLine, int, int]],
    near: list[tuple[float, TLine, int, int]],
) -> None:
    """The shortest exact reading of ``value`` starting at character ``i`` of line ``t`` (into
    ``exact``), and near readings on the way (into ``near``)."""
    text = t.text
    n = len(text)
    for j in range(i + 1, min(n, i + 3 * len(want) + 8) + 1):
        sub = text[i:j]
        if same_value(value, check(field_type, sub).value):
            # A number stops where its digits do: 553 reads as 553.0, but 553.0 is printed.
            end = j
            while (
                end < n
                and (text[end].isdigit() or text[end] in ".:")
                and same_value(value, check(field_type, text[i : end + 1]).value)
            ):
                end += 1
            exact.append((end - i, t, i, end))
            return
        if len(want) >= 4 and abs(len(compact(sub)) - len(want)) <= 1:
            ratio = SequenceMatcher(None, compact(fold(sub)), fold(want)).ratio()
            if ratio >= 0.8:
                near.append((ratio, t, i, j))


# --- learning -----------------------------------------------------------------------------------
@dataclass(slots=True)
class Example:
    """One labelled page: its OCR lines and the labelled values (and boxes, where given)."""

    page: Page
    fields: Mapping[str, Any]
    boxes: Mapping[str, Quad] = field(default_factory=dict)


def learn(schema: Schema, examples: Sequence[Example]) -> LearnedLayout:
    """Learn the layout of ``schema``'s fields from labelled pages (see the module docstring)."""
    if not examples:
        raise InputError("no labelled examples to learn from")
    pages: list[tuple[list[TLine], Frame, dict[str, Found]]] = []
    notes: list[str] = []
    for k, ex in enumerate(examples):
        lines = make_lines(ex.page)
        frame = Frame.of(lines)
        found: dict[str, Found] = {}
        for name, value in ex.fields.items():
            spec = schema.fields.get(name)
            if spec is None or value is None or value == "":
                continue
            hit = find_value(spec.type, value, lines, ex.boxes.get(name))
            if hit is None:
                notes.append(f"example {k + 1}: {name} {value!r} not found in the OCR text")
                continue
            t, i, j = hit
            found[name] = Found(t, i, j, *frame.uv(t, i, j))
        pages.append((lines, frame, found))
    variants = tuple(_variant(schema, [pages[k] for k in group]) for group in cluster([p[2] for p in pages]))
    variants = tuple(v for v in variants if v.fields)
    if not variants:
        raise InputError("no labelled value was found in the OCR text of the examples: " + "; ".join(notes[:3]))
    return LearnedLayout(schema.name, len(examples), variants, tuple(notes))


def _variant(schema: Schema, pages: Sequence[tuple[list[TLine], Frame, dict[str, Found]]]) -> Variant:
    anchors = _anchors(pages)
    placed = [_anchor_places(anchors, lines, frame, found) for lines, frame, found in pages]
    models = []
    for name, spec in schema.fields.items():
        seen = [
            (found[name], where, found) for (_, _, found), where in zip(pages, placed, strict=True) if name in found
        ]
        if seen:
            models.append(_field_model(name, spec.type, seen))
    return Variant(tuple(models), anchors, len(pages))


# Examples whose fields lie this far apart on average (share of the frame) are two arrangements.
VARIANT_DISTANCE = 0.08


def cluster(found: Sequence[Mapping[str, Found]]) -> list[list[int]]:
    """Examples grouped by arrangement: average-linkage clustering on the mean distance of the
    fields both show, stopped at VARIANT_DISTANCE; a group of one joins its nearest (one example
    is no arrangement to learn from)."""

    def dist(a: int, b: int) -> float:
        common = [n for n in found[a] if n in found[b]]
        if not common:
            return 1.0
        return statistics.fmean(
            math.hypot(found[a][n].u - found[b][n].u, found[a][n].v - found[b][n].v) for n in common
        )

    d = {(a, b): dist(a, b) for a in range(len(found)) for b in range(len(found))}
    groups = [[k] for k in range(len(found))]

    def link(g: list[int], h: list[int]) -> float:
        return statistics.fmean(d[a, b] for a in g for b in h)

    while len(groups) > 1:
        pairs = [(link(g, h), i, j) for i, g in enumerate(groups) for j, h in enumerate(groups) if i < j]
        best, i, j = min(pairs)
        small = [k for k, g in enumerate(groups) if len(g) == 1]
        if best >= VARIANT_DISTANCE and not small:
            break
        if best >= VARIANT_DISTANCE:
            k = small[0]
            _, i, j = min((link(groups[k], h), min(k, m), max(k, m)) for m, h in enumerate(groups) if m != k)
        groups[i] = groups[i] + groups[j]
        del groups[j]
    return groups


def _spread(values: Sequence[float]) -> float:
    return max(MIN_SPREAD, statistics.pstdev(values) if len(values) > 1 else MIN_SPREAD)


def _field_model(
    name: str, field_type: str, seen: Sequence[tuple[Found, dict[str, tuple[float, float]], dict[str, Found]]]
) -> FieldModel:
    us = [f.u for f, _, _ in seen]
    vs = [f.v for f, _, _ in seen]
    to_anchor: dict[str, list[tuple[float, float]]] = {}
    to_field: dict[str, list[tuple[float, float]]] = {}
    for f, where, found in seen:
        for text, (au, av) in where.items():
            to_anchor.setdefault(text, []).append((f.u - au, f.v - av))
        for other, g in found.items():
            if other != name:
                to_field.setdefault(other, []).append((f.u - g.u, f.v - g.v))
    least = max(2, math.ceil(CONTEXT_SHARE * len(seen)))
    return FieldModel(
        name=name,
        type=field_type,
        u=statistics.fmean(us),
        v=statistics.fmean(vs),
        su=_spread(us),
        sv=_spread(vs),
        count=len(seen),
        shapes=learn_shapes([f.tline.text for f, _, _ in seen], [(f.start, f.end) for f, _, _ in seen]),
        anchors=_offsets(to_anchor, least),
        fields=_offsets(to_field, least),
    )


def _offsets(by_ref: Mapping[str, list[tuple[float, float]]], least: int) -> tuple[Offset, ...]:
    out = []
    for ref, pairs in by_ref.items():
        if len(pairs) < least:
            continue
        du = [p[0] for p in pairs]
        dv = [p[1] for p in pairs]
        out.append(Offset(ref, statistics.fmean(du), statistics.fmean(dv), _spread(du), _spread(dv), len(pairs)))
    return tuple(sorted(out, key=lambda o: o.ref))


def learn_shapes(texts: Sequence[str], spans: Sequence[tuple[int, int]]) -> tuple[Shape, ...]:
    """The shapes of values ``text[start:end]`` (one per distinct arrangement of tokens), with
    the context characters the examples agree on."""
    values = [fold(t[s:e]).strip() for t, (s, e) in zip(texts, spans, strict=True)]
    # Characters most values print (年 月 日; 车 号) stay literal; the rest become classes.
    share = Counter(c for v in values for c in set(v) if char_class(c) in "HAa")
    literal = {c for c, n in share.items() if n >= max(3, LITERAL_SHARE * len(values))}
    groups: dict[tuple[str, ...], list[tuple[list[tuple[str, int]], tuple[str, str], tuple[str, str]]]] = {}
    for text, (s, e), value in zip(texts, spans, values, strict=True):
        runs = _runs(value, literal)
        key = tuple(k for k, _ in runs)
        groups.setdefault(key, []).append((runs, _before(fold(text), s), _after(fold(text), e)))
    shapes = []
    for key, members in groups.items():
        tokens = []
        for pos, kind in enumerate(key):
            lengths = [runs[pos][1] for runs, _, _ in members]
            if kind.startswith("L:"):
                tokens.append(Token("L", text=kind[2:]))
            else:
                tokens.append(Token(kind, min(lengths), max(lengths)))
        before = _agreed([b for _, b, _ in members], len(members))
        after = _agreed([a for _, _, a in members], len(members))
        shapes.append(Shape(tuple(tokens), before, after, len(members)))
    return tuple(sorted(shapes, key=lambda s: -s.count))


def _runs(value: str, literal: set[str]) -> list[tuple[str, int]]:
    runs: list[tuple[str, int]] = []
    for c in value:
        cls = char_class(c)
        kind = f"L:{c}" if c in literal or cls not in "DAaHs" else cls
        if runs and runs[-1][0] == kind and not kind.startswith("L:"):
            runs[-1] = (kind, runs[-1][1] + 1)
        elif runs and kind.startswith("L:") and runs[-1][0].startswith("L:") and kind != "L: ":
            runs[-1] = ("L:" + runs[-1][0][2:] + kind[2:], 1)
        else:
            runs.append((kind, 1))
    return runs


def _before(text: str, start: int) -> tuple[str, str]:
    """The nearest non-space character before ``start`` and its class (``^`` at the start)."""
    head = text[:start].rstrip()
    return ("^", "^") if not head else (head[-1], char_class(head[-1]))


def _after(text: str, end: int) -> tuple[str, str]:
    tail = text[end:].lstrip()
    return ("$", "$") if not tail else (tail[0], char_class(tail[0]))


def _agreed(contexts: Sequence[tuple[str, str]], n: int) -> str:
    """The character most contexts share, else the class they share, else "" (any)."""
    if not contexts:
        return ""
    char, count = Counter(c for c, _ in contexts).most_common(1)[0]
    # A digit before a value is part of other data (an ID number's last digit; one in ten
    # repeats by chance): only a digit every example prints there is learned as that digit.
    variable = char_class(char) == "D"
    if n >= 2 and (count == n if variable else count >= CONTEXT_SHARE * n):
        return char
    cls, count = Counter(k for _, k in contexts).most_common(1)[0]
    if count >= CONTEXT_SHARE * n and n >= 2 and cls != "s":
        return cls
    return ""


def _anchors(pages: Sequence[tuple[list[TLine], Frame, dict[str, Found]]]) -> tuple[Anchor, ...]:
    """Lines printed on most examples (not a labelled value): grouped by similar text."""
    groups: list[tuple[str, list[tuple[int, float, float]]]] = []
    for k, (lines, frame, found) in enumerate(pages):
        used = {id(f.tline): f.end - f.start for f in found.values()}
        for t in lines:
            key = anchor_key(t.text)
            if len(key) < 2 or used.get(id(t), 0) >= 0.3 * len(t.text):
                continue
            u, v = frame.uv(t, 0, len(t.text))
            for text, members in groups:
                if SequenceMatcher(None, text, key).ratio() >= ANCHOR_SIMILARITY:
                    if all(m[0] != k for m in members):
                        members.append((k, u, v))
                    break
            else:
                groups.append((key, [(k, u, v)]))
    least = max(2, math.ceil(ANCHOR_SHARE * len(pages)))
    out = [
        Anchor(text, statistics.fmean(m[1] for m in members), statistics.fmean(m[2] for m in members), len(members))
        for text, members in groups
        if len(members) >= least
    ]
    return tuple(out)


def anchor_key(text: str) -> str:
    """What anchors are compared by: folded text without spaces; digits kept (12306 is printed)."""
    return fold_label(text).replace(" ", "")


def find_anchors(anchors: Sequence[Anchor], lines: Sequence[TLine]) -> dict[str, TLine]:
    """Each anchor's line on a page (the most similar, at least ANCHOR_SIMILARITY; a line is one
    anchor at most)."""
    out: dict[str, TLine] = {}
    taken: set[int] = set()
    scored = []
    for a in anchors:
        for t in lines:
            key = anchor_key(t.text)
            if abs(len(key) - len(a.text)) > max(2, len(a.text) // 3):
                continue
            r = SequenceMatcher(None, a.text, key).ratio()
            if r >= ANCHOR_SIMILARITY:
                scored.append((r, a.text, t))
    for _, text, t in sorted(scored, key=lambda x: -x[0]):
        if text not in out and id(t) not in taken:
            out[text] = t
            taken.add(id(t))
    return out


def _anchor_places(
    anchors: Sequence[Anchor], lines: Sequence[TLine], frame: Frame, found: Mapping[str, Found]
) -> dict[str, tuple[float, float]]:
    used = {id(f.tline) for f in found.values()}
    hits = find_anchors(anchors, [t for t in lines if id(t) not in used])
    return {text: frame.uv(t, 0, len(t.text)) for text, t in hits.items()}


# --- examples from KIE JSONL --------------------------------------------------------------------
def read_examples(labels: str | Path, ocr: Any, *, schema: Schema) -> list[Example]:
    """Examples from KIE JSONL (``{"image", "fields", "boxes"?}`` per line, images relative to the
    file), read with ``ocr`` (an :class:`~luodi.ocr.pipeline.OCR`). A photo is read as extraction
    reads it: the first document located on it, straightened (its boxes are then not comparable
    with labelled page boxes, which are left out)."""
    path = Path(labels)
    if not path.is_file():
        from luodi.errors import InputNotFoundError

        raise InputNotFoundError(f"labels file {path} does not exist")
    out: list[Example] = []
    for number, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not row.strip():
            continue
        try:
            record = json.loads(row)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not a JSON object: {exc.msg}") from exc
        if not isinstance(record, dict) or not isinstance(record.get("fields"), dict) or "image" not in record:
            raise InputError(f'{path}:{number}: a record needs "image" and "fields" (an object)')
        unknown = [k for k in record["fields"] if k not in schema.fields]
        if unknown:
            raise InputError(f"{path}:{number}: fields not in schema {schema.name!r}: {', '.join(unknown)}")
        image = path.parent / str(record["image"])
        if not image.is_file():
            from luodi.errors import InputNotFoundError

            raise InputNotFoundError(f"{path}:{number}: image {image} does not exist")
        doc = ocr(str(image))
        parts = doc.parts()
        if not parts or not parts[0].document.pages:
            raise InputError(f"{path}:{number}: no document found in {image}")
        part = parts[0]
        boxes = {} if part.located is not None else _boxes(record.get("boxes"))
        out.append(Example(part.document.pages[0], record["fields"], boxes))
    return out


def _boxes(raw: Any) -> dict[str, Quad]:
    out: dict[str, Quad] = {}
    if not isinstance(raw, dict):
        return out
    for name, box in raw.items():
        try:
            pts = tuple((float(p[0]), float(p[1])) for p in box)
        except (TypeError, ValueError, IndexError):
            continue
        if len(pts) == 4:
            out[name] = (pts[0], pts[1], pts[2], pts[3])
    return out
