"""One misread character in a province / city / district name, put right with the gazetteer.

OCR confuses look-alike characters (咸宁市 → 成宁市, 固镇县 → 园镇县, 淅川县 → 浙川县). When an
address's division name is not in the administrative-division table but exactly one name of the
same level and length under the same parent differs from it in one character, that name is what
was printed. The extractor keeps what OCR read as an alternative and marks the field for review.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from luodi.kie.normalize import compact
from luodi.kie.parties import sar_area, split_address

if TYPE_CHECKING:
    from luodi.kie.gazetteer import Gazetteer

_LEVELS = ("province", "city", "district")


class DivisionIndex:
    """The gazetteer's current names by (level, length), for the one-off search (it needs every
    name of a level, not a look-up by name). Immutable; build once per extractor."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        by_len: dict[tuple[int, int], list[Any]] = defaultdict(list)
        for d in gazetteer:
            if d.current:
                by_len[int(d.level), len(d.name)].append(d)
        self.by_len = {k: tuple(v) for k, v in by_len.items()}

    def known(self, address: str) -> int:
        """How many of the address's province / city / district names the gazetteer knows."""
        from luodi.kie.gazetteer import Level

        parts = split_address(compact(address))
        levels = (("province", Level.PROVINCE), ("city", Level.CITY), ("district", Level.DISTRICT))
        return sum(1 for part, level in levels if part in parts and self.gazetteer.lookup(parts[part].value, level))

    def knows(self, name: str, part: str) -> bool:
        """Whether ``name`` is a division the gazetteer knows at ``part``'s level (province, city
        or district)."""
        from luodi.kie.gazetteer import Level

        return part in _LEVELS and bool(self.gazetteer.lookup(name, Level(_LEVELS.index(part))))

    def problems(self, address: str) -> list[str]:
        """See :func:`address_problems`."""
        return address_problems(self.gazetteer, address)

    def correct(self, address: str) -> str | None:
        """The address with one misread division name replaced, or None when nothing needs it (or
        the correction is not unique). Only names with their suffix (省 / 市 / 县 / 区 …) are tried;
        the result has the same length as ``address``."""
        if len(compact(address)) != len(address):
            return None
        from luodi.kie.gazetteer import Level

        gaz, by_len = self.gazetteer, self.by_len
        parts = split_address(address)
        out = list(address)
        parent: Any = None
        changed = False
        for level, part in enumerate(_LEVELS):
            span = parts.get(part)
            if span is None:
                continue
            known = gaz.lookup(span.value, Level(level))
            if known:
                if parent is not None:
                    under = [d for d in known if d.code.startswith(_prefix(parent))]
                    known = tuple(under) or known
                parent = known[0]
                continue
            if len(span.value) < 3:
                continue  # a two-character name has too many one-off neighbours
            pool = [
                d
                for d in by_len.get((level, len(span.value)), ())
                if (parent is None or d.code.startswith(_prefix(parent))) and _one_off(d.name, span.value)
            ]
            names = {d.name for d in pool}
            if len(names) != 1:
                return None  # unknown or ambiguous: leave the address as read
            fix = pool[0]
            out[span.start : span.end] = fix.name
            parent = fix
            changed = True
        return "".join(out) if changed else None


def _one_off(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def _prefix(d: Any) -> str:
    # Children share the parent's code prefix: 2 digits under a province, 4 under a city.
    code = str(d.code)
    return code[:2] if int(d.level) == 0 else code[:4]


# Prefecture and county names are short; a longer "district" is street-level text the suffix
# rules ran into (稠城街道工人北路小区), not a misread division.
_MAX_NAME = {"province": 8, "city": 6, "district": 5}


def address_problems(gazetteer: Gazetteer, address: str) -> list[str]:
    """Why an address's divisions do not hold together: a province or city name the table does not
    know, a city outside its province, a district under neither, or a second address run into
    the first (two columns read as one line: a province's full name, or a city and one of its
    districts, after the divisions). An OCR misreading of one division name (江西省西安市建川县
    for 江西省吉安市遂川县) shows here even when each name alone exists somewhere."""
    from luodi.kie.gazetteer import Level

    gaz = gazetteer
    text = compact(address)
    parts = split_address(text)
    names = {p: parts[p].value for p in _LEVELS if p in parts}
    if sar_area(names.get("province"), names.get("city")):
        del names["city"]
    out: list[str] = []
    found: dict[str, tuple[Any, ...]] = {}
    for level, part in enumerate(_LEVELS):
        value = names.get(part)
        if value is None:
            continue
        known = gaz.lookup(value, Level(level))
        if not known and part == "city":
            known = gaz.lookup(value, Level.DISTRICT)  # a county-level city written as the city
        found[part] = known
        longest = 12 if value.endswith("自治州") else _MAX_NAME[part]  # 黔东南苗族侗族自治州
        if not known and part != "district" and len(value) <= longest:
            out.append(f"{part} {value!r} is not in the division table")
    p, c, d = gaz.resolve(names.get("province"), names.get("city"), names.get("district"))
    if found.get("province") and found.get("city") and p is not None and c is None:
        out.append(f"city {names['city']!r} is not in province {p.name}")
    district = names.get("district")
    if district is not None and d is None and len(district) <= _MAX_NAME["district"]:
        parent = c or p
        if found.get("district") or (parent is not None and gaz.has_children(parent)):
            out.append(f"district {district!r} does not match the division table")
    tail_start = max((parts[q].end for q in _LEVELS if q in parts), default=0)
    second = _second_address(gaz, text[tail_start:])
    if second is None and "province" in parts:
        # Another province's full name anywhere after the first (…怒江傈僳族自治州兰山西省临汾市…:
        # the suffix rules took it into the district): two lines of two addresses interleaved.
        second = _second_province(gaz, text[parts["province"].end :], parts["province"].value)
    if second is not None:
        out.append(f"a second address in it ({second}…)")
    elif (m := _TWO_NUMBERS.search(text, tail_start)) is not None:
        out.append(f"two street numbers ({m.group(1)}, {m.group(2)}): two addresses in one?")
    if _CUT_SHORT.search(text):
        out.append("the address stops right after its township")
    return out


# A street number, then another street and number (…临新路101号大道145号): two lines of two
# addresses read as one. 1号院2号楼 and 3号楼502室 are one address.
_TWO_NUMBERS = re.compile(r"(\d+号)(?![院楼库门铺])\D{0,8}?(?:路|街|道|巷|弄)(\d+号)(?![院楼库门铺])")
# …塘下镇邵: the rest of the line went elsewhere.
_CUT_SHORT = re.compile(r"(?:镇|乡|街道)[\u4e00-\u9fff]$")


def _second_province(gaz: Gazetteer, rest: str, first: str) -> str | None:
    from luodi.kie.gazetteer import Level

    for m in gaz.find_all(rest) if len(rest) >= 3 else []:
        name = rest[m.start : m.end]
        if (
            m.level == Level.PROVINCE
            and name.endswith(("省", "自治区"))
            and name != first
            and gaz.is_full_name(name, m.level)
        ):
            return name
    return None


def _second_address(gaz: Gazetteer, tail: str) -> str | None:
    from luodi.kie.gazetteer import Level

    matches = gaz.find_all(tail) if len(tail) >= 4 else []
    for m in matches:
        name = tail[m.start : m.end]
        if m.level == Level.PROVINCE and name.endswith(("省", "自治区")) and gaz.is_full_name(name, m.level):
            return name
        if m.level == Level.CITY and gaz.is_full_name(name, m.level) and name.endswith(("市", "州", "盟")):
            prefix = {d.code[:4] for d in m.divisions}
            after = [
                n
                for n in matches
                if n.start == m.end and n.level == Level.DISTRICT and any(d.code[:4] in prefix for d in n.divisions)
            ]
            if after:
                return name + tail[after[0].start : after[0].end]
    return None
