"""One misread character in a province / city / district name, put right with the gazetteer.

OCR confuses look-alike characters (咸宁市 → 成宁市, 固镇县 → 园镇县, 淅川县 → 浙川县). When an
address's division name is not in the administrative-division table but exactly one name of the
same level and length under the same parent differs from it in one character, that name is what
was printed. The extractor keeps what OCR read as an alternative and marks the field for review.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from luodi.kie.normalize import compact
from luodi.kie.parties import split_address

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
