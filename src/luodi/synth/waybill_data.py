"""Content for synthetic waybills: parties from the express NER data, carriers, tracking numbers.

Parties come from the PaddleNLP express NER records (read with
:func:`luodi.synth.text.read_express_ner`), so every name, phone and address part printed on a
synthetic waybill has a known ground truth. The data ships with luodi (``luodi/data/express_ner``,
Apache-2.0).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from luodi.errors import ConfigError, CorruptInputError, InputNotFoundError
from luodi.synth.text import read_express_ner

SPLITS = ("train", "dev")
_ADDRESS_TAGS = ("A1", "A2", "A3", "A4")


@dataclass(frozen=True, slots=True)
class Party:
    """One sender or receiver as written in an NER record."""

    name: str
    phone: str
    province: str | None
    city: str | None
    district: str | None
    detail: str | None
    record: int  # 0-based record index in its split file (header excluded)

    @property
    def address_parts(self) -> tuple[str, ...]:
        return tuple(p for p in (self.province, self.city, self.district, self.detail) if p)

    @property
    def address(self) -> str:
        return "".join(self.address_parts)


def _candidate_files(split: str) -> list[Path]:
    """The express NER sets shipped with luodi (luodi/data/express_ner, Apache-2.0)."""
    from luodi.data import EXPRESS_NER

    return [EXPRESS_NER / f"{split}.txt"]


def resolve_ner_file(split: str, path: str | Path | None = None) -> Path:
    """The express NER file for ``split`` (``train`` or ``dev``), or ``path`` if given."""
    if split not in SPLITS:
        raise ConfigError(f"unknown NER split {split!r}; choose one of {', '.join(SPLITS)}")
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise InputNotFoundError(f"express NER file not found: {p}")
        return p
    for candidate in _candidate_files(split):
        if candidate.is_file():
            return candidate
    raise InputNotFoundError(f"express NER {split}.txt not found in luodi/data/express_ner; reinstall luodi")


@lru_cache(maxsize=8)
def _load_parties_cached(path: Path, mtime_ns: int) -> tuple[Party, ...]:
    parties: list[Party] = []
    for index, record in enumerate(read_express_ner(path)):
        spans = record.entities()
        # A waybill party needs a name, a phone and some address to print.
        if not spans.get("P") or not spans.get("T") or not any(spans.get(t) for t in _ADDRESS_TAGS):
            continue
        parties.append(
            Party(
                name=spans["P"],
                phone=spans["T"],
                province=spans.get("A1"),
                city=spans.get("A2"),
                district=spans.get("A3"),
                detail=spans.get("A4"),
                record=index,
            )
        )
    if len(parties) < 2:
        raise CorruptInputError(f"{path}: fewer than two usable records")
    return tuple(parties)


def load_parties(split: str = "train", path: str | Path | None = None) -> tuple[Party, ...]:
    """Every usable party (name, phone and an address) of an express NER split."""
    file = resolve_ner_file(split, path)
    return _load_parties_cached(file.resolve(), file.stat().st_mtime_ns)


# --- carriers ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Carrier:
    code: str
    name: str  # the name printed as the logo text; the label value of ``carrier``
    latin: str
    hotline: str


CARRIERS: dict[str, Carrier] = {
    c.code: c
    for c in (
        Carrier("SF", "顺丰速运", "SF EXPRESS", "95338"),
        Carrier("ZTO", "中通快递", "ZTO EXPRESS", "95311"),
        Carrier("YTO", "圆通速递", "YTO EXPRESS", "95554"),
        Carrier("YUNDA", "韵达快递", "YUNDA EXPRESS", "95546"),
        Carrier("STO", "申通快递", "STO EXPRESS", "95543"),
        Carrier("JD", "京东物流", "JD LOGISTICS", "950616"),
        Carrier("EMS", "中国邮政EMS", "EMS", "11183"),
        Carrier("JT", "极兔速递", "J&T EXPRESS", "956025"),
    )
}


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(d) for d in rng.integers(0, 10, size=n))


def make_tracking_number(code: str, rng: np.random.Generator) -> str:
    """A tracking number in the carrier's public format (random digits, no real shipment)."""
    if code == "SF":
        return "SF" + str(rng.integers(1, 10)) + _digits(rng, 12)
    if code == "ZTO":
        return str(rng.choice(["73", "75", "78"])) + _digits(rng, 12)
    if code == "YTO":
        return "YT" + str(rng.integers(1, 10)) + _digits(rng, 12)
    if code == "YUNDA":
        return str(rng.choice(["43", "46", "31", "33"])) + _digits(rng, 11)
    if code == "STO":
        return str(rng.choice(["77", "88", "66"])) + _digits(rng, 13)
    if code == "JD":
        return "JD" + "00" + _digits(rng, 11) if rng.random() < 0.6 else "JDVA" + _digits(rng, 11)
    if code == "EMS":
        if rng.random() < 0.5:
            return "E" + "ABCDLMRV"[int(rng.integers(0, 8))] + _digits(rng, 9) + "CN"
        return str(rng.choice(["10", "11", "98"])) + _digits(rng, 11)
    if code == "JT":
        return "JT" + "000" + _digits(rng, 10)
    raise ConfigError(f"unknown carrier code {code!r}")


# --- other printed values ---------------------------------------------------------------------
AREA_CODES = (
    "010",
    "021",
    "022",
    "023",
    "020",
    "024",
    "025",
    "027",
    "028",
    "029",
    "0755",
    "0571",
    "0512",
    "0531",
    "0532",
    "0371",
    "0731",
    "0791",
    "0851",
    "0871",
    "0431",
    "0451",
    "0591",
    "0592",
    "0898",
    "0931",
)

ITEMS = (
    "文件",
    "服装",
    "鞋子",
    "数码配件",
    "手机壳",
    "化妆品",
    "食品",
    "茶叶",
    "图书",
    "日用品",
    "玩具",
    "电子产品",
    "零件",
    "样品",
    "药品",
    "床上用品",
    "箱包",
    "工艺品",
    "办公用品",
    "特产",
)

REMARKS = (
    "易碎品 轻拿轻放",
    "请电话联系",
    "送货上门",
    "不要放快递柜",
    "工作日派送",
    "周末不在家",
    "勿压",
    "放门卫处",
    "到付",
    "保价500元",
    "晚上六点后派送",
    "请勿倒置",
    "代收货款",
    "生鲜 尽快派送",
)


@dataclass(frozen=True, slots=True)
class Weight:
    printed: str  # as written on the page, e.g. "1.5kg", "500g", "3斤"
    kg: float


def make_weight(rng: np.random.Generator) -> Weight:
    style = int(rng.integers(0, 5))
    if style == 0:
        kg = round(float(rng.uniform(0.2, 30.0)), 1)
        return Weight(f"{kg:g}kg", kg)
    if style == 1:
        kg = round(float(rng.uniform(0.5, 20.0)), 1)
        return Weight(f"{kg:g}公斤", kg)
    if style == 2:
        grams = int(rng.integers(1, 20)) * 50
        return Weight(f"{grams}g", round(grams / 1000, 3))
    if style == 3:
        jin = int(rng.integers(1, 30))
        return Weight(f"{jin}斤", round(jin * 0.5, 3))
    kg = round(float(rng.uniform(0.3, 15.0)), 2)
    return Weight(f"{kg:.2f}KG", kg)


@dataclass(frozen=True, slots=True)
class Phone:
    printed: str
    value: str  # digits only; a landline keeps its area-code dash


def make_phone(party: Party, rng: np.random.Generator, landline_rate: float) -> Phone:
    """The party's mobile (sometimes grouped with spaces or dashes) or, now and then, a landline."""
    if rng.random() < landline_rate:
        area = str(rng.choice(AREA_CODES))
        local = str(rng.integers(2, 9)) + _digits(rng, 7 if len(area) == 3 else int(rng.choice([6, 7])))
        return Phone(f"{area}-{local}", f"{area}-{local}")
    mobile = party.phone
    r = rng.random()
    if r < 0.12:
        return Phone(f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}", mobile)
    if r < 0.2:
        return Phone(f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}", mobile)
    return Phone(mobile, mobile)
