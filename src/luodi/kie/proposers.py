"""Candidate proposers: functions of one page's reading (its lines, label hits and geometry).

Each proposer looks at the page one way and adds :class:`~luodi.kie.candidates.Candidate` s to
the pool; none of them decides anything. In the order :func:`propose_page` runs them:

* label values: a field's own label and the value after it, right of it or under it;
* party blocks: a name label, a 收 / 寄 tag or a section header and the lines under it, parsed by
  the contact parser;
* generic labels (姓名, 电话) with the party of their section, of a vertical tag, or by position;
* orphan contact blocks (a phone line with no readable tag) and unlabelled addresses under a party;
* page scans: fields marked ``scan: true`` and carrier names anywhere on the page.

Field and party names come from the schema (:class:`~luodi.kie.candidates.SchemaTables`); the
order of the schema's parties is the top-to-bottom convention used when only position is left.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from luodi.kie.banks import (
    find_stamps,
    scan_amount_grid,
    scan_capital_words,
    scan_currency_amount,
    scan_date,
    scan_issuing_bank,
    scan_time,
)
from luodi.kie.calibration import char_scores
from luodi.kie.candidates import (
    SOURCE_FACTOR,
    TIER_BLOCK,
    TIER_LABEL,
    TIER_SCAN,
    Candidate,
    Pool,
    Reading,
    add_phones,
    cand,
    phone_spans,
    span_cand,
)
from luodi.kie.formtext import english_label
from luodi.kie.layout import (
    BLOCK_LINES,
    Entry,
    Hit,
    PageLayout,
    Piece,
    Run,
    TLine,
    inline_value,
    run_score,
    run_text,
    sub_run,
)
from luodi.kie.names import (
    NAME_RUN,
    glued_romanised_name,
    organisation,
    person_name,
    plausible_name,
    romanised_name,
    whole_name_box,
)
from luodi.kie.normalize import SEPARATORS, compact, fold, fold_label, strip_separators
from luodi.kie.parties import PartyParse, RuleContactParser, Span, is_simple_name, split_address
from luodi.kie.schema import FieldSpec
from luodi.kie.surnames import has_surname
from luodi.kie.validators import (
    AMOUNT_RE,
    CARRIER_BY_CODE,
    ID_RE,
    TRACKING_RE,
    Carrier,
    carrier_hotline,
    carrier_keyword,
    carrier_products,
    carriers_for_number,
    check_phone,
    find_contact_numbers,
    find_phones,
)

# Values with a shape of their own are cut out of the label's text by these patterns when the
# schema gives none; free-text types take everything after the label.
IMPLICIT: dict[str, str] = {
    "tracking_number": TRACKING_RE.pattern,
    # A decimal comma is read as a point (17,4kg: handwriting, European forms, OCR). The figure is
    # whole or nothing: never cut short to fit (5.93F is no 5.9, 13.7180 no 13.718).
    "weight": r"(?<![\d.,])(\d+(?:[.,]\d{1,3})?(?![\d.,])\s*(?:kg|公斤|千克|斤|克|g)?)(?![a-z])",
    "date": r"(\d{4}\s*[年./\-]\s*\d{1,2}\s*[月./\-]\s*\d{1,2}\s*日?|\d{8})",
    "amount": r"([¥￥]?\s*" + AMOUNT_RE.pattern + ")",
    "id_number": ID_RE.pattern,
    "count": r"(\d+)",
    "time": r"(\d{1,2}\s*[:：]\s*\d{2}(?:\s*[:：]\s*\d{2})?)",
}
# What a page scan looks for when a field has `scan: true` and no label was found.
SCAN: dict[str, str] = {
    "tracking_number": TRACKING_RE.pattern,
    "weight": r"(?<![\d.,])(\d+(?:\.\d+)?\s*(?:kg|公斤|千克))(?![a-z])",
    "id_number": ID_RE.pattern,
}


@dataclass(frozen=True, slots=True)
class _Region:
    tag: Hit
    party: str
    labelled: bool  # labels inside the block: the tag only tells their party


# --- free text (the contact schema) -------------------------------------------------------------
def propose_contact(rd: Reading, text: str, run: Run | None, pool: Pool) -> None:
    """One party in free text: every field of the schema from one parse."""
    parsed = rd.parse(text)
    roles = {"name": parsed.name, "address": parsed.address, "province": parsed.province}
    roles |= {"city": parsed.city, "district": parsed.district, "detail": parsed.detail}
    for name, spec in rd.schema.fields.items():
        role = spec.effective_role or name
        if role == "phone":
            add_phones(name, parsed.phones, run, pool, tier=TIER_BLOCK, quality=1.0, reasons=parsed.reasons)
            continue
        span = roles.get(role) or roles.get(name)
        if span is not None:
            pool.add(span_cand(name, span, run, tier=TIER_BLOCK, quality=1.0, reasons=parsed.reasons))


# --- a page of a form ---------------------------------------------------------------------------
def propose_page(rd: Reading, layout: PageLayout, pool: Pool) -> None:
    """Every proposer over one page, in order (later ones fill what earlier ones left empty)."""
    missing_labels(rd, layout)
    hits = list(layout.all_hits())
    pool.label_hits += len(hits)
    scores = sorted(float(t.line.score) for t in layout.lines)
    if scores:
        pool.page_ocr = min(pool.page_ocr, scores[len(scores) // 2])
    tables = rd.tables
    layout.captions_below = captions_under_values(rd, layout)
    layout.labels_over = not layout.captions_below and labels_over_values(rd, layout)
    markers = [h for h in hits if h.kind in ("header", "tag") or (h.kind == "field" and tables.is_name_label(h))]
    regions = vertical_tags(rd, layout, hits)
    unassigned: list[tuple[Hit, str]] = []
    for hit in hits:
        region = next((r for r in regions if r.tag is hit), None)
        if region is not None:
            if not region.labelled:
                # A tall tag over an unlabelled block (收 printed vertically): read it like a tag.
                entry = Entry(hit.entry.key, "tag", (region.party,), region.party)
                tag = Hit(hit.tline, hit.start, hit.end, entry, hit.quality)
                party_block(rd, tag, layout, pool, party=region.party, tier=TIER_BLOCK, quality=0.95)
            continue
        if hit.kind == "field":
            for name in hit.entry.targets:
                spec = rd.schema.fields[name]
                if spec.party is not None and spec.type == "name":
                    party_block(rd, hit, layout, pool, party=spec.party, tier=TIER_LABEL, name_field=name)
                else:
                    inferred = layout.inferred.get(id(hit.tline))
                    why = (inferred,) if inferred else ()
                    label_value(rd, hit, layout, pool, name=name, spec=spec, tier=TIER_LABEL, reasons=why)
        elif hit.kind == "generic":
            role = hit.entry.targets[0]
            party = party_of_generic(hit, markers, regions, layout)
            if party is None:
                unassigned.append((hit, role))
            else:
                # On a page of captions under values, a mark above a caption is the previous box's.
                own = [h for h in layout.hits_of(hit.tline) if h.end <= hit.start and h.party is not None]
                why = (MARK_ABOVE_A_CAPTION,) if layout.captions_below and not own else ()
                inferred = layout.inferred.get(id(hit.tline))
                why = (*why, inferred) if inferred else why
                generic_value(rd, hit, layout, pool, role=role, party=party, quality=0.95, reasons=why)
        elif hit.kind in {"tag", "header"}:
            party_block(rd, hit, layout, pool, party=hit.entry.targets[0], tier=TIER_BLOCK, quality=0.95)
    assign_by_position(rd, unassigned, layout, pool)
    unlabelled_names(rd, layout, pool)
    orphan_blocks(rd, layout, pool)
    unlabelled_addresses(rd, layout, pool)
    page_scan(rd, layout, pool)


# Field types whose values have a shape distinctive enough to tell on which side of its label a
# value sits (a count or a weight is any number: a house number fits it as well).
_SIDE_SHAPES = ("tracking_number", "id_number", "date")


def _has_shape(kind: str, text: str) -> bool | None:
    """Whether ``text`` holds a value of the field type's shape; None for a type without one."""
    if kind == "phone":
        return bool(find_phones(text))
    if kind not in _SIDE_SHAPES:
        return None
    return re.search(IMPLICIT[kind], fold(text), flags=re.IGNORECASE) is not None


def captions_under_values(rd: Reading, layout: PageLayout) -> bool:
    """Whether the page prints its labels as captions under their values (收件人 under a ruled
    line or at the bottom of a box). Told by the labels standing alone on their line whose field
    has a shape (a phone, a tracking number, a date): the value of that shape is in the line just
    above them, and not to their right or under them, for most of them and at least two. Rows of
    captioned boxes are evenly spaced, so the gaps alone cannot tell it."""
    above = after = 0
    for hit in layout.all_hits():
        if not layout.ends_its_line(hit):
            continue
        if hit.kind == "field":
            kinds = [rd.schema.fields[name].type for name in hit.entry.targets]
        elif hit.kind == "generic" and hit.entry.targets[0] == "phone":  # 联系电话 after a party's label
            kinds = ["phone"]
        else:
            continue
        up = layout.value_above(hit, max_lines=1)
        near = layout.value_neighbour(hit)
        for kind in kinds:
            fits_up = bool(up) and _has_shape(kind, up[0].text)
            fits_after = near is not None and _has_shape(kind, near[0].text)
            above += bool(fits_up and not fits_after)
            after += bool(fits_after and not fits_up)
    return above >= 2 and above > 2 * after


def labels_over_values(rd: Reading, layout: PageLayout) -> bool:
    """Whether the page prints its labels over their values (a mobile-banking receipt's small
    labels, a boxed form's captions at the top of each box). Told like captions under values, by
    the labels of fields with a shape (a pattern of the schema: an account, an amount, a date):
    a value of that shape right under the label (nothing between, aligned, no cell to its right),
    and none after it, for at least three of them and more than three times as many as the
    labels whose value is beside them."""
    shaped = [
        (hit, spec)
        for hit in layout.all_hits()
        if hit.kind == "field"
        for spec in (rd.schema.fields[name] for name in hit.entry.targets)
        if spec.patterns or _has_shape(spec.type, "") is not None
    ]
    if len(shaped) < 3:
        return False
    under = beside = 0
    for hit, spec in shaped:
        if not layout.ends_its_line(hit):
            continue
        after = inline_value(hit, layout.next_start(hit))
        right = layout.right_of(hit) if not after else None
        if right is not None:
            after = (Piece(right, 0, len(right.text)),)
        fits_after = bool(after) and match_value(spec, after) is not None
        down = layout.below(hit, max_lines=1) if not after else []
        fits_under = (
            bool(down)
            and layout.aligned_under(hit, down[0])
            and match_value(spec, (Piece(down[0], 0, len(down[0].text)),)) is not None
        )
        under += fits_under and not fits_after
        beside += fits_after and not fits_under
    return under >= 3 and under > 3 * beside


def missing_labels(rd: Reading, layout: PageLayout) -> None:
    """Labels OCR misread beyond any label (姓号 for 账号, 收育账父 for 收款账号), told by their place:
    a short word alone in its cell, in a column of one party's labels (户名 over it, 开户银行 under
    it), which lacks exactly one role of that party, and the cell to its right holds a value of
    that role's field's shape (a pattern of the schema: an account number). The word becomes that
    label (``layout.hits``); what it labels is flagged, its place being the only evidence."""
    if not rd.tables.party_fields:
        return  # a schema without parties (ID cards) has no party's labels to stand among
    for t in layout.lines:
        word = compact(fold(t.text)).rstrip(":")
        if layout.hits_of(t) or not 2 <= len(word) <= 5 or not re.fullmatch(r"[\u4e00-\u9fff]+", word):
            continue
        column = _label_column(layout, t)
        if not any(o.yc < t.yc for o in column) or not any(o.yc > t.yc for o in column):
            continue
        found = {_role_of(rd, h) for o in column for h in layout.hits_of(o)} - {(None, None)}
        parties = {p for _, p in found if p is not None}
        if len(parties) > 1:
            continue
        party = next(iter(parties), None)
        roles = {r for (p, r) in rd.tables.party_fields if party is None or p == party} - {r for r, _ in found}
        if len(roles) != 1:
            continue
        role = roles.pop()
        names = [n for (p, r), n in rd.tables.party_fields.items() if r == role and (party is None or p == party)]
        spec = rd.schema.fields[names[0]]
        entry = (
            Entry(word, "generic", (role,), None, role)
            if party is None
            else Entry(word, "field", (names[0],), party, role)
        )
        hit = Hit(t, 0, len(t.text), entry, 0.8)
        near = layout.value_neighbour(hit)
        if not spec.patterns or near is None or match_value(spec, (Piece(near[0], 0, len(near[0].text)),)) is None:
            continue
        layout.set_hits(t, [hit])
        layout.inferred[id(t)] = f"label read as {word}: taken for {role} from its position among the party's labels"


def _label_column(layout: PageLayout, t: TLine) -> list[TLine]:
    """The label lines stacked over and under ``t`` at its x, each at most a line's gap from the
    next (户名 / 账号 / 开户银行 down a party's box), ``t`` left out."""
    stack = sorted(
        (o for o in layout.lines if abs(o.x0 - t.x0) <= 1.0 * t.h and (o is t or layout.is_key_line(o))),
        key=lambda o: o.yc,
    )
    i = next(k for k, o in enumerate(stack) if o is t)
    lo = hi = i
    while lo > 0 and stack[lo].y0 - stack[lo - 1].y1 <= 1.5 * t.h:
        lo -= 1
    while hi < len(stack) - 1 and stack[hi + 1].y0 - stack[hi].y1 <= 1.5 * t.h:
        hi += 1
    return [o for o in stack[lo : hi + 1] if o is not t]


def _role_of(rd: Reading, hit: Hit) -> tuple[str | None, str | None]:
    """A label hit's (role, party): a generic label's role, a party field's role and party; no
    role for anything else (a field of no party breaks the column)."""
    if hit.kind == "generic":
        return hit.entry.targets[0], None
    if hit.kind == "field":
        spec = rd.schema.fields[hit.entry.targets[0]]
        if spec.party is not None and spec.effective_role is not None:
            return spec.effective_role, spec.party
    return None, None


def vertical_tags(rd: Reading, layout: PageLayout, hits: Sequence[Hit]) -> list[_Region]:
    """Tall narrow boxes of one to four characters naming a party (收 / 寄件方 printed
    vertically at the left of a block): the block to their right, over their height, is that
    party's, whatever its labels say (联系人 alone does not tell the party)."""
    regions: list[_Region] = []
    for hit in hits:
        t = hit.tline
        n = len(compact(t.text))
        if hit.party is None or not 1 <= n <= 4 or (t.y1 - t.y0) < 1.8 * (t.x1 - t.x0):
            continue
        if hit.kind == "field" and not rd.tables.is_name_label(hit):
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


def party_of_generic(hit: Hit, markers: Sequence[Hit], regions: Sequence[_Region], layout: PageLayout) -> str | None:
    """The party of a generic label: a vertical tag the label sits right of, a party label
    before it on its own line (Consignee 联系人, 收件人 电话), else the nearest section marker
    above (or left of) it."""
    t = hit.tline
    x = t.x_of(hit.start)
    # The nearest tag to the left: two party blocks side by side each have their own.
    tags_left = [
        r
        for r in regions
        if r.tag.tline.page == t.page
        and t.x0 >= r.tag.tline.x1 - 0.3 * r.tag.tline.h
        and r.tag.tline.y0 - 0.3 * r.tag.tline.h <= t.yc <= r.tag.tline.y1 + 0.3 * r.tag.tline.h
    ]
    if tags_left:
        # Not over another block's label of the same kind (the other party's column, its own tag
        # not read): that block is between the tag and this label. Its party is then unknown.
        same = [
            h.tline
            for h in layout.all_hits()
            if h.kind == "generic"
            and h.entry.targets == hit.entry.targets
            and h.tline.page == t.page
            and h.tline is not t
            and abs(h.tline.yc - t.yc) <= t.h  # (a photo's rows drift across the page)
        ]
        open_tags = [r for r in tags_left if not any(r.tag.tline.x1 - 0.5 * t.h <= o.x0 < t.x0 for o in same)]
        if not open_tags:
            return None
        return max(open_tags, key=lambda r: r.tag.tline.x1).party
    before = [h for h in layout.hits_of(t) if h.end <= hit.start]
    if before and before[-1].party is not None:
        return before[-1].party
    best: tuple[float, str] | None = None
    for m in markers:
        mt = m.tline
        # A row header left of the label (付款人 spanning the 户名 / 账号 / 开户行 rows of a grid)
        # may sit a little lower than the label; any other marker is above it.
        beside = mt.x1 <= x + 0.5 * t.h and abs(mt.yc - t.yc) <= 2.5 * t.h
        if m.party is None or mt.page != t.page or (mt.y0 > t.yc + 0.3 * t.h and not beside):
            continue
        if hit.entry.targets == ("name",) and m.kind == "field":
            continue  # a second name label under a party's name label is the other party
        mx0 = mt.x_of(m.start)
        if mx0 > x + 2 * t.h:
            continue  # a marker entirely to the right belongs to another column
        dy = abs(t.y0 - mt.y0) if beside else max(0.0, t.y0 - mt.y0)
        dx = max(0.0, x - mt.x1)
        dist = dy + 0.5 * dx
        if best is None or dist < best[0]:
            best = (dist, m.party)
    return best[1] if best else None


def generic_value(
    rd: Reading,
    hit: Hit,
    layout: PageLayout,
    pool: Pool,
    *,
    role: str,
    party: str,
    quality: float,
    reasons: Sequence[str],
) -> None:
    name = rd.tables.party_field(party, role)
    if name is None:
        return
    if role == "name" and rd.schema.fields[name].type == "name":
        party_block(
            rd, hit, layout, pool, party=party, tier=TIER_LABEL, name_field=name, quality=quality, reasons=reasons
        )
    else:
        spec = rd.schema.fields[name]
        label_value(rd, hit, layout, pool, name=name, spec=spec, tier=TIER_LABEL, quality=quality, reasons=reasons)


def assign_by_position(rd: Reading, unassigned: list[tuple[Hit, str]], layout: PageLayout, pool: Pool) -> None:
    """Generic labels with no party marker anywhere: the upper group is the schema's first party
    (the receiver on a waybill: the e-waybill convention), the lower the next; marked for review
    because position is weak evidence."""
    if not unassigned or not rd.tables.parties:
        return
    by_role: dict[str, list[Hit]] = {}
    for hit, role in unassigned:
        by_role.setdefault(role, []).append(hit)
    for role, role_hits in by_role.items():
        role_hits.sort(key=lambda h: (h.tline.y0, h.tline.x0))
        free = [p for p in rd.tables.parties if not pool.by_field.get(rd.tables.party_field(p, role) or "")]
        for hit, party in zip(role_hits, free, strict=False):
            why = ("party decided from position only",)
            generic_value(rd, hit, layout, pool, role=role, party=party, quality=0.7, reasons=why)


def unlabelled_names(rd: Reading, layout: PageLayout, pool: Pool) -> None:
    """A name field of no party whose label OCR missed (姓名 printed faint on an ID card): a line
    that is only a person's name (a known surname, two to four characters) above every label of
    the page, the topmost one. Marked for review: the label would have said it."""
    hits = list(layout.all_hits())
    if not hits:
        return
    top = min(h.tline.y0 for h in hits)
    for name, spec in rd.schema.fields.items():
        if spec.type != "name" or spec.party is not None or pool.by_field.get(name):
            continue
        lines = [
            t
            for t in layout.lines
            if t.yc < top and not layout.hits_of(t) and is_simple_name(compact(t.text)) and has_surname(compact(t.text))
        ]
        if lines:
            t = min(lines, key=lambda o: o.y0)
            why = ("name found without its label",)
            pool.add(cand(name, (Piece(t, 0, len(t.text)),), TIER_BLOCK, 0.8, why, where="position"))


# long: one pass over the unlabelled phone lines, each grown into a block, then the blocks handed out
def orphan_blocks(rd: Reading, layout: PageLayout, pool: Pool) -> None:
    """Contact blocks with no label and no tag that OCR could read (a 收 / 寄 mark printed
    white on black is often missed): a line with a phone, the name line above it, the
    address lines below. They go to the parties still empty, top block first (the schema's
    party order), and are marked for review."""
    tables = rd.tables
    if not tables.parties:
        return
    used = pool.used_lines()
    claimed: set[int] = set()
    blocks: list[list[TLine]] = []
    for t in layout.lines:
        if id(t) in used or id(t) in claimed or layout.hits_of(t) or layout.is_key_line(t):
            continue
        if not find_contact_numbers(t.text):
            continue
        # A name in its own box left of the phone (钱七 | 137…) starts the block.
        left = [
            o
            for o in layout.left_neighbours(t)
            if id(o) not in used | claimed and not layout.hits_of(o) and not find_contact_numbers(o.text)
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
        for p in tables.parties
        if not any(pool.by_field.get(tables.party_field(p, r) or "") for r in ("name", "phone"))
    ]
    rest: list[tuple[Run, PartyParse]] = []
    for lines in blocks:
        run: Run = tuple(Piece(o, 0, len(o.text)) for o in lines)
        parsed = _party_name(rd, rd.parse(run_text(run)), run, labelled=False)
        party = _copy_of(rd, parsed, pool)
        if party is None:
            rest.append((run, parsed))
            continue
        # Another copy of a party found by its label (the stub whose 寄 mark OCR missed): its
        # values are evidence on that party's (agreeing, or one character apart), never its value
        # over the labelled copy's.
        why = ("a copy of the party, found by its name or phone", *parsed.reasons)
        _add_block(rd, party, (run, parsed), pool, tier=TIER_SCAN, reasons=why, where="block")
    # The other parties must each be found by a mark or a label, not placed by position (a
    # generic 电话 with no party marker is only a guess, and so is what would be left for this).
    marked = all(
        any(
            c.where != "position" and not any("position" in why for why in c.reasons)
            for r in ("name", "phone")
            for c in pool.by_field.get(tables.party_field(p, r) or "", [])
        )
        for p in tables.parties
        if p not in free
    )
    if len(rest) == len(free) == 1 < len(tables.parties) and marked and _whole_block(*rest[0]):
        # One whole block (a name, one valid phone, an address, nothing the parser doubts, every
        # character read sure) for the one party left, the other found by its mark or label: the
        # block is that party by elimination, as sure as a mark (the 收 block read, the 寄 mark
        # printed white on black and missed), whichever stands higher.
        why = ("the party left: the other party's block is marked",)
        _add_block(rd, free[0], rest[0], pool, tier=TIER_BLOCK, reasons=why, where="block", quality=0.95)
        return
    for (run, parsed), party in zip(rest, free, strict=False):
        why = ("party decided from position only", *parsed.reasons)
        _add_block(rd, party, (run, parsed), pool, tier=TIER_BLOCK, reasons=why, where="position")


# Each character of a block placed by elimination is read at least this sure: one clue fewer
# than a mark leaves no room for a character read unsure (潍坊展恒 at 0.93 for 潍坊辰恒).
_ELIMINATED_CHAR_MIN = 0.95


def _whole_block(run: Run, parsed: PartyParse) -> bool:
    phones = parsed.phones
    return (
        min((s for c, s in char_scores(run) if c.isalnum()), default=0.0) >= _ELIMINATED_CHAR_MIN
        and parsed.name is not None
        and parsed.address is not None
        and len(phones) == 1
        and check_phone(phones[0].value).ok
        and not [r for r in parsed.reasons if r != RuleContactParser.reason]  # the parser's name is no doubt
    )


def _copy_of(rd: Reading, parsed: PartyParse, pool: Pool) -> str | None:
    """The party whose name or phone, as read next to its label or tag, this block repeats."""
    tables = rd.tables
    name = compact(parsed.name.value) if parsed.name is not None else ""
    phones = {re.sub(r"\D", "", p.value) for p in parsed.phones}
    for party in tables.parties:
        for role, mine in (("name", {name} if len(name) >= 2 else set()), ("phone", phones)):
            field_name = tables.party_field(party, role)
            theirs = {compact(c.raw) if role == "name" else re.sub(r"\D", "", c.raw)
                      for c in pool.by_field.get(field_name or "", []) if c.tier >= TIER_BLOCK}  # fmt: skip
            if mine & theirs:
                return party
    return None


def _add_block(
    rd: Reading,
    party: str,
    block: tuple[Run, PartyParse],
    pool: Pool,
    *,
    tier: int,
    reasons: tuple[str, ...],
    where: str,
    quality: float = 0.8,
) -> None:
    """A block's name, address and phones as candidates of ``party``'s fields."""
    run, parsed = block
    tables = rd.tables
    for role, span in (("name", parsed.name), ("address", parsed.address)):
        field_name = tables.party_field(party, role)
        if field_name and span is not None:
            c = span_cand(field_name, span, run, tier=tier, quality=quality, reasons=reasons, where=where)
            if role == "address":
                c = dataclasses.replace(c, parts=relative_parts(parsed, span))
            pool.add(c)
    phone_field = tables.party_field(party, "phone")
    if phone_field:
        add_phones(phone_field, parsed.phones, run, pool, tier=tier, quality=quality, reasons=reasons, where=where)


def unlabelled_addresses(rd: Reading, layout: PageLayout, pool: Pool) -> None:
    """A party with a name or phone but no address: address-like lines right under its
    lowest value line (the address label was not printed or not read), marked for review."""
    tables = rd.tables
    if not tables.parties or not layout.lines:
        return
    used = pool.used_lines()
    page = layout.lines[0].page
    for party in tables.parties:
        addr_field = tables.party_field(party, "address")
        if addr_field is None or pool.by_field.get(addr_field):
            continue
        own = [
            p.tline
            for role in ("name", "phone")
            for c in pool.by_field.get(tables.party_field(party, role) or "", [])
            for p in c.run
            if p.tline.page == page
        ]
        if not own:
            continue
        last = max(own, key=lambda t: t.y1)
        lines = [o for o in layout.continuation(last, last.x0) if id(o) not in used]
        if not lines:
            continue
        run: Run = tuple(Piece(o, 0, len(o.text)) for o in lines)
        text = run_text(run)
        if len(split_address(text)) < 3 or find_contact_numbers(text):
            continue  # not recognisably an address on its own
        pool.add(cand(addr_field, run, TIER_BLOCK, 0.8, ("address found without a label",), where="position"))


def _label_options(spec: FieldSpec, hit: Hit, layout: PageLayout) -> list[tuple[Run, str]]:
    """Where a label's value may be, in order: after it on the line; else the cell to its right or
    the line below (a multi-line value takes the whole cell or row), then further lines under the
    label for a value with a shape (a label over two values)."""
    nxt = layout.next_start(hit)
    inline = inline_value(hit, nxt)
    if inline and not english_label(run_text(inline)):
        return [(inline, "inline")]
    # A bilingual form prints the label's English after or under it (付款人户名 Payer Name): that
    # is the label's, and the value is further on.
    return [(run, where) for run, where in _options_beyond(spec, hit, layout) if not english_label(run_text(run))]


def _options_beyond(spec: FieldSpec, hit: Hit, layout: PageLayout) -> list[tuple[Run, str]]:
    if layout.captions_below:
        # A caption under its value: the lines just above it, and nowhere else (the line under a
        # caption is the next box's value).
        above = layout.value_above(hit, max_lines=3 if spec.is_multiline else 1)
        return [(tuple(Piece(o, 0, len(o.text)) for o in above), "above")] if above else []
    options: list[tuple[Run, str]] = []
    near = layout.value_neighbour(hit)
    if near is not None and near[1] == "right" and spec.is_multiline:
        cell = layout.right_cell(hit)
        options.append((tuple(Piece(o, 0, len(o.text)) for o in cell), "right"))
    elif near is not None and spec.is_multiline:
        row = [near[0], *layout.row_mates(near[0])]
        options.append((tuple(Piece(o, 0, len(o.text)) for o in row), near[1]))
    elif near is not None:
        options.append(((Piece(near[0], 0, len(near[0].text)),), near[1]))
    options.extend(
        ((Piece(o, 0, len(o.text)),), "below") for o in layout.below(hit) if near is None or o is not near[0]
    )
    if near is not None and near[1] == "below" and not spec.is_multiline:
        # The line below was nearer than the cell to the right, but a value with a shape may
        # still be in that cell (金额 | 14,376.89元 over a 币种 row).
        right = layout.right_of(hit) if layout.ends_its_line(hit) else None
        if right is not None:
            options.append(((Piece(right, 0, len(right.text)),), "right"))
    return options


def label_value(  # noqa: PLR0913 - proposers take their context explicitly, no shared state
    rd: Reading,
    hit: Hit,
    layout: PageLayout,
    pool: Pool,
    *,
    name: str,
    spec: FieldSpec,
    tier: int,
    quality: float = 1.0,
    reasons: Sequence[str] = (),
) -> None:
    """The value of a field's own label (the first place in :func:`_label_options` that fits)."""
    quality *= hit.quality
    for run, source in _label_options(spec, hit, layout):
        q = quality * SOURCE_FACTOR[source]
        if spec.type == "phone":
            text = run_text(run)
            phones = phone_spans(text, find_phones(text))
            if phones:
                add_phones(name, phones, run, pool, tier=tier, quality=q, reasons=reasons, where=source)
                return
            if source == "inline":
                pool.add(cand(name, run, tier, quality * 0.9, (*reasons, "no phone pattern"), where=source))
                return
            continue
        value = match_value(spec, run)
        if value is None:
            continue
        if source == "inline" and spec.type in _REMNANT_TYPES:
            value, remnant = cut_label_remnant(spec, hit, value)
            if remnant:
                reasons = (*reasons, f"{LABEL_REMNANT} ({remnant})")
        if spec.is_multiline:
            label_x = hit.tline.x_of(hit.start) if source == "inline" else None
            value = extend_value(value, layout, label_x)
        if spec.type == "address" and find_contact_numbers(run_text(value)):
            # NAME PHONE ADDRESS run together after an address label (in any order): the
            # contact parser takes it apart; the name and phone go to the same party.
            split_contact(rd, name, spec, value, pool, tier=tier, quality=q, reasons=reasons, where=source)
            return
        c = cand(name, value, tier, q, reasons, where=source)
        if source == "below" and layout.labels_over and layout.right_under(hit, value[0].tline):
            c = dataclasses.replace(c, under_its_label=True)
        pool.add(c)
        return


# A value glued to a shorter label that starts with the rest of a longer one of the same field
# (内件品名 read 内件品 办公用品, 名 lost: 内件 + 品 办公用品): the rest is the label's, cut off and
# flagged. Free-text types only: a shaped value (a phone, a weight) has its own pattern.
LABEL_REMNANT = "value started with the rest of its label"
_REMNANT_TYPES = frozenset({"text", "name", "address"})


def cut_label_remnant(spec: FieldSpec, hit: Hit, value: Run) -> tuple[Run, str]:
    """``value`` less a label remnant at its head, and the remnant ("" when none): the value must
    follow the label with no separator and the remnant must end at one (a space, a colon)."""
    first = value[0]
    if first.tline is not hit.tline or first.start != hit.end:
        return value, ""
    said = fold_label(hit.tline.text[hit.start : hit.end]).replace(" ", "")
    text = first.text
    for label in spec.labels:
        rest = fold_label(label).replace(" ", "")
        if not rest.startswith(said) or len(rest) == len(said):
            continue
        rest = rest[len(said) :]
        k = 0
        while k < min(len(rest), len(text)) and fold_label(text[k]) == rest[k]:
            k += 1
        if 0 < k < len(text) and fold(text[k]) in SEPARATORS:
            start, end = strip_separators(first.tline.text, first.start + k, first.end)
            if start < end:
                return (dataclasses.replace(first, start=start, end=end), *value[1:]), text[:k]
    return value, ""


def split_contact(  # noqa: PLR0913 - proposers take their context explicitly, no shared state
    rd: Reading,
    name: str,
    spec: FieldSpec,
    run: Run,
    pool: Pool,
    *,
    tier: int,
    quality: float,
    reasons: Sequence[str],
    where: str,
) -> None:
    parsed = rd.parse(run_text(run))
    why = (*reasons, *parsed.reasons)
    if parsed.address is None:
        pool.add(cand(name, run, tier, quality * 0.8, (*why, "address mixed with a phone"), where=where))
        return
    c = span_cand(name, parsed.address, run, tier=tier, quality=quality, reasons=why, where=where)
    pool.add(dataclasses.replace(c, parts=relative_parts(parsed, parsed.address)))
    if spec.party is None:
        return
    person = person_name(parsed.name, rd.tables.label_keys)
    name_field = rd.tables.party_field(spec.party, "name")
    if person is not None and name_field:
        pool.add(span_cand(name_field, person, run, tier=TIER_BLOCK, quality=quality * 0.95, reasons=why))
    phone_field = rd.tables.party_field(spec.party, "phone")
    if phone_field:
        add_phones(phone_field, parsed.phones, run, pool, tier=TIER_BLOCK, quality=quality * 0.95, reasons=why)


def match_value(spec: FieldSpec, run: Run) -> Run | None:
    """The part of ``run`` the field's patterns (or its type's implicit pattern) match."""
    text = fold(run_text(run))
    patterns = spec.patterns or ((IMPLICIT[spec.type],) if spec.type in IMPLICIT else ())
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


def extend_value(run: Run, layout: PageLayout, label_x: float | None = None) -> Run:
    """A multi-line value continued on the lines below (never onto a line that is only a phone)."""
    first = run[0]
    x_anchor = min(first.tline.x_of(first.start), first.tline.x0 if first.start == 0 else 1e9)
    more = layout.continuation(run[-1].tline, x_anchor, indent_from=label_x)
    extra: list[Piece] = []
    for o in more:
        phones = find_contact_numbers(o.text)
        if phones and sum(e - s for s, e in phones) >= len(compact(o.text)) - 2:
            break
        extra.append(Piece(o, 0, len(o.text)))
    return run + tuple(extra)


def _block_run(hit: Hit, layout: PageLayout) -> Run:
    """The lines of a party block: the label's (or tag's) value and the unlabelled lines under
    it, cut before a second contact."""
    t = hit.tline
    nxt = layout.next_start(hit)
    run: Run = inline_value(hit, nxt)
    if run:
        if nxt == len(t.text):
            # A phone printed in its own box on the same row (寄方：张三   Tel: 138…) belongs here.
            right = layout.right_of(hit)
            if right is None or not find_contact_numbers(right.text) or layout.hits_of(right):
                right = layout.phone_on_row(t)
            # Not when the block's own phone is printed under the name: a phone to the right is then
            # the next column's (two party blocks side by side).
            under = layout.continuation(t, t.x_of(hit.start), max_lines=1)
            own_below = bool(under) and bool(find_contact_numbers(under[0].text))
            if right is not None and find_contact_numbers(right.text) and not layout.hits_of(right) and not own_below:
                run = (*run, Piece(right, 0, len(right.text)))
            seen = [p.tline for p in run]
            # The rest of the row in boxes of its own (OCR cut one printed line at a gap or a skew:
            # …甘南县 | 迎光南路255号): the value goes on there before it goes on below. Only print
            # that runs along the row: a word printed down the edge (标快) merely ends beside it.
            mates = [
                o
                for o in layout.row_mates(t)
                if o not in seen and not layout.hits_of(o) and o.y1 - o.y0 < min(o.x1 - o.x0, 1.5 * (t.y1 - t.y0))
            ]
            more = layout.one_contact(
                [*seen, *mates, *layout.continuation(t, t.x_of(hit.start), max_lines=BLOCK_LINES)]
            )[len(seen) :]
            run = run + tuple(Piece(o, 0, len(o.text)) for o in more)
    elif hit.kind == "tag":
        run = tuple(Piece(o, 0, len(o.text)) for o in layout.block_right_of_tag(hit))
        if not run:
            more = layout.one_contact(layout.continuation(t, t.x0, max_lines=BLOCK_LINES))
            run = tuple(Piece(o, 0, len(o.text)) for o in more)
    elif nxt == len(t.text) and layout.captions_below:
        run = tuple(Piece(o, 0, len(o.text)) for o in layout.one_contact(layout.value_above(hit)))
    elif nxt == len(t.text):
        near = layout.value_neighbour(hit)
        if near is not None:
            first = near[0]
            more = layout.one_contact([first, *layout.continuation(first, first.x0, max_lines=BLOCK_LINES)])[1:]
            run = (Piece(first, 0, len(first.text)), *(Piece(o, 0, len(o.text)) for o in more))
    return run


def _party_name(rd: Reading, parsed: PartyParse, run: Run, *, labelled: bool) -> PartyParse:
    """The party's name in a parsed block: an organisation at its start (the address then starts
    after it), else the plausible person's name (on the block's first line when noise further down
    hid it), else a romanised name after a name label."""
    text = run_text(run)
    labels = rd.tables.label_keys
    org = organisation(Span(text, 0, len(text), 0.9))
    if org is not None:
        # A company, shop or public body is the party: its name is not cut to a person's.
        return _name_overruled(parsed, org, _address_after(text, parsed.address, org.end))
    whole = _widened_left(text, parsed)
    named = organisation(whole) if whole is not None else None
    if named is not None and whole is not None and named.value == whole.value.strip():
        # The parser's own name is an organisation (025-29053185新锦设计工作室河北省…: after the
        # phone, glued to the address): not cut down to a person's name.
        return dataclasses.replace(parsed, name=whole)
    parsed = dataclasses.replace(parsed, name=person_name(parsed.name, labels))
    if parsed.name is None and len(run) > 1:
        # The name is usually on the first line of the block; noise further down (an OCR'd
        # "Te1:" before a phone) must not hide it.
        head = person_name(rd.parse(run[0].text).name, labels)
        if head is not None:
            parsed = dataclasses.replace(parsed, name=head)
    if parsed.name is not None:
        return dataclasses.replace(parsed, name=whole_name_box(parsed.name, run))
    latin = romanised_name(text) if labelled or _HAN_NAMELESS.match(text) else None
    if latin is None and labelled:
        latin = glued_romanised_name(text)  # (flagged by the decision: where its words part is unknown)
    if latin is not None:
        # A romanised name (ZHONG Xiaozhi, Li Lan, JIA YINGJUAN) starting the block.
        return _name_overruled(parsed, latin, _address_after(text, parsed.address, latin.end))
    latin = _latin_before_phone(text, parsed)
    if latin is not None:
        address = parsed.address
        if address is not None and address.start < latin.start < address.end:
            cut = text[address.start : latin.start].rstrip(" ,，")
            address = Span(cut, address.start, address.start + len(cut), address.score)
        return _name_overruled(parsed, latin, address)
    return parsed


def _widened_left(text: str, parsed: PartyParse) -> Span | None:
    """The parser's name with the Han characters right before it that no other part of the parse
    holds (it read 18936647054 禾盛设计工作室 as the name 盛设计工作室 and left 禾 to nobody)."""
    name = parsed.name
    if name is None:
        return None
    held = [(p.start, p.end) for p in (*parsed.phones, parsed.address) if p is not None]
    start = name.start
    while start > 0 and "\u4e00" <= text[start - 1] <= "\u9fff" and not any(a <= start - 1 < b for a, b in held):
        start -= 1
    return name if start == name.start else Span(text[start : name.end], start, name.end, name.score)


def _latin_before_phone(text: str, parsed: PartyParse) -> Span | None:
    """A romanised name right before the block's phone, the address before it (寄件：湖北省…268号
    Ranruo Xue 18690822450), which the sequence labeller cuts up (address …268号 Ranru, name o Xue)."""
    for phone in parsed.phones:
        head = text[: phone.start].rstrip()
        m = _LATIN_TAIL.search(head)
        if m is None:
            continue
        for w in re.finditer(r"[A-Za-z]+", m.group()):
            latin = romanised_name(head[m.start() + w.start() :])
            if latin is not None and m.start() + w.start() + latin.end == len(head):
                s = m.start() + w.start() + latin.start
                return Span(latin.value, s, s + len(latin.value), latin.score)
    return None


def _address_after(text: str, address: Span | None, end: int) -> Span | None:
    """``address`` without what lies before ``end`` (the name it ran into) and the separators after."""
    if address is None or address.start >= end:
        return address
    start = end
    while start < address.end and (text[start].isspace() or text[start] in ",，;；:：|/"):
        start += 1
    return Span(text[start : address.end], start, address.end, address.score) if start < address.end else None


_QUOTED = re.compile(r"'([^']*)'")
_NAME_REASON = re.compile(r"^(?:low confidence in name |no name found|\d+ names found)")


def _name_overruled(parsed: PartyParse, name: Span, address: Span | None) -> PartyParse:
    """``parsed`` with ``name`` (an organisation or a romanised name the parser cut up) as the
    party's name. What the parser said about its own name, and about pieces of the name it took
    for address parts (2 details found: '开封鼎泰电子商务', …), is settled by the name: those
    reasons go, and parts that lie inside the name are dropped (the address is split again)."""

    def settled(reason: str) -> bool:
        if _NAME_REASON.match(reason):
            return True
        quoted = _QUOTED.findall(reason)
        outside = [q for q in quoted if not (q and q in name.value)]
        return bool(quoted) and " found: " in reason and len(outside) <= 1

    parts = ("province", "city", "district", "detail")
    inside = any(
        (p := getattr(parsed, part)) is not None and p.start < name.end and name.start < p.end for part in parts
    )
    cleared: dict[str, Any] = dict.fromkeys(parts) if inside else {}
    reasons = tuple(r for r in parsed.reasons if not settled(r))
    return dataclasses.replace(parsed, name=name, address=address, reasons=reasons, **cleared)


# A block read down from its label, or a party taken from a mark above a caption, on a page of
# captions under values (the word "position" flags them).
UNDER_A_CAPTION = "read under its label by position, on a page whose labels are captions under their values"
MARK_ABOVE_A_CAPTION = "party taken by position from a mark above the caption, on a page of captions under values"


def party_block(  # noqa: PLR0913 - proposers take their context explicitly, no shared state
    rd: Reading,
    hit: Hit,
    layout: PageLayout,
    pool: Pool,
    *,
    party: str,
    tier: int,
    name_field: str | None = None,
    quality: float = 1.0,
    reasons: Sequence[str] = (),
) -> None:
    """A party block (see :func:`_block_run`), parsed for the party's name, phones and address."""
    run = _block_run(hit, layout)
    if not run:
        return
    if layout.captions_below and any(p.tline.yc > hit.tline.y1 for p in run):
        # Under a label on a page that prints its labels under their values is the next box.
        reasons = (*reasons, UNDER_A_CAPTION)
    tables = rd.tables
    where = "tag" if hit.kind in ("tag", "header") else "block"
    quality *= hit.quality
    text = run_text(run)
    first: PartyParse = rd.parse(text)
    name = name_field or tables.party_field(party, "name")
    parsed = _party_name(rd, first, run, labelled=bool(name and name_field))
    why = (*reasons, *parsed.reasons)
    if name and parsed.name is not None:
        glued = (*_mark_glued(hit, run, parsed.name), *_label_glued_after(text, parsed.name, tables.label_keys))
        pool.add(span_cand(name, parsed.name, run, tier=tier, quality=quality, reasons=(*why, *glued), where=where))
    elif (
        name
        and name_field
        and not parsed.phones
        and parsed.address is None
        and any(plausible_name(m.group(), tables.label_keys) for m in NAME_RUN.finditer(text))
    ):
        # A bare value after a name label that the parser did not call a name (a nickname, a
        # name with symbols glued to it): keep its plausible part, for review.
        why = (*why, "name not recognised as a person name")
        bare = person_name(Span(text, 0, len(text)), tables.label_keys)
        if bare is not None and bare.value != text.strip():
            pool.add(span_cand(name, bare, run, tier=tier, quality=quality * 0.8, reasons=why, where=where))
        else:
            pool.add(cand(name, run, tier, quality * 0.8, why, where=where))
    phone_field = tables.party_field(party, "phone")
    if phone_field:
        add_phones(phone_field, parsed.phones, run, pool, tier=TIER_BLOCK, quality=quality, reasons=why, where=where)
    addr_field = tables.party_field(party, "address")
    if addr_field and parsed.address is not None:
        why = (*why, *_end_in_doubt(first, parsed), *_goes_on_below(run, layout), *_head_left_out(text, parsed))
        c = span_cand(addr_field, parsed.address, run, tier=TIER_BLOCK, quality=quality, reasons=why, where=where)
        pool.add(dataclasses.replace(c, parts=relative_parts(parsed, parsed.address)))


def _end_in_doubt(first: PartyParse, parsed: PartyParse) -> tuple[str, ...]:
    """The parser ended the address where it began a name it was unsure of, with nothing between
    them (…2501室尚信设计工 + 作室 + phone): where the address ends is as unsure as that name."""
    name, address = first.name, first.address
    if name is None or address is None or parsed.address is None or parsed.address.end != address.end:
        return ()
    if name.start != address.end or name.score >= 0.5:
        return ()
    return (f"{ADDRESS_RUNS_INTO_NAME} ({name.value!r})",)


ADDRESS_RUNS_INTO_NAME = "the address runs into a name read unsure"


def _head_left_out(text: str, parsed: PartyParse) -> tuple[str, ...]:
    """A word ending in 省 or 自治区 right before an address that starts without a province (狭西省
    for 陕西省, read wrong and left out): the address's head may have been misread, not absent."""
    address = parsed.address
    if address is None or parsed.province is not None:
        return ()
    m = re.search(r"([\u4e00-\u9fff]{1,6}(?:省|自治区))[\s:：,，]*$", text[: address.start])
    return (f"{ADDRESS_HEAD_LEFT_OUT} ({m.group(1)!r})",) if m else ()


ADDRESS_HEAD_LEFT_OUT = "the address may begin in the word before it"


def _mark_glued(hit: Hit, run: Run, name: Span) -> tuple[str, ...]:
    """A name read right after a label or mark of two characters or more with nothing between them
    (收方明明: the 收 square glued to 方明明 reads as the label 收方 and the name 明明): when the label's
    last character and the name make a name too, where the name begins is unsure."""
    first = run[0]
    if hit.end - hit.start < 2 or first.tline is not hit.tline or first.start != hit.end:
        return ()
    if name.start != 0:
        return ()
    longer = hit.tline.text[hit.end - 1] + name.value
    if not has_surname(longer):
        return ()
    return (f"{MARK_GLUED} ({longer!r}?)",)


MARK_GLUED = "the name may begin in the mark before it"
LABEL_GLUED = "the name may end in the label after it"


def _label_glued_after(text: str, name: Span, labels: frozenset[str]) -> tuple[str, ...]:
    """A name that runs straight into the next label with nothing between them, where the label
    has lost its head (LIAN话 for LIANG电话: OCR dropped the characters at the join) or the name is
    romanised (CU电话 for CUI 电话: a Latin name is printed apart from the Chinese after it): where
    the name ends is unsure."""
    after = text[name.end :]
    if not after or after[0].isspace() or not name.value or after[0] in ":：,，;；、/()（）":
        return ()
    # in a fixed order, shortest first: a set's order follows each process's string hashing, and
    # the reason names the label (电话 and 联系电话 both end in 话)
    for key in sorted(labels, key=lambda k: (len(k), k)):
        if len(key) < 2 or not "\u4e00" <= key[0] <= "\u9fff":
            continue  # a Chinese label (the tail of te1 is a phone's first digit)
        if after.startswith(key) and name.value[-1].isascii() and name.value[-1].isalpha():
            return (f"{LABEL_GLUED} ({key})",)
        tails = (key[i:] for i in range(1, len(key)) if "\u4e00" <= key[i] <= "\u9fff")
        if any(after.startswith(tail) and not after.startswith(key) for tail in tails):
            return (f"{LABEL_GLUED} ({key}, cut)",)
    return ()


def _goes_on_below(run: Run, layout: PageLayout) -> tuple[str, ...]:
    """The block stopped where the line under its last line still continues it (a block's line
    limit cut an address wrapped over a narrow column short: …22栋90 | 4室): the address may end
    later than read. A line with a phone under it is the next party, no continuation."""
    lines = [p.tline for p in run]
    last = max(lines, key=lambda o: o.y1)
    below = [o for o in layout.continuation(last, last.x0, max_lines=1) if all(o is not t for t in lines)]
    if not below or any(find_contact_numbers(o.text) for o in below):
        return ()
    return (f"{BLOCK_GOES_ON} ({below[0].text!r})",)


BLOCK_GOES_ON = "the block may go on below"


# A block that starts with Latin letters (no Han name before them) may start with a romanised name.
_HAN_NAMELESS = re.compile(r"\s*[A-Za-z]")
_LATIN_TAIL = re.compile(r"[A-Za-z][A-Za-z \-,，]*$")


def page_scan(rd: Reading, layout: PageLayout, pool: Pool) -> None:
    """Carriers by name anywhere on the page; fields marked ``scan: true`` by their patterns; the
    stamps over the text where the schema says its documents carry them."""
    if rd.schema.stamps:
        find_stamps(layout, pool)
    for name, spec in rd.schema.fields.items():
        if spec.type == "amount":
            scan_amount_grid(name, layout, pool)  # a counter slip's digits one a cell
            scan_currency_amount(name, layout, pool)  # else a figure with its currency mark
        if spec.type == "carrier":
            _scan_carrier(name, layout, pool)
        elif spec.scan and spec.type == "date":
            scan_date(name, spec, layout, pool)
        elif spec.scan and spec.type == "time":
            dates = [c for n, s in rd.schema.fields.items() if s.type == "date" for c in pool.by_field.get(n, [])]
            scan_time(name, spec, layout, pool, dates)
        elif spec.scan and "bank" in spec.validators:
            scan_issuing_bank(name, spec, layout, pool, _taken_by_others(name, pool))
        elif spec.scan:
            _scan_pattern(name, spec, layout, pool)
        if spec.type == "amount_words":
            scan_capital_words(name, layout, pool)  # numerals read as look-alikes (染 for 柒)


def _taken_by_others(name: str, pool: Pool) -> dict[int, list[tuple[int, int]]]:
    """Character spans of each line that another field's candidates already hold (the number
    after 订单号 is the order number, not a tracking number to be found by a scan)."""
    out: dict[int, list[tuple[int, int]]] = {}
    for field_name, cands in pool.by_field.items():
        if field_name == name:
            continue
        for c in cands:
            for p in c.run:
                out.setdefault(id(p.tline), []).append((p.start, p.end))
    return out


def _scan_carrier(name: str, layout: PageLayout, pool: Pool) -> None:
    for t in layout.lines:
        product = carrier_products(t.text)
        if product is not None and len(product[0]) > 1:
            pool.product_codes.update(product[0])
        # A service hotline (95546) or a product name only one carrier prints (特快专递, 顺丰标快)
        # names the carrier when the logo is a picture or OCR mangled it.
        for clue, quality in ((carrier_hotline(t.text), 0.9), (_unique_product(t.text), 0.85)):
            if clue is not None:
                carrier, s, e = clue
                run = (Piece(t, s, e),)
                pool.add(Candidate(name, run, carrier.name, run_score(run) * quality, TIER_SCAN, where="scan"))
        found = carrier_keyword(t.text)
        if found is None:
            continue
        carrier, s, e = found
        run = (Piece(t, s, e),)
        # A printed Chinese name is surer than an English code (EMS, STO) that may be a fragment
        # of another word or a misread.
        quality = 0.95 if not t.text[s:e].isascii() else 0.85
        if len(compact(t.text)) > e - s + 4:
            # Inside a longer text (…邮政储蓄银行旁 in an address) it is a place or a bank more
            # often than the carrier: a name standing alone outranks it.
            quality *= 0.6
        pool.add(Candidate(name, run, carrier.name, run_score(run) * quality, TIER_SCAN, where="scan"))


def _unique_product(text: str) -> tuple[Carrier, int, int] | None:
    found = carrier_products(text)
    if found is None or len(found[0]) != 1:
        return None  # 标准快递, 经济快递: several carriers print them
    return CARRIER_BY_CODE[found[0][0]], found[1], found[2]


def _scan_pattern(name: str, spec: FieldSpec, layout: PageLayout, pool: Pool) -> None:
    patterns = spec.patterns or ((SCAN[spec.type],) if spec.type in SCAN else ())
    taken = _taken_by_others(name, pool)
    for t in layout.lines:  # a label is not a value (开户银行 is no bank's name)
        taken.setdefault(id(t), []).extend((h.start, h.end) for h in layout.hits_of(t))
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
                    if any(s < te and ts < e for ts, te in taken.get(id(t), ())):
                        continue
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
                    pool.add(Candidate(name, value, raw, run_score(value) * quality, TIER_SCAN, where="scan"))


def relative_parts(parsed: PartyParse, address: Span) -> PartyParse | None:
    """The parsed address parts inside ``address``, with offsets relative to it."""
    shifted: dict[str, Span] = {}
    for part in ("province", "city", "district", "detail"):
        span: Span | None = getattr(parsed, part)
        if span is not None and address.start <= span.start and span.end <= address.end:
            shifted[part] = Span(span.value, span.start - address.start, span.end - address.start, span.score)
    if not shifted:
        return None
    return PartyParse(address=Span(address.value, 0, len(address.value), address.score), **shifted)  # type: ignore[arg-type]
