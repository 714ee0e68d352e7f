"""Labelled texts from the formats users already have; every reader error names the file and line.

Formats (chosen by the file's suffix, or ``fmt``):

- ``tsv``: PaddleNLP's ``text<TAB>label`` per line (``.tsv``, ``.txt``). A first line ``text_a<TAB>label``
  (or ``text<TAB>label``) is a header and skipped. A line without a TAB is an unlabelled text (for
  prediction); a line with more than one TAB is an error, since texts with TABs are ambiguous.
- ``json`` / ``jsonl``: one object per record, ``{"text", "intent"|"label", "domain"?, "entities"|"slots"}``.
  ``entities`` is a list of ``{"type", "start_idx", "end_idx"}`` with ``end_idx`` inclusive (the
  GlobalPointer shape) or ``{"type", "start", "end"}`` with ``end`` exclusive; ``slots`` maps a slot
  name to its value (or a list of values), each found in the text (the SMP2019 source shape).
  ``.json`` is an array of records; ``.jsonl`` one record per line.
- ``conll``: one character per line, ``CHAR TAG`` (BIO, BIOES or BMES tags), a blank line between
  texts, and a parallel intent file with one intent per line in the same order (``FILE.intent``
  beside it unless given). A space cannot be written as a ``CHAR``, so texts read from CoNLL have
  none, as in the common corpora (CAIS, the SMP releases).

A record is a :class:`TextExample`: the text, its label (class or intent), and its slot spans
(``None`` when the format has no slots). Texts are kept exactly as written (no trimming inside).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from luodi.errors import InputNotFoundError, LabelFormatError

Format = Literal["tsv", "json", "jsonl", "conll"]
FORMATS: tuple[str, ...] = ("tsv", "json", "jsonl", "conll")
_SUFFIXES: dict[str, Format] = {
    ".tsv": "tsv",
    ".txt": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".conll": "conll",
    ".bio": "conll",
    ".bioes": "conll",
    ".bmes": "conll",
}
_HEADERS = {("text_a", "label"), ("text", "label"), ("text", "intent")}


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A slot: characters ``[start, end)`` of the text, of type ``type``."""

    start: int
    end: int
    type: str

    def value(self, text: str) -> str:
        return text[self.start : self.end]


@dataclass(frozen=True, slots=True)
class TextExample:
    text: str
    label: str | None  # class or intent; None for unlabelled texts
    spans: tuple[Span, ...] | None = None  # None: the format carries no slots
    domain: str | None = None
    where: str = ""  # "file:line" of the record, for messages
    nested: int = 0  # slots dropped because they overlapped a longer one


def detect_format(path: Path) -> Format:
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise LabelFormatError(
            f"{path}: cannot tell the format from the suffix {path.suffix!r}; "
            f"name it .tsv/.txt, .json, .jsonl or .conll, or pass the format ({', '.join(FORMATS)})"
        )
    return fmt


def read_examples(
    path: str | Path, fmt: str | None = None, *, intent_file: str | Path | None = None
) -> list[TextExample]:
    """Every record of ``path``; raises :class:`LabelFormatError` naming ``file:line`` on a bad one."""
    p = Path(path)
    if not p.is_file():
        raise InputNotFoundError(f"{p} does not exist or is not a file")
    kind: Format = detect_format(p) if fmt is None else _check_format(fmt)
    if kind == "conll":
        return _read_conll(p, Path(intent_file) if intent_file is not None else None)
    if intent_file is not None:
        raise LabelFormatError(f"{p}: an intent file goes only with the conll format")
    text = _read_text(p)
    if kind == "tsv":
        return list(_read_tsv(p, text))
    if kind == "jsonl":
        return list(_read_jsonl(p, text))
    return list(_read_json_array(p, text))


def _check_format(fmt: str) -> Format:
    if fmt not in FORMATS:
        raise LabelFormatError(f"unknown data format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return fmt  # type: ignore[return-value]


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputNotFoundError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LabelFormatError(f"{path}:{line}: not UTF-8 text ({exc.reason})") from exc


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        yield number, line.rstrip("\r")


# --- TSV -----------------------------------------------------------------------------------------
def _read_tsv(path: Path, text: str) -> Iterator[TextExample]:
    for number, line in _lines(text):
        where = f"{path}:{number}"
        if not line.strip():
            continue  # blank lines separate nothing in TSV; skipping them loses nothing
        if line.lstrip().startswith("{"):
            raise LabelFormatError(f"{where}: a JSON record in a TSV file; one file holds one format")
        parts = line.split("\t")
        if number == 1 and len(parts) == 2 and (parts[0].strip().lower(), parts[1].strip().lower()) in _HEADERS:
            continue
        if len(parts) > 2:
            raise LabelFormatError(f"{where}: {len(parts) - 1} TABs; expected text<TAB>label")
        body = parts[0]
        if not body.strip():
            raise LabelFormatError(f"{where}: empty text")
        label = parts[1].strip() if len(parts) == 2 else None
        if label == "":
            raise LabelFormatError(f"{where}: empty label after the TAB")
        yield TextExample(body, label, None, None, where)


# --- JSON / JSONL --------------------------------------------------------------------------------
def _read_jsonl(path: Path, text: str) -> Iterator[TextExample]:
    for number, line in _lines(text):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            hint = " (a TSV line in a JSONL file? one file holds one format)" if "\t" in line else ""
            raise LabelFormatError(f"{where}: not a JSON object: {exc.msg}{hint}") from exc
        yield _record(obj, where)


def _read_json_array(path: Path, text: str) -> Iterator[TextExample]:
    """Records of a JSON array, decoded one by one so each error can name the record's line."""
    decoder = json.JSONDecoder()
    i = _skip_ws(text, 0)
    if i >= len(text) or text[i] != "[":
        if i < len(text) and text[i] == "{":
            raise LabelFormatError(
                f"{path}:{text.count(chr(10), 0, i) + 1}: a .json file holds an array of records; "
                "one object per line is .jsonl"
            )
        raise LabelFormatError(f"{path}:1: expected a JSON array of records")
    i = _skip_ws(text, i + 1)
    first = True
    while i < len(text) and text[i] != "]":
        if not first:
            if text[i] != ",":
                raise LabelFormatError(f"{path}:{text.count(chr(10), 0, i) + 1}: expected ',' or ']' between records")
            i = _skip_ws(text, i + 1)
        line = text.count("\n", 0, i) + 1
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise LabelFormatError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
        yield _record(obj, f"{path}:{line}")
        i = _skip_ws(text, end)
        first = False
    if i >= len(text):
        raise LabelFormatError(f"{path}:{text.count(chr(10)) + 1}: the JSON array is not closed")
    if text[_skip_ws(text, i + 1) :].strip():
        raise LabelFormatError(f"{path}:{text.count(chr(10), 0, i) + 1}: text after the JSON array")


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _record(obj: Any, where: str) -> TextExample:
    if not isinstance(obj, dict):
        raise LabelFormatError(f"{where}: a record must be a JSON object, got {type(obj).__name__}")
    body = obj.get("text")
    if not isinstance(body, str):
        raise LabelFormatError(f'{where}: the record has no "text" string')
    if not body.strip():
        raise LabelFormatError(f"{where}: empty text")
    label = obj.get("intent", obj.get("label"))
    if label is not None and not isinstance(label, str | int):
        raise LabelFormatError(f'{where}: "intent"/"label" must be a string, got {type(label).__name__}')
    domain = obj.get("domain")
    spans: tuple[Span, ...] | None = None
    given = 0
    if "entities" in obj and "slots" in obj:
        raise LabelFormatError(f'{where}: give "entities" or "slots", not both')
    if "entities" in obj:
        spans, given = _entities(obj["entities"], body, where)
    elif "slots" in obj:
        spans, given = _slots(obj["slots"], body, where)
    text_label = str(label) if label is not None else None
    if text_label == "":
        raise LabelFormatError(f"{where}: empty label")
    nested = given - len(spans) if spans is not None else 0
    return TextExample(body, text_label, spans, str(domain) if domain is not None else None, where, nested)


def _entities(value: Any, text: str, where: str) -> tuple[tuple[Span, ...], int]:
    if not isinstance(value, list):
        raise LabelFormatError(f'{where}: "entities" must be a list')
    spans = []
    for k, ent in enumerate(value):
        if not isinstance(ent, dict) or not isinstance(ent.get("type", ent.get("label")), str):
            raise LabelFormatError(f'{where}: entity {k} needs a "type" string')
        typ = str(ent.get("type", ent.get("label")))
        if "start_idx" in ent:
            start, end = ent.get("start_idx"), ent.get("end_idx")
            end = end + 1 if isinstance(end, int) else end  # inclusive in the GlobalPointer shape
        else:
            start, end = ent.get("start"), ent.get("end")
        if not isinstance(start, int) or not isinstance(end, int):
            raise LabelFormatError(f"{where}: entity {k} ({typ}) needs integer start_idx/end_idx or start/end")
        spans.append(_span(start, end, typ, text, f"{where}: entity {k} ({typ})"))
    return _no_overlap(spans, where), len(spans)


def _slots(value: Any, text: str, where: str) -> tuple[tuple[Span, ...], int]:
    if not isinstance(value, dict):
        raise LabelFormatError(f'{where}: "slots" must be an object mapping slot names to values')
    spans = []
    taken: set[int] = set()
    for typ, raw in value.items():
        for item in raw if isinstance(raw, list) else [raw]:
            if not isinstance(item, str) or not item:
                raise LabelFormatError(f"{where}: slot {typ!r} must be a non-empty string (or a list of them)")
            start = _find_free(text, item, taken)
            if start < 0:
                raise LabelFormatError(f"{where}: slot {typ}={item!r} does not occur in the text {text!r}")
            spans.append(_span(start, start + len(item), str(typ), text, f"{where}: slot {typ}"))
            taken.update(range(start, start + len(item)))
    return _no_overlap(spans, where), len(spans)


def _find_free(text: str, value: str, taken: set[int]) -> int:
    """First occurrence of ``value`` not overlapping a slot already placed (``打开QQ音乐`` has two values)."""
    start = text.find(value)
    while start >= 0 and any(i in taken for i in range(start, start + len(value))):
        start = text.find(value, start + 1)
    return start


def _span(start: int, end: int, typ: str, text: str, what: str) -> Span:
    if not 0 <= start < end <= len(text):
        raise LabelFormatError(f"{what}: span [{start}, {end}) lies outside the text (length {len(text)}) or is empty")
    return Span(start, end, typ)


def _no_overlap(spans: list[Span], where: str) -> tuple[Span, ...]:
    """Non-overlapping slots: a tagger gives each character one tag, so of nested or overlapping
    slots (the GlobalPointer shape allows them) the longest is kept, then the earliest."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (-(s.end - s.start), s.start)):
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return tuple(sorted(kept))


def dropped_slots(examples: Sequence[TextExample]) -> int:
    """How many slots of the files were dropped as nested in or overlapping a longer one."""
    return sum(ex.nested for ex in examples)


# --- CoNLL ---------------------------------------------------------------------------------------
def _read_conll(path: Path, intent_file: Path | None) -> list[TextExample]:
    blocks = list(_conll_blocks(path, _read_text(path)))
    intents: list[tuple[int, str]] | None = None
    if intent_file is None:
        beside = path.with_name(path.name + ".intent")
        intent_file = beside if beside.is_file() else None
    if intent_file is not None:
        if not intent_file.is_file():
            raise InputNotFoundError(f"intent file {intent_file} does not exist")
        intents = [(n, line.strip()) for n, line in _lines(_read_text(intent_file)) if line.strip()]
        if len(intents) != len(blocks):
            raise LabelFormatError(
                f"{intent_file}: {len(intents)} intents for {len(blocks)} texts in {path}; "
                "the intent file needs one line per text, in the same order"
            )
    out = []
    for k, (start_line, chars, tags) in enumerate(blocks):
        where = f"{path}:{start_line}"
        text = "".join(chars)
        spans = _tags_to_spans(tags, where)
        label = intents[k][1] if intents is not None else None
        out.append(TextExample(text, label, spans, None, where))
    return out


def _conll_blocks(path: Path, text: str) -> Iterator[tuple[int, list[str], list[str]]]:
    chars: list[str] = []
    tags: list[str] = []
    start = 0
    for number, line in _lines(text):
        if not line.strip():
            if chars:
                yield start, chars, tags
            chars, tags = [], []
            continue
        if line.lstrip().startswith(("{", "[")) and len(line.split()) != 2:
            raise LabelFormatError(f"{path}:{number}: JSON in a CoNLL file; one file holds one format")
        parts = line.split()
        if len(parts) != 2:
            raise LabelFormatError(f"{path}:{number}: expected 'CHAR TAG', got {line!r}")
        char, tag = parts
        if len(char) != 1:
            raise LabelFormatError(f"{path}:{number}: {char!r} is not one character (one character per line)")
        if not _valid_tag(tag):
            raise LabelFormatError(f"{path}:{number}: tag {tag!r} is not O or B-/I-/M-/E-/S-TYPE")
        if not chars:
            start = number
        chars.append(char)
        tags.append(tag)
    if chars:
        yield start, chars, tags


def _valid_tag(tag: str) -> bool:
    if tag == "O":
        return True
    head, sep, typ = tag.partition("-")
    return bool(sep) and head in ("B", "I", "M", "E", "S") and bool(typ)


def _tags_to_spans(tags: Sequence[str], where: str) -> tuple[Span, ...]:
    """BIO / BIOES / BMES tags → spans; a stray I/M/E continues nothing and starts a span (conlleval's reading)."""
    spans: list[Span] = []
    start, typ = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        head, _, t = tag.partition("-")
        ends_before = head in ("B", "S", "O") or t != typ
        if start >= 0 and ends_before:
            spans.append(Span(start, i, typ))
            start, typ = -1, ""
        if head in ("B", "S") or (head in ("I", "M", "E") and start < 0):
            start, typ = i, t
        if head in ("S", "E") and start >= 0:
            spans.append(Span(start, i + 1, typ))
            start, typ = -1, ""
    return _no_overlap(spans, where)


def tag_scheme(tags: Sequence[str]) -> str:
    """``bioes`` when a tag set has E- or S- tags, else ``bio``."""
    return "bioes" if any(t[:2] in ("E-", "S-") for t in tags) else "bio"


def spans_to_tags(length: int, spans: Sequence[Span], scheme: str = "bio") -> list[str]:
    """Tags of ``spans`` over ``length`` characters in the tagger's scheme: ``bio``, or ``bioes`` (a span's
    last character E-, a one-character span S-)."""
    tags = ["O"] * length
    for s in spans:
        tags[s.start] = f"B-{s.type}"
        for i in range(s.start + 1, s.end):
            tags[i] = f"I-{s.type}"
        if scheme == "bioes":
            tags[s.end - 1] = f"{'S' if s.end - s.start == 1 else 'E'}-{s.type}"
    return tags
