"""json / jsonl / txt / csv writers: exact shapes, quoting, streaming, error records."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from luodi.errors import ConfigError, CorruptInputError, OutputError
from luodi.ocr.result import Document, Line, Page, Timings
from luodi.output import (
    CSV_COLUMNS,
    document_to_json,
    error_record,
    make_writer,
    write_documents,
)

TRICKY = 'a,"b"\n第二行'  # comma, quotes and a newline inside one recognised line


def _doc(source: str | None = "a.jpg", pages: int = 1) -> Document:
    lines = (
        Line("收件人：张三", 0.98765, ((10.04, 10.0), (200.0, 10.0), (200.0, 40.0), (10.0, 40.0))),
        Line(TRICKY, 0.5, ((10.0, 60.0), (150.0, 60.0), (150.0, 90.0), (10.0, 90.0))),
    )
    return Document(
        source=source,
        model="pp-ocrv6-small",
        pages=tuple(Page(i, 300, 200, lines) for i in range(pages)),
        timings=Timings(det=1.234, cls=0.5, rec=2.0, total=4.0),
    )


def _write(docs: list, fmt: str, **kwargs: object) -> str:
    out = io.StringIO()
    write_documents(docs, fmt, out, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def test_json_single_input_is_exactly_the_design_shape() -> None:
    parsed = json.loads(_write([_doc()], "json"))
    assert parsed == {
        "source": "a.jpg",
        "model": "pp-ocrv6-small",
        "pages": [
            {
                "index": 0,
                "width": 300,
                "height": 200,
                "lines": [
                    {
                        "text": "收件人：张三",
                        "score": 0.9877,
                        "box": [[10.0, 10.0], [200.0, 10.0], [200.0, 40.0], [10.0, 40.0]],
                    },
                    {"text": TRICKY, "score": 0.5, "box": [[10.0, 60.0], [150.0, 60.0], [150.0, 90.0], [10.0, 90.0]]},
                ],
                # a page read whole (not located on a photo): no documents, nothing flagged
                "located": False,
                "documents": [],
                "flags": [],
            }
        ],
        "timings_ms": {"locate": 0.0, "det": 1.23, "cls": 0.5, "rec": 2.0, "total": 4.0},
    }


def test_json_keeps_chinese_readable_and_lines_on_one_row() -> None:
    text = _write([_doc()], "json")
    assert "收件人" in text and "\\u" not in text
    row = next(r for r in text.splitlines() if "收件人" in r)
    assert json.loads(row.strip().rstrip(","))["box"][1] == [200.0, 10.0]


def test_json_many_inputs_is_a_list_including_errors() -> None:
    docs = [_doc("a.jpg"), error_record("b.jpg", CorruptInputError("the JPEG data is truncated")), _doc("c.pdf", 2)]
    parsed = json.loads(_write(docs, "json"))
    assert isinstance(parsed, list) and len(parsed) == 3
    assert parsed[0] == docs[0].to_dict()
    assert parsed[1] == {"source": "b.jpg", "error": {"type": "corrupt_input", "message": "the JPEG data is truncated"}}
    assert [p["index"] for p in parsed[2]["pages"]] == [0, 1]


def test_json_shape_can_be_fixed_up_front() -> None:
    assert isinstance(json.loads(_write([_doc()], "json", many=True)), list)
    assert json.loads(_write([], "json")) == []
    assert json.loads(_write([], "json", many=True)) == []
    with pytest.raises(ValueError, match="many=False"):
        _write([_doc(), _doc()], "json", many=False)


def test_jsonl_one_compact_object_per_line() -> None:
    docs = [_doc("a.jpg"), error_record("b.png", OSError("disk on fire")), _doc(None)]
    text = _write(docs, "jsonl")
    rows = text.splitlines()
    assert len(rows) == 3 and text.endswith("\n")
    assert [json.loads(r) for r in rows] == [
        docs[0].to_dict(),
        {"source": "b.png", "error": {"type": "internal_error", "message": "OSError: disk on fire"}},
        docs[2].to_dict(),
    ]
    assert json.loads(rows[2])["source"] is None


def test_jsonl_and_csv_stream_one_document_at_a_time() -> None:
    for fmt in ("jsonl", "csv"):
        out = io.StringIO()
        seen: list[int] = []

        def docs(out: io.StringIO = out, seen: list[int] = seen) -> Iterator[Document]:
            for index in range(3):
                if index:
                    # The previous document must already be written before the next is produced.
                    seen.append(out.getvalue().count(f"doc{index - 1}.jpg"))
                yield _doc(f"doc{index}.jpg")

        write_documents(docs(), fmt, out)
        assert seen and all(count >= 1 for count in seen), fmt


def test_txt_single_input_is_just_the_text() -> None:
    assert _write([_doc()], "txt") == "收件人：张三\n" + TRICKY + "\n"


def test_txt_marks_inputs_and_pages_when_there_are_several() -> None:
    docs = [_doc("a.jpg"), error_record("b.jpg", CorruptInputError("bad")), _doc("c.pdf", 2)]
    assert _write(docs, "txt") == (
        "==> a.jpg <==\n收件人：张三\n" + TRICKY + "\n"
        "\n==> b.jpg <==\n[error corrupt_input] bad\n"
        "\n==> c.pdf <==\n--- page 1 ---\n收件人：张三\n" + TRICKY + "\n--- page 2 ---\n收件人：张三\n" + TRICKY + "\n"
    )


def test_csv_quotes_commas_quotes_and_newlines() -> None:
    text = _write([_doc("dir,with comma/a.jpg", 2)], "csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(CSV_COLUMNS)
    assert len(rows) == 1 + 4
    assert rows[2] == [
        "dir,with comma/a.jpg",
        "0",
        "1",
        TRICKY,
        "0.5",
        "10.0",
        "60.0",
        "150.0",
        "60.0",
        "150.0",
        "90.0",
        "10.0",
        "90.0",
    ]
    assert rows[3][:4] == ["dir,with comma/a.jpg", "1", "0", "收件人：张三"]
    assert rows[1][4] == "0.9877"


def test_csv_skips_error_records_and_empty_runs_still_have_a_header() -> None:
    rows = list(csv.reader(io.StringIO(_write([error_record("x.jpg", CorruptInputError("bad"))], "csv"))))
    assert rows == [list(CSV_COLUMNS)]
    assert _write([], "csv") == ",".join(CSV_COLUMNS) + "\n"


def test_csv_and_txt_refuse_non_documents() -> None:
    extraction = {"source": "a.jpg", "schema": "waybill", "needs_review": False, "fields": {}}
    for fmt in ("csv", "txt"):
        with pytest.raises(ConfigError, match="json or jsonl"):
            _write([extraction], fmt)
    assert json.loads(_write([extraction], "jsonl")) == extraction


def test_write_to_a_path_as_utf8(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    assert write_documents([_doc()], "csv", target) == 1
    raw = target.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert "收件人：张三".encode() in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert rows[2][3] == TRICKY


def test_unwritable_path_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot write"):
        write_documents([_doc()], "json", tmp_path / "no" / "such" / "dir" / "out.json")
    with pytest.raises(ConfigError, match="json, jsonl, txt, csv"):
        write_documents([_doc()], "xml", tmp_path / "out.xml")
    assert not (tmp_path / "out.xml").exists()
    with pytest.raises(ConfigError):
        make_writer("yaml", io.StringIO())


def test_writer_is_a_context_manager_and_refuses_writes_after_close() -> None:
    out = io.StringIO()
    with make_writer("jsonl", out) as writer:
        writer.write(_doc())
    with pytest.raises(ValueError, match="closed"):
        writer.write(_doc())


def test_document_to_json_round_trips() -> None:
    doc = _doc()
    assert json.loads(document_to_json(doc)) == doc.to_dict()
    assert json.loads(document_to_json(doc, pretty=True)) == doc.to_dict()
    assert "\n" not in document_to_json(doc)
