"""Reader for the express-NER BIO format (PaddleNLP 快递单信息抽取).

A file is an optional header line ``text_a<TAB>label`` and one record per line: the characters
joined by U+0002, a TAB, then one BIO tag per character joined by U+0002. Tags are ``X-B`` /
``X-I`` for X in P (name), T (phone), A1 (province), A2 (city), A3 (district), A4 (detail), or ``O``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from luodi.errors import CorruptInputError, EmptyInputError, InputNotFoundError

__all__ = [
    "ENTITY_TYPES",
    "TAGS",
    "EntitySpan",
    "Record",
    "read_bio",
    "read_tag_dic",
    "spans_to_tags",
    "tags_to_spans",
]

ENTITY_TYPES: tuple[str, ...] = ("P", "T", "A1", "A2", "A3", "A4")
# Same order as the dataset's tag.dic (ids 0..12).
TAGS: tuple[str, ...] = (*(f"{t}-{p}" for t in ENTITY_TYPES for p in ("B", "I")), "O")
_SEP = "\x02"
_HEADER = "text_a\tlabel"


@dataclass(frozen=True)
class EntitySpan:
    type: str
    start: int
    end: int  # exclusive


@dataclass(frozen=True)
class Record:
    text: str
    tags: tuple[str, ...]
    source: str  # "file:line" for messages

    @property
    def spans(self) -> list[EntitySpan]:
        return tags_to_spans(self.tags)


def tags_to_spans(tags: Sequence[str]) -> list[EntitySpan]:
    """Entity spans of a BIO sequence; an ``X-I`` that does not continue an X entity starts one."""
    spans: list[EntitySpan] = []
    cur_type: str | None = None
    cur_start = 0
    for i, tag in enumerate((*tags, "O")):
        if tag == "O":
            kind, pos = None, "O"
        else:
            kind, _, pos = tag.rpartition("-")
        if cur_type is not None and (pos != "I" or kind != cur_type):
            spans.append(EntitySpan(cur_type, cur_start, i))
            cur_type = None
        if kind is not None and cur_type is None:
            cur_type, cur_start = kind, i
    return spans


def spans_to_tags(length: int, spans: Iterable[EntitySpan]) -> list[str]:
    tags = ["O"] * length
    for span in spans:
        tags[span.start] = f"{span.type}-B"
        for i in range(span.start + 1, span.end):
            tags[i] = f"{span.type}-I"
    return tags


def read_tag_dic(path: str | Path) -> tuple[str, ...]:
    """Tags of a ``tag.dic`` file (``id<TAB>tag`` per line), in id order."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise InputNotFoundError(f"tag dictionary not found: {p}") from exc
    tags: dict[int, str] = {}
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip().isdigit():
            raise CorruptInputError(f"{p}:{lineno}: expected 'id<TAB>tag', got {line[:40]!r}")
        tags[int(parts[0])] = parts[1].strip()
    return tuple(tags[i] for i in sorted(tags))


def read_bio(path: str | Path) -> list[Record]:
    """All records of a BIO file; a malformed line raises CorruptInputError naming ``file:line``."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError as exc:
        raise InputNotFoundError(f"NER data file not found: {p}") from exc
    except IsADirectoryError as exc:
        raise InputNotFoundError(f"NER data path is a folder, expected a file: {p}") from exc
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        raise CorruptInputError(f"{p}:{bad_line}: not UTF-8 text") from exc
    valid = set(TAGS)
    records: list[Record] = []
    for lineno, line in enumerate(content.splitlines(), 1):
        if not line.strip() or (lineno == 1 and line.strip() == _HEADER):
            continue
        where = f"{p}:{lineno}"
        parts = line.split("\t")
        if len(parts) != 2:
            raise CorruptInputError(f"{where}: expected 'characters<TAB>tags', found {len(parts) - 1} tabs")
        chars = parts[0].split(_SEP)
        tags = parts[1].split(_SEP)
        if len(chars) != len(tags):
            raise CorruptInputError(f"{where}: {len(chars)} characters but {len(tags)} tags")
        for i, ch in enumerate(chars):
            if len(ch) != 1:
                raise CorruptInputError(f"{where}: token {i} is {ch!r}, expected exactly one character")
        unknown = sorted(set(tags) - valid)
        if unknown:
            raise CorruptInputError(f"{where}: unknown tag {unknown[0]!r} (known: {', '.join(TAGS)})")
        records.append(Record("".join(chars), tuple(tags), where))
    if not records:
        raise EmptyInputError(f"{p}: no records")
    return records
