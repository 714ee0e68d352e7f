"""Contact parsers for the extractor: one party's name, phones and address parts in a piece of text.

The extractor is handed a :class:`PartyParser` (``Extractor(contact_parser=…)``), a callable from
text to :class:`PartyParse`. Two are provided:

* :class:`ModelContactParser` wraps ``luodi.kie.contact.ContactParser`` (sequence labeller +
  gazetteer). The model loads on first use; when it is not installed the parser logs one warning
  and answers with the rules below, saying so in the reasons.
* :class:`RuleContactParser`: phones by pattern, the name as the short run of Han characters next
  to a phone, the rest as the address, address parts by administrative suffixes. It needs nothing
  from the model store, so unit tests and minimal installs behave the same everywhere.

Both are immutable after their first call and safe to share between threads. Nothing here is
process-wide: each extractor holds its own parser (the platform's pipeline builds one from the
settings and passes it in).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from luodi.errors import ModelError
from luodi.kie.normalize import fold
from luodi.kie.validators import MASKED_MOBILE_RE, find_contact_numbers, phone_text

if TYPE_CHECKING:
    from luodi.kie.gazetteer import Gazetteer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Span:
    value: str
    start: int
    end: int
    score: float = 1.0


@dataclass(frozen=True, slots=True)
class PartyParse:
    name: Span | None = None
    phones: tuple[Span, ...] = ()
    address: Span | None = None
    province: Span | None = None
    city: Span | None = None
    district: Span | None = None
    detail: Span | None = None
    reasons: tuple[str, ...] = ()
    model_based: bool = False


class PartyParser(Protocol):
    """What the extractor needs from a contact parser."""

    def __call__(self, text: str) -> PartyParse: ...


class RuleContactParser:
    """Rules only (see the module docstring); no model, no data files."""

    reason = "rule-based contact parsing"

    def __call__(self, text: str) -> PartyParse:
        if not text.strip():
            return PartyParse()
        simple = _name_and_phones_only(text)
        if simple is not None:
            return simple
        return dataclasses.replace(_fallback(text), reasons=(self.reason,))


class ModelContactParser:
    """``luodi.kie.contact``'s parser; rules where its model is not installed.

    ``model`` is the model folder (default: the store's ``express-ner``); ``gazetteer`` the division
    table the parser checks regions with (default: built from the installed package).
    """

    def __init__(self, model: str | Path | None = None, *, gazetteer: Gazetteer | None = None) -> None:
        self._model = model
        self._gazetteer = gazetteer
        self._lock = threading.Lock()
        self._parser: Any = None
        self._failed: str | None = None
        self._rules = RuleContactParser()

    def _get(self) -> Any:
        # Loaded once, on first use (construction stays cheap); a failure is remembered, so a
        # missing model costs one disk look-up per parser, not one per call.
        if self._parser is None and self._failed is None:
            with self._lock:
                if self._parser is None and self._failed is None:
                    try:
                        from luodi.kie.contact import ContactParser

                        self._parser = ContactParser(self._model, gazetteer=self._gazetteer)
                    except ModelError as exc:
                        self._failed = exc.message
                        log.warning("contact model unavailable, using rule-based contact parsing: %s", exc.message)
        return self._parser

    @property
    def available(self) -> bool:
        """Whether the model loaded (loads it)."""
        return self._get() is not None

    def __call__(self, text: str) -> PartyParse:
        if not text.strip():
            return PartyParse()
        simple = _name_and_phones_only(text)
        if simple is not None:
            return simple
        parser = self._get()
        if parser is None:
            # The sequence labeller is not pulled or failed to load: the rules still give a usable answer.
            return dataclasses.replace(
                _fallback(text), reasons=("rule-based contact parsing (contact model unavailable)",)
            )
        return _from_contact(parser(text))


class MemoParser:
    """A parser that remembers its answers for one extraction: the same block text comes back on
    two-part stubs and in address-part parsing, and each model run costs tens of milliseconds.
    Made per call, never shared between documents."""

    def __init__(self, parser: PartyParser) -> None:
        self._parser = parser
        self._seen: dict[str, PartyParse] = {}

    def __call__(self, text: str) -> PartyParse:
        got = self._seen.get(text)
        if got is None:
            got = self._seen[text] = self._parser(text)
        return got


def _span(obj: Any) -> Span | None:
    if obj is None:
        return None
    return Span(str(obj.value), int(obj.start), int(obj.end), float(getattr(obj, "score", 1.0)))


def _from_contact(c: Any) -> PartyParse:
    phones = tuple(s for s in (_span(p) for p in getattr(c, "phones", ())) if s is not None)
    if not phones and getattr(c, "phone", None) is not None:
        phones = (_span(c.phone),)  # type: ignore[assignment]
    return PartyParse(
        name=_span(c.name),
        phones=phones,
        address=_span(c.address),
        province=_span(c.province),
        city=_span(c.city),
        district=_span(c.district),
        detail=_span(c.detail),
        reasons=tuple(getattr(c, "reasons", ()) or ()),
        model_based=True,
    )


_SIMPLE_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}|[\u4e00-\u9fff]{1,4}·[\u4e00-\u9fff]{1,6}")


def is_simple_name(text: str) -> bool:
    """2-4 Han characters (or a name with ·) that do not end like an address."""
    return bool(_SIMPLE_NAME.fullmatch(text)) and not _ADDRESS_HINT.search(text[-1])


def _phone_value(raw: str) -> str:
    """A phone's digits; a masked mobile (138****5678) as printed, the decision flags it."""
    folded = fold(raw).strip()
    if MASKED_MOBILE_RE.fullmatch(folded):
        return folded.replace("＊", "*")
    return phone_text(raw)


def _name_and_phones_only(text: str) -> PartyParse | None:
    """A block that is only a short Han name and phone numbers (张三 13812345678) needs no model:
    the rules are exact there. Anything else (an address, a longer run) returns None."""
    phone_spans = find_contact_numbers(text)
    masked = list(text)
    for s, e in phone_spans:
        masked[s:e] = [" "] * (e - s)
    rest = "".join(masked)
    words = [(m.start(), m.end()) for m in re.finditer(r"[^\s,，;；:：|/、]+", rest)]
    if len(words) > 1 or (not words and not phone_spans):
        return None
    phones = tuple(Span(_phone_value(text[s:e]), s, e, 0.98) for s, e in phone_spans)
    if not words:
        return PartyParse(phones=phones)
    s, e = words[0]
    if not is_simple_name(text[s:e]):
        return None
    return PartyParse(name=Span(text[s:e], s, e, 0.95), phones=phones)


# --- rule-based fallback -----------------------------------------------------------------------
_ADDRESS_HINT = re.compile(r"[省市区县镇乡村路街道巷弄号楼室栋幢单元园苑庄屯旗盟州]")
_NAME_AFTER_ADDRESS = re.compile(
    r"[号楼室栋幢米村组场店园苑厦座层户弄巷院区门站处内旁侧对面角口段]([\u4e00-\u9fff]{2,3})$"
)
_PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽", "福建",
    "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南", "西藏",
    "陕西", "甘肃", "青海", "宁夏", "新疆", "台湾", "香港", "澳门",
)  # fmt: skip
_PROVINCE_ALT = "|".join(_PROVINCES)
_NAME_BEFORE_PROVINCE = re.compile(rf"^([\u4e00-\u9fff]{{2,3}})(?=(?:{_PROVINCE_ALT}))")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff·]+")
_PARTS = re.compile(
    r"^(?P<province>[\u4e00-\u9fff]{2,7}?(?:省|自治区|特别行政区)|北京市|天津市|上海市|重庆市)?"
    r"(?P<city>[\u4e00-\u9fff]{2,9}?(?:市|自治州|地区|盟))?"
    r"(?P<district>[\u4e00-\u9fff]{1,9}?(?:区|县|市|旗))?"
    r"(?P<detail>.*)$"
)


# Provinces often written without their suffix: 台湾高雄市, 北京北京市, 内蒙古呼和浩特市.
_BARE_PROVINCES = (
    "内蒙古",
    "黑龙江",
    "北京",
    "天津",
    "上海",
    "重庆",
    "台湾",
    "香港",
    "澳门",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
)


# Below a province, Taiwan has counties (苗栗县) beside cities and townships (狮潭乡) beside
# districts; Hong Kong and Macau have areas (九龙, 澳门半岛) where a city would be.
_TAIWAN = re.compile(r"^(?P<city>[\u4e00-\u9fff]{1,4}?[市县])(?P<district>[\u4e00-\u9fff]{1,4}?[区乡镇市])?")
_SAR_AREAS = ("香港岛", "九龙", "新界", "澳门半岛", "氹仔", "路环")


def sar_area(province: str | None, city: str | None) -> bool:
    """Whether ``city`` is one of Hong Kong's or Macau's areas under that region: the division
    table lists their districts straight under the region, so such an area is right, not a city
    it lacks."""
    return bool(province and city and province.startswith(("香港", "澳门")) and city in _SAR_AREAS)


def split_address(text: str, offset: int = 0) -> dict[str, Span]:
    """Province / city / district / detail of an address by suffix rules (fallback only).

    Spaces between the parts (四川省 巴中市 巴州区 …) are read through: the parts are found on
    the text without whitespace and mapped back, so each value is still a substring of ``text``
    and none starts or ends with a space."""
    keep = [i for i, c in enumerate(text) if not c.isspace()]
    if len(keep) == len(text):
        return _split_compact(text, offset)
    compact_text = "".join(text[i] for i in keep)
    out: dict[str, Span] = {}
    for part, span in _split_compact(compact_text, 0).items():
        s, e = keep[span.start], keep[span.end - 1] + 1
        out[part] = Span(text[s:e], offset + s, offset + e, span.score)
    return out


def _split_compact(text: str, offset: int) -> dict[str, Span]:  # noqa: PLR0912 - a small tokenizer: one branch per token kind
    out: dict[str, Span] = {}
    skip = 0
    for bare in _BARE_PROVINCES:
        rest = text[len(bare) :]
        if text.startswith(bare) and not rest.startswith(("省", "自治区", "壮族", "回族", "维吾尔", "特别行政区")):
            if rest.startswith("市") and bare in ("北京", "天津", "上海", "重庆"):
                break  # 北京市朝阳区: the suffix rules below read it
            out["province"] = Span(bare, offset, offset + len(bare), 0.9)
            skip = len(bare)
            break
    province = out.get("province")
    if province is None and text.startswith(("香港特别行政区", "澳门特别行政区")):
        out["province"] = province = Span(text[:7], offset, offset + 7, 0.9)
        skip = 7
    if province is not None and province.value.startswith(("香港", "澳门")):
        area = next((a for a in _SAR_AREAS if text.startswith(a, skip)), None)
        if area is not None:
            out["city"] = Span(area, offset + skip, offset + skip + len(area), 0.85)
            skip += len(area)
        dm = re.match(r"[\u4e00-\u9fff]{1,4}?区", text[skip:])
        if dm is not None:
            out["district"] = Span(dm.group(), offset + skip, offset + skip + dm.end(), 0.85)
            skip += dm.end()
        if skip < len(text):
            out["detail"] = Span(text[skip:], offset + skip, offset + len(text), 0.85)
        return out
    if province is not None and province.value == "台湾":
        tm = _TAIWAN.match(text[skip:])
        if tm is not None:
            for part in ("city", "district"):
                ps, pe = tm.span(part)
                if ps >= 0 and pe > ps:
                    out[part] = Span(text[skip + ps : skip + pe], offset + skip + ps, offset + skip + pe, 0.85)
            skip += tm.end()
            if skip < len(text):
                out["detail"] = Span(text[skip:], offset + skip, offset + len(text), 0.85)
            return out
    m = _PARTS.match(text[skip:])
    if not m:
        return out
    for part in ("province", "city", "district", "detail"):
        s, e = m.span(part)
        if s < 0 or e <= s:
            continue
        # 北京 + 北京市: the second is the city.
        target = "city" if part == "province" and part in out else part
        if target not in out:
            out[target] = Span(text[skip + s : skip + e], offset + skip + s, offset + skip + e, 0.9)
    return out


def _fallback(text: str) -> PartyParse:  # noqa: PLR0912, PLR0915 - the rule cascade, in priority order
    phone_spans = find_contact_numbers(text)
    phones = tuple(Span(_phone_value(text[s:e]), s, e, 0.98) for s, e in phone_spans)
    # Blank out the phones, then cut the rest into runs separated by spaces and punctuation.
    masked = list(text)
    for s, e in phone_spans:
        for i in range(s, e):
            masked[i] = " "
    rest = "".join(masked)
    # Commas stay inside chunks: addresses carry them (106室,204室); a name never does.
    chunks = []
    for m in re.finditer(r"[^\s;；:：|]+", rest):
        s, e = m.span()
        while s < e and rest[s] in ",，、":
            s += 1
        while e > s and rest[e - 1] in ",，、":
            e -= 1
        if s < e:
            chunks.append((s, e))
    name: Span | None = None
    address: Span | None = None
    for s, e in chunks:
        piece = text[s:e]
        if name is None and 2 <= len(piece) <= 4 and _HAN_RUN.fullmatch(piece) and not _ADDRESS_HINT.search(piece[-1]):
            # A short Han run that is the whole text or stands next to a phone is very likely
            # the name; elsewhere it is a guess.
            beside_phone = any(abs(ps - e) <= 1 or abs(s - pe) <= 1 for ps, pe in phone_spans)
            name = Span(piece, s, e, 0.95 if beside_phone or len(chunks) == 1 else 0.8)
    addr_chunks = [(s, e) for s, e in chunks if name is None or (s, e) != (name.start, name.end)]
    if addr_chunks:
        s, e = max(addr_chunks, key=lambda se: se[1] - se[0])
        # An address printed with spaces between its parts (四川省 巴中市 巴州区 …) is one address:
        # widen to the neighbouring chunks that read like address parts, up to a phone or the name.
        k = addr_chunks.index((s, e))
        blocked = [(ps, pe) for ps, pe in phone_spans] + ([(name.start, name.end)] if name else [])

        def joins(a: tuple[int, int], b: tuple[int, int]) -> bool:
            return not any(a[1] <= bs and be <= b[0] for bs, be in blocked)

        i = k
        while (
            i > 0
            and _ADDRESS_HINT.search(text[slice(*addr_chunks[i - 1])])
            and joins(addr_chunks[i - 1], addr_chunks[i])
        ):
            i -= 1
        j = k
        while j + 1 < len(addr_chunks) and joins(addr_chunks[j], addr_chunks[j + 1]):
            j += 1
        if _ADDRESS_HINT.search(text[s:e]):
            s, e = addr_chunks[i][0], addr_chunks[j][1]
        piece = text[s:e]
        hints = len(_ADDRESS_HINT.findall(piece))
        if hints:
            address = Span(piece, s, e, 0.95 if hints >= 2 else 0.8)
            lead = _NAME_BEFORE_PROVINCE.match(piece) if name is None else None
            if lead is not None and not _ADDRESS_HINT.search(lead.group(1)) and not piece.startswith(_PROVINCES):
                # 荀海波陕西省…: a name written straight before the province.
                ne = s + lead.end(1)
                name = Span(text[s:ne], s, ne, 0.8)
                address = Span(text[ne:e], ne, e, 0.85)
            if name is None:
                # 北40米韦业涛 / 1431号姚云馨: a short Han run after the address's last
                # terminator is the name written straight after it.
                tail = _NAME_AFTER_ADDRESS.search(piece)
                before_phone = any(0 <= ps - e <= 1 for ps, _ in phone_spans)
                if tail and tail.start(1) >= 4 and before_phone:
                    ns = s + tail.start(1)
                    name = Span(text[ns : s + tail.end(1)], ns, s + tail.end(1), 0.8)
                    address = Span(text[s:ns], s, ns, 0.85)
        elif name is None and 2 <= len(piece) <= 4:
            name = Span(piece, s, e, 0.6)
    parts = split_address(address.value, address.start) if address else {}
    return PartyParse(
        name=name,
        phones=phones,
        address=address,
        province=parts.get("province"),
        city=parts.get("city"),
        district=parts.get("district"),
        detail=parts.get("detail"),
        reasons=("rule-based contact parsing (luodi.kie.contact not available)",),
    )
