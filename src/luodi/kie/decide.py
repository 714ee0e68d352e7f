"""The decision step: from the pool of candidates to one value per field, driven by field type.

For each field its candidates are validated and normalised by the field's type, grouped by value
(agreeing copies, as on a multi-part stub, combine their scores: 1 − Π(1 − s)), and the best group
of the best tier wins; disagreeing groups of that tier flag the field. Then the fields that depend
on others: the carrier from a tracking number's prefix, address parts from their address, and the
schema's cross-field checks.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from luodi.kie.banks import (
    amount_from_words,
    branch_doubts,
    branch_place_known,
    flag_under_stamps,
    luhn_repair,
    reconcile_amounts,
    recount_stars,
)
from luodi.kie.calibration import Calibration, char_scores, field_features, is_rare
from luodi.kie.candidates import TIER_SCAN, Candidate, Pool
from luodi.kie.divisions import DivisionIndex
from luodi.kie.formtext import FormText
from luodi.kie.handwriting import flag_handwritten, ink_blue
from luodi.kie.layout import Run, run_box, run_score, run_text, sub_run
from luodi.kie.names import glued_romanised_name, organisation, romanised_name
from luodi.kie.normalize import compact, fold, to_simplified
from luodi.kie.parties import PartyParse, PartyParser, Span, split_address
from luodi.kie.proposers import (
    ADDRESS_HEAD_LEFT_OUT,
    ADDRESS_RUNS_INTO_NAME,
    BLOCK_GOES_ON,
    LABEL_GLUED,
    LABEL_REMNANT,
    MARK_GLUED,
)
from luodi.kie.result import Extraction, FieldResult
from luodi.kie.schema import FieldSpec, Schema
from luodi.kie.surnames import has_surname
from luodi.kie.validators import (
    CARRIER_BY_NAME,
    CHECKERS,
    Checked,
    carriers_for_number,
    check,
    check_tracking_number,
    id_birth_date,
    id_sex,
    luhn_ok,
)

# Value types whose traditional characters a `simplified: true` schema converts.
SIMPLIFIED_TYPES = frozenset({"name", "address", "text"})
# Document reasons that say nothing was filled in (each found value is then flagged).
TEMPLATE_REASON = "no field filled in: a blank or template form"
NO_FORM_REASON = "no form found on the page"
NOTHING_FILLED = frozenset({TEMPLATE_REASON, NO_FORM_REASON})
# Value types printed form text is looked for in (the others have a shape their validator checks);
# grid words (省 市 区, 姓名, 电话) only make a value form text where the value is a party's.
FORM_TEXT_TYPES = frozenset({"name", "address", "text", "phone"})
_GRID_TYPES = frozenset({"name", "address", "phone"})


@dataclass(frozen=True, slots=True)
class Decider:
    """How one extraction decides: the schema, its threshold, the division index (None: no
    gazetteer installed) and the contact parser (for address parts the rules cannot split)."""

    schema: Schema
    review_threshold: float
    divisions: DivisionIndex | None
    parse: PartyParser
    form_text: FormText
    calibration: Calibration | None = None
    # Whether review_threshold was given by the caller: it then applies to every field; otherwise
    # a calibrated field uses the threshold the calibration chose for its type.
    threshold_given: bool = False

    def threshold(self, field_type: str) -> float:
        if self.calibration is None or self.threshold_given:
            return self.review_threshold
        return self.calibration.threshold_for(field_type, self.review_threshold)

    def __call__(self, pool: Pool, *, source: str | None, pages: int) -> Extraction:
        decided: dict[str, FieldResult] = {}
        specs = self.schema.fields
        # Carrier first: the tracking-number check depends on it.
        order = sorted(specs, key=lambda n: (specs[n].type != "carrier", specs[n].type == "address_part"))
        carrier: Any = None
        for name in order:
            spec = specs[name]
            if spec.type in ("address_part", "carrier_code"):
                continue
            decided[name] = self.field(name, spec, pool.by_field.get(name, []), carrier, page_ocr=pool.page_ocr)
            if spec.type == "carrier" and decided[name].found and carrier is None:
                carrier = decided[name].value
        self._carrier_from_number(decided, pool)
        self._carrier_confirmed(decided)
        self._carrier_codes(decided)
        flag_under_stamps(decided, pool.stamps)
        self._cross_checks(decided)
        flag_handwritten(decided, self.schema, self.divisions)
        self._party_coherence(decided, pool)
        self._parties_apart(decided, pool)
        self._address_parts(decided, pool)
        reasons = self._document_reasons(decided, pool)
        if any(r in NOTHING_FILLED for r in reasons):
            # A value on a page where nothing is filled in is the form's own print or an accident
            # of OCR: never keyed in unseen.
            decided = {
                n: f
                if not f.found or f.flagged or specs[n].type in ("carrier", "carrier_code")
                else flag(f, reasons[0])
                for n, f in decided.items()
            }
        if any("documents" in r for r in reasons):
            # Never one party built from two documents: nothing of this page is keyed in unseen.
            decided = {n: f if not f.found or f.flagged else flag(f, reasons[0]) for n, f in decided.items()}
        fields = tuple(decided[n] for n in specs)
        needs = any(f.needs_review for n, f in decided.items() if specs[n].required) or bool(reasons)
        return Extraction(source, self.schema.name, fields, needs, pages=pages, reasons=reasons)

    def _document_reasons(self, decided: dict[str, FieldResult], pool: Pool) -> tuple[str, ...]:
        """What the page says about itself: nothing filled in (a blank form, or no form at all), or
        two different document numbers (two documents photographed together)."""
        specs = self.schema.fields
        # A carrier is printed on blank forms too: only other values show the form was filled in.
        filled = [
            f
            for n, f in decided.items()
            if f.found
            and specs[n].type not in ("carrier", "carrier_code", "address_part")
            # a masked number (138****0000) is printed on templates too: it does not show filling
            and not any(r.startswith("masked number") for r in f.reasons)
        ]
        required = [n for n, spec in specs.items() if spec.required and spec.type not in ("carrier", "carrier_code")]
        if (
            required
            and self.schema.mode != "contact"
            and not _filled_in(self.schema, [f for f in filled if f.name in required], len(required))
        ):
            # Goods or a weight but no party and no number (标准装 printed in a template's goods
            # cell), or one or two party words that may be the form's own print: the form was not
            # filled in; what it prints is the template's.
            filled = []
        if not filled:
            if self.schema.mode == "contact":
                return ("nothing found in the text",)
            if pool.label_hits >= 2:
                return (TEMPLATE_REASON,)
            return (NO_FORM_REASON,)
        for name, spec in specs.items():
            f = decided[name]
            if spec.type in ("tracking_number", "id_number") and f.found and "conflicting values" in f.reasons:
                if _misread_number(f) and not any("conflicting values" in decided[n].reasons for n in self._contact):
                    continue  # one number read two ways on the stubs of one document, flagged itself
                return (f"two different {name} values: two documents on one page?",)
        return ()

    @property
    def _contact(self) -> tuple[str, ...]:
        return tuple(n for n, s in self.schema.fields.items() if s.party is not None and s.type in _CONTACT_TYPES)

    def _without_form_text(self, spec: FieldSpec, cands: list[Candidate]) -> tuple[list[Candidate], list[str]]:
        """Candidates with the form's own printed text taken out: dropped when that is all they
        are, cut when a hint or label is glued to the data (the cut needs the candidate's run)."""
        if spec.type not in FORM_TEXT_TYPES:
            return cands, []
        kept: list[Candidate] = []
        printed: list[str] = []
        grid = spec.type in _GRID_TYPES
        for c0 in cands:
            c = c0
            if spec.type == "text" and self.form_text.nothing(c.raw):
                printed.append(f"{c.raw!r}: nothing written")
                continue
            if spec.type == "phone" and self.form_text.masked(run_text(c.run) if c.run else c.raw):
                # 185****8888: masked for privacy on e-waybills (kept as printed, for review), or
                # a template's 138****0000; a number that is mostly marks is a template.
                text = run_text(c.run) if c.run else c.raw
                digits = sum(ch.isdigit() for ch in text)
                if digits < 7:
                    printed.append(f"{c.raw!r}: a template number")
                    continue
                why = "masked number: not a number to call"
                masked = re.sub(r"[^0-9*＊×xX]", "", fold(text)).replace("＊", "*")
                kept.append(dataclasses.replace(c, raw=masked, reasons=(*c.reasons, why)))
                continue
            verdict = self.form_text.judge(c.raw, grid=grid)
            if verdict.keep is None:
                printed.append(f"{c.raw!r}: {verdict.reason}")
                continue
            s, e = verdict.keep
            tail = self.form_text.glued_tail(c.raw[s:e]) if spec.type == "address" else None
            if tail is not None:
                e = s + tail[0]
                verdict = dataclasses.replace(verdict, reason=f"printed word {tail[1]} glued to the address")
            if (s, e) != (0, len(c.raw)):
                if not c.run or run_text(c.run) != c.raw:
                    kept.append(c)
                    continue
                run = sub_run(c.run, s, e)
                ratio = c.score / max(run_score(c.run), 1e-6)
                why = f"printed form text cut off ({verdict.reason})"
                c = dataclasses.replace(
                    c, run=run, raw=c.raw[s:e], score=run_score(run) * ratio, reasons=(*c.reasons, why)
                )
            kept.append(c)
        return kept, printed

    def _checked(self, spec: FieldSpec, c: Candidate, carrier: Any) -> tuple[Candidate, Checked]:
        """Validate and normalise one candidate by its field's type."""
        if spec.type == "account" and "*" in c.raw:
            # a masked card number: its stars counted from the line's geometry (still for review)
            recounted = recount_stars(c.run)
            if recounted is not None and recounted != c.raw:
                c = dataclasses.replace(c, raw=recounted, alternatives=(*c.alternatives, c.raw))
        ck = check_tracking_number(c.raw, carrier) if spec.type == "tracking_number" else check(spec.type, c.raw)
        if spec.type == "account" and not ck.ok and isinstance(ck.value, str) and "check digit" in str(ck.reason):
            fixed = luhn_repair(ck.value, char_scores(c.run), NAME_CHAR_MIN)
            if fixed is not None:  # still failed (flagged): the weakest digit need not be the misread one
                why = f"{ck.reason}: its weakest digit put right from the check digit (OCR read {ck.value})"
                c = dataclasses.replace(c, alternatives=(*c.alternatives, ck.value))
                ck = Checked(fixed, False, why)
        if spec.type == "phone" and "*" in c.raw:
            ck = Checked(c.raw, False, "masked number: not a number to call")  # kept as printed
        for extra in spec.validators:
            more = CHECKERS[extra](str(ck.value))
            if more.value != ck.value and isinstance(more.value, str):
                # A correction (a bank's name one character off a known one): what OCR read stays
                # an alternative; the validator fails it, so the field is flagged.
                c = dataclasses.replace(c, alternatives=(*c.alternatives, str(ck.value)))
                ck = Checked(more.value, ck.ok and more.ok, more.reason or ck.reason)
            elif not more.ok:
                ck = Checked(ck.value, False, more.reason)
        if self.schema.simplified and spec.type in SIMPLIFIED_TYPES and isinstance(ck.value, str):
            ck = Checked(to_simplified(ck.value), ck.ok, ck.reason)
        if (
            spec.type == "address"
            and self.schema.mode == "document"
            and self.divisions is not None
            and isinstance(ck.value, str)
        ):
            fixed = self.divisions.correct(ck.value)
            if fixed is not None:
                why = f"division name corrected with the gazetteer (OCR read {ck.value})"
                c = dataclasses.replace(c, reasons=(*c.reasons, why), alternatives=(*c.alternatives, ck.value))
                ck = Checked(fixed, ck.ok, ck.reason)
        return c, ck

    # long: one field's decision in order (groups, tier, checks, rivals, doubts, review): see the module docstring
    def field(
        self, name: str, spec: FieldSpec, cands: list[Candidate], carrier: Any, *, page_ocr: float = 1.0
    ) -> FieldResult:
        """One field's value from its candidates (see the module docstring)."""
        threshold = self.threshold(spec.type)
        cands, printed = self._without_form_text(spec, cands)
        if not cands:
            why: tuple[str, ...] = ("not found",) if spec.required else ()
            if printed:
                why = (*why, f"only printed form text here ({printed[0]})")
            return FieldResult(name, needs_review=spec.required, reasons=why)
        checked = [self._checked(spec, c, carrier) for c in cands]
        groups = _group(spec, checked)
        # (Counted here: list.sort empties the list while it sorts.)
        rival_addresses = spec.type == "address" and len(groups) > 1
        divisions = self.divisions

        def group_rank(g: list[tuple[Candidate, Checked]]) -> tuple[int, int, int, float]:
            tier = max(c.tier for c, _ in g)
            valid = int(any(ck.ok for _, ck in g))
            # Two copies of an address that disagree (a two-part stub, a misread): the one whose
            # province / city / district the gazetteer knows is the better reading.
            known = max(divisions.known(c.raw) for c, _ in g) if rival_addresses and divisions else 0
            return (tier, valid, known, combine([c.score for c, _ in g if c.tier == tier]))

        groups.sort(key=group_rank, reverse=True)
        groups = _surer_reading_first(spec, groups)
        best = groups[0]
        tier, _, _, combined = group_rank(best)
        top = [item for item in best if item[0].tier == tier]
        cand, ck = max(top, key=lambda it: (it[1].ok, it[0].score, len(it[0].raw)))
        role = spec.effective_role or name
        settled, voices = _settled(top)
        reasons = list(dict.fromkeys(r for c in voices for r in c.reasons if _about(r, role)))
        alternatives = list(dict.fromkeys(a for c in voices for a in c.alternatives))
        score = combined
        if spec.type == "tracking_number" and carrier is not None and ck.ok and tier == TIER_SCAN:
            # An unlabelled number that fits the printed carrier's format is as good as labelled.
            score = min(1.0, score / 0.8 * 0.95)
        if not ck.ok:
            score *= 0.5
            reasons.append(ck.reason or "failed validation")
        rivals = [
            g
            for g in groups[1:]
            if max(c.tier for c, _ in g) == tier
            and any(k.ok for _, k in g)
            and not (settled and all(_misparsed(c) for c, _ in g))
        ]
        if rivals:
            reasons.append("conflicting values")
            alternatives += [str(g[0][1].value) for g in rivals]
        unsure = self._doubts(spec, cand, ck.value, (best, groups[1:]), reasons)
        ck, unsure = self._branch(spec, ck, alternatives, unsure)
        reasons += [u for u in unsure if u not in reasons]
        score, evidence = self._calibrated(
            spec, score, cand, ck, copies=len({id(c.run) for c, _ in top}), page_ocr=page_ocr
        )
        # A handwriting cue (luodi.kie.handwriting): the least blue of the agreeing copies, so a
        # written value the machine print repeats counts as printed.
        blues = [b for c, _ in best if (b := ink_blue(c.run)) is not None]
        if blues:
            evidence = (*evidence, ("ink_blue", min(blues)))
        flagged = (
            not ck.ok or bool(rivals) or bool(alternatives) or bool(unsure) or any("position" in r for r in reasons)
        )
        review = score < threshold or flagged
        if score < threshold and not any(r.startswith("low confidence") for r in reasons):
            reasons.append(f"low confidence {score:.2f} < {threshold:.2f}")
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
            flagged,
            evidence,
            cand.run,
        )

    def _doubts(
        self,
        spec: FieldSpec,
        cand: Candidate,
        value: Any,
        groups: tuple[list[tuple[Candidate, Checked]], Sequence[list[tuple[Candidate, Checked]]]],
        reasons: Sequence[str],
    ) -> list[str]:
        """Why a value that scores well may still be wrong (each flags it): weak characters, a line
        read against the page, geometry alone, a shape no real value has, a copy read one or two
        characters apart, divisions that do not hold together. ``groups``: the value's own group and
        the others."""
        best, others = groups
        chars = copy_char_scores(cand, [c for c, _ in best])
        unsure = weak_characters("name" if spec.effective_role == "name" else spec.type, chars)
        if (
            "branch" in spec.validators
            and self.divisions is not None
            and isinstance(value, str)
            and not branch_place_known(value, self.divisions)
        ):
            # A branch the gazetteer cannot confirm (no city and district of its own: 中部支行 for
            # 晋中祁县支行, or a street-level name) has a name's redundancy, not an address's.
            unsure += [w for w in weak_characters("name", chars) if w not in unsure]
        if any(piece.tline.against_page for piece in cand.run):
            unsure.append("read in another direction than the rest of the page")
        if (
            spec.type in _SHORT_TYPES
            and cand.where in ("right", "below", "above")
            and not _UNITS[spec.type].search(cand.raw)
        ) or (spec.type == "text" and cand.where == "below" and not cand.under_its_label):
            # A count or weight matched to its label by geometry alone, or text from the line
            # under it: an empty cell's neighbour (the next row's number, another label's value)
            # fits it just as well. A weight printed with its unit (4.2kg, 26斤) says what it is.
            unsure.append(f"value found {cand.where} of its label, not after it")
        if spec.type == "address" and any(r.startswith(ADDRESS_RUNS_INTO_NAME) for r in cand.reasons):
            unsure.append("where the address ends is unclear")
        if spec.type == "address" and any(r.startswith(ADDRESS_HEAD_LEFT_OUT) for r in cand.reasons):
            unsure.append("where the address begins is unclear")
        unsure += [r for r in cand.reasons if r.startswith(LABEL_REMNANT)]
        if spec.type == "address":
            unsure += [r for r in cand.reasons if r.startswith(BLOCK_GOES_ON)]
        if spec.type == "name":
            unsure += [r for r in cand.reasons if r.startswith((MARK_GLUED, LABEL_GLUED))]
        unsure += _shape_doubts(spec, value, cand.raw)
        if spec.type in _CODE_TYPES:
            unsure += cut_number(cand.run)
        unsure += _misread_copies(spec, value, others)
        if spec.type == "address" and self.divisions is not None and isinstance(value, str):
            # Divisions that do not hold together are a misreading or two addresses in one.
            # (Also when the contact parser said so first: its reason alone flags nothing.)
            unsure += self.divisions.problems(value)
        return unsure

    def _branch(
        self, spec: FieldSpec, ck: Checked, alternatives: list[str], unsure: list[str]
    ) -> tuple[Checked, list[str]]:
        """A bank branch's place misread (luodi.kie.banks): flagged (added to ``unsure``), and put
        right where one name fits (what OCR read goes to ``alternatives``)."""
        if "branch" not in spec.validators or self.divisions is None or not isinstance(ck.value, str):
            return ck, unsure
        fixed, doubts = branch_doubts(ck.value, self.divisions)
        if fixed is not None:
            alternatives.append(ck.value)
            ck = Checked(fixed, ck.ok, ck.reason)
        return ck, [*unsure, *doubts]

    def _calibrated(
        self, spec: FieldSpec, heuristic: float, cand: Candidate, ck: Checked, *, copies: int, page_ocr: float
    ) -> tuple[float, tuple[tuple[str, float], ...]]:
        """The probability that the value is right (:mod:`luodi.kie.calibration`), or the
        heuristic score where no calibration covers the field; and the evidence it came from."""
        value = str(ck.value)
        known = self.divisions.known(cand.raw) if spec.type == "address" and self.divisions else 0
        feats = field_features(
            heuristic=min(1.0, heuristic),
            run=cand.run,
            value=value,
            where=cand.where,
            valid=ck.ok,
            copies=copies,
            divisions_known=known,
            surname=spec.type == "name" and has_surname(value),
            page_ocr=page_ocr,
        )
        p = self.calibration.probability(spec.type, feats) if self.calibration is not None else None
        return (heuristic if p is None else p), tuple(feats.items())

    def _carrier_from_number(self, decided: dict[str, FieldResult], pool: Pool) -> None:
        """No carrier name printed: a tracking number with a distinctive prefix names it, or a
        number format together with a product name several carriers print (经济快递 and a
        13-digit number: the carriers both fit), for review."""
        specs = self.schema.fields
        car_name = next((n for n, s in specs.items() if s.type == "carrier"), None)
        num_name = next((n for n, s in specs.items() if s.type == "tracking_number"), None)
        if car_name is None or num_name is None:
            return
        car, num = decided[car_name], decided[num_name]
        if car.found or not num.found:
            return
        fits = carriers_for_number(str(num.value))
        kinds = [k for k in fits if k.distinctive]
        why = "inferred from the tracking-number format"
        if not kinds and pool.product_codes:
            kinds = [k for k in fits if k.code in pool.product_codes]
            why = "inferred from the product name and the tracking-number format"
        if len(kinds) == 1:
            score = num.score * (0.9 if kinds[0].distinctive else 0.6)
            decided[car_name] = FieldResult(
                car_name,
                kinds[0].name,
                None,
                round(score, 4),
                None,
                num.page,
                score < self.review_threshold,
                (why,),
            )

    def _carrier_confirmed(self, decided: dict[str, FieldResult]) -> None:
        """A carrier name read unsure (a logo's small print, a name inside a longer line) that the
        accepted tracking number's distinctive format names as well (JT + 13 digits: 极兔) is as
        sure as the two clues together: each alone could be wrong, both the same way hardly."""
        specs = self.schema.fields
        car_name = next((n for n, s in specs.items() if s.type == "carrier"), None)
        num_name = next((n for n, s in specs.items() if s.type == "tracking_number"), None)
        if car_name is None or num_name is None:
            return
        car, num = decided[car_name], decided[num_name]
        if not (car.found and num.found) or car.flagged or num.needs_review:
            return
        carrier = CARRIER_BY_NAME.get(str(car.value))
        fits = {k.code for k in carriers_for_number(str(num.value)) if k.distinctive}
        score = combine([car.score, num.score * 0.9])
        if carrier is None or fits != {carrier.code} or score <= car.score:
            return
        review = score < self.threshold(specs[car_name].type)
        kept = tuple(r for r in car.reasons if not r.startswith("low confidence"))
        why = (*kept, "the tracking number's format names it too")
        decided[car_name] = dataclasses.replace(car, score=round(min(1.0, score), 4), needs_review=review, reasons=why)

    def _carrier_codes(self, decided: dict[str, FieldResult]) -> None:
        """``carrier_code`` fields: the canonical code (SF, YTO, …) of the decided carrier."""
        specs = self.schema.fields
        car_name = next((n for n, s in specs.items() if s.type == "carrier"), None)
        for name, spec in specs.items():
            if spec.type != "carrier_code":
                continue
            car = decided.get(car_name) if car_name else None
            carrier = CARRIER_BY_NAME.get(str(car.value)) if car is not None and car.found else None
            if car is None or carrier is None:
                decided[name] = FieldResult(name, needs_review=spec.required)
                continue
            decided[name] = dataclasses.replace(car, name=name, value=carrier.code, raw=car.raw)

    def _party_coherence(self, decided: dict[str, FieldResult], pool: Pool) -> None:
        """The parties' names and addresses are keyed in unseen only when the page's contact
        fields hold together: all found, none read from two places that disagree or from a block
        the parser could not split cleanly. On a layout the rules misread, the fields of both
        parties go wrong together (a block given to the wrong party, two parties run together);
        the ones that still look fine are the risky ones."""
        specs = self.schema.fields
        contact = [n for n, s in specs.items() if s.party is not None and s.required and s.type in _CONTACT_TYPES]
        missing = [m for m in contact if _lost(decided[m], specs[m].type)]
        for n in contact:
            f = decided[n]
            if not f.found or f.needs_review:
                continue
            party = specs[n].party
            if specs[n].type == "phone":
                # The other party's phone lost and this one placed by geometry alone (under or
                # beside a label, or by position): it may be the other's (a party whose own number
                # OCR misread takes the next row's, in a grid or on a skewed photo).
                ev = dict(f.evidence)
                by_geometry = any(ev.get(f"where_{w}", 0.0) for w in ("below", "right", "position"))
                gone = next((m for m in missing if specs[m].type == "phone" and specs[m].party != party), None)
                if gone is not None and by_geometry:
                    decided[n] = flag(f, f"the parties do not hold together ({gone} missing; this phone may be it)")
                continue
            # Copies of one of the other party's values that disagree in a few characters are that
            # value misread, not its block: they undermine this party's fields only where this
            # party came from the other's (placed by position, or as the party left).
            leans = _party_leans(f)
            trouble = [
                m
                for m in contact
                if _party_trouble(decided[m], other=specs[m].party != party)
                and (specs[m].party == party or leans or not _copy_misread(decided[m]))
            ]
            misread = [m for m in trouble if m not in missing]
            if misread:
                decided[n] = flag(f, f"the parties do not hold together ({misread[0]} missing or misread)")
                continue
            # Only missing: where did it go? Into a value beside it, as its head or tail (the
            # sender's shop name after the receiver's 2807室; a name before its address's
            # province); a value that holds nothing of the kind is read as it stands. An address
            # joined from several lines may end a line early or late: with a field missing, its
            # extent is as unsure as the layout's reading.
            held = next((m for m in missing if _may_hold(specs[n].type, str(f.value), specs[m].type, self.parse)), None)
            if held is not None:
                decided[n] = flag(f, f"the parties do not hold together ({held} missing, maybe inside this value)")
            elif (near := [m for m in missing if specs[m].party == party or leans or specs[m].type == "address"]) and (
                specs[n].type == "address" and _lines_of(n, f, pool) >= 2
            ):
                # An address over lines: its own party's field lost, or any address (the lines of two
                # addresses mixed), may be in them or why they run on; the other party's name or
                # phone lost only where this block was placed by the other's.
                decided[n] = flag(f, f"the parties do not hold together ({near[0]} missing; address over lines)")

    def _parties_apart(self, decided: dict[str, FieldResult], pool: Pool) -> None:
        """Two parties never share print: the same address, phone or name for both (the right
        column's 地址 label given the left column's lines), or one party's value running through
        a line of the other's (…四平路3 + 宣县城北路, a line of the receiver's address, + 33号).
        Both are flagged: the page does not say which party the print belongs to. So is one
        account number for both parties (nobody transfers to the account paid from; one name for
        both is a transfer between one's own accounts, and stands)."""
        specs = self.schema.fields
        contact = [n for n, s in specs.items() if s.party is not None and s.type in (*_CONTACT_TYPES, "account")]

        def lines(name: str) -> set[int]:
            f = decided[name]
            c = next((c for c in pool.by_field.get(name, []) if c.raw == f.raw), None)
            return {id(p.tline) for p in c.run} if c is not None else set()

        for i, a in enumerate(contact):
            for b in contact[i + 1 :]:
                fa, fb = decided[a], decided[b]
                if specs[a].party == specs[b].party or not (fa.found and fb.found):
                    continue
                if specs[a].type == specs[b].type and compact(str(fa.value)) == compact(str(fb.value)):
                    why = "the same value as {}"
                elif specs[a].type == specs[b].type == "address" and lines(a) & lines(b):
                    why = "runs through a line of {}"
                else:
                    continue
                decided[a] = flag(fa, why.format(b))
                decided[b] = flag(fb, why.format(a))

    def _address_parts(self, decided: dict[str, FieldResult], pool: Pool) -> None:
        for name, spec in self.schema.fields.items():
            if spec.type != "address_part" or spec.source is None or spec.part is None:
                continue
            addr = decided.get(spec.source)
            if addr is None or not addr.found or not isinstance(addr.value, str):
                decided[name] = FieldResult(name, needs_review=False)
                continue
            cand = next((c for c in pool.by_field.get(spec.source, []) if c.raw == addr.raw), None)
            run = cand.run if cand else ()
            if cand is not None and cand.parts is not None and cand.raw == addr.value and _parts_hold(cand.parts):
                parsed = cand.parts  # already parsed with its party block
            else:
                parsed = parse_address(addr.value, self.parse)
            span: Span | None = getattr(_municipality(parsed), spec.part)
            if span is None:
                decided[name] = FieldResult(name, needs_review=False)
                continue
            part_run = sub_run(run, span.start, span.end) if run else ()
            score, evidence = self._part_score(addr, span, part_run, cand)
            bar = self.threshold("address_part")
            low = score < bar
            reasons = (f"low confidence {score:.2f} < {bar:.2f}",) if low else ()
            doubted = addr.flagged and _part_doubted(addr, spec.part, span, part_run, self._sound_division)
            if doubted:
                reasons = (*reasons, f"the address ({spec.source}) needs review")
            decided[name] = FieldResult(
                name,
                span.value,
                span.value,
                round(score, 4),
                run_box(part_run) if part_run else addr.box,
                addr.page,
                low or doubted,
                reasons,
                flagged=doubted,
                evidence=evidence,
                pieces=part_run,
            )

    def _sound_division(self, address: str, part: str, span: Span) -> bool:
        """Whether an address's division part is a name the gazetteer knows at its level, in an
        address whose divisions hold together (never without a gazetteer)."""
        if self.divisions is None or self.divisions.problems(address):
            return False
        return self.divisions.knows(span.value, part)

    def _part_score(
        self, addr: FieldResult, span: Span, run: Run, cand: Candidate | None
    ) -> tuple[float, tuple[tuple[str, float], ...]]:
        """An address part's score: the address's times the split's, or calibrated. A split the
        gazetteer confirms (its province, city and district are known and hold together, and the
        suffix rules cut the address the same way) is as sure as the address itself."""
        heuristic = addr.score * span.score
        if self.divisions is not None and _confirmed_split(self.divisions, str(addr.value), span):
            heuristic = addr.score
        copies = dict(addr.evidence).get("copies", 1.0)
        feats = field_features(
            heuristic=heuristic,
            run=run,
            value=span.value,
            where=cand.where if cand is not None else "inline",
            valid=not addr.flagged,
            copies=int(copies),
            divisions_known=self.divisions.known(str(addr.value)) if self.divisions else 0,
            page_ocr=dict(addr.evidence).get("page_ocr", 1.0),
        )
        p = self.calibration.probability("address_part", feats) if self.calibration is not None else None
        return (heuristic if p is None else p), tuple(feats.items())

    def _cross_checks(self, decided: dict[str, FieldResult]) -> None:
        for spec in self.schema.checks:
            got = [decided.get(n) for n in spec.fields]
            if spec.check == "amount_words_match" and len(got) == 2:
                _amount_words(decided, spec.fields, got[0], got[1])
            elif spec.check == "id_card_consistency":
                _id_card(decided, got, {n: self.schema.fields[n].type for n in spec.fields})


def _amount_words(
    decided: dict[str, FieldResult], names: Sequence[str], amount: FieldResult | None, words: FieldResult | None
) -> None:
    if words is not None and words.found and (amount is None or not amount.found):
        # Capital numerals wrapped over two lines lose their start (伍元伍角 of 人民币柒万捌仟零叁拾
        # 伍元伍角): without the figure to agree with, they are not keyed in unseen; the figure
        # they spell stands in for a missing one, for review (luodi.kie.banks).
        if not words.flagged:
            decided[names[1]] = flag(words, "not confirmed by the amount in figures")
        if amount is not None:
            decided[names[0]] = amount_from_words(amount, decided[names[1]])
        return
    if amount is None or words is None or not amount.found or not words.found:
        return
    # Two readings of one amount: agreement confirms both, disagreement flags both (luodi.kie.banks).
    decided[names[0]], decided[names[1]] = reconcile_amounts(amount, words, digit_min=NUMBER_CHAR_MIN)


def _id_card(decided: dict[str, FieldResult], got: Sequence[FieldResult | None], types: dict[str, str]) -> None:
    number = got[0]
    if number is None or not number.found:
        return
    for other in got[1:]:
        if other is not None and not other.found and number.found and not number.needs_review:
            # The number's checksum holds: the sex and birth date it encodes are what the card
            # prints where OCR missed them (the printed ones must agree with it).
            kind = types.get(other.name)
            spec_value = id_sex(str(number.value)) if kind == "sex" else None
            if kind == "date":
                spec_value = id_birth_date(str(number.value))
            if spec_value is not None:
                why = f"read from the ID number (the {other.name} on the card was not read)"
                decided[other.name] = FieldResult(
                    other.name, spec_value, None, number.score, None, number.page, False, (why,)
                )
            continue
        if other is None or not other.found:
            continue
        expect: str | None = None
        if other.value in ("男", "女"):
            expect = id_sex(str(number.value))
        elif isinstance(other.value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", other.value):
            expect = id_birth_date(str(number.value))
        if expect is not None and expect != other.value:
            why = f"{other.name} {other.value} does not match the ID number ({expect})"
            decided[other.name] = flag(other, why)
            decided[number.name] = flag(decided[number.name], why)
        elif expect is not None and other.flagged and not number.needs_review and _digit_doubts_only(other):
            # The accepted number (its checksum holds) encodes the same birth date: two readings
            # agree on every digit, so a digit read unsure on the card is settled.
            decided[other.name] = dataclasses.replace(other, needs_review=False, flagged=False, reasons=())
        elif (
            expect is not None
            and other.value in ("男", "女")
            and other.needs_review
            and not number.needs_review
            and all(r.startswith("low confidence") for r in other.reasons)
        ):
            # The sex the accepted number encodes is accepted where OCR missed it (above): read
            # on the card unsure (its label misread) and the same, it is as sure.
            why = "the sex the ID number encodes"
            decided[other.name] = dataclasses.replace(other, needs_review=False, flagged=False, reasons=(why,))


def _digit_doubts_only(f: FieldResult) -> bool:
    """Whether ``f`` is flagged only for digits read unsure (and scores above its threshold)."""
    return bool(f.reasons) and all(_WEAK_DIGIT.match(r) for r in f.reasons)


_WEAK_DIGIT = re.compile(r"character \d read with confidence")


def _group(spec: FieldSpec, checked: list[tuple[Candidate, Checked]]) -> list[list[tuple[Candidate, Checked]]]:
    """Agreeing candidates together (an address that contains the other agrees with it)."""
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
    return groups


def _about(reason: str, role: str) -> bool:
    """Whether a candidate's reason concerns this field: the contact parser reports on the whole
    party ("low confidence in name …", "no phone found"); keep only what names this field's role."""
    if "rule-based" in reason:
        return False
    if reason.startswith("phone "):
        # "phone '137****5174' is not a mainland mobile …": the phone's own trouble (a privacy
        # mask, most often), not the name's or the address's beside it.
        return role == "phone"
    if reason.startswith("low confidence in ") or (reason.startswith("no ") and reason.endswith(" found")):
        return role in reason
    return True


# Province-level cities: written once at the start of an address (重庆市北碚区…), the name is the
# province-level unit (GB/T 2260 110000 北京市); the city level is only named when printed again
# (北京北京市通州区…).
_MUNICIPALITIES = frozenset({"北京市", "天津市", "上海市", "重庆市"})


def _part_doubted(addr: FieldResult, part: str, span: Span, run: Run, sound: Callable[[str, str, Span], bool]) -> bool:
    """Whether what flagged an address casts doubt on one of its parts. Doubts about single
    characters (a weak 巷 in the street) leave a part whose own characters OCR read sure; copies
    that disagree (另一联 reads 幸学西路 for 幸福西路) leave a part every copy agrees on; doubts
    about where the address starts and ends (a missing name that may sit at its head or tail, an
    address joined from several lines) leave a division the gazetteer knows (``sound``): an extent
    moved by a line or a name changes the detail, not the province a known name spells. Anything
    else (the party's block misread, the divisions) concerns every part."""
    others = []
    local = extent = False
    for r in addr.reasons:
        if _LOW_SCORE.match(r):
            continue  # the part's own score says so
        if _EXTENT_REASON.match(r):
            if part == "detail" or not sound(str(addr.value), part, span):
                return True
            extent = True
            continue
        copy = _COPY_REASON.match(r)
        if copy is not None:
            others.append(copy.group(1))
        elif r != "conflicting values" and not _CHAR_REASON.match(r):
            return True
        local = True
    if not local:
        return not extent  # else flagged without a reason this can weigh
    if "conflicting values" in addr.reasons:
        others += [str(a) for a in addr.alternatives]
    for other in others:
        theirs = getattr(_municipality(split_whole(other)), part, None)
        if theirs is None or compact(theirs.value) != compact(span.value):
            return True
    if not run or compact(run_text(run)) != compact(span.value):
        return any(_CHAR_REASON.match(r) for r in addr.reasons)  # the part's characters are not known
    return bool(weak_characters("address", char_scores(run)))


def split_whole(address: str) -> PartyParse:
    """An address's parts by the suffix rules, as the decided address's are compared."""
    return _by_suffix(address, split_address(address))


def _by_suffix(address: str, parts: dict[str, Span]) -> PartyParse:
    return PartyParse(
        address=Span(address, 0, len(address)),
        province=parts.get("province"),
        city=parts.get("city"),
        district=parts.get("district"),
        detail=parts.get("detail"),
    )


_CHAR_REASON = re.compile(r"(?:rare )?character \S read with confidence ")
# The coherence doubts that concern an address's extent only (see Decider._party_coherence).
_EXTENT_REASON = re.compile(
    r"the parties do not hold together \(\w+ missing(?:, maybe inside this value|; address over lines)\)$"
)
_COPY_REASON = re.compile(r"another copy reads '(.*)'$")
_LOW_SCORE = re.compile(r"low confidence [\d.]+ < ")


def _municipality(parts: PartyParse) -> PartyParse:
    city = parts.city
    if parts.province is None and city is not None and city.start == 0 and city.value in _MUNICIPALITIES:
        return dataclasses.replace(parts, province=city, city=None)
    return parts


def _confirmed_split(divisions: DivisionIndex, address: str, span: Span) -> bool:
    if divisions.known(address) < 3 or divisions.problems(address):
        return False
    parts = split_address(address)
    return any((p.value, p.start, p.end) == (span.value, span.start, span.end) for p in parts.values())


def _parts_hold(parts: PartyParse) -> bool:
    """Whether the parts a block's parse gave its address can be used: not when they name no
    division although the address starts with one (the parser, misled by a company name before
    it, called the whole address its detail: 吉林宏明电子商务有限公司 | 吉林省吉林市丰满区…)."""
    if parts.address is None:
        return True
    found = split_address(compact(parts.address.value))
    if parts.province or parts.city or parts.district:
        return not _division_left_in_detail(parts, found)
    return not ({"province", "city", "district"} & found.keys())


def _division_left_in_detail(parts: PartyParse, found: dict[str, Span]) -> bool:
    """Whether the parse left a division the suffix rules found at the start of its detail (香港
    特别行政区 | 南区江建西路…: the parser does not know a SAR's districts)."""
    detail = compact(parts.detail.value) if parts.detail is not None else ""
    return any(
        getattr(parts, key) is None and key in found and detail.startswith(found[key].value)
        for key in ("city", "district")
    )


def parse_address(text: str, parse: PartyParser) -> PartyParse:
    """Address parts of an address alone (no name or phone to find in it).

    A plain 省 / 市 / 区县 address splits exactly by its suffixes; only the others (a province
    written without 省, an autonomous prefecture, a missing level) go to the contact parser, whose
    every model run costs tens of milliseconds.
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
        parsed = parse(text)
        if parsed.model_based and not _division_left_in_detail(parsed, split_address(compact(text))):
            return parsed
    return _by_suffix(text, parts)


# Per-character confidence in names: OCR reads a rare printed character (榛, 昝) as a common
# look-alike (棒, 咎) with a confidence that the whole name's mean hides. A name with one character
# read below NAME_CHAR_MIN, or a rare character read below RARE_CHAR_MIN, is not keyed in unseen.
# RARE_CHAR_MIN was chosen on dev-family pages (bench/kie_devset.py): of the names whose rarest
# character was read at 0.90-0.97, 13 of 14 were right and the wrong one was flagged for another
# reason; of the rare characters read in any line, none at 0.90 or above was a misreading, and the
# first ones were at 0.88. 0.93 keeps a margin above that.
NAME_CHAR_MIN, RARE_CHAR_MIN = 0.90, 0.93
# Addresses and free text have some redundancy (a reader can tell 文三路 from 文三璐), names none:
# one character below this is not keyed in unseen (chosen on dev-family pages: of the accepted
# addresses with a character under 0.80, 20 were right and 7 wrong; from 0.80 to 0.90, 15 and 0).
TEXT_CHAR_MIN = 0.80
# ... but a text this short or shorter is read like a name (one misread character is the value lost).
SHORT_TEXT = 4


# Codes, numbers and dates have no redundancy either: one digit read below this is not keyed in
# unseen (a photographed 2025-04-20 read 2005-04-20 with its 0 at 0.86 is a valid date too).
_CODE_TYPES = frozenset({"digits", "account", "amount", "time", "date", "tracking_number", "id_number", "phone"})
# ... and a long number that carries no check digit (a company account, a serial number) even
# less: nothing on the page tells a misread digit, so one read below NUMBER_CHAR_MIN is not keyed in
# unseen. Chosen on dev pages and the no-longer-blind bank styles (cached OCR, 8 sets of photos,
# 2,506 fields; docs/kie.md): the accepted numbers with a misread digit had it at 0.91 and 0.93,
# and none of the 13 numbers, dates and times accepted with their least digit at 0.93-0.95 was
# wrong; 0.95 keeps a margin.
# A card number whose Luhn digit holds is checked (one misread digit breaks it): NAME_CHAR_MIN.
NUMBER_CHAR_MIN = 0.95
_UNCHECKED_NUMBERS = frozenset({"digits", "account"})


def _card_checked(value: str) -> bool:
    """A UnionPay card number (62…, 16 to 19 digits) whose Luhn check digit holds."""
    return value.startswith("62") and 16 <= len(value) <= 19 and value.isdigit() and luhn_ok(value)


def copy_char_scores(cand: Candidate, copies: Sequence[Candidate]) -> list[tuple[str, float]]:
    """Each character of ``cand`` with the best confidence any copy of it read the same character
    with: a copy is another candidate of the same value, read from other OCR lines as the very same
    characters (the party printed again on another stub, the number under its barcode twice).
    A character one copy read unsure (刁奕沣 with 沣 at 0.94) and another copy read sure is sure:
    a misreading that every copy repeats would be accepted from its one sure copy anyway."""
    mine = char_scores(tuple(cand.run))
    text = [c for c, _ in mine]
    used = {id(p.tline) for p in cand.run}
    best = [s for _, s in mine]
    for other in copies:
        lines = {id(p.tline) for p in other.run}
        if other is cand or not lines or lines & used:
            continue
        theirs = char_scores(tuple(other.run))
        if [c for c, _ in theirs] != text:
            continue
        used |= lines
        best = [max(a, b) for a, (_, b) in zip(best, theirs, strict=True)]
    return list(zip(text, best, strict=True))


def weak_characters(field_type: str, chars: Sequence[tuple[str, float]]) -> list[str]:
    """Reasons for review from single characters of a name or a number (see NAME_CHAR_MIN), from
    each character's confidence (:func:`copy_char_scores`)."""
    if field_type in _CODE_TYPES:
        least = NAME_CHAR_MIN
        if field_type in _UNCHECKED_NUMBERS and not _card_checked("".join(c for c, _ in chars)):
            least = NUMBER_CHAR_MIN
        return [f"character {c} read with confidence {s:.2f}" for c, s in chars if c.isalnum() and s < least][:3]
    if field_type in ("text", "address"):
        # A rare character read without certainty (黟县 read 黔县): a reader cannot guess it back.
        # Nor any character read below TEXT_CHAR_MIN: on degraded pages such a character is as
        # often another one (澴西大道 read 潭西大道 at 0.39) or a line run in (…236号进收人/时间).
        # A short text (a receipt's purpose, 还款 read 证款 at 0.85) has no more redundancy than
        # a name: its characters need a name's confidence.
        short = sum(1 for c, _ in chars if c.isalnum()) <= SHORT_TEXT
        least = NAME_CHAR_MIN if short else TEXT_CHAR_MIN
        out = []
        for c, s in chars:
            if is_rare(c) and s < RARE_CHAR_MIN:
                out.append(f"rare character {c} read with confidence {s:.2f}")
            elif c.isalnum() and s < least:
                out.append(f"character {c} read with confidence {s:.2f}")
        return out[:3]
    if field_type != "name":
        return []
    out = []
    for c, s in chars:
        rare = is_rare(c)
        if not c.isalnum():
            continue  # the comma of Jin, Zhinuo, the dot of 阿卜杜·热合曼: no letter to misread
        if s < NAME_CHAR_MIN or (rare and s < RARE_CHAR_MIN):
            out.append(f"{'rare ' if rare else ''}character {c} read with confidence {s:.2f}")
    return out


def cut_number(run: Run) -> list[str]:
    """A number that OCR may have cut in two: right beside its first or last digit, with no space
    between, a character read unsure that has more digits beyond it (81763)77525085 for
    81763177525085: the pattern takes 81763 whole, the misread digit is outside the value, so no
    weak character of the value shows it)."""
    if not run:
        return []
    out = []
    for piece, step in ((run[0], -1), (run[-1], 1)):
        text, scores = piece.tline.text, piece.tline.line.char_scores
        edge = piece.start if step < 0 else piece.end - 1
        i, j = edge + step, edge + 2 * step
        if not (min(i, j) >= 0 and max(i, j) < len(text) and len(scores) == len(text)):
            continue
        if step < 0 and _COUNTRY_CODE.search(text[:i]) is not None:
            continue  # +86-177…: the digits beyond are the country code, not the number's
        if text[edge].isdigit() and text[j].isdigit() and not text[i].isspace() and scores[i] < NAME_CHAR_MIN:
            out.append(f"character {text[i]} beside the number read with confidence {scores[i]:.2f}: a digit?")
    return out


_COUNTRY_CODE = re.compile(r"(?:\+|＋|00)\s?8[56][0-9]?$")


def flag(f: FieldResult, reason: str) -> FieldResult:
    return dataclasses.replace(f, needs_review=True, flagged=True, reasons=(*f.reasons, reason))


def combine(scores: Sequence[float]) -> float:
    """Independent agreeing readings: 1 - prod(1 - s). One reading keeps its own score."""
    if not scores:
        return 0.0
    rest = 1.0
    for s in scores:
        rest *= 1.0 - max(0.0, min(1.0, s))
    return 1.0 - rest


def _filled_in(schema: Schema, found: list[FieldResult], required: int) -> bool:
    """Whether the required fields found show a filled-in form. A form filled in by hand or
    printer fills most of them; a blank one can still yield one or two from its own print (a
    column header read as a name, a grid cell or hint read as an address). So one or two count
    only beside a number that validates (a phone, a tracking number): print rarely passes."""
    if len(found) >= min(3, required):
        return True
    return len(found) >= 2 and any(schema.fields[f.name].type in _STRONG_TYPES and not f.flagged for f in found)


def _shape_doubts(spec: FieldSpec, value: Any, raw: str = "") -> list[str]:
    """What a name or address lacks that every real one has: a person's name starts with a
    surname (a word that does not is a misread surname, 警翔宇 for 訾翔宇, or not a name at all);
    an address goes below its divisions (黑龙江省绥化市 alone: the rest was read elsewhere) and
    names its province or city (鸣凤镇冷家巷12号 alone is the second line of one)."""
    if spec.type == "weight" and _GRAMS_WITH_DECIMALS.search(raw):
        return ["a weight in grams with decimals (16.7g): kg misread?"]
    if not isinstance(value, str) or not value:
        return []
    person = spec.type == "name" and spec.effective_role == "name" and re.match(r"[\u4e00-\u9fff]", value)
    # A party's name on a bank receipt is free text (a person or a company): read as a person's
    # where it is two to four Han characters, or one (印 of 印菲琼: the rest under a stamp).
    person = person or (
        spec.type == "text" and spec.effective_role == "name" and re.fullmatch(r"[\u4e00-\u9fff]{1,4}", value)
    )
    if person and len(value) == 1:
        return [f"a name of one character ({value}): the rest lost?"]
    if person and not has_surname(value) and organisation(Span(value, 0, len(value))) is None:
        return [f"{value[0]!r} is not a known surname"]
    one_word = re.fullmatch(r"[A-Za-z]{4,}", value) is not None
    if spec.type == "name" and spec.effective_role == "name" and one_word and glued_romanised_name(value):
        # PANZHI: a romanised name read without its space (PAN ZHI? PANZ HI?), or a word that is not one
        return [f"a romanised name in one word ({value}): where its words part is not known"]
    if spec.type == "address" and romanised_name(value) is None:
        parts = split_address(compact(value))
        detail = parts.get("detail")
        if detail is None or len(detail.value) < 2:
            return ["no street-level detail after the divisions"]
        if "province" not in parts and "city" not in parts:
            return ["no province or city: part of an address?"]
        if _BARE_NUMBER_END.search(compact(value)):
            return ["the address stops at a bare street number (胜利东路173): cut short?"]
    return []


# Gram weights are printed whole (500g); 16.7g is a misread 16.7kg more often than a letter's weight.
_GRAMS_WITH_DECIMALS = re.compile(r"\d\.\d+\s*(?:g|克)\s*$", re.IGNORECASE)
# A road and its number without 号 (…胜利东路173): the line was cut, the rest read elsewhere.
_BARE_NUMBER_END = re.compile(r"(?:路|街|巷|弄|大道)\d+$")
# Short values whose shape (any number, any text) does not tell them from their neighbours'.
_SHORT_TYPES = frozenset({"count", "weight"})
# The units that make a number in a neighbouring cell a weight or a count of pieces by itself.
_UNITS = {
    "weight": re.compile(r"\d\s*(?:kg|公斤|千克|斤|克|g)\s*$", re.IGNORECASE),
    "count": re.compile(r"\d\s*(?:件|箱|包|个)\s*$"),
}
# A party's contact fields, and the reasons that show its block was misread (as opposed to a
# weak character or a privacy mask, which say nothing about the rest of the party).
_CONTACT_TYPES = frozenset({"name", "phone", "address"})
_STRUCTURAL = (
    "conflicting values",
    " found: ",
    "split by a name or phone",
    "position only",
    "phone numbers in one place",
    "not a mainland mobile or landline number",
    "no phone pattern",
)


def _misread_copies(spec: FieldSpec, value: Any, others: Sequence[list[tuple[Candidate, Checked]]]) -> list[str]:
    """Another reading of the same printed text, of any tier, that differs from the value in one
    or two characters (东方溯 on the large print, 东方洲 on both small stubs): one of them is
    misread, and agreeing copies do not say which."""
    if spec.type not in _COPY_TYPES or not isinstance(value, str):
        return []
    mine = compact(value)
    for g in others:
        theirs = compact(str(g[0][1].value))
        if len(theirs) == len(mine) and 0 < sum(a != b for a, b in zip(theirs, mine, strict=True)) <= 2:
            return [f"another copy reads {g[0][1].value!r}"]
    return []


_COPY_TYPES = frozenset({"name", "address", "phone"})


def _surer_reading_first(
    spec: FieldSpec, groups: list[list[tuple[Candidate, Checked]]]
) -> list[list[tuple[Candidate, Checked]]]:
    """Two readings of the same print one or two characters apart (臧妍妍 on one stub, 减妍妍 on
    another): the one whose differing characters OCR read surer goes first, whichever has more
    copies or the better line score; not a reading from a block the parser could not take apart,
    nor a common character for a rare one (垭 at 0.71 is likelier than 址 at 0.95). Both stay, so the
    field is flagged all the same
    (:func:`_misread_copies`); only the value offered for review is the likelier one."""
    if spec.type not in _COPY_TYPES or len(groups) < 2:
        return groups
    best = groups[0]
    mine = compact(str(best[0][1].value))
    for i, g in enumerate(groups[1:], 1):
        theirs = compact(str(g[0][1].value))
        if not g[0][1].ok or len(theirs) != len(mine) or any(_misparsed(c) for c, _ in g):
            continue  # (a copy from a block the parser could not split is the weaker witness)
        differ = [k for k, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b]
        if not 0 < len(differ) <= 2 or any(is_rare(mine[k]) and not is_rare(theirs[k]) for k in differ):
            continue  # (a rare character is read less surely than the common look-alike it is misread as)
        ours, other = _least_at(best, mine, differ), _least_at(g, theirs, differ)
        if ours is not None and other is not None and other >= ours + SURER_READING_MARGIN:
            return [g, *groups[1:i], best, *groups[i + 1 :]]
    return groups


# How much surer a rival reading's differing characters must be read to be offered instead.
SURER_READING_MARGIN = 0.2


def _least_at(group: list[tuple[Candidate, Checked]], text: str, at: Sequence[int]) -> float | None:
    """The best confidence any copy of ``group`` read its least sure character of ``at`` with
    (positions in ``text``, the group's value compacted); None where the copies' characters are
    not the value's (a value normalised away from its print)."""
    best = None
    for c, _ in group:
        chars = char_scores(tuple(c.run))
        if "".join(ch for ch, _ in chars) != text:
            continue
        least = min(chars[k][1] for k in at)
        best = least if best is None else max(best, least)
    return best


# What the contact parser says of a block it could not take apart cleanly (two parties in one).
_MISPARSED = (" found: ", "split by a name or phone", "phone numbers in one place")


def _misparsed(c: Candidate) -> bool:
    return any(k in r for r in c.reasons for k in _MISPARSED)


def _settled(top: Sequence[tuple[Candidate, Checked]]) -> tuple[bool, list[Candidate]]:
    """Whether copies read from clean blocks agree (the same party on two stubs), and the copies
    whose reasons count. Agreeing clean copies settle what the parser said of a copy from a block
    it could not split (a tag block run into the other party's: 2 names found), and outweigh a
    rival read only from such blocks."""
    settled = len({id(c.run) for c, _ in top if not _misparsed(c)}) >= 2
    return settled, [c for c, _ in top if not (settled and _misparsed(c))]


def _lines_of(name: str, f: FieldResult, pool: Pool) -> int:
    """How many OCR lines the decided value was read from."""
    run = next((c.run for c in pool.by_field.get(name, []) if c.raw == f.raw), ())
    return len({id(p.tline) for p in run})


def _lost(f: FieldResult, kind: str) -> bool:
    """Whether a contact field is missing, or a phone OCR misread into no phone (a digit dropped,
    a character glued on): its own trouble, which says no more of the layout than a missing one
    (a block misparsed, copies disagreeing still do)."""
    if not f.found:
        return True
    doubts = [r for r in f.reasons if any(k in r for k in _STRUCTURAL) and not _MASK_REASON.match(r)]
    return kind == "phone" and bool(doubts) and all(any(k in r for k in _PHONE_SHAPE) for r in doubts)


# What the validator and the parser say of a phone that is not one (its own shape, nothing more).
_PHONE_SHAPE = ("not a mainland mobile or landline number", "no phone pattern")


def _misread_number(f: FieldResult) -> bool:
    """Whether every other reading of a number differs from it in a few places only (SF4458456070850
    and SF4456456070650 on two stubs): one number misread, not two documents; with the parties
    agreeing, the number alone is in doubt."""
    mine = compact(str(f.value))
    for alt in f.alternatives:
        theirs = compact(str(alt))
        if len(theirs) != len(mine) or sum(a != b for a, b in zip(theirs, mine, strict=True)) > max(2, len(mine) // 4):
            return False
    return bool(f.alternatives)


def _may_hold(kind: str, value: str, lost: str, parse: PartyParser) -> bool:
    """Whether a ``kind`` value may hold a missing value of type ``lost`` run into it: a phone's
    digits in a name or an address; divisions in a name; an address with something foreign in it
    (whatever was lost: the pieces of a misread block go anywhere): a second street and number, a
    name or shop name before its first division or after its house number (…2807室博悦手作工作室,
    …725号段: the tail looks like one, or the contact parser finds a name in the address)."""
    text = compact(value)
    if lost == "phone" and re.search(r"\d[\d\-~_]{6,}", text) is not None:
        return True
    if kind != "address":
        return lost == "address" and re.search(r"[省市区县路街号]", text) is not None
    if _SECOND_STREET.search(text) is not None:
        return True
    parts = split_address(text)
    first = min((p.start for k, p in parts.items() if k != "detail"), default=0)
    tail = _NAME_TAIL.search(value.strip())
    if first >= 2 or (tail is not None and _name_like(tail.group(1).strip())):
        return True
    return parse(value).name is not None


def _name_like(text: str) -> bool:
    if romanised_name(text) is not None:
        return True
    if organisation(Span(text, 0, len(text))) is not None:
        return True
    # A person's name, or what is left of it (…725号段), but not an address's own ending that
    # starts with a rare surname (3号楼, 2单元, 东门, 北40米).
    return len(text) <= 4 and has_surname(text) and text[0] not in _ADDRESS_ENDS


# Characters an address's ending after its number starts with (号楼, 号院, 号东门, 单元, 40米).
_ADDRESS_ENDS = frozenset("楼院东西南北前后侧旁内口处门路街巷村组屯庄单元米层室栋座幢户弄")
_SECOND_STREET = re.compile(r"\d+号.*[路街道巷弄].*\d")
# What follows an address's last house number, unit or room (…17栋2807室 | 博悦手作工作室).
_NAME_TAIL = re.compile(r"\d+\s*(?:号|室|栋|楼|层|座|单元)?([^\d]+)$")


def _party_trouble(f: FieldResult, *, other: bool = False) -> bool:
    """Whether ``f`` shows its party's block was misread. A privacy mask (137****5174) is not a
    misreading: what the parser says of the masked number itself does not count, what it says of
    the block (3 details found) does. A party placed by position only (its 收 / 寄 mark was not
    read) is in doubt itself, but says nothing of the other party, whose mark was read (``other``)."""
    if not f.found:
        return True
    kinds = tuple(k for k in _STRUCTURAL if k != "position only") if other else _STRUCTURAL
    return any(k in r for r in f.reasons if not _MASK_REASON.match(r) for k in kinds)


def _copy_misread(f: FieldResult) -> bool:
    """Whether ``f``'s only trouble is copies that disagree in a few characters (空大间 on one
    stub, 空大问 on another): the same print misread, every other reading as long as the value and
    at most a third of its characters apart."""
    kinds = [k for k in _STRUCTURAL if any(k in r for r in f.reasons if not _MASK_REASON.match(r))]
    if not f.found or kinds != ["conflicting values"] or not f.alternatives:
        return False
    mine = compact(str(f.value))
    for alt in f.alternatives:
        theirs = compact(str(alt))
        if len(theirs) != len(mine) or 3 * sum(a != b for a, b in zip(theirs, mine, strict=True)) > len(mine):
            return False
    return True


def _party_leans(f: FieldResult) -> bool:
    """Whether ``f``'s party was given by where the other party stands: placed by position (no mark
    or label of its own read), or the party left when the other's block was marked. A block misread
    on the other party's side then says something of this one; otherwise its own mark or label does."""
    return bool(dict(f.evidence).get("where_position", 0.0)) or any(
        "position only" in r or "the party left" in r for r in f.reasons
    )


_MASK_REASON = re.compile(r"masked number|phone '[^']*[*＊][^']*' is not a mainland")


# Types whose validator print rarely passes (a checked number): evidence that a form was filled.
_STRONG_TYPES = frozenset({"phone", "tracking_number", "id_number", "account"})
