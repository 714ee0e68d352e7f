"""Geometry over OCR lines: where labels are, and which text is their value.

Words used here:

* a *hit* is a label found in a line (``收件人``, ``电话``, a ``收`` tag, a ``收件人信息`` header),
  matched on folded text with an OCR-confusion map and, for longer labels, one wrong character;
* a *piece* is a substring of one OCR line, and a *run* a sequence of pieces read as one text
  (a value that continues on the next line, a tag-only block of three lines). Runs keep the
  link to the lines, so every value gets a box in page pixels and the OCR confidences of exactly
  its characters.

Values are found, in order of trust: after the label on the same line; in the cell to the right
on the same row (boxed tables, labels printed in their own box); in the nearest line below whose
x-range overlaps the label's column. Multi-line values (addresses, tag blocks) continue on lines
below that start at the same x, until a gap, a label or a tag.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from luodi.kie.formtext import english_label
from luodi.kie.lookalikes import LABEL_LOOKALIKES
from luodi.kie.normalize import fold, fold_label
from luodi.kie.schema import Schema, composed_labels
from luodi.kie.surnames import has_surname
from luodi.kie.validators import carrier_keyword, find_contact_numbers
from luodi.ocr.result import Line, Page, Quad

_SEP_CHARS = set(":;,|/&、 \t·.-_[]()<>{}【】《》()")
_COLON_CHARS = set(":")
# Words that make a near-miss label something else: 持卡人签名 is one character from 持卡人姓名
# but is a signature box, not a name; after a label they make no label at all (收件人签名, and
# 收件人存根, the title of the receiver's tear-off copy).
_FUZZY_STOP = ("签名", "签字", "签收", "签章", "盖章", "确认", "存根")
# A sentence of small print about signing or delivery terms: it names labels but holds no value.
_SMALL_PRINT = re.compile(r"签字|签名|签章|盖章|代收人|视为送达|视为同意|已阅读")
_SENTENCE = re.compile(r"[\u4e00-\u9fff][,，][\u4e00-\u9fff].*[\u4e00-\u9fff]")
# A line that reads like a label we do not know (有效期(EXPIRY), 备用栏:) is not a value either.
# So is a line that starts with a short word and a colon (打印时间：2026-07-05): it carries its own
# value and is never the value of another label.
_LABEL_LIKE = re.compile(
    r"^[\u4e00-\u9fff]{1,10}\s*(?:\((?:[A-Za-z]|[^\u4e00-\u9fff()\s][A-Za-z]{2})[A-Za-z .&/_'\-]*\)?)\s*:?$"
    r"|^[^:]{1,10}:$|^\([A-Za-z][^)]*\)?:?$"
    r"|^[\u4e00-\u9fff]{2,6}\s*:"
)
# English words printed before a Chinese label on bilingual sheets.
_ENGLISH_GLOSS = re.compile(r"[a-z][a-z .'/&\-]{0,24}")
# English annotations printed after Chinese labels on bilingual slips: 检索参考号(SYSTEM NO.)
# One stray symbol or digit may open it where OCR misread a letter: 交易日期(①ATE).
_ANNOTATION = re.compile(r"\(\s*(?:[A-Za-z]|[^\u4e00-\u9fff()\s][A-Za-z]{2})[A-Za-z .&/_'\-]*\)?")


@dataclass(frozen=True, slots=True)
class TLine:
    page: int
    index: int
    line: Line
    key: str  # fold_label(text): what labels are compared with
    x0: float
    y0: float
    x1: float
    y1: float
    h: float
    # The page's skew (cos, sin): coordinates above are in the deskewed frame, so rows and
    # columns stay axis-aligned on a photo taken at an angle.
    rot: tuple[float, float] = (1.0, 0.0)
    # Read in another direction than the rest of the page (the line classifier turned it the
    # wrong way: 0898-6819664 read upside down as 1996189-8680): its text is not to be trusted.
    against_page: bool = False

    @property
    def text(self) -> str:
        return self.line.text

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2

    def x_of(self, char: int) -> float:
        """Left x of character ``char`` (interpolated on the box)."""
        if char <= 0:
            return self.x0
        if char >= len(self.text):
            return self.x1
        box = self.line.sub_box(char, char + 1)
        c, s = self.rot
        return min(x * c + y * s for x, y in box)


def page_skew(page: Page) -> float:
    """The page's rotation in radians: the median slope of the longer lines' top edges (a photo
    taken at an angle tilts every line alike; a line shorter than four characters says little)."""
    # A line's box starts at its reading start (the OCR turns upside-down and vertical lines
    # before reading them), so box[0] → box[1] is the reading direction: on a page photographed
    # upside down or turned by 90° every line points the same other way, and the page is read in
    # that frame. The dominant quarter turn first, then the median tilt around it.
    angles = []
    for line in page.lines:
        if len(line.text.strip()) < 4:
            continue
        (x0, y0), (x1, y1) = line.box[0], line.box[1]
        if math.hypot(x1 - x0, y1 - y0) > 0:
            angles.append(math.atan2(y1 - y0, x1 - x0))
    if not angles:
        return 0.0
    quarter = max(range(4), key=lambda q: sum(1 for a in angles if abs(_wrap(a - q * math.pi / 2)) < math.pi / 6))
    base = quarter * math.pi / 2
    tilts = sorted(d for a in angles if abs(d := _wrap(a - base)) < math.pi / 6)
    if not tilts:
        return 0.0
    return _wrap(base + tilts[len(tilts) // 2])


def _wrap(angle: float) -> float:
    """The angle in (-pi, pi]."""
    return math.atan2(math.sin(angle), math.cos(angle))


def make_lines(page: Page) -> list[TLine]:
    theta = page_skew(page)
    # Below half a degree the boxes are as good as straight: no need to turn them.
    rot = (math.cos(theta), math.sin(theta)) if abs(theta) > math.radians(0.5) else (1.0, 0.0)
    c, s = rot
    out = []
    for i, line in enumerate(page.lines):
        if not line.text.strip():
            continue
        pts = [(x * c + y * s, -x * s + y * c) for x, y in line.box]
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        side = (math.dist(line.box[0], line.box[3]) + math.dist(line.box[1], line.box[2])) / 2
        h = max(1.0, min(side, max(ys) - min(ys)) if side > 0 else max(ys) - min(ys))
        (ax, ay), (bx, by) = line.box[0], line.box[1]
        against = len(line.text.strip()) >= 2 and abs(_wrap(math.atan2(by - ay, bx - ax) - theta)) > math.pi / 2
        key = fold_label(line.text)
        out.append(TLine(page.index, i, line, key, min(xs), min(ys), max(xs), max(ys), h, rot, against))
    return out


# --- runs --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Piece:
    tline: TLine
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.tline.text[self.start : self.end]


Run = tuple[Piece, ...]


def run_text(run: Run) -> str:
    return "".join(p.text for p in run)


def sub_run(run: Run, start: int, end: int) -> Run:
    """The pieces covering characters ``start:end`` of ``run_text(run)``."""
    out = []
    offset = 0
    for p in run:
        n = p.end - p.start
        s, e = max(start, offset), min(end, offset + n)
        if s < e:
            out.append(Piece(p.tline, p.start + s - offset, p.start + e - offset))
        offset += n
    return tuple(out)


def run_box(run: Run) -> Quad | None:
    if not run:
        return None
    boxes = [p.tline.line.sub_box(p.start, p.end) for p in run]
    if len(boxes) == 1:
        return boxes[0]
    xs = [x for b in boxes for x, _ in b]
    ys = [y for b in boxes for _, y in b]
    x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def run_score(run: Run) -> float:
    """Mean OCR confidence of the run's characters (line score where per-char scores are missing)."""
    total, count = 0.0, 0
    for p in run:
        line = p.tline.line
        scores = line.char_scores
        if len(scores) == len(line.text):
            for i in range(p.start, p.end):
                if not line.text[i].isspace():
                    total += scores[i]
                    count += 1
        else:
            n = p.end - p.start
            total += float(line.score) * n
            count += n
    return total / count if count else 0.0


def trim(run: Run) -> Run:
    """Drop separators and spaces at both ends of a run."""
    pieces = list(run)
    while pieces:
        p = pieces[0]
        s = p.start
        # 。 before a value is OCR's misreading of the label's colon (收款银行。中信银行…)
        while s < p.end and fold(p.tline.text[s]) in _SEP_CHARS | {"：", "。"}:
            s += 1
        if s < p.end:
            pieces[0] = Piece(p.tline, s, p.end)
            break
        pieces.pop(0)
    while pieces:
        p = pieces[-1]
        e = p.end
        while e > p.start and fold(p.tline.text[e - 1]) in {" ", "\t", ":", ",", ";", "|", "、", "："}:
            e -= 1
        if e > p.start:
            pieces[-1] = Piece(p.tline, p.start, e)
            break
        pieces.pop()
    return tuple(pieces)


# --- labels ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    kind: str  # field | generic | header | tag
    targets: tuple[str, ...]  # field names, a role, or a party
    party: str | None
    role: str | None = None  # name / phone / address for party fields


@dataclass(frozen=True, slots=True)
class Hit:
    tline: TLine
    start: int
    end: int
    entry: Entry
    quality: float

    @property
    def kind(self) -> str:
        return self.entry.kind

    @property
    def party(self) -> str | None:
        return self.entry.party


def build_lexicon(schema: Schema) -> tuple[Entry, ...]:
    by_key: dict[tuple[str, str], tuple[list[str], str | None]] = {}

    roles: dict[str, str | None] = {}

    def add(label: str, kind: str, target: str, party: str | None) -> None:
        key = fold_label(label).replace(" ", "") if not label.isascii() else fold_label(label)
        if not key:
            return
        targets, _ = by_key.setdefault((key, kind), ([], party))
        if target not in targets:
            targets.append(target)

    for name, spec in schema.fields.items():
        for label in spec.labels:
            add(label, "field", name, spec.party)
        roles[name] = spec.effective_role if spec.party else None
    for label, name in composed_labels(schema):
        add(label, "field", name, schema.fields[name].party)
    for role, labels in schema.generic_labels.items():
        for label in labels:
            add(label, "generic", role, None)
    for party, pspec in schema.parties.items():
        for label in pspec.headers:
            add(label, "header", party, party)
        for label in pspec.tags:
            add(label, "tag", party, party)
    entries = [
        Entry(k, kind, tuple(t), p, roles.get(t[0]) if kind == "field" else None)
        for (k, kind), (t, p) in by_key.items()
    ]
    # Longest first: 收件人电话 must win over 收件人 and 电话.
    entries.sort(key=lambda e: (-len(e.key), e.kind != "field"))
    return tuple(entries)


def _mask(key: str) -> list[bool]:
    masked = [False] * len(key)
    for m in _ANNOTATION.finditer(key):
        for i in range(m.start(), m.end()):
            masked[i] = True
    return masked


def _left_ok(key: str, i: int) -> bool:
    # Right after a colon is where a value starts (托寄物：手机壳), not a label.
    return i == 0 or (key[i - 1] in _SEP_CHARS and key[i - 1] not in _COLON_CHARS)


def _after_colon(key: str, i: int) -> bool:
    k = i - 1
    while k >= 0 and key[k] == " ":
        k -= 1
    return k >= 0 and key[k] in _COLON_CHARS


def _colon_after(key: str, j: int) -> bool:
    return j < len(key) and key[j] in _COLON_CHARS


def find_hits(tline: TLine, lexicon: Sequence[Entry]) -> list[Hit]:  # noqa: PLR0912, PLR0915 - one pass over the line; the label cases share its state
    key = tline.key
    if _SMALL_PRINT.search(tline.text) and _SENTENCE.search(tline.text):
        # The carrier's terms (快件送达收件人地址，经收件人或收件人（寄件人）允许的代收人签字，视为送达。)
        # name the parties but label nothing: what follows 寄件人） there is not a name.
        return []
    n = len(key)
    masked = _mask(key)
    found: list[Hit] = []
    has_phone = bool(find_contact_numbers(tline.text))
    lead = 0
    while lead < n and key[lead] in _SEP_CHARS:
        lead += 1
    # Near-miss labels are only looked for where a label can start: line start, after a space.
    fuzzy_starts = sorted({lead} | {i + 1 for i, c in enumerate(key) if c.isspace()})
    for entry in lexicon:
        lab = entry.key
        L = len(lab)
        if L == 0 or n < L:
            continue
        ascii_label = lab.isascii()
        positions: list[tuple[int, int]] = []
        i = key.find(lab)
        while i != -1:
            positions.append((i, 0))
            i = key.find(lab, i + 1)
        if L >= 3 and not ascii_label and (entry.kind != "tag" or _lone_mark(key, lead, lab, entry, lexicon)):
            for i in fuzzy_starts:
                if _one_off(key[i : i + L], lab):
                    positions.append((i, 1))
        elif (
            L == 2
            and not ascii_label
            and entry.kind in ("field", "generic")
            and _lone_near_miss(tline, lead, lab, lexicon)
        ):
            positions.append((lead, 1))
        for i, mismatches in positions:
            if masked[i]:
                continue
            window = key[i : i + L]
            j = i + L
            if key[j:].lstrip().startswith(_FUZZY_STOP):
                continue  # 收件人签名 is a signature box, not the receiver's name
            if entry.kind == "tag":
                if i != lead or (ascii_label and j < n and _ascii_alnum(key[j])):
                    continue  # a tag starts the line; To is not the start of Tom or Total
                rest = key[j:].strip()
                if (
                    rest
                    and key[j] not in _SEP_CHARS
                    and key[j] != "："
                    and not has_phone
                    and not _name_after_mark(rest, lab, lexicon)
                ):
                    continue
            elif ascii_label:
                # Only ASCII letters and digits extend an English word: Shipper联系人 is Shipper.
                if (i > 0 and _ascii_alnum(key[i - 1])) or (j < n and _ascii_alnum(key[j])):
                    continue
            elif mismatches:
                # A near-miss label only where a label starts (line start or after a space), never
                # inside a value (托寄物：手机壳 is not 手机号).
                if not (j == n or key[j] in _SEP_CHARS):
                    continue
                if any(w in window for w in _FUZZY_STOP):
                    continue
            elif not (_left_ok(key, i) or _colon_after(key, j) or j == n):
                continue
            elif _after_colon(key, i) and not _colon_after(key, j):
                continue  # the value of the label before the colon (托寄物：手机), not a label
            if mismatches:
                quality = 0.8
            else:
                quality = 1.0 if fold(tline.text[i:j]).lower().replace(" ", "") == lab.replace(" ", "") else 0.95
            found.append(Hit(tline, i, j, entry, quality))
    # A near miss whose only wrong character is its first, the rest an exact label (付户名: 户名
    # under a 付 OCR ran into it, not 商户名), claims one stray character: the exact label stands.
    exact = {(h.start, h.end) for h in found if h.quality > 0.8}
    found = [h for h in found if not (h.quality == 0.8 and (h.start + 1, h.end) in exact)]
    found = _settle_near_misses(found)
    # Non-overlapping, longest and best first.
    found.sort(key=lambda h: (-(h.end - h.start), -h.quality, h.start))
    taken: list[Hit] = []
    for h in found:
        if all(h.end <= t.start or h.start >= t.end for t in taken):
            taken.append(h)
        elif any((t.start, t.end) == (h.start, h.end) and t.entry.kind == h.entry.kind for t in taken):
            continue
    taken.sort(key=lambda h: h.start)
    return [h for h in taken if not _tail_of_unknown_label(key, lead, h, taken)]


_GLUED_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")
_NUMBER_TAIL = re.compile(r"\s+[\d*＊\-]+$")


def _name_after_mark(rest: str, mark: str, lexicon: Sequence[Entry]) -> bool:
    """A mark run into the name after it by OCR (收顾桐昊: the black 收 square and the name beside it
    in one box) on a line with no phone (the phone printed under the name): the rest is a name of two
    to four characters with a known surname, the mark and the rest together are none (收 is no
    surname), or the rest is an organisation's name whole (寄辽阳中心医院); and it holds no label."""
    # (names imports this module: imported here)
    from luodi.kie.names import organisation
    from luodi.kie.parties import Span

    # (a piece of the phone OCR cut off may follow: 寄宜宾凯嘉科技股份有限公司 131 | *6765)
    head = _NUMBER_TAIL.sub("", rest)
    if not head or any(e.key in head for e in lexicon if e.kind != "tag"):
        return False
    if _GLUED_NAME.fullmatch(head) is not None:
        return has_surname(head) and not has_surname(mark + head)
    org = organisation(Span(head, 0, len(head), 1.0))
    return org is not None and org.value == head


def _lone_mark(key: str, lead: int, lab: str, entry: Entry, lexicon: Sequence[Entry]) -> bool:
    """A party tag of three or more characters alone on its line, read with one character wrong
    (付歌人 for 付款人), when it is one character from no other party's tag (X款人 could be either)."""
    window = key[lead:].strip()
    if len(window) != len(lab) or not _one_off(window, lab):
        return False
    return not any(e.kind == "tag" and e.party != entry.party and _one_off(window, e.key) for e in lexicon)


# A two-character label's near miss counts where OCR was unsure of the odd character: printed
# words one character from a label (账号 / 卡号, 币种 / 卡种) are read sure (dev pages: 1.0 against
# 0.49-0.94 for misread labels such as 用速, 用道, 金膜) ...
_UNSURE_LABEL_CHAR = 0.95


def _lone_near_miss(tline: TLine, lead: int, lab: str, lexicon: Sequence[Entry]) -> bool:
    """A two-character field or generic label alone in its cell or before a colon, read with one
    character wrong (用速 for 用途, 张号 for 账号), that is no label itself: the label when the odd
    character is drawn like the label's (luodi.kie.lookalikes: 速 like 途, however sure OCR was) and
    like no other label's there; else only when OCR was unsure of it and the reading is one
    character from no other label."""
    key = tline.key
    window = key[lead : lead + 2]
    rest = key[lead + 2 :].rstrip("".join(_SEP_CHARS))
    if not _one_off(window, lab) or (rest and rest[0] not in ":："):
        return False
    near = {e.key for e in lexicon if e.key == window or _one_off(window, e.key)}
    if window in near:
        return False
    at_odd = 0 if window[0] != lab[0] else 1
    if _drawn_like(window, lab):
        # ... and a look-alike is misread sure (用速 at 0.967): its shape, not OCR's confidence, says
        # which label it is, unless it is drawn like another label's character too (X号: 账号 or 卡号?).
        return not any(_drawn_like(window, other) for other in near - {lab})
    if len(near) != 1:
        return False
    odd = window[at_odd]
    at = tline.text.find(odd)
    scores = tline.line.char_scores
    return 0 <= at < len(scores) and scores[at] < _UNSURE_LABEL_CHAR


def _drawn_like(window: str, label: str) -> bool:
    """``window`` is ``label`` with one character replaced by one drawn like it (帐号, 张号: 账号)."""
    k = 0 if window[0] != label[0] else 1
    return window[k] in LABEL_LOOKALIKES.get(label[k], "")


def _tail_of_unknown_label(key: str, lead: int, hit: Hit, hits: Sequence[Hit]) -> bool:
    """A two-character field label ending a longer word that starts the line (or a cell after a
    space) and is no label of the schema: 编号 of 回单编号, a receipt number, is not the merchant's
    编号. The word's value belongs to a field the schema does not have."""
    i = hit.start
    if hit.entry.kind != "field" or hit.end - i != 2 or any(o.end == i for o in hits):
        return False
    k = i
    while k > lead and "\u4e00" <= key[k - 1] <= "\u9fff":
        k -= 1
    return 2 <= i - k <= 4 and (k == lead or key[k - 1] == " ")


def _ascii_alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def _one_off(window: str, label: str) -> bool:
    """Same length, exactly one character different."""
    if len(window) != len(label) or window == label:
        return False
    k = 0
    while window[k] == label[k]:
        k += 1
    return window[k + 1 :] == label[k + 1 :]


def _settle_near_misses(found: list[Hit]) -> list[Hit]:
    """A near miss that fits labels of both parties (微件人: 收件人 or 寄件人?) names the role but
    not the party: keep it as a party-less label, so the party comes from its section."""
    by_span: dict[tuple[int, int], list[Hit]] = {}
    for h in found:
        if h.quality == 0.8 and h.entry.kind == "field" and h.entry.role is not None:
            by_span.setdefault((h.start, h.end), []).append(h)
    drop: set[int] = set()
    extra: list[Hit] = []
    for hits in by_span.values():
        parties = {h.entry.party for h in hits}
        roles = {h.entry.role for h in hits}
        if len(parties) > 1:
            drop.update(id(h) for h in hits)
            if len(roles) == 1:
                first = hits[0]
                entry = Entry(first.entry.key, "generic", (first.entry.role or "",), None)
                extra.append(Hit(first.tline, first.start, first.end, entry, 0.7))
    return [h for h in found if id(h) not in drop] + extra


def starts_with_label(hits: Sequence[Hit], tline: TLine) -> bool:
    """True when the line begins with a label (it is a key, not a value)."""
    if not hits:
        return False
    first = hits[0]
    lead = 0
    while lead < len(tline.key) and tline.key[lead] in _SEP_CHARS:
        lead += 1
    if first.start <= lead:
        return True
    # An English gloss before the label (Consignee 联系人, Tel 电话) is still a key: the line
    # starts with words and a label follows them.
    return bool(_ENGLISH_GLOSS.fullmatch(tline.key[lead : first.start]))


# --- values ------------------------------------------------------------------------------------
def _skip_annotation(text: str, s: int, e: int) -> int:
    folded = fold(text[s:e])
    stripped = folded.lstrip(" :：")
    s2 = s + (len(folded) - len(stripped))
    m = _ANNOTATION.match(stripped)
    if m:
        return s2 + m.end()
    return s


def inline_value(hit: Hit, next_start: int) -> Run:
    text = hit.tline.text
    s = _skip_annotation(text, hit.end, next_start)
    return trim((Piece(hit.tline, s, next_start),)) if s < next_start else ()


def reading_order(lines: Sequence[TLine]) -> list[TLine]:
    """Rows top to bottom, boxes left to right within a row (boxes whose centres are within half
    a line height of the row's centre share it), so a row OCR split into boxes reads in order."""
    rows: list[list[TLine]] = []
    for t in sorted(lines, key=lambda t: t.yc):
        if rows:
            row = rows[-1]
            yc = sum(o.yc for o in row) / len(row)
            if abs(t.yc - yc) <= 0.5 * min(t.h, *(o.h for o in row)):
                row.append(t)
                continue
        rows.append([t])
    return [t for row in rows for t in sorted(row, key=lambda t: t.x0)]


# What an address line never holds: a date, a clock time, a long code (tracking number, barcode
# text) once phone numbers are set aside.
_OTHER_FIELD = re.compile(
    r"(?<!\d)\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}|(?<!\d)\d{1,2}\s*:\s*\d{2}(?!\d)"
    r"|\d{10,}|[A-Z]{2}\d{8,}"
)


def other_field_line(text: str) -> bool:
    """A line that reads like another field (打印时间2023-03-02 18:36, a tracking number, a
    carrier's name): a multi-line value such as an address stops before it."""
    folded = fold(text)
    masked = list(folded)
    for s, e in find_contact_numbers(folded):
        masked[s:e] = [" "] * (e - s)
    rest = "".join(masked).upper()
    if _OTHER_FIELD.search(rest):
        return True
    # A carrier's name on a line of its own (a street may be named after a carrier's depot).
    found = carrier_keyword(text)
    return found is not None and len(folded.strip()) <= found[2] - found[1] + 4


def join_stacked_marks(lines: Sequence[TLine], lexicon: Sequence[Entry]) -> list[TLine]:
    """A party mark printed down a narrow cell (付 / 款 / 人) that OCR read in pieces (付 + 款人, or
    one character a line) is one line again when the pieces, top to bottom, spell a tag or a
    header of the schema exactly; any other short text stacked so is left alone."""
    marks = {e.key for e in lexicon if e.kind in ("tag", "header")}
    if not marks:
        return list(lines)
    short = sorted((t for t in lines if 1 <= len(t.key.replace(" ", "")) <= 3), key=lambda t: t.y0)
    used: set[int] = set()
    joined: list[TLine] = []
    for first in short:
        if id(first) in used:
            continue
        group = [first]
        while len(group) < 4:
            last = group[-1]
            size = max(last.x1 - last.x0, 1.0)
            below = [
                o
                for o in short
                if id(o) not in used
                and o not in group
                and 0 <= o.y0 - last.y1 + 0.3 * size <= 1.3 * size
                and abs((o.x0 + o.x1) / 2 - (last.x0 + last.x1) / 2) <= 0.6 * max(size, o.x1 - o.x0)
            ]
            if not below:
                break
            group.append(min(below, key=lambda o: o.y0))
            text = "".join(o.key.replace(" ", "") for o in group)
            if text in marks:
                used.update(id(o) for o in group)
                joined.append(_joined(group))
                break
    return [t for t in lines if id(t) not in used] + joined


def _joined(group: Sequence[TLine]) -> TLine:
    xs = [x for o in group for x, _ in o.line.box]
    ys = [y for o in group for _, y in o.line.box]
    box = ((min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys)))
    text = "".join(o.text.strip() for o in group)
    scores = tuple(float(o.line.score) for o in group for c in o.text.strip())
    positions = tuple((k + 0.5) / len(text) for k in range(len(text)))
    line = Line(text, min(float(o.line.score) for o in group), box, scores, positions)
    first = group[0]
    x0, x1 = min(o.x0 for o in group), max(o.x1 for o in group)
    y0, y1 = min(o.y0 for o in group), max(o.y1 for o in group)
    # Its height is a character's, as for a vertical line OCR read whole.
    return TLine(first.page, first.index, line, fold_label(text), x0, y0, x1, y1, max(1.0, x1 - x0), first.rot)


# The lines a party block may run on under its first: a phone and an address wrapped over up to
# four lines of a narrow column (two parties printed side by side).
BLOCK_LINES = 5


class PageLayout:
    """Lines of one page with their label hits, and geometric neighbour queries."""

    def __init__(self, lines: list[TLine], lexicon: Sequence[Entry]) -> None:
        self.lines = reading_order(join_stacked_marks(lines, lexicon))
        self.hits: dict[int, list[Hit]] = {id(t): find_hits(t, lexicon) for t in self.lines}
        heights = sorted(t.h for t in self.lines)
        self.median_h = heights[len(heights) // 2] if heights else 20.0
        # Whether this page prints its labels as captions under their values (a boxed form whose
        # small captions sit at the bottom of each box). Decided once per page, from the labels'
        # shaped values, by ``proposers.captions_under_values`` before any proposer reads the page.
        self.captions_below = False
        # Whether this page prints its labels over their values (a mobile-banking receipt's small
        # labels, each value right under its own): ``proposers.labels_over_values`` decides it.
        self.labels_over = False
        # Labels OCR misread beyond any label, inferred from their place (``proposers.missing_labels``):
        # the line's id -> why (each such value is flagged).
        self.inferred: dict[int, str] = {}
        self._key_lines: dict[int, bool] = {}

    def hits_of(self, tline: TLine) -> list[Hit]:
        return self.hits[id(tline)]

    def all_hits(self) -> Iterable[Hit]:
        for t in self.lines:
            yield from self.hits[id(t)]

    def is_key_line(self, tline: TLine) -> bool:
        """A line that starts with a label, or reads like a label this schema does not know."""
        known = self._key_lines.get(id(tline))
        if known is None:
            text = fold(tline.text).strip()
            known = starts_with_label(self.hits_of(tline), tline) or bool(_LABEL_LIKE.match(text))
            self._key_lines[id(tline)] = known  # (asked thousands of times a page; hits change only by set_hits)
        return known

    def set_hits(self, tline: TLine, hits: list[Hit]) -> None:
        """Replace a line's label hits (a label told by its place: ``proposers.missing_labels``)."""
        self.hits[id(tline)] = hits
        self._key_lines.pop(id(tline), None)

    def next_start(self, hit: Hit) -> int:
        later = [h.start for h in self.hits_of(hit.tline) if h.start >= hit.end]
        return min(later) if later else len(hit.tline.text)

    def is_last_on_line(self, hit: Hit) -> bool:
        return self.next_start(hit) == len(hit.tline.text)

    def ends_its_line(self, hit: Hit) -> bool:
        """Nothing after the label on its line but, on a bilingual form, its English (交易金额 Amount)."""
        nxt = self.next_start(hit)
        return nxt == len(hit.tline.text) or english_label(hit.tline.text[hit.end : nxt])

    def column(self, hit: Hit) -> tuple[float, float]:
        t = hit.tline
        x0 = t.x_of(hit.start)
        nxt = self.next_start(hit)
        x1 = t.x_of(nxt) if nxt < len(t.text) else t.x1
        return x0, max(x1, t.x_of(hit.end))

    def has_label_to_left(self, tline: TLine) -> bool:
        """True when a label-only cell sits left of ``tline`` on the same row."""
        h = tline.h
        for o in self.lines:
            if o is tline or abs(o.yc - tline.yc) > 0.6 * h or o.x1 > tline.x0 + 0.5 * h:
                continue
            hits = self.hits_of(o)
            if hits and self.is_key_line(o) and len(o.text) - hits[-1].end <= 1:
                return True
        return False

    def right_under(self, hit: Hit, tline: TLine) -> bool:
        """Whether ``tline`` sits right under the label, nothing between: the first line below
        it, starting where the label starts, at most a line's height down, and the label has no
        cell to its right (the geometry says whose value it is)."""
        below = self.below(hit, max_lines=1)
        return bool(below) and below[0] is tline and self.aligned_under(hit, tline) and self.right_of(hit) is None

    def aligned_under(self, hit: Hit, tline: TLine) -> bool:
        """``tline`` starts where the label starts, at most a line's height under it."""
        t = hit.tline
        h = max(t.h, tline.h)
        return abs(tline.x0 - t.x_of(hit.start)) <= 1.0 * h and tline.y0 - t.y1 <= 1.0 * h

    def value_of_label_left(self, tline: TLine) -> bool:
        """Whether ``tline`` is the value of a field or generic label standing alone in its cell
        left of it on its row (账号 | 4631 0004 …): under another label it is not that label's (a
        serial number's empty cell above it borrowed an account's first digits)."""
        for o in self.left_neighbours(tline):
            hits = self.hits_of(o)
            if not hits or not self.is_key_line(o):
                continue
            last = hits[-1]
            alone = not o.text[last.end :].strip(" :：")  # nothing after the label: its value is beside it
            if last.kind not in ("field", "generic") or not alone or self.right_of(last) is not tline:
                continue
            # ... and with nothing under it (labels over values, two columns: 收件人电话 over its
            # phone has the other column's name at its right, not its value).
            if not self.below(last, max_lines=1, claimed=False):
                return True
        return False

    def right_cell(self, hit: Hit) -> list[TLine]:
        """The lines of the cell to the right of a label on the same row (a table cell, a separate
        box), top to bottom: a value cell may hold two lines beside one label."""
        t = hit.tline
        h = max(t.h, self.median_h * 0.5)
        near = [
            o
            for o in self.lines
            if o is not t
            and o.x0 >= t.x1 - 0.5 * h
            and abs(o.yc - t.yc) <= 0.8 * h
            and not self.is_key_line(o)
            and not english_label(o.text)  # the label's English, printed apart
        ]
        if not near:
            return []
        x0 = min(o.x0 for o in near)
        if x0 - t.x1 > 12 * h:
            return []
        if any(
            o is not t and t.x1 - 0.5 * h <= o.x0 and o.x1 <= x0 + 0.5 * h and abs(o.yc - t.yc) <= 0.8 * h
            for o in self.lines
            if self.is_key_line(o)
        ):
            return []  # another label stands between: what follows it is that label's value
        # Stop at the next label on the row: only lines that start where the first one does.
        return sorted((o for o in near if o.x0 - x0 < 1.5 * h), key=lambda o: o.y0)

    def right_neighbours(self, tline: TLine) -> list[TLine]:
        """Lines to the right of ``tline`` on the same row."""
        h = tline.h
        row = [
            o
            for o in self.lines
            if o is not tline and tline.x1 - 0.5 * h <= o.x0 <= tline.x1 + 10 * h and abs(o.yc - tline.yc) <= 0.6 * h
        ]
        return sorted(row, key=lambda o: o.x0)

    def left_neighbours(self, tline: TLine) -> list[TLine]:
        """Lines to the left of ``tline`` on the same row, left to right."""
        h = tline.h
        row = [
            o for o in self.lines if o is not tline and o.x1 <= tline.x0 + 0.5 * h and abs(o.yc - tline.yc) <= 0.6 * h
        ]
        return sorted(row, key=lambda o: o.x0)

    def right_of(self, hit: Hit) -> TLine | None:
        """The line of the right cell nearest to the label's row."""
        cell = self.right_cell(hit)
        if not cell:
            return None
        yc = hit.tline.yc
        return min(cell, key=lambda o: abs(o.yc - yc))

    def phone_on_row(self, tline: TLine) -> TLine | None:
        """A line that is only a phone, alone on ``tline``'s row further right (a name and its
        phone printed at the two ends of a row: 收货人：张三 … 18611883143), with nothing between."""
        h = max(tline.h, self.median_h * 0.5)
        row = sorted(
            (
                o
                for o in self.lines
                if o is not tline and o.x0 >= tline.x1 - 0.5 * h and abs(o.yc - tline.yc) <= 0.8 * h
            ),
            key=lambda o: o.x0,
        )
        if not row or self.hits_of(row[0]):
            return None
        first = row[0]
        phones = find_contact_numbers(first.text)
        digits = sum(c.isdigit() for c in first.text)
        if len(phones) != 1 or digits < 7 or len(re.sub(r"[\s\d\-+()（）*]", "", first.text)) > 2:
            return None
        return first

    def line_above(self, tline: TLine) -> TLine | None:
        """The line just above ``tline``, starting at about the same x."""
        best: TLine | None = None
        for o in self.lines:
            if o is tline or o.yc >= tline.y0 or tline.y0 - o.y1 > 0.9 * tline.h:
                continue
            if abs(o.x0 - tline.x0) > 1.5 * tline.h:
                continue
            if best is None or o.y1 > best.y1:
                best = o
        return best

    def value_neighbour(self, hit: Hit) -> tuple[TLine, str] | None:
        """Where the value of a label with nothing after it is: the cell to its right, or the line
        below. When both exist, the nearer one wins, so in a two-column form the value under a
        left-column label is not mistaken for the right column's text on the same row. On a page
        whose labels are captions under their values, the line just above."""
        if self.captions_below:
            above = self.value_above(hit)
            return (above[-1], "above") if above else None
        t = hit.tline
        right = self.right_of(hit) if self.ends_its_line(hit) else None
        below = self.below(hit, max_lines=1)
        if right is not None and below:
            b = below[0]
            aligned = abs(b.x0 - t.x_of(hit.start)) < 1.5 * t.h
            if aligned and b.y0 - t.y1 < right.x0 - t.x1 and not self._values_right_in_column(t, right):
                return b, "below"
        if right is not None:
            return right, "right"
        return (below[0], "below") if below else None

    def _values_right_in_column(self, label: TLine, right: TLine) -> bool:
        """Whether the other labels printed in ``label``'s column have their values to their right,
        in the column where ``right`` starts (a table of label and value cells), more often than
        under them: then the line under ``label`` is the next row's label, not its value."""
        h = label.h
        beside = under = 0
        for o in self.lines:
            if o is label or abs(o.x0 - label.x0) > 1.0 * h or not self.hits_of(o):
                continue
            last = self.hits_of(o)[-1]
            if not self.is_key_line(o) or self.next_start(last) != len(o.text):
                continue  # not a label standing alone in its cell
            row = [r for r in self.right_neighbours(o) if not self.is_key_line(r)]
            if any(abs(r.x0 - right.x0) <= 1.5 * h for r in row):
                beside += 1
            elif not row and self.below(last, max_lines=1):
                under += 1
        return beside > under

    def value_above(self, hit: Hit, *, max_lines: int = 3) -> list[TLine]:
        """The lines stacked just above a label, top to bottom, up to a key line or a wide gap: the
        value of a caption printed under it. Empty when the nearest line above is a label (an empty
        box: the previous box's caption)."""
        first = self._over_caption(hit)
        if first is None or self.is_key_line(first) or english_label(first.text):
            return []
        out = [first]
        while len(out) < max_lines:
            top = out[-1]
            nxt: TLine | None = None
            for o in self.lines:
                if o in out or o is hit.tline or o.yc >= top.y0 or top.y0 - o.y1 > 1.25 * max(top.h, o.h):
                    continue
                if abs(o.x0 - top.x0) > 2.0 * max(top.h, o.h) or min(o.x1, first.x1) <= max(o.x0, first.x0):
                    continue
                if nxt is None or o.y1 > nxt.y1:
                    nxt = o
            if nxt is None or self.is_key_line(nxt) or english_label(nxt.text):
                break
            out.append(nxt)
        return out[::-1]

    def _over_caption(self, hit: Hit) -> TLine | None:
        """The line just above a label that is horizontally nearest to it (over it, or beside it
        when the caption is centred under a wider box), unless another label on the caption's row
        is nearer to that line (then it is that caption's value)."""
        t = hit.tline
        cx0, cx1 = self.column(hit)

        def gap(o: TLine, x0: float, x1: float) -> float:
            return max(0.0, o.x0 - x1, x0 - o.x1)

        near = [
            o
            for o in self.lines
            if o is not t
            and o.yc < t.y0
            and t.y0 - o.y1 <= 1.25 * max(t.h, o.h)
            and gap(o, cx0 - 0.5 * t.h, cx1) <= 8.0 * max(t.h, o.h)
        ]
        if not near:
            return None
        best = min(near, key=lambda o: (gap(o, cx0 - 0.5 * t.h, cx1), -o.y1))
        mine = gap(best, cx0 - 0.5 * t.h, cx1)
        for o in self.lines:
            if abs(o.yc - t.yc) > 0.6 * t.h or not self.is_key_line(o):
                continue
            for other in self.hits_of(o):
                if other is hit or other.kind not in ("field", "generic", "tag") or not self.ends_its_line(other):
                    continue
                ox0, ox1 = self.column(other)
                if gap(best, ox0 - 0.5 * o.h, ox1) < mine:
                    return None
        return best

    def below(self, hit: Hit, *, max_lines: int = 3, claimed: bool = True) -> list[TLine]:
        """Lines under the label's column, nearest first, until a key line, another label's value
        (unless ``claimed`` is False: not checked) or a wide gap."""
        t = hit.tline
        cx0, cx1 = self.column(hit)
        h = t.h
        out: list[TLine] = []
        last_y = t.y1
        for o in self.lines:
            if o is t or o.yc <= t.y1 - 0.2 * h:
                continue
            if min(o.x1, cx1) - max(o.x0, cx0 - 0.5 * h) <= 0:
                continue
            # A value sits right under its label; two lines down at most (a label over two values).
            if o.y0 - last_y > 2.0 * max(h, o.h) or o.y0 - t.y1 > 2.2 * h:
                break
            if self.is_key_line(o) or (claimed and self.value_of_label_left(o)):
                break  # a label, or another label's value (the cell right of its label)
            last_y = o.y1
            if english_label(o.text):
                continue  # the label's English printed under it (交易金额 / Amount): part of the label
            out.append(o)
            if len(out) >= max_lines:
                break
        return out

    def continuation(
        self, anchor: TLine, x_anchor: float, *, max_lines: int = 3, indent_from: float | None = None
    ) -> list[TLine]:
        """Lines that continue a multi-line value: just below, starting near ``x_anchor``.

        ``indent_from`` is the x of the value's label: a line indented to the value column
        continues the value even when it starts with a word that is also a label
        (住址 …青秀区 / 民族大道100号 on an ID card), unless a colon follows that word.
        """
        out: list[TLine] = []
        prev = anchor
        taken = {id(anchor), *(id(o) for o in self.row_mates(anchor))}
        for _ in range(max_lines):
            nxt: TLine | None = None
            for o in self.lines:
                if id(o) in taken or o is prev:
                    continue
                if o.yc - prev.yc < 0.5 * min(prev.h, o.h):
                    continue
                gap = o.y0 - prev.y1
                if gap > 1.25 * max(prev.h, o.h):
                    continue
                if abs(o.x0 - x_anchor) > 2.0 * max(prev.h, o.h) and not (o.x0 > x_anchor and o.x0 < prev.x1 - prev.h):
                    continue
                # The leftmost line of the next row: a row OCR split into boxes reads left to right.
                if nxt is None or o.yc < nxt.yc - 0.5 * o.h or (abs(o.yc - nxt.yc) <= 0.5 * o.h and o.x0 < nxt.x0):
                    nxt = o
            if nxt is None or any(h.kind == "tag" for h in self.hits_of(nxt)) or other_field_line(nxt.text):
                break
            if self.is_key_line(nxt) and not self._indented_value(nxt, x_anchor, indent_from):
                break
            if self.has_label_to_left(nxt):
                break  # the value cell of another label (a table row), not a continuation
            row = [nxt, *(o for o in self.row_mates(nxt) if id(o) not in taken)]
            out.extend(row)
            taken.update(id(o) for o in row)
            prev = max(row, key=lambda o: o.y1)
        return out

    def row_mates(self, tline: TLine) -> list[TLine]:
        """Boxes that continue ``tline`` on its row (OCR split one text run at a gap): each starts
        within a short gap of the previous one's end, and none is a label."""
        out: list[TLine] = []
        cur = tline
        while True:
            nxt = next(
                (
                    o
                    for o in self.right_neighbours(cur)
                    if o not in out and o.x0 - cur.x1 <= 0.35 * min(cur.h, o.h) and not self.is_key_line(o)
                ),
                None,
            )
            if nxt is None:
                return out
            out.append(nxt)
            cur = nxt

    def _indented_value(self, tline: TLine, x_anchor: float, indent_from: float | None) -> bool:
        if indent_from is None or x_anchor - indent_from < 1.5 * tline.h:
            return False
        if abs(tline.x0 - x_anchor) > 0.8 * tline.h:
            return False
        hits = self.hits_of(tline)
        return not hits or not _colon_after(tline.key, hits[0].end)

    def one_contact(self, lines: Sequence[TLine]) -> list[TLine]:
        """Cut a block of lines before a second contact: once a phone was seen, a later line with a
        phone (or with a phone in a box to its right) starts another party (two blocks stacked
        with no mark between them)."""
        out: list[TLine] = []
        seen_phone = False
        for o in lines:
            has_phone = bool(find_contact_numbers(o.text)) or any(
                find_contact_numbers(r.text) for r in self.right_neighbours(o) if r not in lines
            )
            if seen_phone and has_phone and out:
                break
            seen_phone = seen_phone or has_phone
            out.append(o)
        return out

    def _has_contact(self, tline: TLine) -> bool:
        """A phone (or a masked one) in the line, beside it, or alone at the far end of its row."""
        return (
            bool(find_contact_numbers(tline.text))
            or any(find_contact_numbers(r.text) for r in self.right_neighbours(tline))
            or self.phone_on_row(tline) is not None
        )

    def _contact_line_above(self, first: TLine) -> TLine | None:
        """A mark centred on its block (收 in a column beside NAME PHONE and the address under it)
        has the block's first line above its top: when the first line right of the mark holds no
        phone and the line right above it does, that line starts the block."""
        above = self.line_above(first)
        if above is None or self._has_contact(first) or not self._has_contact(above):
            return None
        if self.hits_of(above) or self.is_key_line(above):
            return None
        return above

    def block_right_of_tag(self, tag: Hit) -> list[TLine]:
        """Lines of a tag-only block: to the right of a 收 / 寄 mark, from its top to below it."""
        t = tag.tline
        h = self.median_h
        rows = [
            o
            for o in self.lines
            if o is not t
            and o.x0 >= t.x1 - 0.5 * h
            and o.x0 - t.x1 < 6 * h
            and o.yc >= t.y0 - 0.3 * h
            and o.y0 <= t.y1 + 0.3 * h
        ]
        rows.sort(key=lambda o: (o.y0, o.x0))
        if not rows:
            return []
        rows = [o for o in rows if not self.is_key_line(o) and not any(x.kind == "tag" for x in self.hits_of(o))]
        if not rows:
            return []
        if (head := self._contact_line_above(rows[0])) is not None and head is not t:
            rows.insert(0, head)
        # Boxes further right on the same rows (a phone printed apart from the name) in reading order.
        ordered: list[TLine] = []
        for o in rows:
            if o in ordered:
                continue
            ordered.append(o)
            ordered += [r for r in self.right_neighbours(o) if r not in ordered and not self.is_key_line(r)]
            far = self.phone_on_row(o)  # NAME ... PHONE at the two ends of the row
            if far is not None and far not in ordered and far not in rows:
                ordered.append(far)
        x_anchor = min(o.x0 for o in ordered)
        more = self.continuation(max(ordered, key=lambda o: o.y1), x_anchor, max_lines=BLOCK_LINES)
        return self.one_contact(ordered + [o for o in more if o not in ordered])
