"""Readers of the three text formats: records, slots, and errors that name file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from luodi.errors import InputNotFoundError, LabelFormatError
from luodi.text.data import Span, read_examples, spans_to_tags


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_tsv_with_header_and_unlabelled_lines(tmp_path: Path) -> None:
    f = _write(tmp_path / "a.tsv", "text_a\tlabel\n上证指数收涨\tstocks\n\n姚明复出\tsports\n只有文本\n")
    ex = read_examples(f)
    assert [(e.text, e.label) for e in ex] == [("上证指数收涨", "stocks"), ("姚明复出", "sports"), ("只有文本", None)]
    assert ex[1].where.endswith("a.tsv:4")


@pytest.mark.parametrize(
    ("body", "line", "needle"),
    [
        ("好\tA\n\tB\n", 2, "empty text"),
        ("好\tA\n坏\t\n", 2, "empty label"),
        ("好\tA\n一\t二\t三\n", 2, "2 TABs"),
        ('好\tA\n{"text": "x", "label": "A"}\n', 2, "JSON record in a TSV file"),
    ],
)
def test_tsv_errors_name_the_line(tmp_path: Path, body: str, line: int, needle: str) -> None:
    f = _write(tmp_path / "bad.tsv", body)
    with pytest.raises(LabelFormatError) as info:
        read_examples(f)
    assert f"bad.tsv:{line}" in info.value.message and needle in info.value.message


def test_json_globalpointer_entities_are_inclusive(tmp_path: Path) -> None:
    records = [
        {"text": "你给朴叔打电话", "intent": "DIAL", "entities": [{"type": "name", "start_idx": 2, "end_idx": 3}]}
    ]
    f = _write(tmp_path / "a.json", json.dumps(records, ensure_ascii=False, indent=2))
    (ex,) = read_examples(f)
    assert ex.label == "DIAL" and ex.spans == (Span(2, 4, "name"),) and ex.spans[0].value(ex.text) == "朴叔"


def test_jsonl_slots_dict_and_domain(tmp_path: Path) -> None:
    rows = [
        {"text": "打开QQ音乐", "domain": "app", "intent": "LAUNCH", "slots": {"name": "QQ音乐"}},
        {"text": "从北京到北京南", "label": "QUERY", "slots": {"start": "北京", "end": "北京南"}},
    ]
    f = _write(tmp_path / "a.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    a, b = read_examples(f)
    assert a.domain == "app" and a.spans == (Span(2, 6, "name"),)
    # the longer value claims its characters first; the shorter one finds its own occurrence
    assert {s.value(b.text) for s in b.spans or ()} == {"北京", "北京南"}


def test_slot_span_outside_the_text_is_an_error(tmp_path: Path) -> None:
    records = [
        {"text": "abc", "label": "x"},
        {"text": "打电话", "intent": "DIAL", "entities": [{"type": "name", "start_idx": 2, "end_idx": 5}]},
    ]
    f = _write(tmp_path / "a.json", json.dumps(records, ensure_ascii=False, indent=2))
    with pytest.raises(LabelFormatError) as info:
        read_examples(f)
    assert "a.json:6" in info.value.message and "outside the text" in info.value.message


def test_slot_value_not_in_text_is_an_error(tmp_path: Path) -> None:
    f = _write(tmp_path / "a.jsonl", json.dumps({"text": "打开微信", "intent": "LAUNCH", "slots": {"name": "QQ"}}))
    with pytest.raises(LabelFormatError, match=r"a.jsonl:1: slot name='QQ' does not occur"):
        read_examples(f)


def test_nested_slots_keep_the_longest(tmp_path: Path) -> None:
    ents = [{"type": "name", "start_idx": 0, "end_idx": 5}, {"type": "category", "start_idx": 2, "end_idx": 3}]
    f = _write(tmp_path / "a.json", json.dumps([{"text": "播放周杰伦的歌", "intent": "PLAY", "entities": ents}]))
    (ex,) = read_examples(f)
    assert ex.spans == (Span(0, 6, "name"),) and ex.nested == 1


def test_mixed_formats_in_one_file(tmp_path: Path) -> None:
    f = _write(tmp_path / "a.jsonl", '{"text": "好", "label": "A"}\n坏\tB\n')
    with pytest.raises(LabelFormatError, match=r"a.jsonl:2: not a JSON object.*TSV line in a JSONL file"):
        read_examples(f)
    g = _write(tmp_path / "b.json", '{"text": "好", "label": "A"}\n')
    with pytest.raises(LabelFormatError, match=r"b.json:1: .*array of records"):
        read_examples(g)


def test_json_syntax_error_names_its_line(tmp_path: Path) -> None:
    f = _write(tmp_path / "a.json", '[\n  {"text": "好", "label": "A"},\n  {"text": "坏", "label": }\n]\n')
    with pytest.raises(LabelFormatError, match=r"a.json:3: not valid JSON"):
        read_examples(f)


def test_conll_bioes_with_parallel_intent_file(tmp_path: Path) -> None:
    f = _write(tmp_path / "ch.train", "打 O\n给 O\n张 B-name\n三 E-name\n\n开 O\n灯 S-device\n")
    _write(tmp_path / "ch.train.intent", "DIAL\nTURN_ON\n")
    a, b = read_examples(f, "conll")
    assert (a.text, a.label, a.spans) == ("打给张三", "DIAL", (Span(2, 4, "name"),))
    assert (b.text, b.label, b.spans) == ("开灯", "TURN_ON", (Span(1, 2, "device"),))
    assert spans_to_tags(len(a.text), a.spans or ()) == ["O", "O", "B-name", "I-name"]


def test_conll_errors(tmp_path: Path) -> None:
    f = _write(tmp_path / "x.conll", "打 O\n给 X-name\n")
    with pytest.raises(LabelFormatError, match=r"x.conll:2: tag 'X-name'"):
        read_examples(f)
    g = _write(tmp_path / "y.conll", "打 O\n\n开 O\n")
    _write(tmp_path / "y.intent", "A\n")
    with pytest.raises(LabelFormatError, match="1 intents for 2 texts"):
        read_examples(g, intent_file=tmp_path / "y.intent")


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError):
        read_examples(tmp_path / "nope.tsv")
    f = _write(tmp_path / "a.csv", "x,y\n")
    with pytest.raises(LabelFormatError, match="cannot tell the format"):
        read_examples(f)
