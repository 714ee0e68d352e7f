"""A second, independent reading of the OCR lines that carry values about to be keyed in unseen.

What the rules of the decision step cannot see is a confident misreading: the wrong character is
in the OCR text itself, read with a high score (卢淯 read 卢清, 17756037049 read 17750037049). A
recogniser trained apart from the first one seldom makes the same mistake on the same pixels, so
the lines that carry an accepted value are cut out of the page again and read by it; where the two
readings differ on the value's characters (or the second finds a character of the value's kind
the first dropped beside it), the field needs review, with the second reading in ``alternatives``.
Where a value was sent to review only because single characters were read unsure, and the second
reading reads every character of it the same, each of them sure, the two readings settle it
(as a sure copy printed elsewhere on the page does, :func:`luodi.kie.decide.copy_char_scores`).

:class:`SecondReading` is a part passed to the extractor (``Extractor(second_reading=…)``); it holds
its recogniser (anything with ``recognize(crops) -> [RecResult]``: an :class:`~luodi.ocr.pipeline.OCR`
engine of another bundle) and nothing else. Only accepted fields of the checked types are read
again, each OCR line once, so the cost is a few line crops per page.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from luodi.kie.calibration import char_scores, is_rare
from luodi.kie.result import Extraction, FieldResult
from luodi.ocr.crop import crop_quad

if TYPE_CHECKING:
    from luodi.kie.divisions import DivisionIndex
    from luodi.kie.schema import FieldSpec, Schema
    from luodi.ocr.result import Line, RecResult

# The value types whose characters are keyed in as read (a misread one is a wrong parcel). Carrier
# names, weights and counts are checked by their own validators and vocabularies.
CHECKED_TYPES = frozenset(
    {"name", "phone", "address", "address_part", "text", "tracking_number", "id_number", "account"}
)
REASON = "a second reading differs"
# A character the second reading reads otherwise counts from this confidence on: below it, the
# second recogniser is unsure itself (chosen on dev pages, see bench/kie_second_reading.py).
DIFFER_MIN = 0.8
# Every character of a value the second reading must read at least this sure to settle doubts
# about single characters of the first reading.
SETTLE_MIN = 0.95
# The bar below which a character makes an accepted value worth reading again where only the
# doubted values are read (SecondReading(doubt_below=…)): chosen on dev pages
# (bench/kie_second_reading.py --doubt-below; bench/results/kie_second_reading.md).
DOUBT_BELOW = 0.9
# The types whose doubted characters a second reading can settle: not numbers, whose digit
# confusions (3 / 8) the recognisers share and nothing around a digit tells.
SETTLE_TYPES = frozenset({"name", "address", "address_part", "text"})
# The reasons a second reading can settle: single characters read unsure (decide.weak_characters),
# and an address part's doubt that is only its address's.
_WEAK = re.compile(r"^(rare )?character \S+ read with confidence [0-9.]+$")
_OF_ADDRESS = re.compile(r"^the address \((\w+)\) needs review$")


class LineReader(Protocol):
    def recognize(self, crops: Sequence[np.ndarray]) -> list[RecResult]: ...


@dataclass(frozen=True, slots=True)
class SecondReading:
    """Flags accepted values whose characters a second recogniser reads otherwise, and settles
    values doubted only for single characters that it reads the same, sure.

    ``reader`` reads upright line crops (``OCR("pp-ocrv4")``: a recogniser trained apart from the
    default one); ``charset`` the characters it can read at all (a character outside it, 酆 for
    PP-OCRv4, is no evidence either way; None: every one); ``types`` the field types checked.
    """

    reader: LineReader
    charset: frozenset[str] | None = None
    types: frozenset[str] = CHECKED_TYPES
    differ_min: float = DIFFER_MIN
    settle_min: float = SETTLE_MIN
    # What is cut out: the whole OCR line ("line"), or the value with one character of the line
    # on either side ("value": less to read where a value is a small part of its line).
    crop: Literal["line", "value"] = "line"
    # Which accepted values are read again: every one (None), or only those with a character the
    # first reading was less sure of than this (a confident misreading is mostly shared by both
    # recognisers, so the sure values cost most of the reading and yield little). Values in doubt
    # only for single characters are read either way: settling them is what a reading wins most.
    doubt_below: float | None = None

    @classmethod
    def from_model(
        cls, model: str = "pp-ocrv4", *, threads: int | None = None, doubt_below: float | None = None
    ) -> SecondReading:
        """A second reading by the recogniser of another model bundle of the store."""
        from luodi.ocr.ctc import load_characters
        from luodi.ocr.pipeline import OCR
        from luodi.zoo import get_bundle

        engine = OCR(model, threads=threads, locator=None)
        bundle = get_bundle(model)
        charset = frozenset(load_characters(bundle.dictionary)) if bundle.dictionary else None
        return cls(engine, charset, doubt_below=doubt_below)

    def __call__(
        self,
        result: Extraction,
        pages: Sequence[np.ndarray],
        schema: Schema,
        divisions: DivisionIndex | None = None,
    ) -> Extraction:
        """``result`` read again: ``pages`` are the document's page images (RGB), in the frame the
        OCR lines' boxes are in; ``divisions`` (the gazetteer's names) settle a division name the
        first reading has and the gazetteer knows: the second reading's other name is a misreading."""
        specs = schema.fields
        todo = [f for f in result.fields if f.found and f.pieces and specs[f.name].type in self.types]
        todo = [f for f in todo if not f.needs_review or (_only_weak(f) and specs[f.name].type in SETTLE_TYPES)]
        if self.doubt_below is not None:
            todo = [f for f in todo if f.needs_review or least_sure(f) < self.doubt_below]
        readings = self._read(todo, pages)
        changed: dict[str, FieldResult] = {}
        for f in todo:
            seen = _compare(f, readings, self.charset)
            if seen is None:
                continue
            other, differ, agree = seen
            if not f.needs_review:
                if differ >= self.differ_min and not _division_settles(specs[f.name], f.value, other, divisions):
                    changed[f.name] = dataclasses.replace(
                        f,
                        needs_review=True,
                        flagged=True,
                        reasons=(*f.reasons, f"{REASON}: '{other}'"),
                        alternatives=(*f.alternatives, other),
                    )
            elif differ < 0 and agree >= self.settle_min:
                changed[f.name] = dataclasses.replace(f, needs_review=False, flagged=False, reasons=())
        # an address part in doubt only through its address: settled with it
        for f in result.fields:
            m = [_OF_ADDRESS.match(r) for r in f.reasons]
            if (
                f.needs_review
                and f.found
                and m
                and all(m)
                and all(x is not None and x.group(1) in changed and not changed[x.group(1)].needs_review for x in m)
            ):
                changed[f.name] = dataclasses.replace(f, needs_review=False, flagged=False, reasons=())
        if not changed:
            return result
        fields = tuple(changed.get(f.name, f) for f in result.fields)
        needs = any(f.needs_review for f in fields if specs[f.name].required) or bool(result.reasons)
        return dataclasses.replace(result, fields=fields, needs_review=needs)

    def _read(self, todo: Sequence[FieldResult], pages: Sequence[np.ndarray]) -> dict[int, _Reading]:
        """The second reading of every OCR line the fields were read from, once each: the whole
        line, or (``crop="value"``) the stretch of it that holds the values, a character wider."""
        spans: dict[int, tuple[int, Line, int, int]] = {}
        for f in todo:
            for p in f.pieces:
                if not 0 <= p.tline.page < len(pages):
                    continue
                line = p.tline.line
                lo, hi = (0, len(line.text)) if self.crop == "line" else (p.start - 1, p.end + 1)
                _, _, s0, e0 = spans.get(id(line), (0, line, lo, hi))
                spans[id(line)] = (p.tline.page, line, max(0, min(s0, lo)), min(len(line.text), max(e0, hi)))
        keys = list(spans)
        crops = [_crop(pages[spans[k][0]], spans[k][1], spans[k][2], spans[k][3]) for k in keys]
        got = self.reader.recognize(crops) if crops else []
        return {k: (spans[k][2], spans[k][3], r) for k, r in zip(keys, got, strict=True)}


def least_sure(f: FieldResult) -> float:
    """The first reading's confidence in the least sure character of ``f``'s pieces."""
    return min((s for _, s in char_scores(tuple(f.pieces))), default=1.0)


def _only_weak(f: FieldResult) -> bool:
    """Whether ``f`` needs review only for characters read unsure (see :func:`compare_span`)."""
    return bool(f.reasons) and all(_WEAK.match(r) for r in f.reasons)


def _division_settles(spec: FieldSpec, value: Any, other: str, divisions: DivisionIndex | None) -> bool:
    """Whether the first reading's division names, known to the gazetteer, outweigh the second's."""
    if divisions is None or not isinstance(value, str):
        return False
    if spec.type == "address_part" and spec.part in ("province", "city", "district"):
        return divisions.knows(value, spec.part) and not divisions.knows(other, spec.part)
    if spec.type == "address":
        return divisions.known(value) > divisions.known(other)
    return False


# A line's second reading: the stretch of its text read (start, end) and what was read there.
_Reading = tuple[int, int, "RecResult"]


def _crop(page: np.ndarray, line: Line, start: int, end: int) -> np.ndarray:
    # The line's box starts at its reading top-left: the crop comes out upright.
    quad = line.box if start == 0 and end >= len(line.text) else line.sub_box(start, end)
    return crop_quad(page, np.asarray(quad, dtype=np.float32))


def _compare(
    f: FieldResult, readings: dict[int, _Reading], charset: frozenset[str] | None
) -> tuple[str, float, float] | None:
    """The second reading of ``f``'s characters, how sure it is of a difference (-1: none) and
    how sure of the characters it reads the same; None where a line was not read again."""
    texts: list[str] = []
    differ, agree = -1.0, 1.0
    for p in f.pieces:
        seen = readings.get(id(p.tline.line))
        if seen is None:
            return None
        s0, e0, res = seen
        scores = res.char_scores if len(res.char_scores) == len(res.text) else (res.score,) * len(res.text)
        got = compare_span(p.tline.line.text[s0:e0], res.text, scores, p.start - s0, p.end - s0, charset)
        texts.append(got.text)
        differ = max(differ, got.differ)
        agree = min(agree, got.agree)
    return "".join(texts), differ, agree


def _fold(c: str) -> str:
    n = unicodedata.normalize("NFKC", c)
    n = (n if len(n) == 1 else c).lower()
    # O and 0 are one shape in most label fonts (JT0007… read jto007…): formats check them
    return "0" if n == "o" else n


def _kind(c: str) -> str:
    if c.isdigit():
        return "digit"
    if c.isascii() and c.isalpha():
        return "latin"
    if unicodedata.category(c).startswith("L"):
        return "han"
    return "other"


@dataclass(frozen=True, slots=True)
class Comparison:
    text: str  # what the second reading reads for the value
    differ: float  # the least confidence among the characters it reads otherwise (-1: none)
    agree: float  # the least confidence among the characters it reads the same (1: none)


def compare_span(
    first: str,
    second: str,
    scores: Sequence[float],
    start: int,
    end: int,
    charset: frozenset[str] | None = None,
) -> Comparison:
    """What ``second`` (with per-character ``scores``) reads for ``first[start:end]``.

    Counted as different: a character of the value read as another letter, digit or Han character,
    and one the second reading has that the first lacks (inside the value, or at its edge and of
    the kind of the value's character beside it: a name's last character the first reading
    dropped). Not counted: whitespace, full-/half-width forms, O for 0, punctuation read otherwise,
    a character the second reading lacks (a recogniser drops characters it is unsure of; the first
    saw something there), one outside ``charset`` (the second recogniser cannot read it) and a rare
    character (outside GB2312 level 1: the first reading's own rule for rare characters judges it;
    a second recogniser that saw few of them in training reads 彧 as 或 with confidence).
    """
    a = [(i, _fold(c)) for i, c in enumerate(first) if not c.isspace()]
    b = [(_fold(c), scores[j]) for j, c in enumerate(second) if not c.isspace()]
    inside = [k for k, (i, _) in enumerate(a) if start <= i < end]
    if not inside:
        return Comparison("", -1.0, 1.0)
    lo, hi = inside[0], inside[-1] + 1
    matcher = difflib.SequenceMatcher(None, [c for _, c in a], [c for c, _ in b], autojunk=False)
    differ: list[float] = []
    agree: list[float] = []
    got: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        k1, k2 = max(i1, lo), min(i2, hi)
        if tag == "equal":
            got += [a[k][1] for k in range(k1, k2)]
            agree += [b[j1 + k - i1][1] for k in range(k1, k2) if _kind(a[k][1]) != "other"]
        elif tag == "delete" or (tag == "replace" and k1 >= k2):
            got += [a[k][1] for k in range(k1, k2)]
            if any(_kind(a[k][1]) != "other" for k in range(k1, k2)):
                agree.append(0.0)  # not confirmed: the second reading lacks it
        elif tag == "replace":
            mine = [a[k][1] for k in range(k1, k2)]
            theirs = b[j1:j2]
            got += [c for c, _ in theirs]
            if all(is_rare(c) or (charset is not None and c not in charset) for c in mine):
                agree.append(0.0)  # not confirmed either
                continue
            differ += [s for c, s in theirs if _kind(c) != "other"]
            if any(_kind(c) != "other" for c in mine):
                agree.append(0.0)  # a character of the value the second reading does not confirm
        elif lo <= i1 <= hi:  # an insertion inside the value or at its edges
            edge = a[i1 - 1][1] if i1 == hi else a[i1][1] if i1 == lo else None
            extra = [(c, s) for c, s in b[j1:j2] if edge is None or _kind(c) == _kind(edge)]
            got += [c for c, _ in extra]
            differ += [s for c, s in extra if _kind(c) != "other"]
    return Comparison("".join(got), min(differ) if differ else -1.0, min(agree) if agree else 1.0)
