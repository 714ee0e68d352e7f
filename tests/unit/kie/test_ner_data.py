"""The express-NER BIO reader: good records, and malformed ones named by file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from luodi.errors import CorruptInputError, EmptyInputError, InputNotFoundError
from luodi.kie.ner.data import TAGS, EntitySpan, read_bio, read_tag_dic, spans_to_tags, tags_to_spans

S = "\x02"


def _line(text: str, tags: list[str]) -> str:
    return S.join(text) + "\t" + S.join(tags)


def test_reads_records_and_spans(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(
        "text_a\tlabel\n" + _line("张三13812345678", ["P-B", "P-I"] + ["T-B"] + ["T-I"] * 10) + "\n\n",
        encoding="utf-8",
    )
    (rec,) = read_bio(path)
    assert rec.text == "张三13812345678"
    assert rec.spans == [EntitySpan("P", 0, 2), EntitySpan("T", 2, 13)]
    assert rec.source == f"{path}:2"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("张\x02三", "expected 'characters<TAB>tags'"),
        (_line("张三", ["P-B"]), "2 characters but 1 tags"),
        (_line("张三", ["P-B", "X-I"]), "unknown tag 'X-I'"),
        ("张三\x02李\tP-B\x02P-I", "token 0 is '张三'"),
    ],
)
def test_malformed_record_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("text_a\tlabel\n" + _line("李四", ["P-B", "P-I"]) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(CorruptInputError) as info:
        read_bio(path)
    assert f"{path}:3" in info.value.message
    assert message in info.value.message


def test_missing_empty_and_non_utf8(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError):
        read_bio(tmp_path / "nope.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("text_a\tlabel\n", encoding="utf-8")
    with pytest.raises(EmptyInputError):
        read_bio(empty)
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"text_a\tlabel\n\xff\xfe\tO\n")
    with pytest.raises(CorruptInputError, match=r"latin.txt:2: not UTF-8"):
        read_bio(latin)


def test_spans_round_trip_and_orphan_inside_tag() -> None:
    tags = ["A1-B", "A1-I", "A2-B", "O", "P-I", "P-I"]
    spans = tags_to_spans(tags)
    assert spans == [EntitySpan("A1", 0, 2), EntitySpan("A2", 2, 3), EntitySpan("P", 4, 6)]
    assert tags_to_spans(spans_to_tags(len(tags), spans)) == spans


def test_tag_dic(tmp_path: Path) -> None:
    path = tmp_path / "tag.dic"
    path.write_text("".join(f"{i}\t{t}\n" for i, t in enumerate(TAGS)), encoding="utf-8")
    assert read_tag_dic(path) == TAGS
    path.write_text("0 P-B\n", encoding="utf-8")
    with pytest.raises(CorruptInputError, match=r"tag\.dic:1"):
        read_tag_dic(path)
