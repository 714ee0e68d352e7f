"""Printed form text: what a form says about itself is never a value.

A blank or template form prints labels (收件人姓名), hints (请填写详细的收件人地址), grid cells
(省 / 市 / 区县) and placeholders (XXX, 某某某, 138****0000). A candidate value made only of such
text is dropped before the decision; a value with a hint glued to it keeps only the rest.

What is known as form text:

* the schema's own labels, generic labels, party tags and headers;
* the schema's ``form_text:`` list (lines printed on the operator's blank forms; ``luodi extract
  --learn-form blank.jpg`` prints the lines of a blank form to paste there);
* generic rules: instructions (请填写…, 务必…, 精确到门牌号), administrative grid words
  (省 市 区 县 镇 街道 …) standing alone, placeholder characters (X, ×, *, 某) and form words
  (信息, 内容, 名称) around them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from luodi.kie.normalize import fold, fold_label
from luodi.kie.schema import Schema, composed_labels
from luodi.kie.validators import SHARED_PRODUCTS, carrier_from_text

# An instruction to whoever fills the form in (never part of a name or an address).
_HINT = re.compile(
    r"请(?:您|务必|准确|正确|详细|如实)?(?:填|写|输入|注明|精确|选择|勾选)|填写|写明|精确到|必填|选填"
    r"|务必|(?:如|例|例如)[:：]|(?:以上|以下|此处|此栏)(?:由|请|内容|信息)"
)
# Words printed around labels on templates (备注信息, 托寄物内容): never a value on their own.
_FORM_WORDS = ("信息", "内容", "名称", "详情", "说明", "栏")
# Words of an address grid or a contact template, each of which means nothing on its own; only
# looked for in names, phones and addresses (手机 may be the goods of a parcel).
_GRID_WORDS = (
    "特别行政区", "自治区", "自治州", "自治县", "详细地址", "门牌号", "街道", "区县", "地区", "省份", "城市",
    "乡镇", "小区", "单元", "地址", "姓名", "电话", "手机", "号码",
    "省", "市", "区", "县", "旗", "盟", "州", "镇", "乡", "村", "组", "路", "街", "巷", "号", "楼", "栋", "室",
    "门", "层", "详", "细", "地",
)  # fmt: skip
# A Latin word with a vowel in it (Xiu, XIAO, Alex): its x is no placeholder mark (XXK is XXX misread).
_LATIN_WORD = re.compile(r"[A-Za-z]*[AEIOUaeiou][A-Za-z]*")
# Placeholder characters: X written any way, masks and 某 (某某某, XX省XX市).
_PLACEHOLDER_CHARS = set("XxＸｘ×✕*＊某□_＿?？…")
# Everything that only separates: punctuation, brackets, spaces.
_SEPARATORS = set(" \t:：;；,，、.。·-—–~～|/\\()（）[]【】{}<>《》\"'“”‘’!！")
# A short word that is a label of a field the schema does not have (打印时间, 签收日期).
_LABEL_WORD = re.compile(r"[\u4e00-\u9fff]{1,4}(?:时间|日期|编号|号码|签名|签字|签收)")
# Small print about signing (允许的代收人签字, 收件人签名): no name or address holds it.
_SIGNING = re.compile(r"签字|签名|签章|盖章|签收|代收人")
# Words e-waybills and shop labels print beside the parties (the real-name and inspection stamps
# every carrier prints, a product's attribute labels): glued to the end of an address by OCR
# (…中山东路301号规格, …自由路二段94号已实名), they are cut off.
_PRINT_WORDS = (
    "已实名", "已验视", "实名认证", "已安检", "已收寄", "已揽收", "已签收", "规格", "型号", "颜色", "尺码",
    "数量", "件数", "重量", "签收",
    "打印时间", "客服电话", "服务热线",
)  # fmt: skip
# English words bilingual forms print under or beside their Chinese labels (交易金额 Amount, 付款人
# 户名 Payer Name, 收件人 Consignee): a line of nothing else is a label's translation, never a value.
# No word a parcel's goods may be named by alone (Phone, Card Case): those are data.
_ENGLISH_FORM_WORDS = frozenset((
     "a", "ac", "account", "acct", "address", "amount", "and", "auditor", "authority", "balance", "bank",
     "banking", "batch", "beneficiary", "birth", "branch", "by", "c", "capital", "card", "channel", "charge",
     "charges", "checker", "code", "commission", "consignee", "currency", "customer", "date", "declared",
     "description", "drawer", "electronic", "fee", "fees", "figures", "for", "from", "full", "handling", "id",
     "in", "insured", "issuing", "lower", "memo", "name", "nationality", "no", "note", "notes", "number", "of",
     "online", "operator", "order", "payee", "payer", "payment", "period", "pieces", "postscript", "print",
     "printed", "purpose", "qty", "quantity", "receipt", "receiver", "recipient", "ref", "reference", "remark",
     "remarks", "remitter", "reviewer", "sender", "serial", "sex", "shipper", "sign", "signature", "summary",
     "tel", "teller", "terminal", "the", "time", "times", "to", "total", "tracking", "trans", "transaction",
     "type", "upper", "usage", "use", "valid", "value", "voucher", "waybill", "weight", "words",
))  # fmt: skip
_ENGLISH_WORD = re.compile(r"[A-Za-z]+")
# What a text field says when it holds nothing.
_NOTHING = frozenset(("无", "暂无", "没有", "空", "none", "n/a", "na", "null", "nil", "-", "/"))


@dataclass(frozen=True, slots=True)
class Verdict:
    """``keep``: the characters of the value that are data (start, end), or None: none are."""

    keep: tuple[int, int] | None
    reason: str | None


def _key(text: str) -> str:
    # Separators and decorations (★, ●, ※ before a stamp word) are not text.
    return "".join(c for c in fold_label(text) if c not in _SEPARATORS and (c.isalnum() or c in _PLACEHOLDER_CHARS))


class FormText:
    """What one schema's forms print; immutable, built once per extractor."""

    def __init__(self, schema: Schema, extra: Iterable[str] = ()) -> None:
        labels: set[str] = set()
        for spec in schema.fields.values():
            labels.update(spec.labels)
        for party in schema.parties.values():
            labels.update((*party.tags, *party.headers))
        labels.update(label for label, _ in composed_labels(schema))
        # Party marks, whose pieces OCR reads apart where they are printed down a cell (付 / 款人).
        self._marks = frozenset(k for p in schema.parties.values() for k in map(_key, p.tags) if len(k) >= 3)
        # A carrier's name is the form's logo only on forms that print one (中国邮政 of 中国邮政储蓄银行
        # on a bank receipt is a bank).
        self._carriers = any(spec.type == "carrier" for spec in schema.fields.values())
        # Generic labels (电话, 手机, 名称) are words too: the goods may be 手机.
        generic = {lab for labels_ in schema.generic_labels.values() for lab in labels_}
        self.labels = frozenset(k for k in (_key(lab) for lab in labels) if len(k) >= 2)
        self.generic = frozenset(k for k in (_key(lab) for lab in generic) if len(k) >= 2)
        self.printed = frozenset(k for k in (_key(t) for t in (*schema.form_text, *_PRINT_WORDS, *extra)) if k)
        # Longest first, so 收件人姓名 is taken out whole before 姓名.
        self._words = tuple(
            sorted({*self.labels, *self.generic, *self.printed, *_FORM_WORDS, *_GRID_WORDS}, key=len, reverse=True)
        )
        self._text_words = tuple(sorted({*self.labels, *self.printed, *_FORM_WORDS}, key=len, reverse=True))
        self._long_labels = tuple(k for k in self.labels if len(k) >= 3)

    def is_form_text(self, text: str, *, grid: bool = True) -> str | None:
        """Why ``text`` as a whole is printed form text, or None when it may be data. ``grid``:
        also when only grid and form words are left (names, phones, addresses; not free text,
        where 手机 may be the goods)."""
        key = _key(text)
        if not key:
            return "only punctuation"
        if key in self.labels or (grid and key in self.generic):
            return "a printed label"
        if key in self.printed or any(len(key) >= 4 and key in p for p in self.printed):
            return "printed form text"
        if _HINT.search(fold(text)):
            return "a printed hint"
        return self._template(text, key, grid=grid) or self._leftover(key, grid=grid)

    def _template(self, text: str, key: str, *, grid: bool) -> str | None:
        """Placeholders, labels inside the value, misread labels, the carrier's logo."""
        # An x inside a word is a letter (Xiu-Xuan DUAN, Alexander), not a mark.
        marks = sum(1 for c in _LATIN_WORD.sub("", key) if c in _PLACEHOLDER_CHARS)
        # Template marks: names and addresses never hold two (XX省, 某某), other text not many.
        if marks >= 2 and (grid or marks >= 0.4 * len(key)):
            return "a placeholder"
        inside = [lab for lab in self._long_labels if lab in key]
        if (grid and inside) or len(inside) >= 2:
            # No name, phone or address holds a label; free text with two of them is the form's
            # small print (快件送达收件人地址，经收件人…签字).
            return f"holds the printed label {inside[0]}"
        if grid and len(key) == 1:
            return "a single character"
        if len(key) >= 2 and any(key in mark and key != mark for mark in self._marks):
            return "a piece of a printed party mark"  # 款人 of 付款人 printed down its cell
        if grid and _SIGNING.search(key):
            return "small print about signing"
        if len(key) >= 3 and any(_one_off(key, lab) for lab in self._long_labels if len(lab) == len(key)):
            return "a misread label"  # 付教人 for 付款人
        if _LABEL_WORD.fullmatch(key):
            return "a printed label of another field"
        if english_label(text):
            return "a printed English label"
        carrier = carrier_from_text(text) if self._carriers else None
        if carrier is not None and len(key) <= len(_key(carrier.name)) + 2 and carrier.name[:2] in key:
            return "the printed carrier name"
        return None

    def _leftover(self, key: str, *, grid: bool) -> str | None:
        """Nothing but grid and form words once they are taken out."""
        rest = key
        for word in self._words if grid else self._text_words:
            if word in rest:
                rest = rest.replace(word, "")
        rest = "".join(c for c in rest if c not in _PLACEHOLDER_CHARS)
        # One character left of a long template is a misread of it (省市区详细地丝), not data.
        if not rest or (grid and len(rest) <= 1 and len(key) >= 5):
            return "a placeholder or grid cell" if any(c in _PLACEHOLDER_CHARS for c in key) else "printed form words"
        if grid and len(rest) == 2 and len(key) >= 5 and any(_one_off(rest, w) for w in _GRID_WORDS if len(w) == 2):
            return "printed form words, one misread"
        return None

    def glued_tail(self, text: str) -> tuple[int, str] | None:
        """Where printed words glued to the end of an address start (…301号规格: a label of the
        form, a stamp such as 已实名, a carrier's product name), and which; None if there are none."""
        stripped = text.rstrip()
        words = (*_PRINT_WORDS, *SHARED_PRODUCTS, *(w for w in (*self.labels, *self.generic) if len(w) >= 2))
        for word in sorted(words, key=len, reverse=True):
            if stripped.endswith(word) and len(_key(stripped[: -len(word)])) >= 4:
                cut = len(stripped) - len(word)
                while cut > 0 and (text[cut - 1].isspace() or text[cut - 1] in _SEPARATORS):
                    cut -= 1
                return cut, word
        return None

    def masked(self, text: str) -> bool:
        """A number with placeholder characters in it (138****0000, 1XXXXXXXXXX): a template, or
        a number masked for privacy; either way there is nothing to key in."""
        return any(c in _PLACEHOLDER_CHARS for c in fold(text))

    def nothing(self, text: str) -> bool:
        """无, 暂无, none: the field was left empty on purpose."""
        return _key(text).lower() in _NOTHING or fold(text).strip().lower() in _NOTHING

    def judge(self, text: str, *, grid: bool = True) -> Verdict:
        """The part of ``text`` that is data: chunks (split at spaces and brackets) that are form
        text are cut off at either end; a value that is form text throughout keeps nothing."""
        chunks = [(m.start(), m.end()) for m in re.finditer(r"[^\s()（）\[\]【】:：]+", text)]
        why = self.is_form_text(text, grid=grid)
        if len(chunks) < 2 or why is None:
            return Verdict(None, why) if why is not None else Verdict((0, len(text)), None)
        start, end = 0, len(chunks)
        cut: str | None = None
        while start < end and (why := self.is_form_text(text[chunks[start][0] : chunks[start][1]], grid=grid)):
            start, cut = start + 1, why
        while end > start and (why := self.is_form_text(text[chunks[end - 1][0] : chunks[end - 1][1]], grid=grid)):
            end, cut = end - 1, why
        if start >= end:
            return Verdict(None, cut)
        s, e = chunks[start][0], chunks[end - 1][1]
        if (s, e) == (0, len(text)) or self.is_form_text(text[s:e], grid=grid):
            return Verdict(None, why)  # form text throughout, not only at an end
        return Verdict((s, e), cut)


def english_label(text: str) -> bool:
    """Only English form words (Payer A/C No., Amount in Words), no digit and no Chinese. One word
    of four letters or more may be one letter off a form word beside a whole one (Payer Same: OCR
    read Name as Same): a misread label, not a romanised name."""
    folded = fold(text)
    words = [w.lower() for w in _ENGLISH_WORD.findall(folded)]
    if not words or any(c.isdigit() or "\u4e00" <= c <= "\u9fff" for c in folded):
        return False
    odd = [w for w in words if w not in _ENGLISH_FORM_WORDS]
    if not odd:
        return True
    whole = any(len(w) >= 4 and w in _ENGLISH_FORM_WORDS for w in words)
    return whole and len(odd) == 1 and len(odd[0]) >= 4 and _near_form_word(odd[0])


def _near_form_word(word: str) -> bool:
    return any(len(f) == len(word) and _one_off(word, f) for f in _ENGLISH_FORM_WORDS)


def learn_form_text(pages: Iterable[Iterable[str]], schema: Schema) -> list[str]:
    """The printed lines of blank forms that the schema does not know as form text yet: paste
    them into the schema's ``form_text:`` (``luodi extract --learn-form blank.jpg``)."""
    known = FormText(schema)
    out: dict[str, None] = {}
    for lines in pages:
        for line in lines:
            text = line.strip()
            if len(_key(text)) >= 2 and known.is_form_text(text, grid=False) is None:
                out.setdefault(text)
    return list(out)


def _one_off(a: str, b: str) -> bool:
    return sum(x != y for x, y in zip(a, b, strict=True)) == 1
