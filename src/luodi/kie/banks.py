"""Bank names: the issuing bank of a receipt and each party's 开户行 (bank and branch).

A bank's name is a head bank from a short, public list (中国工商银行, 中国邮政储蓄银行, 招商银行 …,
or a regional 某某农村商业银行 / 某某银行) followed by its branch (淮北相山支行, 营业部). What that
allows a reader to check, and the extractor too:

* the head bank is one of the known ones; one character off exactly one of them is an OCR
  misreading (中国邮政绪蓄银行 → 中国邮政储蓄银行): corrected, and the field is flagged;
* a branch ends with what branches end with (支行, 分行, 营业部 …); a value cut before that
  (中国银行淮北相山支, 中国银行苏州昆山市) lost its end: flagged.

The bank that issued a receipt (:func:`scan_issuing_bank`) is printed in its title (中国工商银行
网上银行电子回单) or its stamp (…银行电子回单专用章), never followed by a branch: a bank name that
runs on into a branch (招商银行重庆渝北支行) is a party's 开户行, whatever label OCR missed.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Sequence
from decimal import Decimal

from luodi.kie.candidates import TIER_BLOCK, TIER_SCAN, Candidate, Pool
from luodi.kie.capitals import LOOKALIKE_CHARS, LOOKALIKES, NUMERAL_CHARS, repair_capitals
from luodi.kie.divisions import DivisionIndex
from luodi.kie.gazetteer import Division
from luodi.kie.layout import PageLayout, Piece, TLine, run_score, run_text, starts_with_label, sub_run
from luodi.kie.normalize import compact, fold
from luodi.kie.result import FieldResult
from luodi.kie.schema import FieldSpec
from luodi.kie.validators import Checked, check_amount_words, check_date, luhn_ok, parse_capital_amount

HEAD_BANKS = (
    "中国工商银行", "中国农业银行", "中国银行", "中国建设银行", "交通银行", "中国邮政储蓄银行", "招商银行",
    "上海浦东发展银行", "浦发银行", "中信银行", "中国光大银行", "光大银行", "华夏银行", "中国民生银行", "民生银行",
    "广发银行", "平安银行", "兴业银行", "浙商银行", "渤海银行", "恒丰银行", "北京银行", "上海银行", "江苏银行",
    "南京银行", "宁波银行", "杭州银行", "徽商银行", "天津银行", "重庆银行", "成都银行", "长沙银行", "西安银行",
    "贵阳银行", "郑州银行", "青岛银行", "苏州银行", "厦门银行", "齐鲁银行", "兰州银行", "哈尔滨银行", "盛京银行",
    "锦州银行", "大连银行", "河北银行", "汉口银行", "广州银行", "东莞银行", "富滇银行", "包商银行", "晋商银行",
    "九江银行", "上饶银行", "温州银行", "台州银行", "泰隆银行", "民泰银行", "稠州银行", "中原银行", "甘肃银行",
    "吉林银行", "龙江银行", "华融湘江银行", "桂林银行", "广西北部湾银行", "海南银行", "西藏银行", "青海银行",
    "宁夏银行", "新疆银行", "内蒙古银行", "中国进出口银行", "国家开发银行", "中国农业发展银行", "微众银行",
    "网商银行", "汇丰银行", "渣打银行", "花旗银行", "东亚银行", "恒生银行", "星展银行",
)  # fmt: skip
# What a branch's name ends with; a bank name that ends otherwise was cut off (or is a head bank).
BRANCH_ENDS = (
    "支行", "分行", "营业部", "营业室", "分理处", "储蓄所", "营业所", "支局", "分中心", "信用社", "合作社", "银行",
    "总行", "管理部",
)  # fmt: skip
# Regional banks whose names are not in the list: 某某农村商业银行, 某某村镇银行, 某某农商银行.
_REGIONAL = re.compile(
    r"[\u4e00-\u9fff]{2,10}?(?:农村商业银行|农村合作银行|农商银行|村镇银行|商业银行|农村信用合作联社|信用合作联社)"
)
# The head bank a name starts with: one character before 银行 is no bank either (业银行…: its 兴 lost).
_HEAD = re.compile(r"[\u4e00-\u9fff]{1,8}?银行")


def check_bank(raw: str, *, branch: bool = False) -> Checked:
    """A bank (and branch) name: the head bank corrected when it is one character off exactly
    one known head bank, and the name flagged when it does not end like a bank or a branch
    (``branch``: when it is a head bank alone, as a party's 开户行 cut off after the bank is)."""
    value = compact(raw)
    if not value:
        return Checked(value, False, "empty")
    fixed, reason = _head(value)
    if branch and (fixed in HEAD_BANKS or _REGIONAL.fullmatch(fixed)):
        why = f"bank name {fixed!r} without its branch (cut off?)"
        return Checked(fixed, False, f"{reason}; {why}" if reason else why)
    if branch and "银行" not in fixed and not fixed.endswith(("信用社", "合作社")):
        why = f"branch {fixed!r} names no bank (its start cut off?)"
        return Checked(fixed, False, f"{reason}; {why}" if reason else why)
    if not fixed.endswith(BRANCH_ENDS):
        why = f"bank name {fixed!r} does not end like a bank or a branch (cut off?)"
        return Checked(fixed, False, f"{reason}; {why}" if reason else why)
    if reason:
        return Checked(fixed, False, reason)
    return Checked(fixed)


def _head(value: str) -> tuple[str, str | None]:
    if _REGIONAL.match(value) or any(value.startswith(b) for b in HEAD_BANKS):
        return value, None
    if value.startswith("银行"):
        return value, "no bank's name before 银行 (cut off?)"
    m = _HEAD.match(value)
    span = m.end() if m else None
    for end in sorted({n for n in (len(b) for b in HEAD_BANKS)} | ({span} if span else set()), reverse=True):
        head = value[:end]
        near = {b for b in HEAD_BANKS if len(b) == len(head) and _one_off(b, head)}
        if len(near) == 1:
            bank = near.pop()
            return bank + value[end:], f"bank name corrected to {bank} (OCR read {head})"
    if m is not None:
        # One character lost from a known head bank (业银行 for 兴业银行): put right where one fits.
        head = m.group()
        near = {b for b in HEAD_BANKS if len(b) == len(head) + 1 and _one_lost(b, head)}
        if len(near) == 1:
            bank = near.pop()
            return bank + value[m.end() :], f"bank name completed to {bank} (OCR read {head})"
    if m is not None:
        return value, f"unknown bank {m.group()}"
    return value, None


def _one_lost(full: str, read: str) -> bool:
    return any(full[:k] + full[k + 1 :] == read for k in range(len(full)))


def _one_off(a: str, b: str) -> bool:
    return sum(x != y for x, y in zip(a, b, strict=True)) == 1


# What a receipt's title or stamp prints after the issuing bank's name.
_ISSUER_WORDS = (
    "网上银行", "手机银行", "企业网银", "电子", "回单", "凭证", "业务", "客户", "单位", "个人", "专用", "受理",
    "转账", "进账", "汇款", "借记", "贷记", "付款", "收款", "交易", "结算", "记账", "存款", "取款", "通知",
    "对账", "特种", "股份有限公司", "电汇", "信汇", "委托", "回执", "支票", "现金", "存单", "收费", "利息", "代发",
)  # fmt: skip


def scan_issuing_bank(
    name: str, spec: FieldSpec, layout: PageLayout, pool: Pool, taken: dict[int, list[tuple[int, int]]]
) -> None:
    """Candidates for the bank that issued the receipt: a bank name (the field's patterns) that
    stands alone or is followed by receipt words, best in the page's upper part (the title) or in
    a stamp. A name followed by a branch (…银行重庆渝北支行) is a party's bank and is skipped."""
    if not layout.lines or not spec.patterns:
        return
    ys = sorted(t.yc for t in layout.lines)
    top = ys[max(0, len(ys) // 4 - 1)]
    for t in layout.lines:
        text = fold(t.text)
        spans = [*taken.get(id(t), ()), *((h.start, h.end) for h in layout.hits_of(t))]
        for pattern in spec.patterns:
            for m in re.finditer(pattern, text):
                g = 1 if m.groups() and m.group(1) is not None else 0
                s, e = m.span(g)
                if s >= e or any(s < te and ts < e for ts, te in spans):
                    continue
                quality = _issuer_quality(t, text, e, top)
                if quality is None:
                    continue
                run = (Piece(t, s, e),)
                pool.add(Candidate(name, run, text[s:e], run_score(run) * quality, TIER_SCAN, where="scan"))


def _issuer_quality(t: TLine, text: str, end: int, top: float) -> float | None:
    rest = text[end:]
    after = rest.lstrip(" ·-—|:：")
    stamp = "专用章" in rest or "业务章" in rest or "受理章" in rest
    if after and "\u4e00" <= after[0] <= "\u9fff" and not after.startswith(_ISSUER_WORDS) and not stamp:
        return None  # runs on into a branch or a sentence: not the receipt's own bank
    if stamp:
        return 0.9
    return 0.95 if t.yc <= top else 0.75


# --- the amount in capitals ----------------------------------------------------------------
_CAPITALS = "零壹贰叁肆伍陆柒捌玖"


def _section(n: int) -> str:
    """0 < n < 10000 in capitals, inner zeros collapsed to one 零, trailing zeros dropped."""
    out, zero = "", False
    for i, unit in enumerate(("仟", "佰", "拾", "")):
        d = n // 10 ** (3 - i) % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _CAPITALS[d] + unit
    return out


def capital_amount(value: Decimal, *, prefix: str = "人民币") -> str:
    """75000 → 人民币柒万伍仟元整; 1234.56 → 人民币壹仟贰佰叁拾肆元伍角陆分; 0.5 → 人民币伍角."""
    cents = int((value * 100).to_integral_value())
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    sections: list[int] = []
    n = yuan
    while n:
        sections.append(n % 10000)
        n //= 10000
    text, gap = "", False
    for idx in range(len(sections) - 1, -1, -1):
        sec = sections[idx]
        if sec == 0:
            gap = bool(text)
            continue
        if text and (gap or sec < 1000):
            text += "零"
        text += _section(sec) + ("", "万", "亿", "万亿")[idx]
        gap = False
    if text:
        text += "元"
    if jiao == 0 and fen == 0:
        return prefix + (text or "零元") + "整"
    if jiao:
        text += _CAPITALS[jiao] + "角"
    if fen:
        text += ("零" if text and not jiao else "") + _CAPITALS[fen] + "分"
    return prefix + text


# What capital numerals are made of: a character outside these in an amount is a misreading.
_NUMERAL_CHARS = frozenset(_CAPITALS + "拾佰仟万亿元圆角分整正")


def reconcile_amounts(
    amount: FieldResult, words: FieldResult, *, digit_min: float = 0.0
) -> tuple[FieldResult, FieldResult]:
    """The figure and the capitals are two readings of one amount. When they agree, each confirms
    the other: their scores combine and doubts about single characters go (every numeral was read
    the same twice). When the capitals are the figure's words but for characters that are no
    numeral at all (人民币禁万伍仟… for 叁万), they are corrected to the figure's and agree; where a
    corrected character stands for a digit, that digit was read once only (in the figure), so a
    figure with a digit read below ``digit_min`` is not confirmed: both are flagged. Any other
    disagreement flags both."""
    if not isinstance(amount.value, float):
        return amount, words
    figure = Decimal(str(amount.value)).quantize(Decimal("0.01"))
    parsed = parse_capital_amount(str(words.value))
    if parsed is None or parsed != figure:
        fixed = _corrected(str(words.raw or words.value), figure)
        lost = _completed(str(words.raw or words.value), figure) if fixed is None else None
        if lost is not None:
            # One reading only of the numeral OCR lost: the capitals are right, not confirmed.
            why = f"capital numerals completed from the figure: OCR lost their first numeral ({words.raw})"
            return amount, dataclasses.replace(
                _flag(words, why), value=lost, alternatives=(*words.alternatives, str(words.value))
            )
        if fixed is None:
            read = parsed if parsed is not None else words.value
            why = f"amount {amount.value:.2f} does not match the capital numerals ({read})"
            if parsed is not None and _lost_lead(figure, parsed):
                # 5000 under 肆万伍仟元整: the figure's first digits were lost (a cell OCR missed);
                # the capitals spell the whole amount. Both still need review.
                amount = dataclasses.replace(
                    amount, value=float(parsed), alternatives=(*amount.alternatives, f"{amount.value:.2f}")
                )
                why = f"the figure {figure} lost its leading digits: the amount read from the capitals"
            elif parsed is not None and _sign_read_as_digit(amount, figure, parsed):
                amount = dataclasses.replace(
                    amount, value=float(parsed), alternatives=(*amount.alternatives, f"{amount.value:.2f}")
                )
                why = f"the figure {figure} starts with a digit read unsure (the ¥ sign?): the amount from the capitals"
            return _flag(amount, why), _flag(words, why)
        why = f"capital numerals corrected to agree with the figure (OCR read {words.raw})"
        reasons = tuple(r for r in words.reasons if not _VALUE_DOUBT.match(r))
        unconfirmed = _also_fits(str(words.raw or words.value), fixed, _weak_digit_readings(amount, digit_min))
        words = dataclasses.replace(
            words, value=fixed, reasons=(*reasons, why), alternatives=(*words.alternatives, str(words.value))
        )
        if unconfirmed:
            # ¥44,745.88 (its last 8 at 0.57) over 人民币…捌角整分: the 整 was corrected to the
            # figure's 捌, so nothing but the weak 8 itself says the cents are 88.
            why = "capital numerals corrected where they spell a digit the figure read unsure: not confirmed"
            return _flag(amount, why), _flag(words, why)
        words = dataclasses.replace(words, flagged=_still_flagged(words))
    score = 1.0 - (1.0 - min(amount.score, 1.0)) * (1.0 - min(words.score, 1.0))
    return _agreed(amount, score), _agreed(words, score)


def _weak_digit_readings(amount: FieldResult, digit_min: float) -> list[Decimal]:
    """The other amounts the figure would be with one of its digits read below ``digit_min``
    changed (¥44,745.88 with its last 8 unsure: 44745.80 … 44745.89): where the capitals as read
    fit one of these as well as the figure, they do not confirm that digit."""
    chars = [
        (piece.tline.text[i], float(piece.tline.line.char_scores[i]))
        for piece in amount.pieces
        if len(piece.tline.line.char_scores) == len(piece.tline.text)
        for i in range(piece.start, min(piece.end, len(piece.tline.text)))
    ]
    text = "".join(c for c, _ in chars)
    out: list[Decimal] = []
    for k, (c, score) in enumerate(chars):
        if not c.isdigit() or score >= digit_min:
            continue
        for d in "0123456789".replace(c, ""):
            digits = re.sub(r"[^\d.]", "", text[:k] + d + text[k + 1 :])
            if digits.count(".") <= 1 and digits.strip("."):
                out.append(Decimal(digits).quantize(Decimal("0.01")))
    return out


def _also_fits(read: str, fixed: str, others: Sequence[Decimal]) -> bool:
    """Whether the capitals as read correct as well to one of ``others`` as to ``fixed``: where the
    two corrections differ, no character read there is drawn like ``fixed``'s numeral (参 for 叁
    says 叁; 整 or 指 in a numeral's place says nothing)."""
    text = compact(read)
    for other in others:
        alt = _corrected(read, other)
        if alt is None or len(alt) != len(fixed) or len(text) != len(fixed):
            continue
        places = [i for i, (a, b) in enumerate(zip(fixed, alt, strict=True)) if a != b]
        if places and not any(text[i] in LOOKALIKES.get(fixed[i], "") for i in places):
            return True
    return False


def _lost_lead(figure: Decimal, words: Decimal) -> bool:
    """The figure's digits are the capitals' last digits, some of their first ones missing."""
    read, whole = f"{figure:.2f}".replace(".", ""), f"{words:.2f}".replace(".", "")
    return 0 < figure < words and len(read) < len(whole) and whole.endswith(read)


# A figure's first digit read below this is as likely the currency sign misread (¥ read as 4 or 7).
_SIGN_DIGIT_MAX = 0.9


def _sign_read_as_digit(amount: FieldResult, figure: Decimal, words: Decimal) -> bool:
    """The figure is the capitals' amount with one more digit in front, read unsure: ¥26,778.31
    photographed and read 426,778.31 with its 4 at 0.54. (Sure, the extra digit is as likely a
    numeral the capitals lost, and the two stay as read.)"""
    read, whole = f"{figure:.2f}".replace(".", ""), f"{words:.2f}".replace(".", "")
    if not (0 < words < figure and len(read) == len(whole) + 1 and read[1:] == whole):
        return False
    for piece in amount.pieces:
        text, scores = piece.tline.text, piece.tline.line.char_scores
        for i in range(piece.start, min(piece.end, len(text), len(scores))):
            if text[i].isdigit():
                return text[i] == read[0] and float(scores[i]) < _SIGN_DIGIT_MAX
    return False


def amount_from_words(amount: FieldResult, words: FieldResult) -> FieldResult:
    """No figure read (a stamp over it, digits written one a cell that OCR missed): the amount the
    capitals spell, when they are a complete amount, flagged for review."""
    parsed = parse_capital_amount(str(words.value))
    if amount.found or parsed is None or not check_amount_words(str(words.value)).ok:
        return amount
    why = "read from the amount in capitals: no figure found"
    return dataclasses.replace(
        amount,
        value=float(parsed),
        raw=words.raw,
        score=round(words.score * 0.9, 4),
        box=words.box,
        page=words.page,
        needs_review=True,
        flagged=True,
        reasons=(why,),
    )


# Doubts that two agreeing readings settle: a weak character, a low score, a failed parse of the
# capitals that the correction repaired.
_VALUE_DOUBT = re.compile(
    r"character .* read with confidence|low confidence|not an amount in Chinese capital numerals|starts with a unit"
    r"|capital numerals read with look-alike characters"
    r"|under a stamp|found without its label: a figure|a thousands separator read as a decimal point"
)


def _agreed(f: FieldResult, score: float) -> FieldResult:
    reasons = tuple(r for r in f.reasons if not _VALUE_DOUBT.match(r))
    f = dataclasses.replace(f, score=round(max(f.score, score), 4), reasons=reasons)
    flagged = _still_flagged(f)
    return dataclasses.replace(f, flagged=flagged, needs_review=flagged)


def _still_flagged(f: FieldResult) -> bool:
    return f.flagged and any(
        not _VALUE_DOUBT.match(r) and not r.startswith("capital numerals corrected") for r in f.reasons
    )


def _flag(f: FieldResult, reason: str) -> FieldResult:
    return dataclasses.replace(f, needs_review=True, flagged=True, reasons=(*f.reasons, reason))


def _corrected(read: str, figure: Decimal) -> str | None:
    """The figure's capitals written the way ``read`` writes them (with or without 人民币, 元 or
    圆, 整 or 正), when ``read`` differs from them only in one or two characters that are no
    numeral (OCR's misreadings); None otherwise."""
    text = compact(read)
    base = capital_amount(figure, prefix="")
    variants = {base, base.replace("元", "圆"), base.replace("整", "正"), base.replace("元", "圆").replace("整", "正")}
    for v in sorted(variants):
        for prefix in ("人民币", ""):
            want = prefix + v
            if len(want) != len(text):
                continue
            diff = [(i, a) for i, (a, b) in enumerate(zip(text, want, strict=True)) if a != b]
            # A 整 (正) anywhere but at the end is no numeral there either (整万陆仟 for 叁万陆仟).
            if 0 < len(diff) <= max(2, len(want) // 3) and all(
                a not in _NUMERAL_CHARS or (a in "整正" and i < len(text) - 1) for i, a in diff
            ):
                return want
    return None


def _completed(read: str, figure: Decimal) -> str | None:
    """The figure's capitals when ``read`` is them but for their first numeral, lost (a
    handwritten 叁万柒仟… read 万柒仟…: it starts with a unit); None otherwise."""
    text = compact(read)
    base = capital_amount(figure, prefix="")
    for v in {base, base.replace("元", "圆"), base.replace("整", "正"), base.replace("元", "圆").replace("整", "正")}:
        for prefix in ("人民币", ""):
            if len(v) > 1 and v[0] in _CAPITALS[1:] and v[1] in "拾佰仟万亿" and text == prefix + v[1:]:
                return prefix + v
    return None


# --- the branch's place ------------------------------------------------------------------------
_BRANCH_TAIL = re.compile(r"(?:支行|分行|营业部|营业室|分理处|储蓄所|营业所|支局)$")


def branch_doubts(bank: str, divisions: DivisionIndex) -> tuple[str | None, list[str]]:
    """A branch is mostly named after its place (招商银行重庆渝北支行: 重庆, 渝北). A place one character
    off a district of the city it names (哈尔滨网城 for 阿城, 阜阳颖州 for 颍州), or a city one character
    off the one a district it names lies in (森州来安 for 滁州), is a misreading OCR was sure of:
    the field needs review, and where one name fits, the bank is returned with it put right (else
    None). Street-level names (浣纱支行) are not checked."""
    from luodi.kie.gazetteer import Level

    gaz = divisions.gazetteer
    head = next((b for b in sorted(HEAD_BANKS, key=len, reverse=True) if bank.startswith(b)), None)
    if head is None or not _BRANCH_TAIL.search(bank):
        return None, []
    place = _BRANCH_TAIL.sub("", bank[len(head) :]).removesuffix("市")
    for k in (4, 3, 2):
        city = [d for d in gaz.lookup(place[:k], Level.CITY) if d.current]
        if city:
            misread = _city_tail(bank, head, place, k, city[0].name)
            if misread is not None:
                return misread
            rest = place[k:].removeprefix("市")
            if len(rest) < 2 or any(d.code[:4] == city[0].code[:4] for d in gaz.lookup(rest, Level.DISTRICT)):
                return None, []
            near = sorted(
                d.name
                for d in gaz
                if d.level == Level.DISTRICT
                and d.current
                and d.code[:4] == city[0].code[:4]
                and any(_one_off(f, rest) for f in _forms(d) if len(f) == len(rest))
            )
            if not near:
                return None, []
            why = f"branch place {rest} is no district of {city[0].name} ({' or '.join(near)}?)"
            return _put_right(bank, head, k, rest, near), [why]
    for k in (2, 3):
        districts = [d for d in gaz.lookup(place[k:], Level.DISTRICT) if d.current] if len(place) - k >= 2 else []
        for d in districts:
            parent = gaz.parent(d)
            fits = [f for f in _forms(parent) if len(f) == k and _one_off(f, place[:k])] if parent else []
            if parent is not None and fits:
                why = f"branch place {place[:k]} is no city of {d.name} ({parent.name}?)"
                return bank[: len(head)] + fits[0] + bank[len(head) + k :], [why]
    return None, []


def branch_place_known(bank: str, divisions: DivisionIndex) -> bool:
    """Whether a branch names a known bank, then a city and one of that city's districts, every
    name as the gazetteer has it (中国工商银行成都青羊支行): a reading two dictionaries confirm."""
    from luodi.kie.gazetteer import Level

    gaz = divisions.gazetteer
    head = next((b for b in sorted(HEAD_BANKS, key=len, reverse=True) if bank.startswith(b)), None)
    if head is None or not _BRANCH_TAIL.search(bank):
        return False
    place = _BRANCH_TAIL.sub("", bank[len(head) :]).removesuffix("市")
    # A city by its short form (成都) or its whole name (甘孜藏族自治州甘孜支行).
    for k in range(min(len(place) - 2, 8), 1, -1):
        for city in (d for d in gaz.lookup(place[:k], Level.CITY) if d.current):
            rest = place[k:].removeprefix("市")
            if len(rest) >= 2 and any(d.code[:4] == city.code[:4] for d in gaz.lookup(rest, Level.DISTRICT)):
                return True
    return False


def _city_tail(bank: str, head: str, place: str, k: int, full: str) -> tuple[str, list[str]] | None:
    """A prefecture's long name one character off after its short form (凉山舞族自治州 for
    凉山彝族自治州: OCR misread a rare character): the bank put right, and why; else None."""
    tail = full[k:] if full.startswith(place[:k]) else ""
    read = place[k : k + len(tail)]
    if len(tail) < 3 or len(read) != len(tail) or read == tail or not _one_off(read, tail):
        return None
    start = len(head) + k
    why = f"branch place {place[:k]}{read} is no city ({full}?)"
    return bank[:start] + tail + bank[start + len(tail) :], [why]


def _put_right(bank: str, head: str, k: int, rest: str, near: list[str]) -> str | None:
    """The bank with the one district short form of ``near`` that fits ``rest`` in its place."""
    from luodi.kie.gazetteer import Level, short_forms

    fits = {f for n in near for f in (n, *short_forms(n, Level.DISTRICT)) if len(f) == len(rest) and _one_off(f, rest)}
    if len(fits) != 1:
        return None
    start = len(head) + k + bank[len(head) + k :].find(rest)
    return bank[:start] + fits.pop() + bank[start + len(rest) :]


def _forms(d: Division) -> set[str]:
    from luodi.kie.gazetteer import short_forms

    return {d.name, *short_forms(d.name, d.level)}


# --- an amount written one digit a cell ----------------------------------------------------------
# Counter slips (进账单, 电汇凭证) print a row of unit names over one cell per digit: ¥ then the
# digits, the last one under 分.
_UNIT_ROW = "亿千百十万千百十元角分"
_YEN = frozenset("¥￥YV")
# Grids that print the formal unit names (仟佰拾), and OCR's usual misreadings of a lone 千 in a cell
# (干, 于): one name each, so the row's columns are found whichever a slip prints or OCR reads.
_UNIT_NAMES = str.maketrans({"仟": "千", "佰": "百", "拾": "十", "干": "千", "于": "千"})


def scan_amount_grid(name: str, layout: PageLayout, pool: Pool) -> None:
    """The amount of a 亿千百十万千百十元角分 grid: the unit names (however OCR cut them into lines)
    give each cell's column, the digits under them their places. Only a run of digits that ends
    under 分 with no cell missing is an amount; without the ¥ before it the leading digits may be
    lost, so it is marked for review."""
    row = _unit_row(layout)
    if row is None:
        return
    cells: dict[int, Piece] = {}
    yen: int | None = None
    for t, i, ch, col in _grid_marks(layout, *row):
        if ch in _YEN:
            yen = col
        elif col in cells:
            return  # two digits in one cell: not this grid's row
        else:
            cells[col] = Piece(t, i, i + 1)
    last = len(_UNIT_ROW) - 1
    if last not in cells:
        return
    start = yen + 1 if yen is not None else min(cells)
    if any(k not in cells for k in range(start, last + 1)) or any(k < start for k in cells):
        return
    if yen is None and cells[start].text == "0":
        return  # an amount's first digit is never 0: the digits before it were lost
    cents = int("".join(cells[k].text for k in range(start, last + 1)))
    run = tuple(cells[k] for k in range(start, last + 1))
    reasons = () if yen is not None else ("no ¥ before the digits: leading digits may be missing",)
    quality = 0.95 if yen is not None else 0.7
    raw = f"{Decimal(cents) / 100:.2f}"
    pool.add(Candidate(name, run, raw, run_score(run) * quality, TIER_BLOCK, reasons, where="below"))


# A figure printed with its currency (¥75,000.00, CNY 41,677.22, RMB75000.00): money, whatever label.
_CURRENCY_FIGURE = re.compile(r"(?:[¥￥]|CNY|RMB)\s*(\d{1,3}(?:,\d{3})+(?:\.\d{2})?|\d+\.\d{2})(?![\d,.])")
NO_LABEL = "found without its label: a figure with its currency mark"
_HAN = re.compile(r"[\u4e00-\u9fff]")


def scan_currency_amount(name: str, layout: PageLayout, pool: Pool) -> None:
    """The amount where no label (nor grid) gave one (OCR garbled 交易金额 as 交稍金银): a figure
    with its currency mark on a line that holds no label (a fee or balance is printed after its
    own), for review unless the amount in capitals agrees."""
    if pool.by_field.get(name):
        return
    found: list[Candidate] = []
    for t in layout.lines:
        if layout.hits_of(t):
            continue
        text = fold(t.text)
        for m in _CURRENCY_FIGURE.finditer(text):
            if _HAN.search(text[: m.start()]):
                continue  # after words of its line: another label's (手续费：¥5.00, 余额 ¥…)
            run = (Piece(t, m.start(1), m.end(1)),)
            found.append(Candidate(name, run, m.group(1), run_score(run) * 0.8, TIER_SCAN, (NO_LABEL,), where="scan"))
    if len({c.raw.replace(",", "") for c in found}) == 1:  # two sums, and which is the amount?
        for c in found:
            pool.add(c)


_CAPITAL_RUN = re.compile(f"[{''.join(sorted(NUMERAL_CHARS | LOOKALIKE_CHARS))}]{{3,}}")


def scan_capital_words(name: str, layout: PageLayout, pool: Pool) -> None:
    """Capital numerals written with a look-alike in them and no 人民币 before them (壹仟染佰元整,
    the field's patterns take only 佰元整): the longest stretch of each line that the look-alikes
    make an amount (luodi.kie.capitals), in place of the candidates that are pieces of it, at their
    tier. Its value is the repaired amount, flagged (luodi.kie.validators.check_amount_words)."""
    for t in layout.lines:
        text = t.text
        for m in _CAPITAL_RUN.finditer(text):
            span = _capital_span(text, m.start(), m.end())
            if span is None or text[: span[0]].endswith("人民币"):
                continue  # none, or the pattern's own 人民币… (repaired when checked)
            s, e = span
            pieces = [c for c in pool.by_field.get(name, []) if _within(c, t, s, e)]
            run = (Piece(t, s, e),)
            tier = max((c.tier for c in pieces), default=TIER_SCAN)
            pool.by_field[name] = [c for c in pool.by_field.get(name, []) if not _within(c, t, s, e)]
            why = "capital numerals found by their look-alikes"
            pool.add(Candidate(name, run, text[s:e], run_score(run) * 0.9, tier, (why,), where="scan"))


def _capital_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The longest stretch of ``text[start:end]`` (up to two characters off each end) that holds a
    look-alike and is an amount once they are repaired; None if there is none."""
    best: tuple[int, int] | None = None
    if sum(c in NUMERAL_CHARS for c in text[start:end]) < 2:
        return None  # at most half of an amount's characters are repaired
    for a in range(start, min(start + 3, end)):
        for b in range(end, max(a + 2, end - 3), -1):
            piece = text[a:b]
            if best is not None and b - a <= best[1] - best[0]:
                break
            if any(c not in NUMERAL_CHARS for c in piece) and repair_capitals(piece) is not None:
                best = (a, b)
    return best


def _within(c: Candidate, t: TLine, s: int, e: int) -> bool:
    return len(c.run) == 1 and c.run[0].tline is t and s <= c.run[0].start and c.run[0].end <= e


def _grid_marks(layout: PageLayout, a: float, b: float, yc: float, h: float) -> list[tuple[TLine, int, str, int]]:
    """The digits and ¥ in the grid's cells: (line, index, character, column) of the row of them
    nearest under the unit names that reaches 分 (other numbers below, 票据张数 1, are no part)."""
    marks: list[tuple[TLine, int, str, int]] = []
    for t in layout.lines:
        if not 0.3 * h < t.yc - yc <= 3.2 * h:
            continue
        text = fold(t.text)
        for i, ch in enumerate(text):
            if not (ch.isdigit() or ch in _YEN):
                continue
            k = ((t.x_of(i) + t.x_of(i + 1)) / 2 - a) / b
            col = round(k)
            if abs(k - col) <= 0.35 and 0 <= col < len(_UNIT_ROW):
                marks.append((t, i, ch, col))
    ends = [m[0].yc for m in marks if m[3] == len(_UNIT_ROW) - 1]
    if not ends:
        return []
    top = min(ends)
    return [m for m in marks if abs(m[0].yc - top) <= 0.6 * h]


def _unit_row(layout: PageLayout) -> tuple[float, float, float, float] | None:
    """The grid's unit names as a line x = a + b·column (column 0 亿 … 10 分), its row's centre and
    height; None when no row of at least four unit names that holds 元 or 分 is on the page."""
    marks: list[tuple[float, float, float, str]] = []
    for t in layout.lines:
        text = t.text.translate(_UNIT_NAMES)
        key = compact(text)
        if not key or any(c not in _UNIT_ROW for c in key):
            continue
        marks += [((t.x_of(i) + t.x_of(i + 1)) / 2, t.yc, t.h, c) for i, c in enumerate(text) if c in _UNIT_ROW]
    rows: list[list[tuple[float, float, float, str]]] = []
    for m in sorted(marks, key=lambda m: m[1]):
        if rows and abs(m[1] - rows[-1][0][1]) <= 0.8 * m[2]:
            rows[-1].append(m)
        else:
            rows.append([m])
    best = max(rows, key=len, default=[])
    chars = "".join(m[3] for m in sorted(best))
    if len(best) < 4 or not {"元", "分"} & set(chars):
        return None
    # Each name to its column, from the right (分 is last): a name OCR missed leaves a gap.
    cols: list[int] = []
    j = len(_UNIT_ROW) - 1
    for c in reversed(chars):
        while j >= 0 and _UNIT_ROW[j] != c:
            j -= 1
        if j < 0:
            return None
        cols.append(j)
        j -= 1
    xs = [m[0] for m in sorted(best)][::-1]
    n = len(xs)
    mx, mc = sum(xs) / n, sum(cols) / n
    var = sum((c - mc) ** 2 for c in cols)
    if var == 0:
        return None
    b = sum((c - mc) * (x - mx) for c, x in zip(cols, xs, strict=True)) / var
    a = mx - b * mc
    if b <= 0 or any(abs(a + b * c - x) > 0.3 * b for c, x in zip(cols, xs, strict=True)):
        return None  # the names do not sit in evenly spaced cells
    h = sorted(m[2] for m in best)[len(best) // 2]
    return a, b, sum(m[1] for m in best) / n, h


# --- a date without its label (any schema whose date field has `scan: true`) ----------------------
# A word ending in 日期 / 时间 before a date labels it for a field the schema may not have (打印日期).
_OTHER_DATE_LABEL = re.compile(r"[\u4e00-\u9fff]{1,6}(?:日期|时间)\s*[:：]?\s*$")


def scan_date(name: str, spec: FieldSpec, layout: PageLayout, pool: Pool) -> None:
    """A date printed without a label (a counter slip's 2024 年 03 月 05 日, the year, month and day
    written in by hand between the printed 年 月 日, read as pieces of one row): the row's pieces
    joined, read by the field's patterns; never a date after a label of another field (打印日期)."""
    if pool.by_field.get(name) or not spec.patterns:
        return
    rows: list[list[TLine]] = []
    for t in layout.lines:  # reading order: rows top to bottom, left to right
        if rows and abs(t.yc - rows[-1][-1].yc) <= 0.5 * t.h and t.x0 - rows[-1][-1].x1 < 2.5 * t.h:
            rows[-1].append(t)
        else:
            rows.append([t])
    for row in rows:
        # A line with a label is read up to its first label: what comes before is no label's value
        # (a teller's machine print, 20240305 10:11:12 流水号:…, dates the slip without a label).
        run = tuple(
            Piece(t, 0, min((h.start for h in layout.hits_of(t)), default=len(t.text)))
            for t in row
            if not starts_with_label(layout.hits_of(t), t)
        )
        text = fold("".join(p.text for p in run))
        for pattern in spec.patterns:
            m = re.search(pattern, text)
            if m is None or _OTHER_DATE_LABEL.search(text[: m.start()]):
                continue
            g = 1 if m.groups() and m.group(1) is not None else 0
            value = sub_run(run, *m.span(g))
            pool.add(Candidate(name, value, m.group(g), run_score(value) * 0.85, TIER_SCAN, where="scan"))
            break


def scan_time(name: str, spec: FieldSpec, layout: PageLayout, pool: Pool, dates: Sequence[Candidate]) -> None:
    """A time printed right after a date, with no label of its own (a teller's machine print:
    20240305 10:11:12 流水号:…): read from the rest of the date's line, or from the next line of
    its row where OCR cut the two apart; only whitespace may stand between them."""
    if pool.by_field.get(name) or not spec.patterns:
        return
    for d in dates:
        if not d.run:
            continue
        last = d.run[-1]
        t = last.tline
        run: tuple[Piece, ...] = (Piece(t, last.end, len(t.text)),)
        if not t.text[last.end :].strip():
            after = [o for o in layout.lines if abs(o.yc - t.yc) <= 0.5 * t.h and 0 <= o.x0 - t.x1 < 2.5 * t.h]
            if not after:
                continue
            nxt = min(after, key=lambda o: o.x0)
            run = (*run, Piece(nxt, 0, len(nxt.text)))
        text = fold(run_text(run))
        # A date that is no calendar date was misread or cut at the wrong digit (2019042517:20:48
        # read 209042517:20:48 gives 20904251): a time glued to it may have lost its first digit.
        glued = bool(text) and not text[0].isspace() and t.text[last.end - 1 : last.end].isdigit()
        if glued and not check_date(d.raw).ok:
            continue
        for pattern in spec.patterns:
            m = re.search(pattern, text)
            if m is None or text[: m.start()].strip():
                continue
            g = 1 if m.groups() and m.group(1) is not None else 0
            value = sub_run(run, *m.span(g))
            pool.add(Candidate(name, value, m.group(g), run_score(value) * 0.85, TIER_SCAN, where="scan"))
            return


# --- stamps over the text ----------------------------------------------------------------------
# What OCR reads of a stamp: its star and the words in its middle (the ring's curved text rarely).
_STAMP_WORD = re.compile(
    r"^[★☆*]$|^(?:业务|受理|转讫|讫|收讫|付讫|现金收讫|业务专用|专用章|业务专用章|受理专用章|办讫|清讫)$"
)
_UNDER_STAMP = "under a stamp: characters may be hidden"


def find_stamps(layout: PageLayout, pool: Pool) -> None:
    """Stamps over the page's text, from what OCR read of them: the star at the centre (the disc
    about five of its heights across) or a stamp word printed inside (业务专用, 转讫: the disc about
    seven of its line heights across, its centre a little above the word). In page pixels."""
    for t in layout.lines:
        word = compact(t.text)
        if not _STAMP_WORD.match(word):
            continue
        xs = [x for x, _ in t.line.box]
        ys = [y for _, y in t.line.box]
        cx, cy, h = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(ys) - min(ys)
        if len(word) == 1 and not word.isalnum():
            pool.stamps.append((t.page, cx, cy, 2.5 * h))
        else:
            pool.stamps.append((t.page, cx, cy - 1.0 * h, 3.5 * h))


def flag_under_stamps(decided: dict[str, FieldResult], stamps: Sequence[tuple[int, float, float, float]]) -> None:
    """A value whose box reaches under a stamp may have lost characters OCR did not see (a card
    number read 16 digits of 17 with full confidence): it needs review."""
    for name, f in list(decided.items()):
        if not f.found or f.box is None:
            continue
        xs = [x for x, _ in f.box]
        ys = [y for _, y in f.box]
        for page, cx, cy, r in stamps:
            dx = max(min(xs) - cx, 0.0, cx - max(xs))
            dy = max(min(ys) - cy, 0.0, cy - max(ys))
            if page == f.page and dx * dx + dy * dy < (0.9 * r) ** 2:
                decided[name] = _flag(f, _UNDER_STAMP)
                break


# --- a masked card number's stars ----------------------------------------------------------------
# OCR's CTC decoding merges a run of equal characters unless it sees a gap between them, so it
# counts the stars of 622848*********1234 badly (3 or 8 of 9). Where they lie on the line does not
# depend on that: the run spans (stars + 1) digit pitches from the digit before it to the one after.
# A card number has 16 to 19 digits, so the stars are 16 to 19 less the digits shown.
_MASK_RUN = re.compile(r"(\d)(\*+)(\d)")
CARD_LENGTHS = (16, 19)


def luhn_repair(value: str, chars: Sequence[tuple[str, float]], least: float) -> str | None:
    """A card number that fails its Luhn check digit with one digit read below ``least``: that
    digit (the weakest) put to the one value the check digit allows (6292813513872957 with its 3
    at 0.76: 6292813518872957). None where the digits are not the value's or none is weak. The
    caller keeps it for review: the weakest digit need not be the misread one."""
    digits = [(c, sc) for c, sc in chars if c.isdigit()]
    if "".join(c for c, _ in digits) != value or not digits:
        return None
    at = min(range(len(digits)), key=lambda k: digits[k][1])
    if digits[at][1] >= least:
        return None
    for d in "0123456789":
        fixed = value[:at] + d + value[at + 1 :]
        if d != value[at] and luhn_ok(fixed):
            return fixed
    return None


def recount_stars(run: Sequence[Piece]) -> str | None:
    """The masked number of ``run`` with its stars counted from where the digits around them lie,
    where OCR's count is one no card number can have (622848***1234: 13 digits); None where OCR's
    count may be right, or the run holds no single star run between digits on one line."""
    if len(run) != 1:
        return None
    p = run[0]
    text = p.text
    m = _MASK_RUN.search(text)
    positions = p.tline.line.char_positions
    if m is None or len(_MASK_RUN.findall(text)) != 1 or len(positions) != len(p.tline.text):
        return None
    pos = positions[p.start : p.end]
    pairs = enumerate(itertools.pairwise(pos))
    steps = sorted(b - a for i, (a, b) in pairs if text[i].isdigit() and text[i + 1].isdigit())
    if len(steps) < 4 or steps[len(steps) // 2] <= 0:
        return None
    pitch = steps[len(steps) // 2]
    seen = m.group(2).count("*")
    shown = sum(c.isdigit() for c in text)
    low, high = max(1, CARD_LENGTHS[0] - shown), CARD_LENGTHS[1] - shown
    if low > high:
        return None
    est = round((pos[m.end(2)] - pos[m.start(2) - 1]) / pitch) - 1
    if low <= seen <= high:
        return None  # a count a card can have: OCR's stands (the positions are rougher than it)
    stars = min(max(est, low), high)
    return text[: m.start(2)] + "*" * stars + text[m.end(2) :]
