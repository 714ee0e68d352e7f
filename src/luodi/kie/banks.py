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

import re

from luodi.kie.candidates import TIER_SCAN, Candidate, Pool
from luodi.kie.layout import PageLayout, Piece, TLine, run_score
from luodi.kie.normalize import compact, fold
from luodi.kie.schema import FieldSpec
from luodi.kie.validators import Checked

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
_HEAD = re.compile(r"[\u4e00-\u9fff]{2,8}?银行")


def check_bank(raw: str) -> Checked:
    """A bank (and branch) name: the head bank corrected when it is one character off exactly
    one known head bank, and the name flagged when it does not end like a bank or a branch."""
    value = compact(raw)
    if not value:
        return Checked(value, False, "empty")
    fixed, reason = _head(value)
    if not fixed.endswith(BRANCH_ENDS):
        why = f"bank name {fixed!r} does not end like a bank or a branch (cut off?)"
        return Checked(fixed, False, f"{reason}; {why}" if reason else why)
    if reason:
        return Checked(fixed, False, reason)
    return Checked(fixed)


def _head(value: str) -> tuple[str, str | None]:
    if _REGIONAL.match(value) or any(value.startswith(b) for b in HEAD_BANKS):
        return value, None
    m = _HEAD.match(value)
    span = m.end() if m else None
    for end in sorted({n for n in (len(b) for b in HEAD_BANKS)} | ({span} if span else set()), reverse=True):
        head = value[:end]
        near = {b for b in HEAD_BANKS if len(b) == len(head) and _one_off(b, head)}
        if len(near) == 1:
            bank = near.pop()
            return bank + value[end:], f"bank name corrected to {bank} (OCR read {head})"
    if m is not None:
        return value, f"unknown bank {m.group()}"
    return value, None


def _one_off(a: str, b: str) -> bool:
    return sum(x != y for x, y in zip(a, b, strict=True)) == 1


# What a receipt's title or stamp prints after the issuing bank's name.
_ISSUER_WORDS = (
    "网上银行", "手机银行", "企业网银", "电子", "回单", "凭证", "业务", "客户", "单位", "个人", "专用", "受理",
    "转账", "进账", "汇款", "借记", "贷记", "付款", "收款", "交易", "结算", "记账", "存款", "取款", "通知",
    "对账", "特种", "股份有限公司",
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
