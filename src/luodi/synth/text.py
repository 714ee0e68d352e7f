"""Text sources for synthetic lines: plain text files and PaddleNLP's express-waybill NER records.

The express NER data (``shared/data/express_ner``) holds realistic waybill party records: a name, a
phone number and a province/city/district/detail address run together. :func:`extract_lines` cuts
them into the kinds of lines that appear on real waybills and slips — a name, a phone, an address,
labelled fields ("收件人：…"), and arbitrary chunks of the run-together record.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from luodi.errors import InputNotFoundError, LabelFormatError

_SEP = "\x02"  # PaddleNLP joins characters and tags with U+0002


@dataclass(frozen=True, slots=True)
class NerRecord:
    """One express-NER record: the characters and one BIO tag per character (suffix style, ``P-B``)."""

    text: str
    tags: tuple[str, ...]

    def entities(self) -> dict[str, str]:
        """Entity text by type (``P`` name, ``T`` phone, ``A1``..``A4`` address parts); first one wins."""
        out: dict[str, str] = {}
        cur_type, cur = "", list[str]()
        for ch, tag in [*zip(self.text, self.tags, strict=True), ("", "O")]:
            typ, _, pos = tag.rpartition("-")
            if cur and (tag == "O" or pos == "B" or typ != cur_type):
                out.setdefault(cur_type, "".join(cur))
                cur_type, cur = "", []
            if tag != "O":
                cur_type = typ
                cur.append(ch)
        return out

    @property
    def address(self) -> str:
        e = self.entities()
        return "".join(e.get(k, "") for k in ("A1", "A2", "A3", "A4"))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputNotFoundError(f"text file not found: {path}") from exc
    except UnicodeDecodeError as exc:
        raise LabelFormatError(f"{path}: not valid UTF-8") from exc
    except OSError as exc:
        raise InputNotFoundError(f"cannot read {path}: {exc.strerror or exc}") from exc


def read_express_ner(path: str | os.PathLike[str]) -> list[NerRecord]:
    """Read a PaddleNLP express-NER file (header ``text_a<TAB>label``); errors name file and line."""
    path = Path(path)
    records: list[NerRecord] = []
    for line_no, raw in enumerate(_read_text(path).split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or (line_no == 1 and line.startswith("text_a")):
            continue
        if line.count("\t") != 1:
            raise LabelFormatError(f"{path}:{line_no}: expected 'chars<TAB>tags'")
        chars_raw, tags_raw = line.split("\t")
        chars, tags = chars_raw.split(_SEP), tags_raw.split(_SEP)
        if len(chars) != len(tags):
            raise LabelFormatError(f"{path}:{line_no}: {len(chars)} characters but {len(tags)} tags")
        if any(len(c) != 1 for c in chars):
            raise LabelFormatError(f"{path}:{line_no}: characters must be joined by U+0002, one per position")
        records.append(NerRecord("".join(chars), tuple(tags)))
    return records


def read_text_lines(path: str | os.PathLike[str]) -> list[str]:
    """Non-empty lines of a UTF-8 text file, stripped; TABs are refused (they break label files)."""
    path = Path(path)
    out: list[str] = []
    for line_no, raw in enumerate(_read_text(path).split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        if "\t" in line:
            raise LabelFormatError(f"{path}:{line_no}: text lines cannot contain a TAB")
        out.append(line)
    if not out:
        raise LabelFormatError(f"{path}: no text lines")
    return out


_NAME_PREFIXES = ("收件人：", "寄件人：", "收货人：", "联系人：", "姓名：", "收件人:", "")
_PHONE_PREFIXES = ("电话：", "手机：", "联系电话：", "Tel:", "电话:", "")
_ADDR_PREFIXES = ("地址：", "收件地址：", "寄件地址：", "")


def _split_long(text: str, max_len: int, rng: np.random.Generator) -> list[str]:
    if len(text) <= max_len:
        return [text]
    parts, i = [], 0
    while i < len(text):
        step = int(rng.integers(max(4, max_len // 2), max_len + 1))
        parts.append(text[i : i + step])
        i += step
    return [p for p in parts if len(p) >= 2]


def extract_lines(
    records: Sequence[NerRecord], *, seed: int = 0, max_len: int = 24, chunks_per_record: int = 1
) -> list[str]:
    """Realistic single-line strings from NER records, deterministic for a seed, without duplicates.

    Per record: the name, the phone, the address (cut to ``max_len``), one labelled field, the
    name with the phone, and ``chunks_per_record`` random chunks of the whole record.
    """
    rng = np.random.default_rng(seed)
    out: list[str] = []
    seen: set[str] = set()

    def add(items: Iterable[str]) -> None:
        for item in items:
            s = item.strip()
            if len(s) >= 2 and s not in seen:
                seen.add(s)
                out.append(s)

    for rec in records:
        e = rec.entities()
        name, phone, addr = e.get("P", ""), e.get("T", ""), rec.address
        add([name, phone])
        add(_split_long(addr, max_len, rng))
        kind = int(rng.integers(3))
        if kind == 0 and name:
            add([_NAME_PREFIXES[int(rng.integers(len(_NAME_PREFIXES)))] + name])
        elif kind == 1 and phone:
            add([_PHONE_PREFIXES[int(rng.integers(len(_PHONE_PREFIXES)))] + phone])
        elif addr:
            prefix = _ADDR_PREFIXES[int(rng.integers(len(_ADDR_PREFIXES)))]
            add(_split_long(prefix + addr, max_len, rng)[:1])
        if name and phone:
            add([f"{name} {phone}" if rng.random() < 0.5 else name + phone])
        n = len(rec.text)
        for _ in range(chunks_per_record):
            length = int(rng.integers(4, max(5, min(max_len, n) + 1)))
            start = int(rng.integers(0, max(1, n - length + 1)))
            add([rec.text[start : start + length]])
    return out


# --- general text: jieba's word frequencies ---------------------------------------------------------
# jieba (MIT) ships dict.txt: 349k words with corpus frequencies. Lines sampled from it carry the real
# character frequencies of modern Chinese, which is what a forgetting guard must cover; a share of
# "coverage" lines draws characters uniformly from a dictionary so that rare classes appear too.
_PUNCT_BETWEEN = "，、。：；！？"
_BRACKETS = ("（）", "()", "《》", "【】", "“”", "[]")
_UNITS = ("元", "件", "箱", "kg", "个", "次", "米", "%", "号", "层", "室", "台", "吨", "天")


@dataclass(frozen=True, slots=True)
class WordTable:
    words: tuple[str, ...]
    p: np.ndarray  # sampling probability of each word


def jieba_words(min_freq: int = 3) -> WordTable:
    """jieba's dictionary as a sampling table (frequency ** 0.75, as word2vec smooths: the very common
    single characters would otherwise fill every line)."""
    try:
        import jieba
    except ImportError as exc:
        raise InputNotFoundError("general text needs jieba: pip install 'luodi[train]'") from exc
    path = Path(jieba.__file__).parent / "dict.txt"
    words: list[str] = []
    freqs: list[float] = []
    for line in _read_text(path).splitlines():
        parts = line.split(" ")
        if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) >= min_freq and "\t" not in parts[0]:
            words.append(parts[0])
            freqs.append(float(parts[1]))
    weights = np.asarray(freqs) ** 0.75
    return WordTable(tuple(words), weights / weights.sum())


def _number_phrase(rng: np.random.Generator) -> str:
    kind = int(rng.integers(6))
    if kind == 0:
        return f"{int(rng.integers(1990, 2031))}年{int(rng.integers(1, 13))}月{int(rng.integers(1, 29))}日"
    if kind == 1:
        return f"{rng.uniform(0.5, 99999):,.2f}"
    if kind == 2:
        return f"{int(rng.integers(1, 999))}{_UNITS[int(rng.integers(len(_UNITS)))]}"
    if kind == 3:
        return f"{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}"
    if kind == 4:
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        return f"{letters[int(rng.integers(len(letters)))]}{int(rng.integers(100, 99999))}"
    return f"{rng.uniform(0, 100):.1f}%"


def general_lines(
    n: int,
    *,
    seed: int = 0,
    min_len: int = 4,
    max_len: int = 16,
    coverage_chars: Sequence[str] = (),
    coverage: float = 0.1,
    spaces: float = 0.15,
    table: WordTable | None = None,
) -> list[str]:
    """``n`` lines of general text: frequency-sampled words with punctuation, numbers, brackets and
    Latin mixed in; a ``coverage`` share of lines is drawn uniformly from ``coverage_chars``.

    ``spaces``: how often two words are set apart by a space; twice as often where a number or Latin
    meets another word ("型号 DX-500", "联系人 王先生"), half as often between two Chinese words. Real
    text has spaces, and a recogniser fine-tuned on lines without any unlearns the space class.
    """
    rng = np.random.default_rng([seed, 0x6E2])
    table = table or jieba_words()
    out: list[str] = []
    while len(out) < n:
        target = int(rng.integers(min_len, max_len + 1))
        if coverage_chars and rng.random() < coverage:
            idx = rng.integers(len(coverage_chars), size=target)
            out.append("".join(coverage_chars[i] for i in idx))
            continue
        parts: list[str] = []
        length = 0
        for w in rng.choice(len(table.words), size=target, p=table.p):
            if length >= target:
                break
            word = table.words[int(w)]
            r = rng.random()
            if r < 0.08:
                word = _number_phrase(rng)
            elif r < 0.12:
                pair = _BRACKETS[int(rng.integers(len(_BRACKETS)))]
                word = pair[0] + word + pair[1]
            if spaces and parts and parts[-1] not in _PUNCT_BETWEEN:
                latin = parts[-1][-1].isascii() or word[0].isascii()
                if rng.random() < (2.0 * spaces if latin else 0.5 * spaces):
                    parts.append(" ")
            parts.append(word)
            length += len(word)
            if length < target and rng.random() < 0.12:
                parts.append(_PUNCT_BETWEEN[int(rng.integers(len(_PUNCT_BETWEEN)))])
        line = "".join(parts)[: max_len + 4].strip()
        if len(line) >= 2:
            out.append(line)
    return out


# --- bank slips ----------------------------------------------------------------------------------
_DIGITS_UPPER = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")


def _four_digits_upper(n: int) -> str:
    """0 < n < 10000 in capital numerals, zeros collapsed (1005 -> 壹仟零伍)."""
    out = ""
    zero = False
    for pos in range(3, -1, -1):
        d = n // 10**pos % 10
        if d == 0:
            zero = bool(out)
        else:
            out += ("零" if zero else "") + _DIGITS_UPPER[d] + _SMALL_UNITS[pos]
            zero = False
    return out


def rmb_upper(amount: float | str) -> str:
    """An amount of yuan in the capital numerals of cheques and slips: 10005.5 -> 壹万零伍元伍角,
    100 -> 壹佰元整, 0.07 -> 柒分. Rounds to the fen; refuses negatives and amounts of a trillion or more."""
    from decimal import ROUND_HALF_UP, Decimal

    fen = int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if fen < 0 or fen >= 10**14:
        raise ValueError(f"amount out of range: {amount}")
    yuan, jiao, f = fen // 100, fen // 10 % 10, fen % 10
    text = ""
    if yuan:
        groups = []
        y = yuan
        while y:
            groups.append(y % 10000)
            y //= 10000
        need_zero = False
        for i in range(len(groups) - 1, -1, -1):
            g = groups[i]
            if g == 0:
                need_zero = bool(text)
                continue
            if text and (need_zero or g < 1000):
                text += "零"
            text += _four_digits_upper(g) + _BIG_UNITS[i]
            need_zero = False
        text += "元"
    if not jiao and not f:
        return (text or "零元") + "整"
    if jiao:
        text += _DIGITS_UPPER[jiao] + "角"
    elif yuan:
        text += "零"
    if f:
        text += _DIGITS_UPPER[f] + "分"
    return text


# Two disjoint families of slip vocabulary: recipes train on "train", the bench reads "eval".
_BANKS = {
    "train": (
        "中国工商银行",
        "中国农业银行",
        "中国银行",
        "中国建设银行",
        "交通银行",
        "招商银行",
        "上海浦东发展银行",
        "中信银行",
        "中国光大银行",
        "华夏银行",
        "中国民生银行",
    ),
    "eval": (
        "中国邮政储蓄银行",
        "兴业银行",
        "广发银行",
        "平安银行",
        "北京银行",
        "上海银行",
        "江苏银行",
        "宁波银行",
        "杭州银行",
        "渤海银行",
        "浙商银行",
    ),
}
_CITIES = {
    "train": (
        "北京",
        "天津",
        "石家庄",
        "太原",
        "沈阳",
        "长春",
        "哈尔滨",
        "南京",
        "合肥",
        "福州",
        "南昌",
        "济南",
        "郑州",
        "武汉",
        "长沙",
        "广州",
        "南宁",
        "海口",
        "成都",
    ),
    "eval": (
        "上海",
        "杭州",
        "苏州",
        "无锡",
        "宁波",
        "厦门",
        "青岛",
        "大连",
        "深圳",
        "东莞",
        "佛山",
        "重庆",
        "贵阳",
        "昆明",
        "西安",
        "兰州",
        "西宁",
        "银川",
        "乌鲁木齐",
    ),
}
_PLACES = (
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "胜利路",
    "文化路",
    "滨江",
    "开发区",
    "高新区",
    "经济技术开发区",
    "城东",
    "城西",
    "火车站",
    "东湖",
    "西湖",
    "长安",
    "朝阳",
    "海淀",
    "江北",
    "河西",
)
_BRANCH = ("支行", "分行", "营业部", "分理处")
_LABELS = {
    "train": {
        "bank": ("开户行：", "开户银行："),
        "account": ("账号：", "收款账号："),
        "name": ("收款人：", "户名："),
        "amount": ("金额：", "小写金额："),
        "upper": ("人民币（大写）", "大写金额："),
        "date": ("日期：", "交易日期："),
        "use": ("用途：", "摘要："),
        "serial": ("流水号：", "交易序号："),
    },
    "eval": {
        "bank": ("收款人开户行", "付款行名称："),
        "account": ("付款人账号", "卡号："),
        "name": ("付款人全称", "收款单位："),
        "amount": ("金额（小写）", "￥"),
        "upper": ("金额（大写）", "人民币"),
        "date": ("委托日期", "记账日期："),
        "use": ("附言：", "款项用途"),
        "serial": ("凭证号码", "业务编号："),
    },
}
_USES = ("货款", "工资", "报销", "往来款", "服务费", "房租", "借款", "运费", "保证金", "差旅费", "材料款", "咨询费")
_COMPANY_TAILS = (
    "有限公司",
    "股份有限公司",
    "商贸有限公司",
    "科技有限公司",
    "物流有限公司",
    "贸易有限公司",
    "实业有限公司",
)


def _account(rng: np.random.Generator) -> str:
    digits = "".join(str(int(d)) for d in rng.integers(0, 10, size=int(rng.choice([16, 17, 19]))))
    digits = ("62" + digits[2:]) if rng.random() < 0.6 else digits
    if rng.random() < 0.4:  # grouped by four as printed on cards and many slips
        return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))
    return digits


def _amount(rng: np.random.Generator) -> float:
    scale = float(rng.choice([100, 1000, 10000, 100000, 1000000]))
    value = rng.uniform(1, 10) * scale / 10
    return round(value if rng.random() < 0.6 else round(value, -1), 2)


def slip_lines(n: int, *, seed: int = 0, family: str = "train", table: WordTable | None = None) -> list[str]:
    """``n`` lines as printed on bank slips (deposit/transfer forms, receipts): bank and branch names,
    account numbers, amounts in figures and in capital numerals, payees, dates, purposes, serials."""
    if family not in _BANKS:
        raise ValueError(f"unknown family {family!r}")
    rng = np.random.default_rng([seed, 0x511])
    table = table or jieba_words()
    labels = _LABELS[family]
    out: list[str] = []

    def pick(seq: Sequence[str]) -> str:
        return seq[int(rng.integers(len(seq)))]

    def company() -> str:
        w = "".join(table.words[int(i)] for i in rng.choice(len(table.words), size=2, p=table.p))
        return pick(_CITIES[family]) + w[:4] + pick(_COMPANY_TAILS)

    while len(out) < n:
        kind = int(rng.integers(9))
        label = rng.random() < 0.6
        if kind == 0:
            s = pick(_BANKS[family]) + pick(_CITIES[family]) + pick(_PLACES) + pick(_BRANCH)
            s = (pick(labels["bank"]) + s) if label else s
        elif kind == 1:
            s = (pick(labels["account"]) if label else "") + _account(rng)
        elif kind == 2:
            a = _amount(rng)
            s = (pick(labels["amount"]) if label else "") + (f"¥{a:,.2f}" if rng.random() < 0.5 else f"{a:.2f}")
        elif kind in (3, 4):
            s = (pick(labels["upper"]) if label else "") + rmb_upper(_amount(rng))
        elif kind == 5:
            s = (pick(labels["name"]) if label else "") + company()
        elif kind == 6:
            y, m, d = int(rng.integers(2015, 2031)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
            s = (pick(labels["date"]) if label else "") + (
                f"{y}年{m:02d}月{d:02d}日" if rng.random() < 0.6 else f"{y}-{m:02d}-{d:02d}"
            )
        elif kind == 7:
            s = (pick(labels["use"]) if label else "") + pick(_USES)
        else:
            s = pick(labels["serial"]) + "".join(
                str(int(d)) for d in rng.integers(0, 10, size=int(rng.integers(8, 21)))
            )
        out.append(s)
    return out
