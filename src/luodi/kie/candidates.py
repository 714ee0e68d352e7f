"""Candidates: what the proposers put forward and the decision step weighs.

A *candidate* is one possible value of one field: the run of OCR characters it was read from, the
raw text, a score (OCR confidence × how it was found), a trust tier and the evidence behind it
(:class:`Evidence`, the features the calibration reads). Every proposer adds candidates to one
:class:`Pool` per document; nothing is decided until every proposer has run.

:class:`Reading` is what a proposer gets besides the page: the schema's tables (label lexicon,
party fields) and the contact parser of this extraction. It holds no state of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from luodi.kie.layout import Entry, Hit, Run, build_lexicon, run_score, run_text, sub_run
from luodi.kie.parties import PartyParse, PartyParser, Span
from luodi.kie.schema import Schema
from luodi.kie.validators import phone_text

# Trust tiers: a value next to its own label beats one parsed out of a party block, which beats
# one found by scanning the page.
TIER_LABEL, TIER_BLOCK, TIER_SCAN = 3, 2, 1
SOURCE_FACTOR = {"inline": 1.0, "right": 0.97, "below": 0.93, "above": 0.93}


@dataclass(frozen=True, slots=True)
class Candidate:
    field: str
    run: Run
    raw: str
    score: float
    tier: int
    reasons: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    parts: PartyParse | None = None  # an address's parts, offsets relative to ``raw``
    # How it was found: "inline", "right", "below", "above" (a caption under its value), "block",
    # "tag", "position", "scan".
    where: str = "inline"
    label_quality: float = 1.0
    # Found right under its label on a page that prints every label over its value
    # (``PageLayout.labels_over``): as sure a place as after it.
    under_its_label: bool = False


@dataclass(slots=True)
class Pool:
    by_field: dict[str, list[Candidate]] = field(default_factory=dict)
    # Label hits seen on the pages: a page with labels and no values is a blank form.
    label_hits: int = 0
    # Carrier codes a product name printed on the page may stand for (标准快递: several).
    product_codes: set[str] = field(default_factory=set)
    # How well the OCR read the page as a whole (median line confidence): a photographed, folded
    # page misleads the layout too, not only the characters.
    page_ocr: float = 1.0
    # Stamps seen over the text (page, centre x, centre y, radius in page pixels; see
    # luodi.kie.banks.find_stamps): a value under one may have lost characters to it.
    stamps: list[tuple[int, float, float, float]] = field(default_factory=list)

    def add(self, cand: Candidate) -> None:
        self.by_field.setdefault(cand.field, []).append(cand)

    def used_lines(self) -> set[int]:
        return {id(p.tline) for cands in self.by_field.values() for c in cands for p in c.run}


@dataclass(frozen=True, slots=True)
class SchemaTables:
    """What the proposers look up in the schema, computed once per extractor."""

    schema: Schema
    lexicon: tuple[Entry, ...]
    label_keys: frozenset[str]
    party_fields: dict[tuple[str, str], str]
    parties: tuple[str, ...]  # in the schema's order: the first is the upper block by convention

    @classmethod
    def of(cls, schema: Schema) -> SchemaTables:
        lexicon = build_lexicon(schema)
        party_fields: dict[tuple[str, str], str] = {
            (str(spec.party), str(role)): name
            for name, spec in schema.fields.items()
            if spec.party is not None and (role := spec.effective_role) is not None
        }
        return cls(schema, lexicon, frozenset(e.key for e in lexicon), party_fields, tuple(schema.parties))

    def party_field(self, party: str, role: str) -> str | None:
        return self.party_fields.get((party, role))

    def is_name_label(self, hit: Hit) -> bool:
        fields = self.schema.fields
        return any(fields[n].party is not None and fields[n].effective_role == "name" for n in hit.entry.targets)


@dataclass(frozen=True, slots=True)
class Reading:
    """The tools of one extraction: the schema's tables and the (memoised) contact parser."""

    tables: SchemaTables
    parse: PartyParser

    @property
    def schema(self) -> Schema:
        return self.tables.schema


def cand(
    name: str, run: Run, tier: int, quality: float, reasons: Sequence[str] = (), *, where: str = "inline"
) -> Candidate:
    return Candidate(name, run, run_text(run), run_score(run) * quality, tier, tuple(reasons), where=where)


def span_cand(
    name: str,
    span: Span,
    run: Run | None,
    *,
    tier: int,
    quality: float,
    reasons: Sequence[str] = (),
    where: str = "block",
) -> Candidate:
    piece_run = sub_run(run, span.start, span.end) if run else ()
    ocr = run_score(piece_run) if piece_run else 1.0
    return Candidate(name, piece_run, span.value, ocr * quality * span.score, tier, tuple(reasons), where=where)


def add_phones(
    name: str,
    phones: Sequence[Span],
    run: Run | None,
    pool: Pool,
    *,
    tier: int,
    quality: float,
    reasons: Sequence[str] = (),
    where: str = "block",
) -> None:
    if not phones:
        return
    first = span_cand(name, phones[0], run, tier=tier, quality=quality, reasons=reasons, where=where)
    if len(phones) > 1:
        others = tuple(p.value for p in phones[1:])
        why = (*first.reasons, f"{len(phones)} phone numbers in one place")
        first = dataclasses.replace(first, reasons=why, alternatives=others)
    pool.add(first)


def phone_spans(text: str, found: Sequence[tuple[int, int]]) -> list[Span]:
    return [Span(phone_text(text[s:e]), s, e) for s, e in found]
