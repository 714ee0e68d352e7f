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
