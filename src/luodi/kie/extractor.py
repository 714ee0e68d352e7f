"""Schema-driven key-information extraction over an OCR :class:`~luodi.ocr.result.Document`.

The :class:`Extractor` is immutable after construction and safe to share between threads: the
schema, its label lexicon and the (lazily built) OCR engine are read-only. Extraction is
deterministic and pure Python over the OCR lines, so it costs a small fraction of OCR time.

How a field is decided: every label hit, tag block, section and page scan proposes *candidates*
(value run, raw text, score, trust tier). Candidates with the same normalised value agree — the
same party printed twice on a two-part stub — and their scores combine; disagreeing candidates
of the best tier make the field ``needs_review`` with the other values as ``alternatives``.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from luodi.errors import InputError
from luodi.kie.divisions import correct_divisions
from luodi.kie.layout import (
    Entry,
    Hit,
    PageLayout,
    Piece,
    Run,
    TLine,
    build_lexicon,
    inline_value,
    make_lines,
    run_box,
    run_score,
    run_text,
    sub_run,
)
from luodi.kie.normalize import compact, fold, to_simplified
from luodi.kie.parties import PartyParse, Span, is_simple_name, parse_party, split_address
from luodi.kie.result import Extraction, FieldResult
from luodi.kie.schema import FieldSpec, Schema, load_schema
from luodi.kie.surnames import has_surname
from luodi.kie.validators import (
    AMOUNT_RE,
    CHECKERS,
    ID_RE,
    TRACKING_RE,
    Checked,
    carrier_keyword,
    carriers_for_number,
    check,
    check_tracking_number,
    find_phones,
    id_birth_date,
    id_sex,
    parse_capital_amount,
)
from luodi.ocr.result import Document, Line, Page

if TYPE_CHECKING:
    from luodi.ocr.pipeline import OCR

# Values with a shape of their own are cut out of the label's text by these patterns when the
# schema gives none; free-text types take everything after the label.
_IMPLICIT: dict[str, str] = {
    "tracking_number": TRACKING_RE.pattern,
    # A decimal comma is read as a point (17,4kg: handwriting, European forms, OCR).
    "weight": r"(\d+(?:[.,]\d{1,3})?\s*(?:kg|公斤|千克|斤|克|g)?)(?![a-z])",
    "date": r"(\d{4}\s*[年./\-]\s*\d{1,2}\s*[月./\-]\s*\d{1,2}\s*日?|\d{8})",
    "amount": r"([¥￥]?\s*" + AMOUNT_RE.pattern + ")",
    "id_number": ID_RE.pattern,
    "count": r"(\d+)",
    "time": r"(\d{1,2}\s*[:：]\s*\d{2}(?:\s*[:：]\s*\d{2})?)",
}
# What a page scan looks for when a field has `scan: true` and no label was found.
_SCAN: dict[str, str] = {
    "tracking_number": TRACKING_RE.pattern,
    "weight": r"(\d+(?:\.\d+)?\s*(?:kg|公斤|千克))(?![a-z])",
    "id_number": ID_RE.pattern,
}

# Value types whose traditional characters a `simplified: true` schema converts.
_SIMPLIFIED_TYPES = frozenset({"name", "address", "text"})

# Trust tiers: a value next to its own label beats one parsed out of a party block, which beats
# one found by scanning the page.
TIER_LABEL, TIER_BLOCK, TIER_SCAN = 3, 2, 1
_SOURCE_FACTOR = {"inline": 1.0, "right": 0.97, "below": 0.93}


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


@dataclass(frozen=True, slots=True)
class _Region:
    tag: Hit
    party: str
    labelled: bool  # labels inside the block: the tag only tells their party


@dataclass(slots=True)
class _Pool:
    by_field: dict[str, list[Candidate]] = field(default_factory=dict)

    def add(self, cand: Candidate) -> None:
        self.by_field.setdefault(cand.field, []).append(cand)


class Extractor:
    """Extract the fields of a schema from images, OCR documents or free text.

    ``schema`` is a built-in name (``waybill``, ``contact``, ``bank_receipt``, ``id_card``), a
    path to a YAML schema, or a :class:`~luodi.kie.schema.Schema`. ``ocr`` is an existing OCR
    engine to share; otherwise one is built on the first image call from ``model``/``runtime``/
    ``threads``/``settings``. ``review_threshold`` overrides the schema's threshold.
    """

    def __init__(
        self,
        schema: str | Path | Schema = "waybill",
        *,
        ocr: OCR | None = None,
        model: str | None = None,
        runtime: str | None = None,
        threads: int | None = None,
        settings: Any = None,
        review_threshold: float | None = None,
    ) -> None:
        self.schema: Schema = load_schema(schema)
        if review_threshold is not None and not 0.0 <= review_threshold <= 1.0:
            raise InputError(f"review_threshold must be within 0..1, got {review_threshold}")
        self.review_threshold = self.schema.review_threshold if review_threshold is None else review_threshold
        self._lexicon: tuple[Entry, ...] = build_lexicon(self.schema)
        self._label_keys = frozenset(e.key for e in self._lexicon)
        self._party_fields: dict[tuple[str, str], str] = {
            (spec.party, role): name
            for name, spec in self.schema.fields.items()
            if spec.party is not None and (role := spec.effective_role) is not None
        }
        self._ocr = ocr
        self._ocr_args = {"model": model, "runtime": runtime, "threads": threads, "settings": settings}
        self._ocr_lock = threading.Lock()

    # --- entry points ------------------------------------------------------------------------
    @property
    def ocr(self) -> OCR:
        """The OCR engine (built once, on first use, so constructing an Extractor is cheap)."""
        if self._ocr is None:
            with self._ocr_lock:
                if self._ocr is None:
                    from luodi.ocr.pipeline import OCR

                    self._ocr = OCR(**self._ocr_args)
        return self._ocr

    def __call__(self, source: Any, *, name: str | None = None) -> Extraction:
        doc = self.ocr(source, name=name)
        return self.extract_document(doc)

    def extract_text(self, text: str, *, name: str | None = None) -> Extraction:
        """Fields of one party in free text (the ``contact`` schema, or any schema's party roles)."""
        if not isinstance(text, str):
            raise InputError("extract_text expects a str")
        if self.schema.mode != "contact":
            # Labelled text ("收件人：张三\n电话：…"): one line per text line, stacked on a page.
            return _without_boxes(self.extract_document(_text_document(text, name)))
        t0 = time.perf_counter()
        pool = _Pool()
        if text.strip():
            self._contact_candidates(text, None, pool)
        result = self._decide(pool, source=name, pages=0)
        return _with_timing(result, {"extract": (time.perf_counter() - t0) * 1000})

    def extract_document(self, doc: Document) -> Extraction:
        t0 = time.perf_counter()
        pool = _Pool()
        if self.schema.mode == "contact":
            for page in doc.pages:
                lines = sorted(make_lines(page), key=lambda t: (t.y0, t.x0))
                run: Run = tuple(Piece(t, 0, len(t.text)) for t in lines)
                if run:
                    self._contact_candidates(run_text(run), run, pool)
        else:
            for page in doc.pages:
                layout = PageLayout(make_lines(page), self._lexicon)
                self._page_candidates(layout, pool)
        result = self._decide(pool, source=doc.source, pages=len(doc.pages))
        return _with_timing(result, {"ocr": doc.timings.total, "extract": (time.perf_counter() - t0) * 1000})

    # --- candidates --------------------------------------------------------------------------
    def _contact_candidates(self, text: str, run: Run | None, pool: _Pool) -> None:
        parsed = parse_party(text)
        roles = {"name": parsed.name, "address": parsed.address, "province": parsed.province}
        roles |= {"city": parsed.city, "district": parsed.district, "detail": parsed.detail}
        for name, spec in self.schema.fields.items():
            role = spec.effective_role or name
            if role == "phone":
                self._add_phones(name, parsed.phones, run, pool, tier=TIER_BLOCK, quality=1.0, reasons=parsed.reasons)
                continue
            span = roles.get(role) or roles.get(name)
            if span is not None:
                pool.add(self._span_cand(name, span, run, tier=TIER_BLOCK, quality=1.0, reasons=parsed.reasons))

    def _span_cand(
        self, name: str, span: Span, run: Run | None, *, tier: int, quality: float, reasons: Sequence[str] = ()
    ) -> Candidate:
        piece_run = sub_run(run, span.start, span.end) if run else ()
        ocr = run_score(piece_run) if piece_run else 1.0
        return Candidate(name, piece_run, span.value, ocr * quality * span.score, tier, tuple(reasons))

    def _add_phones(
        self,
        name: str,
        phones: Sequence[Span],
        run: Run | None,
        pool: _Pool,
        *,
        tier: int,
        quality: float,
        reasons: Sequence[str] = (),
    ) -> None:
        if not phones:
            return
        first = self._span_cand(name, phones[0], run, tier=tier, quality=quality, reasons=reasons)
        if len(phones) > 1:
            others = tuple(p.value for p in phones[1:])
            why = (*first.reasons, f"{len(phones)} phone numbers in one place")
            first = dataclasses.replace(first, reasons=why, alternatives=others)
        pool.add(first)

    def _page_candidates(self, layout: PageLayout, pool: _Pool) -> None:
        hits = list(layout.all_hits())
        markers = [h for h in hits if h.kind in ("header", "tag") or (h.kind == "field" and self._is_name_label(h))]
        regions = self._vertical_tags(layout, hits)
        unassigned: list[tuple[Hit, str]] = []
        for hit in hits:
            region = next((r for r in regions if r.tag is hit), None)
            if region is not None:
                if not region.labelled:
                    # A tall tag over an unlabelled block (收 printed vertically): read it like a tag.
                    tag = Hit(
                        hit.tline,
                        hit.start,
                        hit.end,
                        Entry(hit.entry.key, "tag", (region.party,), region.party),
                        hit.quality,
                    )
                    self._block(tag, layout, region.party, pool, TIER_BLOCK, quality=0.95)
                continue
            if hit.kind == "field":
                for name in hit.entry.targets:
                    spec = self.schema.fields[name]
                    if spec.party is not None and spec.effective_role == "name":
                        self._block(hit, layout, spec.party, pool, TIER_LABEL, name_field=name)
                    else:
                        self._direct(name, spec, hit, layout, pool, tier=TIER_LABEL)
            elif hit.kind == "generic":
                role = hit.entry.targets[0]
                party = self._party_for(hit, markers, regions, layout)
                if party is None:
                    unassigned.append((hit, role))
                else:
                    self._generic(hit, role, party, layout, pool, quality=0.95, reasons=())
            elif hit.kind in {"tag", "header"}:
                self._block(hit, layout, hit.entry.targets[0], pool, TIER_BLOCK, quality=0.95)
        self._assign_by_position(unassigned, layout, pool)
        self._orphan_blocks(layout, pool)
        self._unlabelled_addresses(layout, pool)
        self._scan(layout, pool)

    def _is_name_label(self, hit: Hit) -> bool:
        return any(
            self.schema.fields[n].party is not None and self.schema.fields[n].effective_role == "name"
            for n in hit.entry.targets
        )

    def _vertical_tags(self, layout: PageLayout, hits: Sequence[Hit]) -> list[_Region]:
        """Tall narrow boxes of one to four characters naming a party (收 / 寄件方 printed
        vertically at the left of a block): the block to their right, over their height, is that
        party's, whatever its labels say (联系人 alone does not tell the party)."""
        regions: list[_Region] = []
        for hit in hits:
            t = hit.tline
            n = len(compact(t.text))
            if hit.party is None or not 1 <= n <= 4 or (t.y1 - t.y0) < 1.8 * (t.x1 - t.x0):
                continue
            if hit.kind == "field" and not self._is_name_label(hit):
                continue
            inside = [
                h
                for h in hits
                if h.tline is not t
                and h.tline.page == t.page
                and h.tline.x0 >= t.x1 - 0.5 * layout.median_h
                and t.y0 - 0.3 * layout.median_h <= h.tline.yc <= t.y1 + 0.3 * layout.median_h
            ]
            regions.append(_Region(hit, hit.party, bool(inside)))
        return regions

    def _party_for(
        self, hit: Hit, markers: Sequence[Hit], regions: Sequence[_Region], layout: PageLayout
    ) -> str | None:
        """The party of a generic label: a vertical tag the label sits right of, a party label
        before it on its own line (Consignee 联系人, 收件人 电话), else the nearest section marker
        above (or left of) it."""
        t = hit.tline
        x = t.x_of(hit.start)
        for region in regions:
            rt = region.tag.tline
            slack = 0.3 * rt.h
            if rt.page == t.page and t.x0 >= rt.x1 - slack and rt.y0 - slack <= t.yc <= rt.y1 + slack:
                return region.party
        before = [h for h in layout.hits_of(t) if h.end <= hit.start]
        if before and before[-1].party is not None:
            return before[-1].party
        best: tuple[float, str] | None = None
        for m in markers:
            mt = m.tline
            if m.party is None or mt.page != t.page or mt.y0 > t.yc + 0.3 * t.h:
                continue
            if hit.entry.targets == ("name",) and m.kind == "field":
                continue  # a second name label under a party's name label is the other party
            mx0 = mt.x_of(m.start)
            if mx0 > x + 2 * t.h:
                continue  # a marker entirely to the right belongs to another column
            dy = max(0.0, t.y0 - mt.y0)
            dx = max(0.0, x - mt.x1)
            dist = dy + 0.5 * dx
            if best is None or dist < best[0]:
                best = (dist, m.party)
        return best[1] if best else None

    def _generic(
        self,
        hit: Hit,
        role: str,
        party: str,
        layout: PageLayout,
        pool: _Pool,
        *,
        quality: float,
        reasons: Sequence[str],
    ) -> None:
        name = self._party_fields.get((party, role))
        if name is None:
            return
        if role == "name":
            self._block(hit, layout, party, pool, TIER_LABEL, name_field=name, quality=quality, reasons=reasons)
        else:
            self._direct(
                name, self.schema.fields[name], hit, layout, pool, tier=TIER_LABEL, quality=quality, reasons=reasons
            )

    def _assign_by_position(self, unassigned: list[tuple[Hit, str]], layout: PageLayout, pool: _Pool) -> None:
        """Generic labels with no party marker anywhere: the upper group is the receiver (e-waybill
        convention), the lower the sender; marked for review because position is weak evidence."""
        if not unassigned or not self.schema.parties:
            return
        by_role: dict[str, list[Hit]] = {}
        for hit, role in unassigned:
            by_role.setdefault(role, []).append(hit)
        order = ["receiver", "sender"]
        for role, role_hits in by_role.items():
            role_hits.sort(key=lambda h: (h.tline.y0, h.tline.x0))
            free = [p for p in order if not pool.by_field.get(self._party_fields.get((p, role), ""))]
            for hit, party in zip(role_hits, free, strict=False):
                self._generic(
                    hit, role, party, layout, pool, quality=0.7, reasons=("party decided from position only",)
                )

    def _orphan_blocks(self, layout: PageLayout, pool: _Pool) -> None:
        """Contact blocks with no label and no tag that OCR could read (a 收 / 寄 mark printed
        white on black is often missed): a line with a phone, the name line above it, the
        address lines below. They go to the parties still empty, top block first (receiver:
        the e-waybill convention), and are marked for review."""
        if not self.schema.parties:
            return
        used = {id(p.tline) for cands in pool.by_field.values() for c in cands for p in c.run}
        claimed: set[int] = set()
        blocks: list[list[TLine]] = []
        for t in layout.lines:
            if id(t) in used or id(t) in claimed or layout.hits_of(t) or layout.is_key_line(t):
                continue
            if not find_phones(t.text):
                continue
            # A name in its own box left of the phone (钱七 | 137…) starts the block.
            left = [
                o
                for o in layout.left_neighbours(t)
                if id(o) not in used | claimed and not layout.hits_of(o) and not find_phones(o.text)
            ]
            lines = [*left, t]
            above = layout.line_above(lines[0])
            if (
                above is not None
                and id(above) not in used | claimed
                and not layout.hits_of(above)
                and re.fullmatch(r"[\u4e00-\u9fff·]{2,5}", compact(above.text)) is not None
            ):
                lines.insert(0, above)
            more = layout.continuation(t, lines[0].x0)
            lines = layout.one_contact(lines + [o for o in more if id(o) not in used])
            claimed.update(id(o) for o in lines)
            blocks.append(lines)
        if not blocks:
            return
        free = [
            p
            for p in ("receiver", "sender")
            if not any(pool.by_field.get(self._party_fields.get((p, r), "")) for r in ("name", "phone"))
        ]
        for lines, party in zip(blocks, free, strict=False):
            run: Run = tuple(Piece(o, 0, len(o.text)) for o in lines)
            parsed = parse_party(run_text(run))
            why = ("party decided from position only", *parsed.reasons)
            for role, span in (("name", parsed.name), ("address", parsed.address)):
                field_name = self._party_fields.get((party, role))
                if field_name and span is not None:
                    cand = self._span_cand(field_name, span, run, tier=TIER_BLOCK, quality=0.8, reasons=why)
                    if role == "address":
                        cand = dataclasses.replace(cand, parts=_relative_parts(parsed, span))
                    pool.add(cand)
            phone_field = self._party_fields.get((party, "phone"))
            if phone_field:
                self._add_phones(phone_field, parsed.phones, run, pool, tier=TIER_BLOCK, quality=0.8, reasons=why)

    def _unlabelled_addresses(self, layout: PageLayout, pool: _Pool) -> None:
        """A party with a name or phone but no address: address-like lines right under its
        lowest value line (the address label was not printed or not read), marked for review."""
        if not self.schema.parties:
            return
        used = {id(p.tline) for cands in pool.by_field.values() for c in cands for p in c.run}
        for party in self.schema.parties:
            addr_field = self._party_fields.get((party, "address"))
            if addr_field is None or pool.by_field.get(addr_field):
                continue
            own = (
                [
                    p.tline
                    for role in ("name", "phone")
                    for c in pool.by_field.get(self._party_fields.get((party, role), ""), [])
                    for p in c.run
                    if p.tline.page == layout.lines[0].page
                ]
                if layout.lines
                else []
            )
            if not own:
                continue
            last = max(own, key=lambda t: t.y1)
            lines = [o for o in layout.continuation(last, last.x0) if id(o) not in used]
            if not lines:
                continue
            run: Run = tuple(Piece(o, 0, len(o.text)) for o in lines)
            text = run_text(run)
            if len(split_address(text)) < 3 or find_phones(text):
                continue  # not recognisably an address on its own
            pool.add(self._cand(addr_field, run, TIER_BLOCK, 0.8, ("address found without a label",)))

    def _direct(
        self,
        name: str,
        spec: FieldSpec,
        hit: Hit,
        layout: PageLayout,
        pool: _Pool,
        *,
        tier: int,
        quality: float = 1.0,
        reasons: Sequence[str] = (),
    ) -> None:
        quality *= hit.quality
        nxt = layout.next_start(hit)
        options: list[tuple[Run, str]] = []
        inline = inline_value(hit, nxt)
        if inline:
            options.append((inline, "inline"))
        else:
            near = layout.value_neighbour(hit)
            if near is not None and near[1] == "right" and spec.is_multiline:
                cell = layout.right_cell(hit)
                options.append((tuple(Piece(o, 0, len(o.text)) for o in cell), "right"))
            elif near is not None and spec.is_multiline:
                row = [near[0], *layout.row_mates(near[0])]
                options.append((tuple(Piece(o, 0, len(o.text)) for o in row), near[1]))
            elif near is not None:
                options.append(((Piece(near[0], 0, len(near[0].text)),), near[1]))
            # Further lines under the label, for a value with a shape (a label over two values).
            options.extend(
                ((Piece(o, 0, len(o.text)),), "below") for o in layout.below(hit) if near is None or o is not near[0]
            )
        for run, source in options:
            if spec.type == "phone":
                text = run_text(run)
                phones = [Span(re.sub(r"\D", "", text[s:e]), s, e) for s, e in find_phones(text)]
                if phones:
                    self._add_phones(
                        name, phones, run, pool, tier=tier, quality=quality * _SOURCE_FACTOR[source], reasons=reasons
                    )
                    return
                if source == "inline":
                    pool.add(self._cand(name, run, tier, quality * 0.9, (*reasons, "no phone pattern")))
                    return
                continue
            value = self._match(spec, run)
            if value is None:
                continue
            if spec.is_multiline:
                label_x = hit.tline.x_of(hit.start) if source == "inline" else None
                value = self._extend(value, layout, label_x)
            if spec.type == "address" and find_phones(run_text(value)):
                # NAME PHONE ADDRESS run together after an address label (in any order): the
                # contact parser takes it apart; the name and phone go to the same party.
                self._split_contact(
                    name, spec, value, pool, tier=tier, quality=quality * _SOURCE_FACTOR[source], reasons=reasons
                )
                return
            pool.add(self._cand(name, value, tier, quality * _SOURCE_FACTOR[source], reasons))
            return

    def _split_contact(
        self, name: str, spec: FieldSpec, run: Run, pool: _Pool, *, tier: int, quality: float, reasons: Sequence[str]
    ) -> None:
        parsed = parse_party(run_text(run))
        why = (*reasons, *parsed.reasons)
        if parsed.address is None:
            pool.add(self._cand(name, run, tier, quality * 0.8, (*why, "address mixed with a phone")))
            return
        cand = self._span_cand(name, parsed.address, run, tier=tier, quality=quality, reasons=why)
        pool.add(dataclasses.replace(cand, parts=_relative_parts(parsed, parsed.address)))
        if spec.party is None:
            return
        person = self._person_name(parsed.name)
        name_field = self._party_fields.get((spec.party, "name"))
        if person is not None and name_field:
            pool.add(self._span_cand(name_field, person, run, tier=TIER_BLOCK, quality=quality * 0.95, reasons=why))
        phone_field = self._party_fields.get((spec.party, "phone"))
        if phone_field:
            self._add_phones(
                phone_field, parsed.phones, run, pool, tier=TIER_BLOCK, quality=quality * 0.95, reasons=why
            )

    def _cand(self, name: str, run: Run, tier: int, quality: float, reasons: Sequence[str] = ()) -> Candidate:
        return Candidate(name, run, run_text(run), run_score(run) * quality, tier, tuple(reasons))

    def _match(self, spec: FieldSpec, run: Run) -> Run | None:
        text = fold(run_text(run))
        patterns = spec.patterns or ((_IMPLICIT[spec.type],) if spec.type in _IMPLICIT else ())
        if not patterns:
            return run if text.strip() else None
        for pattern in patterns:
            m = re.search(pattern, text, flags=re.IGNORECASE)
            if m:
                g = 1 if m.groups() and m.group(1) is not None else 0
                s, e = m.span(g)
                while s < e and text[s].isspace():
                    s += 1
                while e > s and text[e - 1].isspace():
                    e -= 1
                if s < e:
                    return sub_run(run, s, e)
        return None

    def _extend(self, run: Run, layout: PageLayout, label_x: float | None = None) -> Run:
        first = run[0]
        x_anchor = min(first.tline.x_of(first.start), first.tline.x0 if first.start == 0 else 1e9)
        more = layout.continuation(run[-1].tline, x_anchor, indent_from=label_x)
        extra: list[Piece] = []
        for o in more:
            # A continuation line that is only a phone number is not part of the address.
            phones = find_phones(o.text)
            if phones and sum(e - s for s, e in phones) >= len(compact(o.text)) - 2:
                break
            extra.append(Piece(o, 0, len(o.text)))
        return run + tuple(extra)

    def _block(
        self,
        hit: Hit,
        layout: PageLayout,
        party: str,
        pool: _Pool,
        tier: int,
        *,
        name_field: str | None = None,
        quality: float = 1.0,
        reasons: Sequence[str] = (),
    ) -> None:
        """A party block: the name label's (or tag's) value plus the unlabelled lines under it."""
        t = hit.tline
        nxt = layout.next_start(hit)
        run: Run = inline_value(hit, nxt)
        if run:
            if nxt == len(t.text):
                # A phone printed in its own box on the same row (寄方：张三   Tel: 138…) belongs here.
                right = layout.right_of(hit)
                if right is not None and find_phones(right.text) and not layout.hits_of(right):
                    run = (*run, Piece(right, 0, len(right.text)))
                seen = [p.tline for p in run]
                more = layout.one_contact([*seen, *layout.continuation(t, t.x_of(hit.start))])[len(seen) :]
                run = run + tuple(Piece(o, 0, len(o.text)) for o in more)
        elif hit.kind == "tag":
            run = tuple(Piece(o, 0, len(o.text)) for o in layout.block_right_of_tag(hit))
            if not run:
                more = layout.one_contact(layout.continuation(t, t.x0))
                run = tuple(Piece(o, 0, len(o.text)) for o in more)
        elif nxt == len(t.text):
            near = layout.value_neighbour(hit)
            if near is not None:
                first = near[0]
                more = layout.one_contact([first, *layout.continuation(first, first.x0)])[1:]
                run = (Piece(first, 0, len(first.text)), *(Piece(o, 0, len(o.text)) for o in more))
        if not run:
            return
        quality *= hit.quality
        text = run_text(run)
        parsed: PartyParse = parse_party(text)
        why = (*reasons, *parsed.reasons)
        name = name_field or self._party_fields.get((party, "name"))
        parsed = dataclasses.replace(parsed, name=self._person_name(parsed.name))
        if parsed.name is None and len(run) > 1:
            # The name is usually on the first line of the block; noise further down (an OCR'd
            # "Te1:" before a phone) must not hide it.
            head = self._person_name(parse_party(run[0].text).name)
            if head is not None:
                parsed = dataclasses.replace(parsed, name=head)
        if parsed.name is not None:
            parsed = dataclasses.replace(parsed, name=_whole_name_box(parsed.name, run))
        if name and parsed.name is not None:
            pool.add(self._span_cand(name, parsed.name, run, tier=tier, quality=quality, reasons=why))
        elif (
            name
            and name_field
            and not parsed.phones
            and parsed.address is None
            and any(_plausible_name(m.group(), self._label_keys) for m in _NAME_RUN.finditer(text))
        ):
            # A bare value after a name label that the parser did not call a name (a company, a
            # nickname): keep it as written, for review.
            pool.add(self._cand(name, run, tier, quality * 0.8, (*why, "name not recognised as a person name")))
        phone_field = self._party_fields.get((party, "phone"))
        if phone_field:
            self._add_phones(phone_field, parsed.phones, run, pool, tier=TIER_BLOCK, quality=quality, reasons=why)
        addr_field = self._party_fields.get((party, "address"))
        if addr_field and parsed.address is not None:
            cand = self._span_cand(addr_field, parsed.address, run, tier=TIER_BLOCK, quality=quality, reasons=why)
            pool.add(dataclasses.replace(cand, parts=_relative_parts(parsed, parsed.address)))

    def _person_name(self, span: Span | None) -> Span | None:
        """The part of a name span that can be a person's name: a run of Han characters (· allowed)
        that is not a label of this schema, a unit or a word of the form; digits, +86 and other
        symbols are cut off (陆艳丽X9 → 陆艳丽). None when nothing plausible is left."""
        if span is None:
            return None
        best: tuple[tuple[int, int, int], int, int] | None = None
        for m in _NAME_RUN.finditer(span.value):
            word = m.group()
            if len(word.replace("·", "")) < 2 or not _plausible_name(word, self._label_keys):
                continue
            # A surname and a usual length make a name; among equals the first one.
            rank = (int(has_surname(word)), int(2 <= len(word) <= 4), -m.start())
            if best is None or rank > best[0]:
                best = (rank, m.start(), m.end())
        if best is None:
            return None
        _, s, e = best
        if (s, e) == (0, len(span.value)):
            return span
        return Span(span.value[s:e], span.start + s, span.start + e, span.score * 0.95)

    def _scan(self, layout: PageLayout, pool: _Pool) -> None:
        for name, spec in self.schema.fields.items():
            if spec.type == "carrier":
                for t in layout.lines:
                    found = carrier_keyword(t.text)
                    if found is not None:
                        carrier, s, e = found
                        run = (Piece(t, s, e),)
                        # A printed Chinese name is surer than an English code (EMS, STO) that
                        # may be a fragment of another word or a misread.
                        quality = 0.95 if not t.text[s:e].isascii() else 0.85
                        if len(compact(t.text)) > e - s + 4:
                            # Inside a longer text (…邮政储蓄银行旁 in an address) it is a place or a
                            # bank more often than the carrier: a name standing alone outranks it.
                            quality *= 0.6
                        pool.add(Candidate(name, run, carrier.name, run_score(run) * quality, TIER_SCAN))
                continue
            if not spec.scan:
                continue
            patterns = spec.patterns or ((_SCAN[spec.type],) if spec.type in _SCAN else ())
            for t in layout.lines:
                run = (Piece(t, 0, len(t.text)),)
                text = fold(t.text)
                views = [(text, list(range(len(text))))]
                if spec.type == "tracking_number":
                    # OCR splits printed groups (ED88 5440 996C N): also read the line without spaces.
                    keep = [i for i, c in enumerate(text) if not c.isspace()]
                    if len(keep) < len(text):
                        views.append(("".join(text[i] for i in keep), keep))
                seen: set[str] = set()
                for view, index in views:
                    for pattern in patterns:
                        for m in re.finditer(pattern, view, flags=re.IGNORECASE):
                            g = 1 if m.groups() and m.group(1) is not None else 0
                            vs, ve = m.span(g)
                            if vs >= ve:
                                continue
                            s, e = index[vs], index[ve - 1] + 1
                            raw = text[s:e]
                            quality = 0.85
                            if spec.type == "tracking_number":
                                number = re.sub(r"\s", "", raw).upper()
                                kinds = carriers_for_number(number)
                                if not kinds or number in seen:
                                    continue
                                seen.add(number)
                                quality = 0.9 if any(k.distinctive for k in kinds) else 0.8
                            value = sub_run(run, s, e)
                            pool.add(Candidate(name, value, raw, run_score(value) * quality, TIER_SCAN))

    # --- decisions ---------------------------------------------------------------------------
    def _decide(self, pool: _Pool, *, source: str | None, pages: int) -> Extraction:
        decided: dict[str, FieldResult] = {}
        specs = self.schema.fields
        # Carrier first: the tracking-number check depends on it.
        order = sorted(specs, key=lambda n: (specs[n].type != "carrier", specs[n].type == "address_part"))
        for name in order:
            spec = specs[name]
            if spec.type == "address_part":
                continue
            carrier = decided["carrier"].value if "carrier" in decided and decided["carrier"].found else None
            decided[name] = self._decide_field(name, spec, pool.by_field.get(name, []), carrier)
        self._carrier_from_number(decided)
        self._address_parts(decided, pool)
        self._cross_checks(decided)
        fields = tuple(decided[n] for n in specs)
        needs = any(f.needs_review for n, f in decided.items() if specs[n].required)
        if not any(f.found for f in fields):
            needs = True
        return Extraction(source, self.schema.name, fields, needs, pages=pages)

    def _decide_field(self, name: str, spec: FieldSpec, cands: list[Candidate], carrier: Any) -> FieldResult:
        if not cands:
            return FieldResult(name, needs_review=spec.required, reasons=("not found",) if spec.required else ())
        checked: list[tuple[Candidate, Checked]] = []
        for cand0 in cands:
            c = cand0
            ck = check_tracking_number(c.raw, carrier) if spec.type == "tracking_number" else check(spec.type, c.raw)
            for extra in spec.validators:
                more = CHECKERS[extra](str(ck.value))
                if not more.ok:
                    ck = Checked(ck.value, False, more.reason)
            if self.schema.simplified and spec.type in _SIMPLIFIED_TYPES and isinstance(ck.value, str):
                ck = Checked(to_simplified(ck.value), ck.ok, ck.reason)
            if spec.type == "address" and self.schema.mode == "document" and isinstance(ck.value, str):
                fixed = correct_divisions(ck.value)
                if fixed is not None:
                    why = f"division name corrected with the gazetteer (OCR read {ck.value})"
                    c = dataclasses.replace(c, reasons=(*c.reasons, why), alternatives=(*c.alternatives, ck.value))
                    ck = Checked(fixed, ck.ok, ck.reason)
            checked.append((c, ck))
        # Group agreeing candidates (an address that contains the other agrees with it).
        groups: list[list[tuple[Candidate, Checked]]] = []
        for item in checked:
            key = compact(str(item[1].value))
            for g in groups:
                gkey = compact(str(g[0][1].value))
                same = key == gkey or (spec.type == "address" and (key in gkey or gkey in key))
                if same:
                    g.append(item)
                    break
            else:
                groups.append([item])

        # (Counted here: list.sort empties the list while it sorts.)
        rival_addresses = spec.type == "address" and len(groups) > 1

        def group_rank(g: list[tuple[Candidate, Checked]]) -> tuple[int, int, int, float]:
            tier = max(c.tier for c, _ in g)
            valid = int(any(ck.ok for _, ck in g))
            # Two copies of an address that disagree (a two-part stub, a misread): the one whose
            # province / city / district the gazetteer knows is the better reading.
            known = max(_known_divisions(c.raw) for c, _ in g) if rival_addresses else 0
            return (tier, valid, known, _combine([c.score for c, _ in g if c.tier == tier]))

        groups.sort(key=group_rank, reverse=True)
        best = groups[0]
        tier, _, _, combined = group_rank(best)
        top = [item for item in best if item[0].tier == tier]
        cand, ck = max(top, key=lambda it: (it[1].ok, it[0].score, len(it[0].raw)))
        role = spec.effective_role or name
        reasons = list(dict.fromkeys(r for c, _ in top for r in c.reasons if _about(r, role)))
        alternatives = list(dict.fromkeys(a for c, _ in top for a in c.alternatives))
        score = combined
        if spec.type == "tracking_number" and carrier is not None and ck.ok and tier == TIER_SCAN:
            # An unlabelled number that fits the printed carrier's format is as good as labelled.
            score = min(1.0, score / 0.8 * 0.95)
        if not ck.ok:
            score *= 0.5
            reasons.append(ck.reason or "failed validation")
        rivals = [g for g in groups[1:] if max(c.tier for c, _ in g) == tier and any(k.ok for _, k in g)]
        if rivals:
            reasons.append("conflicting values")
            alternatives += [str(g[0][1].value) for g in rivals]
        review = (
            score < self.review_threshold
            or not ck.ok
            or bool(rivals)
            or bool(alternatives)
            or any("position" in r for r in reasons)
        )
        if score < self.review_threshold and not any(r.startswith("low confidence") for r in reasons):
            reasons.append(f"low confidence {score:.2f} < {self.review_threshold:.2f}")
        page = cand.run[0].tline.page if cand.run else 0
        return FieldResult(
            name,
            ck.value,
            cand.raw,
            round(min(1.0, score), 4),
            run_box(cand.run),
            page,
            review,
            tuple(reasons),
            tuple(dict.fromkeys(a for a in alternatives if compact(a) != compact(str(ck.value)))),
        )

    def _carrier_from_number(self, decided: dict[str, FieldResult]) -> None:
        """No carrier name printed: a tracking number with a distinctive prefix names it."""
        car = decided.get("carrier")
        num = decided.get("tracking_number")
        if car is None or car.found or num is None or not num.found:
            return
        kinds = [k for k in carriers_for_number(str(num.value)) if k.distinctive]
        if len(kinds) == 1:
            decided["carrier"] = FieldResult(
                "carrier",
                kinds[0].name,
                None,
                round(num.score * 0.9, 4),
                None,
                num.page,
                num.score * 0.9 < self.review_threshold,
                ("inferred from the tracking-number format",),
            )

    def _address_parts(self, decided: dict[str, FieldResult], pool: _Pool) -> None:
        for name, spec in self.schema.fields.items():
            if spec.type != "address_part" or spec.source is None or spec.part is None:
                continue
            addr = decided.get(spec.source)
            if addr is None or not addr.found or not isinstance(addr.value, str):
                decided[name] = FieldResult(name, needs_review=False)
                continue
            cand = next((c for c in pool.by_field.get(spec.source, []) if c.raw == addr.raw), None)
            run = cand.run if cand else ()
            if cand is not None and cand.parts is not None and cand.raw == addr.value:
                parsed = cand.parts  # already parsed with its party block
            else:
                parsed = _parse_address(addr.value)
            span: Span | None = getattr(parsed, spec.part)
            if span is None:
                decided[name] = FieldResult(name, needs_review=False)
                continue
            part_run = sub_run(run, span.start, span.end) if run else ()
            score = addr.score * span.score
            decided[name] = FieldResult(
                name,
                span.value,
                span.value,
                round(score, 4),
                run_box(part_run) if part_run else addr.box,
                addr.page,
                score < self.review_threshold,
                (f"low confidence {score:.2f} < {self.review_threshold:.2f}",) if score < self.review_threshold else (),
            )

    def _cross_checks(self, decided: dict[str, FieldResult]) -> None:
        for spec in self.schema.checks:
            got = [decided.get(n) for n in spec.fields]
            if spec.check == "amount_words_match" and len(got) == 2:
                amount, words = got
                if amount is None or words is None or not amount.found or not words.found:
                    continue
                parsed = parse_capital_amount(str(words.value))
                if parsed is None or not isinstance(amount.value, float):
                    continue
                if abs(float(parsed) - amount.value) > 0.005:
                    why = f"amount {amount.value:.2f} does not match the capital numerals ({parsed})"
                    for n in spec.fields:
                        decided[n] = _flag(decided[n], why)
            elif spec.check == "id_card_consistency":
                number = got[0]
                if number is None or not number.found:
                    continue
                for other in got[1:]:
                    if other is None or not other.found:
                        continue
                    expect: str | None = None
                    if other.value in ("男", "女"):
                        expect = id_sex(str(number.value))
                    elif isinstance(other.value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", other.value):
                        expect = id_birth_date(str(number.value))
                    if expect is not None and expect != other.value:
                        why = f"{other.name} {other.value} does not match the ID number ({expect})"
                        decided[other.name] = _flag(other, why)
                        decided[number.name] = _flag(decided[number.name], why)


_NAME_RUN = re.compile(r"[\u4e00-\u9fff]+(?:·[\u4e00-\u9fff]+)*")
# Words of a waybill form that are never a person's name, beside the schema's own labels.
_NOT_NAMES = frozenset(
    (
        "件数", "内件", "物品", "品名", "重量", "数量", "公斤", "千克", "签名", "签字", "日期", "时间", "备注",
        "姓名", "电话", "手机", "地址", "联系人", "收件", "寄件", "快递", "快件", "运单", "单号", "付款", "到付",
        "现付", "月结", "寄付", "保价", "代收", "货款", "打印", "详情", "信息", "客户",
    )
)  # fmt: skip


def _plausible_name(word: str, labels: frozenset[str]) -> bool:
    """A Han word that may be a person's name: not a label or a form word, and not longer than a
    name gets (four characters, or more with a surname such as 慕容 or a · separated name)."""
    if word in labels or word in _NOT_NAMES or any(word.startswith(w) or word.endswith(w) for w in _NOT_NAMES):
        return False
    if len(word) >= 3 and any(_one_char_off(word, lab) for lab in labels if len(lab) == len(word)):
        return False  # a misread label (联原人 for 联系人), not a person
    plain = word.replace("·", "")
    return len(plain) <= 4 or "·" in word or (len(plain) <= 5 and has_surname(word))


@lru_cache(maxsize=1)
def _gazetteer() -> Any:
    try:
        from luodi.kie.gazetteer import get_gazetteer

        return get_gazetteer()
    except Exception:  # the table's package is optional: without it no reading is preferred
        return None


@lru_cache(maxsize=1024)
def _known_divisions(address: str) -> int:
    """How many of the address's province / city / district names the gazetteer knows."""
    gaz = _gazetteer()
    if gaz is None:
        return 0
    from luodi.kie.gazetteer import Level

    parts = split_address(compact(address))
    levels = (("province", Level.PROVINCE), ("city", Level.CITY), ("district", Level.DISTRICT))
    return sum(1 for part, level in levels if part in parts and gaz.lookup(parts[part].value, level))


def _one_char_off(a: str, b: str) -> bool:
    return sum(x != y for x, y in zip(a, b, strict=True)) == 1


def _about(reason: str, role: str) -> bool:
    """Whether a candidate's reason concerns this field: the contact parser reports on the whole
    party ("low confidence in name …", "no phone found"); keep only what names this field's role."""
    if "rule-based" in reason:
        return False
    if reason.startswith("low confidence in ") or (reason.startswith("no ") and reason.endswith(" found")):
        return role in reason
    return True


def _whole_name_box(name: Span, run: Run) -> Span:
    """A name cut inside an OCR box that holds just a short name (荆 of the box 荆改) is the box:
    printed names sit in their own box or are followed by the phone, so the box edge wins."""
    offset = 0
    for p in run:
        n = p.end - p.start
        if offset <= name.start and name.end <= offset + n and (name.start, name.end) != (offset, offset + n):
            text = p.text.strip()
            lead = len(p.text) - len(p.text.lstrip())
            if text and is_simple_name(text):
                s = offset + lead
                return Span(text, s, s + len(text), max(name.score, 0.8))
            break
        offset += n
    return name


def _relative_parts(parsed: PartyParse, address: Span) -> PartyParse | None:
    """The parsed address parts inside ``address``, with offsets relative to it."""
    shifted: dict[str, Span] = {}
    for part in ("province", "city", "district", "detail"):
        span: Span | None = getattr(parsed, part)
        if span is not None and address.start <= span.start and span.end <= address.end:
            shifted[part] = Span(span.value, span.start - address.start, span.end - address.start, span.score)
    if not shifted:
        return None
    return PartyParse(address=Span(address.value, 0, len(address.value), address.score), **shifted)  # type: ignore[arg-type]


def _parse_address(text: str) -> PartyParse:
    """Address parts of an address alone (no name or phone to find in it).

    A plain 省 / 市 / 区县 address splits exactly by its suffixes; only the others (a province
    written without 省, an autonomous prefecture, a missing level) go to the contact model, whose
    every run costs tens of milliseconds.
    """
    parts = split_address(text)
    province = parts.get("province")
    plain = (
        province is not None
        and province.value.endswith("省")
        and {"city", "district", "detail"} <= parts.keys()
        and parts["city"].value.endswith("市")
        and parts["district"].value.endswith(("区", "县"))
    )
    if not plain:
        parsed = parse_party(text)
        if parsed.model_based:
            return parsed
    return PartyParse(
        address=Span(text, 0, len(text)),
        province=parts.get("province"),
        city=parts.get("city"),
        district=parts.get("district"),
        detail=parts.get("detail"),
    )


def _text_document(text: str, name: str | None) -> Document:
    lines = []
    for i, row in enumerate(t for t in text.splitlines() if t.strip()):
        n = len(row)
        box = ((0.0, 40.0 * i), (20.0 * n, 40.0 * i), (20.0 * n, 40.0 * i + 20), (0.0, 40.0 * i + 20))
        positions = tuple((k + 0.5) / n for k in range(n))
        lines.append(Line(row, 1.0, box, tuple(1.0 for _ in row), positions))
    return Document(name, "text", (Page(0, 0, 0, tuple(lines)),))


def _without_boxes(result: Extraction) -> Extraction:
    fields = tuple(dataclasses.replace(f, box=None) for f in result.fields)
    return dataclasses.replace(result, fields=fields, pages=0)


def _flag(f: FieldResult, reason: str) -> FieldResult:
    return FieldResult(f.name, f.value, f.raw, f.score, f.box, f.page, True, (*f.reasons, reason), f.alternatives)


def _combine(scores: Sequence[float]) -> float:
    """Independent agreeing readings: 1 - prod(1 - s). One reading keeps its own score."""
    if not scores:
        return 0.0
    rest = 1.0
    for s in scores:
        rest *= 1.0 - max(0.0, min(1.0, s))
    return 1.0 - rest


def _with_timing(result: Extraction, timings: dict[str, float]) -> Extraction:
    return Extraction(
        result.source,
        result.schema,
        result.fields,
        result.needs_review,
        result.pages,
        tuple((k, round(v, 3)) for k, v in timings.items()),
    )
