"""Writers for OCR results: json, jsonl, txt, csv — one document at a time.

Shapes:

* ``json``  — one object per input, exactly ``Document.to_dict()`` (docs/architecture.md). One input gives
  one object; several inputs give a JSON array of those objects (a file of concatenated objects
  would not be valid JSON). Pass ``many=`` to fix the shape up front (scripts that must always
  get an array); left as ``None`` it is decided by the count, holding back only the first
  document until the second arrives, so memory stays at one document.
* ``jsonl`` — one compact object per line, flushed per line (``tail -f`` and pipes see progress).
  Failed inputs appear as error records ``{"source": ..., "error": {"type", "message"}}``.
* ``txt``   — the text of each page, one line per line. With several inputs each document is
  introduced by ``==> SOURCE <==`` (as ``head`` does); a document with several pages marks them
  ``--- page K ---`` (K counts from 1, as a reader would).
* ``csv``   — one row per text line: ``source,page,line,text,score,x0,y0,x1,y1,x2,y2,x3,y3``,
  RFC 4180 quoting, UTF-8 without BOM. ``page`` and ``line`` are 0-based like ``"index"`` in the
  JSON, so rows join with it. Failed inputs have no lines and so no rows; report them elsewhere.

Every writer writes ``str`` to a text stream; :func:`write_documents` also accepts a path.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TextIO, TypeAlias

from luodi.errors import ConfigError, LuodiError, OutputError
from luodi.ocr.result import Document

#: Output formats, in the order the CLI lists them.
FORMATS: tuple[str, ...] = ("json", "jsonl", "txt", "csv")

#: Columns of the csv format.
CSV_COLUMNS: tuple[str, ...] = (
    "source",
    "page",
    "line",
    "text",
    "score",
    "x0",
    "y0",
    "x1",
    "y1",
    "x2",
    "y2",
    "x3",
    "y3",
)

#: What a writer accepts: an OCR Document, an error record from :func:`error_record`, or any
#: JSON-ready mapping (json/jsonl only), e.g. ``Extraction.to_dict()``.
Record: TypeAlias = Document | Mapping[str, Any]


def document_to_dict(doc: Document) -> dict[str, Any]:
    """The JSON shape (docs/architecture.md) of ``doc`` (same as ``doc.to_dict()``)."""
    return doc.to_dict()


def document_to_json(doc: Record, *, pretty: bool = False) -> str:
    """``doc`` as a JSON string; Chinese stays readable (no ``\\uXXXX`` escapes).

    ``pretty`` indents the structure but keeps each text line (and each box, each timing block)
    on one row, so a page reads like a list of lines rather than a tower of coordinates.
    """
    data = _as_dict(doc)
    if not pretty:
        return json.dumps(data, ensure_ascii=False)
    return _pretty(data, 0)


def _is_leaf(value: Any) -> bool:
    """A value shown on one row: scalars, lists of leaves (boxes), dicts of scalars and lists (lines)."""
    if isinstance(value, dict):
        return all(not isinstance(v, dict) and _is_leaf(v) for v in value.values())
    if isinstance(value, list):
        return all(not isinstance(v, dict) and _is_leaf(v) for v in value)
    return True


def _pretty(value: Any, level: int) -> str:
    if _is_leaf(value) or not value:
        return json.dumps(value, ensure_ascii=False)
    pad, inner = "  " * level, "  " * (level + 1)
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {_pretty(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    rows = [inner + _pretty(v, level + 1) for v in value]
    return "[\n" + ",\n".join(rows) + "\n" + pad + "]"


def error_record(source: str | None, exc: BaseException) -> dict[str, Any]:
    """The record a folder run writes for an input that failed: ``{"source", "error": {"type", "message"}}``.

    A :class:`LuodiError` contributes its ``type`` (the same string the service answers with);
    anything else is an ``internal_error`` carrying the exception's class and message.
    """
    if isinstance(exc, LuodiError):
        error = {"type": exc.type, "message": exc.message}
    else:
        error = {"type": "internal_error", "message": f"{type(exc).__name__}: {exc}"}
    return {"source": source, "error": error}


def is_error_record(record: Record) -> bool:
    return isinstance(record, Mapping) and isinstance(record.get("error"), Mapping)


def _as_dict(record: Record) -> dict[str, Any]:
    if isinstance(record, Document):
        return record.to_dict()
    if isinstance(record, Mapping):
        return dict(record)
    raise TypeError(f"cannot write a {type(record).__name__}: expected a Document or a mapping")


class Writer(Protocol):
    """Writes records to a stream one at a time; ``close()`` finishes the output (it does not
    close the stream, which belongs to the caller)."""

    def write(self, record: Record) -> None: ...

    def close(self) -> None: ...


class _BaseWriter:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._closed = False

    def __enter__(self) -> _BaseWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def write(self, record: Record) -> None:
        if self._closed:
            raise ValueError("write() on a closed writer")
        self._write(record)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._finish()
            self._stream.flush()

    def _write(self, record: Record) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        pass


class JsonlWriter(_BaseWriter):
    def _write(self, record: Record) -> None:
        self._stream.write(document_to_json(record) + "\n")
        self._stream.flush()


class _ManyAware(_BaseWriter):
    """Writers whose shape depends on whether there is one input or several.

    With ``many=None`` the first record is held back until either a second arrives (several) or
    the writer closes (one). Only one record is ever held.
    """

    def __init__(self, stream: TextIO, many: bool | None = None) -> None:
        super().__init__(stream)
        self._many = many
        self._held: Record | None = None
        self._count = 0

    def _write(self, record: Record) -> None:
        if self._many is None:
            if self._held is None:
                self._held = record
                return
            self._many = True
            held, self._held = self._held, None
            self._emit(held)
        self._emit(record)

    def _finish(self) -> None:
        if self._held is not None:
            self._many = False
            held, self._held = self._held, None
            self._emit(held)
        self._end()

    def _emit(self, record: Record) -> None:
        self._emit_one(record, index=self._count, many=bool(self._many))
        self._count += 1

    def _emit_one(self, record: Record, *, index: int, many: bool) -> None:
        raise NotImplementedError

    def _end(self) -> None:
        pass


class JsonWriter(_ManyAware):
    def _emit_one(self, record: Record, *, index: int, many: bool) -> None:
        text = document_to_json(record, pretty=True)
        if not many:
            if index:
                raise ValueError("a second record for a json writer made with many=False")
            self._stream.write(text + "\n")
            return
        self._stream.write(("[\n" if index == 0 else ",\n") + text)

    def _end(self) -> None:
        if self._many is None or (self._many and self._count == 0):
            self._stream.write("[]\n")  # no input at all: still valid JSON
        elif self._many:
            self._stream.write("\n]\n")


class TxtWriter(_ManyAware):
    def _emit_one(self, record: Record, *, index: int, many: bool) -> None:
        out = self._stream
        if many:
            if index:
                out.write("\n")
            out.write(f"==> {_source_of(record) or '<input>'} <==\n")
        if is_error_record(record):
            assert isinstance(record, Mapping)
            error = record["error"]
            out.write(f"[error {error.get('type')}] {error.get('message')}\n")
            return
        if not isinstance(record, Document):
            raise ConfigError("the txt format writes OCR documents; use json or jsonl for other results")
        several_pages = len(record.pages) > 1
        for page in record.pages:
            if several_pages:
                out.write(f"--- page {page.index + 1} ---\n")
            for line in page.lines:
                out.write(line.text + "\n")
        out.flush()


class CsvWriter(_BaseWriter):
    def __init__(self, stream: TextIO, *, header: bool = True) -> None:
        super().__init__(stream)
        # "\n" rather than csv's default "\r\n": files and pipes on Unix; quoting still follows
        # RFC 4180, and a newline inside a text field is quoted, never a record break.
        self._csv = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        self._header_pending = header

    def _write(self, record: Record) -> None:
        if self._header_pending:
            self._csv.writerow(CSV_COLUMNS)
            self._header_pending = False
        if is_error_record(record):
            return
        if not isinstance(record, Document):
            raise ConfigError("the csv format writes OCR documents; use json or jsonl for other results")
        for page in record.pages:
            for number, line in enumerate(page.lines):
                data = line.to_dict()
                coords = [value for point in data["box"] for value in point]
                self._csv.writerow([record.source or "", page.index, number, line.text, data["score"], *coords])
        self._stream.flush()

    def _finish(self) -> None:
        if self._header_pending:  # an empty run still yields a well-formed (header-only) file
            self._csv.writerow(CSV_COLUMNS)
            self._header_pending = False


def _source_of(record: Record) -> str | None:
    if isinstance(record, Document):
        return record.source
    source = record.get("source")
    return None if source is None else str(source)


def make_writer(fmt: str, stream: TextIO, *, many: bool | None = None) -> _BaseWriter:
    """A writer for ``fmt`` (one of :data:`FORMATS`) on ``stream``.

    ``many`` fixes the json/txt shape (see the module docs); jsonl and csv do not depend on it.
    """
    if fmt == "json":
        return JsonWriter(stream, many)
    if fmt == "jsonl":
        return JsonlWriter(stream)
    if fmt == "txt":
        return TxtWriter(stream, many)
    check_format(fmt)
    return CsvWriter(stream)


def write_documents(
    docs: Iterable[Record],
    fmt: str,
    out: TextIO | str | Path | None = None,
    *,
    many: bool | None = None,
) -> int:
    """Write ``docs`` in ``fmt`` to ``out`` (a text stream, a file path, or ``None``/"-" for stdout).

    Documents are written as they arrive from the iterable (streaming). Returns how many records
    were written. A path is opened as UTF-8 and replaced; failing to open it raises
    :class:`OutputError`.
    """
    check_format(fmt)
    if out is None or out == "-":
        return _write_all(docs, make_writer(fmt, sys.stdout, many=many))
    if isinstance(out, str | Path):
        try:
            # newline="" lets the csv module control line endings inside quoted fields.
            stream = open(out, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from exc
        with stream:
            return _write_all(docs, make_writer(fmt, stream, many=many))
    return _write_all(docs, make_writer(fmt, out, many=many))


def check_format(fmt: str) -> str:
    """``fmt`` if it is one of :data:`FORMATS`, else :class:`ConfigError` listing them."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return fmt


def _write_all(docs: Iterable[Record], writer: _BaseWriter) -> int:
    count = 0
    with writer:
        for doc in docs:
            writer.write(doc)
            count += 1
    return count
