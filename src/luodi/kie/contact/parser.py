"""The contact parser: NER model + phone rules + gazetteer (see the package docstring)."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from luodi.errors import ConfigError, EmptyInputError, InputError
from luodi.kie.contact.phones import PhoneMatch, find_phones, normalize_phone
from luodi.kie.gazetteer import Division, Gazetteer, GazetteerMatch, Level, get_gazetteer
from luodi.kie.ner.model import NerModel, Prediction, load_ner_model

__all__ = [
    "Contact",
    "ContactOptions",
    "ContactParser",
    "Region",
    "Span",
    "get_contact_parser",
    "parse_contact",
    "parse_contacts",
]

Mode = Literal["combined", "model", "rules"]
FIELDS = ("name", "phone", "address", "province", "city", "district", "detail")
_PARTS = ("A1", "A2", "A3", "A4")
_PART_FIELD = {"A1": "province", "A2": "city", "A3": "district", "A4": "detail"}
MAX_TEXT_CHARS = 2000

# Characters the model never saw in training (spaces, separators) and "label:" prefixes are hidden
# from it; spans are mapped back to the original offsets, so values stay exact substrings.
_HIDDEN = re.compile(
    r"(?:收件人|收货人|寄件人|发件人|联系人|姓名|联系电话|联系方式|手机号码|手机号|手机|电话号码|电话|"
    r"详细地址|收货地址|收件地址|寄件地址|地址)\s*[:：]|[\s,，;；、|:：]+"
)


@dataclass(frozen=True)
class Span:
    value: str  # exact substring of the text (a phone: its normalised digits)
    start: int
    end: int  # exclusive
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "start": self.start, "end": self.end, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Region:
    """Official names from the division table; inferred parts (a missing province) are not substrings."""

    province: str | None
    city: str | None
    district: str | None
    adcode: str | None  # most specific code found

    def to_dict(self) -> dict[str, str | None]:
        return {"province": self.province, "city": self.city, "district": self.district, "adcode": self.adcode}


@dataclass(frozen=True)
class Contact:
    text: str
    name: Span | None
    phone: Span | None
    address: Span | None
    province: Span | None
    city: Span | None
    district: Span | None
    detail: Span | None
    phones: tuple[Span, ...] = ()
    needs_review: bool = False
    reasons: tuple[str, ...] = ()
    region: Region | None = None

    def field(self, name: str) -> Span | None:
        if name not in FIELDS:
            raise KeyError(name)
        value: Span | None = getattr(self, name)
        return value

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "needs_review": self.needs_review,
            "reasons": list(self.reasons),
            "fields": {f: (s.to_dict() if (s := self.field(f)) is not None else None) for f in FIELDS},
            "phones": [p.to_dict() for p in self.phones],
            "region": self.region.to_dict() if self.region else None,
        }


@dataclass(frozen=True)
class ContactOptions:
    review_threshold: float = 0.8  # a field scored below this is flagged for review

    def __post_init__(self) -> None:
        if not 0.0 <= self.review_threshold <= 1.0:
            raise ConfigError(f"review_threshold must be within [0, 1], got {self.review_threshold}")


@dataclass
class _Draft:
    """Mutable working state of one parse (never escapes this module)."""

    text: str
    spans: dict[str, list[Span]] = field(default_factory=dict)
    phones: list[Span] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def _hidden_mask(text: str) -> list[bool]:
    hidden = [False] * len(text)
    for m in _HIDDEN.finditer(text):
        for i in range(m.start(), m.end()):
            hidden[i] = True
    return hidden


# Every phone is shown to the model as one plain mobile number, the only form in its training data;
# the phone rules, not the model, decide what a phone is and how it is written.
_PHONE_STAND_IN = "13800000000"


def _hide_map(text: str, *, phones_as_mobile: bool = False) -> tuple[str, list[int]]:
    """The text the model sees, and each of its characters' index in ``text``.

    Hidden characters are left out; with ``phones_as_mobile`` each phone becomes the stand-in
    mobile, its first character mapped to the phone's start and the rest to its last character, so
    a span ending on the stand-in ends where the phone ends.
    """
    hidden = _hidden_mask(text)
    starts = {m.start: m.end for m in find_phones(text)} if phones_as_mobile else {}
    chars: list[str] = []
    index: list[int] = []
    i = 0
    while i < len(text):
        end = starts.get(i)
        if end is not None:
            chars.extend(_PHONE_STAND_IN)
            index.extend([i] + [end - 1] * (len(_PHONE_STAND_IN) - 1))
            i = end
            continue
        if not hidden[i]:
            chars.append(text[i])
            index.append(i)
        i += 1
    return "".join(chars), index


class ContactParser:
    """Immutable and thread-safe; build once, call per text.

    ``mode``: ``"combined"`` (default: model + phone rules + gazetteer checks), ``"model"`` (the
    model's spans only) or ``"rules"`` (phone rules + gazetteer + position heuristics, no model:
    the fallback and the benchmark baseline).
    """

    def __init__(
        self,
        model: str | Path | NerModel | None = None,
        *,
        mode: Mode = "combined",
        gazetteer: Gazetteer | None = None,
    ) -> None:
        if mode not in ("combined", "model", "rules"):
            raise ConfigError(f"unknown contact parser mode {mode!r}; use combined, model or rules")
        self.mode: Mode = mode
        self.gazetteer = gazetteer if gazetteer is not None else get_gazetteer()
        self.model: NerModel | None
        if mode == "rules":
            self.model = None
        elif isinstance(model, NerModel):
            self.model = model
        else:
            self.model = load_ner_model(model)

    def __call__(self, text: str, options: ContactOptions | None = None) -> Contact:
        return self.parse_many([text], options)[0]

    def parse_many(self, texts: Sequence[str], options: ContactOptions | None = None) -> list[Contact]:
        """One Contact per text, same order; the model runs batched over all of them."""
        options = options or ContactOptions()
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(f"text {i}: expected a string, got {type(text).__name__}")
            if not text.strip():
                raise EmptyInputError(f"text {i}: empty text, nothing to parse" if len(texts) > 1 else "empty text")
            if len(text) > MAX_TEXT_CHARS:
                raise InputError(f"text {i}: {len(text)} characters; one contact is at most {MAX_TEXT_CHARS}")
        hidden = [_hide_map(t, phones_as_mobile=self.mode == "combined") for t in texts]
        preds: list[Prediction | None] = [None] * len(texts)
        if self.model is not None:
            preds = list(self.model.predict([clean for clean, _ in hidden]))
        return [
            self._parse_one(text, clean, index, pred, options)
            for text, (clean, index), pred in zip(texts, hidden, preds, strict=True)
        ]

    # -- one text --------------------------------------------------------------------------------
    def _parse_one(
        self, text: str, clean: str, index: list[int], pred: Prediction | None, options: ContactOptions
    ) -> Contact:
        draft = _Draft(text)
        if pred is not None and self.mode == "combined" and self.model is not None:
            pred = self._require_name(pred, text, index)
        if pred is not None:
            for s in pred.spans:
                start, end = index[s.start], index[s.end - 1] + 1
                score = pred.span_score(s)
                draft.spans.setdefault(s.type, []).append(Span(text[start:end], start, end, score))
        if self.mode == "rules":
            self._rules(draft, clean, index)
        elif self.mode == "combined":
            self._apply_phone_rules(draft)
            _order_address_parts(draft)
            self._fold_into_detail(draft)
        else:
            for t in draft.spans.get("T", []):
                draft.phones.append(Span(re.sub(r"\D", "", t.value) or t.value, t.start, t.end, t.score))
        return self._finish(draft, options)

    def _require_name(self, pred: Prediction, text: str, index: list[int]) -> Prediction:
        """The model's best reading that has a name, when its overall best has none but has a phone.

        A contact's name sits next to its phone or at either end of the text; when the text runs
        address, name and phone together (…万老线廉冠137…), the best path may swallow the name into
        the detail. The constrained path keeps the model's own (low) confidence, so the field is
        flagged for review.
        """
        if pred.emissions is None or any(s.type == "P" for s in pred.spans):
            return pred
        phones = [(m.start, m.end) for m in find_phones(text)]
        phones += [(index[s.start], index[s.end - 1] + 1) for s in pred.spans if s.type == "T"]
        if not phones:
            return pred
        assert self.model is not None
        forced = self.model.decode(pred.text, pred.emissions, require="P")
        for s in forced.spans:
            if s.type == "P":
                start, end = index[s.start], index[s.end - 1] + 1
                at_edge = _adjacent(text, 0, start) or _adjacent(text, end, len(text))
                if at_edge or any(_adjacent(text, end, a) or _adjacent(text, b, start) for a, b in phones):
                    return forced
        return pred

    def _fold_into_detail(self, draft: _Draft) -> None:
        """Spans that cannot be what the model called them, when they touch the detail, join it.

        - A second name next to the detail: one party has one name (the better-scored one stays).
        - A "district" inside a city the table says has no districts (东莞市东城区 is a street
          office, not a county-level unit); only for mainland cities, where the table is complete
          down to that level.
        """
        names = draft.spans.get("P", [])
        if len(names) > 1:
            keep = max(names, key=lambda s: (s.score, s.end - s.start))
            extra = [n for n in names if n is not keep and _touches(draft.text, n, draft.spans.get("A4", []))]
            if extra:
                draft.spans["P"] = [n for n in names if n not in extra]
                draft.spans["A4"] = [*draft.spans.get("A4", []), *extra]
        cities, districts = draft.spans.get("A2", []), draft.spans.get("A3", [])
        if len(cities) == 1 and len(districts) == 1:
            provinces = draft.spans.get("A1", [])
            _, city, _ = self.gazetteer.resolve(
                provinces[0].value if len(provinces) == 1 else None, cities[0].value, None
            )
            mainland = city is not None and city.code[:2] not in ("71", "81", "82")
            no_districts = mainland and city is not None and city.current and not self.gazetteer.has_children(city)
            if no_districts and _touches(draft.text, districts[0], draft.spans.get("A4", [])):
                draft.spans["A4"] = [*draft.spans.get("A4", []), districts[0]]
                del draft.spans["A3"]
        _merge_details(draft)

    def _apply_phone_rules(self, draft: _Draft) -> None:
        text = draft.text
        model_phones = draft.spans.get("T", [])
        for m in find_phones(text):
            covering = [s for s in model_phones if s.start < m.end and m.start < s.end]
            if covering:
                score = min(s.score for s in covering)
            else:
                score = 0.5
                draft.reasons.append(f"phone {m.value} found by pattern only, not by the model")
            draft.phones.append(Span(m.value, m.start, m.end, score))
            # A phone pattern wins over other labels on the same characters.
            for kind, spans in draft.spans.items():
                if kind != "T":
                    draft.spans[kind] = [c for s in spans if (c := _clip(s, m, text)) is not None]
        ruled = draft.phones[:]
        for s in model_phones:
            if not any(p.start < s.end and s.start < p.end for p in ruled):
                # The model's span may be a valid number glued to other digits (a house number).
                valid = normalize_phone(s.value)
                if valid is None:
                    draft.reasons.append(f"phone {s.value!r} is not a mainland mobile or landline number")
                draft.phones.append(Span(valid or re.sub(r"\D", "", s.value) or s.value, s.start, s.end, s.score))
        draft.phones.sort(key=lambda s: s.start)

    # -- rules-only path -------------------------------------------------------------------------
    def _rules(self, draft: _Draft, clean: str, index: list[int]) -> None:  # noqa: PLR0912 - the phone/address fix-up rules, applied in order
        text = draft.text
        for m in find_phones(text):
            draft.phones.append(Span(m.value, m.start, m.end, 0.95))
        taken = [False] * len(clean)
        back = {orig: i for i, orig in enumerate(index)}
        for p in draft.phones:
            for orig in range(p.start, p.end):
                if orig in back:
                    taken[back[orig]] = True
        chain = _best_chain(self.gazetteer.find_all(clean), taken)
        detail: tuple[int, int] | None = None
        if chain:
            for kind, gm in chain:
                score = 0.95 if self.gazetteer.is_full_name(clean[gm.start : gm.end], gm.level) else 0.85
                start, end = index[gm.start], index[gm.end - 1] + 1
                draft.spans.setdefault(kind, []).append(Span(text[start:end], start, end, score))
            addr_start, addr_end = chain[0][1].start, chain[-1][1].end
            # Detail: up to the next phone (names sit next to phones), else to the end of the text.
            stop = next((i for i in range(addr_end, len(clean)) if taken[i]), len(clean))
            for i in range(addr_start, stop):
                taken[i] = True
            if stop > addr_end:
                detail = (addr_end, stop)
        # Name: the first free run of 2-4 characters; failing that, the detail's last three characters
        # (address, name and phone are often written without a break).
        name: tuple[int, int] | None = None
        i = 0
        while i < len(clean) and name is None:
            if taken[i]:
                i += 1
                continue
            j = i
            while j < len(clean) and not taken[j]:
                j += 1
            if 2 <= j - i <= 4:
                name = (i, j)
            i = j
        name_score = 0.6
        if name is None and detail is not None and detail[1] - detail[0] > 5:
            name = (detail[1] - 3, detail[1])
            detail = (detail[0], detail[1] - 3)
            name_score = 0.4
        if detail is not None:
            start, end = index[detail[0]], index[detail[1] - 1] + 1
            draft.spans["A4"] = [Span(text[start:end], start, end, 0.6)]
        if name is not None:
            start, end = index[name[0]], index[name[1] - 1] + 1
            draft.spans["P"] = [Span(text[start:end], start, end, name_score)]

    # -- assembling the result -------------------------------------------------------------------
    def _finish(self, draft: _Draft, options: ContactOptions) -> Contact:
        text = draft.text
        reasons = draft.reasons

        def pick(kind: str, what: str) -> Span | None:
            spans = draft.spans.get(kind, [])
            if len(spans) > 1:
                reasons.append(f"{len(spans)} {what}s found: " + ", ".join(repr(s.value) for s in spans))
            return max(spans, key=lambda s: (s.score, s.end - s.start)) if spans else None

        name = pick("P", "name")
        parts = {kind: pick(kind, _PART_FIELD[kind]) for kind in _PARTS}
        phone = None
        if draft.phones:
            if len(draft.phones) > 1:
                reasons.append(f"{len(draft.phones)} phones found: " + ", ".join(p.value for p in draft.phones))
            # The contact's phone: the one nearest to the name (a name and its phone are written together).
            if name is not None:
                phone = min(draft.phones, key=lambda p: (_gap(p, name), -p.score))
            else:
                phone = max(draft.phones, key=lambda p: p.score)

        address = None
        found = sorted((s for s in parts.values() if s is not None), key=lambda s: s.start)
        if found:
            others = [s for s in (name, *draft.phones) if s is not None]
            start, end = found[0].start, found[-1].end
            if any(o.start < end and start < o.end for o in others):
                reasons.append("address parts are split by a name or phone")
                best = max(found, key=lambda s: s.end - s.start)
                start, end = best.start, best.end
            address = Span(text[start:end], start, end, min(s.score for s in found))

        region = self._check_region(parts["A1"], parts["A2"], parts["A3"], reasons)

        if name is None:
            reasons.append("no name found")
        if phone is None:
            reasons.append("no phone found")
        if address is None:
            reasons.append("no address found")
        for fname, span in (("name", name), ("phone", phone), *((_PART_FIELD[k], parts[k]) for k in _PARTS)):
            if span is not None and span.score < options.review_threshold:
                reasons.append(f"low confidence in {fname} {span.value!r} ({span.score:.2f})")
        return Contact(
            text=text,
            name=name,
            phone=phone,
            address=address,
            province=parts["A1"],
            city=parts["A2"],
            district=parts["A3"],
            detail=parts["A4"],
            phones=tuple(draft.phones),
            needs_review=bool(reasons),
            reasons=tuple(reasons),
            region=region,
        )

    def _check_region(
        self, province: Span | None, city: Span | None, district: Span | None, reasons: list[str]
    ) -> Region | None:
        gaz = self.gazetteer
        if province is None and city is None and district is None:
            return None
        if province is not None and not gaz.lookup(province.value, Level.PROVINCE):
            reasons.append(f"province {province.value!r} is not in the division table")
        if city is not None and not (gaz.lookup(city.value, Level.CITY) or gaz.lookup(city.value, Level.DISTRICT)):
            reasons.append(f"city {city.value!r} is not in the division table")
        p, c, d = gaz.resolve(
            province.value if province else None, city.value if city else None, district.value if district else None
        )
        if (
            province is not None
            and city is not None
            and p is not None
            and c is None
            and gaz.lookup(city.value, Level.CITY)
        ):
            reasons.append(f"city {city.value!r} is not in province {p.name}")
        if district is not None and d is None:
            parent = c or p
            if parent is None or gaz.has_children(parent):
                reasons.append(f"district {district.value!r} does not match the division table")
        most: Division | None = d or c or p
        return Region(
            province=p.name if p else None,
            city=c.name if c else None,
            district=d.name if d else None,
            adcode=most.code if most else None,
        )


_SEPARATORS = re.compile(r"[\s,，;；、|:：]*")


def _adjacent(text: str, end: int, start: int) -> bool:
    """Whether ``text[end:start]`` holds only separators (so the two spans touch)."""
    return end <= start and _SEPARATORS.fullmatch(text, end, start) is not None


def _order_address_parts(draft: _Draft) -> None:
    """Address parts run province → city → district → detail; a part out of that order is detail.

    (台湾台中市西区台湾大道: the second 台湾 names a road, not a province.) Detail pieces that touch
    are then joined.
    """
    parts = sorted(((s, k) for k in _PARTS for s in draft.spans.get(k, [])), key=lambda p: p[0].start)
    if not parts:
        return
    deepest = -1
    relabelled: dict[str, list[Span]] = {k: [] for k in _PARTS}
    for span, kind in parts:
        level = _PARTS.index(kind)
        new_kind = "A4" if level <= deepest else kind
        deepest = max(deepest, _PARTS.index(new_kind))
        relabelled[new_kind].append(span)
    for kind in _PARTS:
        if relabelled[kind]:
            draft.spans[kind] = relabelled[kind]
        else:
            draft.spans.pop(kind, None)
    _merge_details(draft)


def _touches(text: str, span: Span, others: list[Span]) -> bool:
    return any(_adjacent(text, o.end, span.start) or _adjacent(text, span.end, o.start) for o in others)


def _merge_details(draft: _Draft) -> None:
    """Detail pieces that touch (only separators between them) become one span."""
    merged: list[Span] = []
    for span in sorted(draft.spans.get("A4", []), key=lambda s: s.start):
        if merged and _adjacent(draft.text, merged[-1].end, span.start):
            prev = merged.pop()
            merged.append(Span(draft.text[prev.start : span.end], prev.start, span.end, min(prev.score, span.score)))
        else:
            merged.append(span)
    if merged:
        draft.spans["A4"] = merged


def _gap(a: Span, b: Span) -> int:
    return max(0, max(a.start, b.start) - min(a.end, b.end))


def _clip(span: Span, phone: PhoneMatch, text: str) -> Span | None:
    """``span`` without the phone's characters; None if nothing (or a split piece) would remain."""
    if phone.end <= span.start or span.end <= phone.start:
        return span
    if phone.start <= span.start and span.end <= phone.end:
        return None
    if span.start < phone.start and phone.end < span.end:
        return span  # a phone inside another span: leave it, the review reasons will show it
    start, end = (span.start, phone.start) if span.start < phone.start else (phone.end, span.end)
    # What is left may end or start with hidden characters (", 电话:"): they belong to no field.
    kept = [i for i in range(start, end) if not _hidden_mask(text)[i]]
    if not kept:
        return None
    start, end = kept[0], kept[-1] + 1
    return Span(text[start:end], start, end, span.score)


def _best_chain(matches: list[GazetteerMatch], taken: list[bool]) -> list[tuple[str, GazetteerMatch]]:
    """The longest province→city→district run of adjacent gazetteer matches (rules-only path)."""
    by_start: dict[tuple[int, Level], list[GazetteerMatch]] = {}
    for m in matches:
        if not any(taken[m.start : m.end]):
            by_start.setdefault((m.start, m.level), []).append(m)
    kinds = {Level.PROVINCE: "A1", Level.CITY: "A2", Level.DISTRICT: "A3"}
    best: list[tuple[str, GazetteerMatch]] = []
    best_key = (0, 0, 0)

    def extend(chain: list[tuple[str, GazetteerMatch]], pos: int, level: int) -> None:
        nonlocal best, best_key
        if chain:
            key = (len(chain), chain[-1][1].end - chain[0][1].start, -chain[0][1].start)
            if key > best_key:
                best, best_key = list(chain), key
        for nxt in range(level, 3):
            for m in by_start.get((pos, Level(nxt)), []):
                if chain and not _consistent(chain[-1][1], m):
                    continue
                extend([*chain, (kinds[m.level], m)], m.end, nxt + 1)

    starts = sorted({m.start for m in matches})
    for s in starts:
        extend([], s, 0)
    return best


def _consistent(parent: GazetteerMatch, child: GazetteerMatch) -> bool:
    prefix = 2 if parent.level == Level.PROVINCE else 4
    return any(p.code[:prefix] == c.code[:prefix] for p in parent.divisions for c in child.divisions)


_parsers: dict[tuple[str, str], ContactParser] = {}
_parsers_lock = threading.Lock()


def get_contact_parser(model: str | Path | None = None, *, mode: Mode = "combined") -> ContactParser:
    """A shared parser per (model, mode), built on first use."""
    key = (str(model) if model is not None else "", mode)
    with _parsers_lock:
        parser = _parsers.get(key)
        if parser is None:
            parser = ContactParser(model, mode=mode)
            _parsers[key] = parser
        return parser


def parse_contact(text: str, *, model: str | Path | None = None, options: ContactOptions | None = None) -> Contact:
    """Parse one party's contact text; raises EmptyInputError for empty text, ModelNotPulledError without a model."""
    return get_contact_parser(model)(text, options)


def parse_contacts(
    texts: Sequence[str], *, model: str | Path | None = None, options: ContactOptions | None = None
) -> list[Contact]:
    """Batch form of :func:`parse_contact` (one model run over all texts), same order."""
    return get_contact_parser(model).parse_many(texts, options)
