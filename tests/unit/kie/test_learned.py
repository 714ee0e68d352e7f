"""Learned layouts (luodi.kie.learned, learned_read): shapes, finding labelled values, placing
fields by position, flagging weak evidence, merging with the schema's reading. Hand-built OCR
pages, no models."""

from __future__ import annotations

import dataclasses
import functools
import json
import random
from pathlib import Path
from typing import Any

import pytest
from docfactory import extractor, make_doc, make_line

from luodi.errors import InputError, SchemaError
from luodi.kie.layout import make_lines
from luodi.kie.learned import (
    Example,
    LearnedLayout,
    cluster,
    find_value,
    learn,
    learn_shapes,
    learned_path,
)
from luodi.kie.learned_read import LayoutReader, merge_field
from luodi.kie.result import FieldResult
from luodi.kie.schema import load_schema

SCHEMA = Path(__file__).resolve().parents[3] / "examples" / "kie" / "ticket.yaml"
STATIONS = (
    "北京南",
    "上海虹桥",
    "广州南",
    "杭州东",
    "南京南",
    "武汉",
    "成都东",
    "西安北",
    "郑州东",
    "长沙南",
    "金华",
    "厦门北",
)
NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴霞", "徐明", "孙丽")


def ticket(rng: random.Random, *, arrangement: int = 0, swap_sides: bool = False) -> tuple[Any, dict[str, Any]]:
    """A ticket page as OCR would read it: departure left, arrival right (``swap_sides`` prints
    them the other way round, as a different document would), two arrangements of the rest."""
    dep, arr = rng.sample(STATIONS, 2)
    train = rng.choice("GDC") + str(rng.randint(1, 9999))
    y, mo, d, hh, mi = (
        rng.randint(2016, 2026),
        rng.randint(1, 12),
        rng.randint(1, 28),
        rng.randint(5, 23),
        rng.randint(0, 59),
    )
    price = rng.randint(20, 1500) + rng.choice((0.0, 0.5))
    name = rng.choice(NAMES)
    idn = f"{rng.randint(110000, 650000)}{rng.randint(1950, 2009)}****{rng.randint(100, 999)}{rng.randint(0, 9)}"
    dx, dy = rng.uniform(-10, 10), rng.uniform(-10, 10)
    left, right = (arr, dep) if swap_sides else (dep, arr)
    if arrangement == 0:
        items = [
            ("E" + str(rng.randint(100000, 999999)), 40, 30),
            (f"{left}站", 60, 100),
            (train, 380, 95),
            (f"{right}站", 600, 100),
            (f"{y}年{mo:02d}月{d:02d}日{hh:02d}:{mi:02d}开", 60, 200),
            (f"¥{price:.1f}元", 60, 250),
            ("二等座", 600, 250),
            ("限乘当日当次车", 60, 300),
            (f"{idn}{name}", 60, 350),
            ("中国铁路祝您旅途愉快", 80, 450),
        ]
    else:
        items = [
            ("E" + str(rng.randint(100000, 999999)), 50, 40),
            ("检票:" + str(rng.randint(1, 30)), 620, 40),
            (f"{left}站", 70, 110),
            (train + "次", 390, 100),
            (f"{right}站", 590, 110),
            (f"{y}年{mo:02d}月{d:02d}日 {hh:02d}:{mi:02d}开", 70, 200),
            ("二等座", 70, 250),
            (f"¥{price:.1f}元", 250, 250),
            ("限乘当日当次车", 70, 300),
            (f"{idn} {name}", 70, 360),
        ]
    lines = [make_line(t, x + dx, yy + dy) for t, x, yy in items]
    gold = {
        "serial": items[0][0],
        "departure_station": dep,
        "arrival_station": arr,
        "train_number": train,
        "date": f"{y:04d}-{mo:02d}-{d:02d}",
        "time": f"{hh:02d}:{mi:02d}:00",
        "price": price,
        "seat_class": "二等座",
        "id_number": idn,
        "name": name,
    }
    return make_doc(lines, width=900, height=560), gold


@functools.cache
def training(n: int = 10, seed: int = 1) -> tuple[Any, LearnedLayout]:
    """Learned once per test session (frozen results: tests cannot change it)."""
    rng = random.Random(seed)
    schema = load_schema(SCHEMA)
    examples = []
    for k in range(n):
        doc, gold = ticket(rng, arrangement=k % 2)
        examples.append(Example(doc.pages[0], gold))
    return schema, learn(schema, examples)


def test_shapes_keep_printed_characters_and_context() -> None:
    texts = ["北京南站", "上海虹桥站", "武汉站"]
    shapes = learn_shapes(texts, [(0, 3), (0, 4), (0, 2)])
    assert len(shapes) == 1
    s = shapes[0]
    assert s.describe() == "H{2,4}" and s.before == "^" and s.after == "站"
    m = s.regex(context=True).search("金华站")
    assert m is not None and m.group("v") == "金华"
    dates = learn_shapes(["2026年01月05日08:00开", "2019年11月28日 17:45开", "2020年03月01日09:10开"], [(0, 11)] * 3)
    assert dates[0].describe() == "D{4,4}年D{2,2}月D{2,2}日"


def test_a_digit_before_a_value_is_learned_as_a_class_unless_every_example_prints_it() -> None:
    texts = ["1101011990****1239张三", "1101011990****1239李四", "1101011990****1231王五"]
    shapes = learn_shapes(texts, [(18, 20)] * 3)
    assert shapes[0].before == "D"  # not "9": two of three is a coincidence of the data


def test_find_value_reads_labels_through_the_field_type() -> None:
    doc = make_doc([("2026年01月05日08:00开", 60, 200), ("¥553.0元", 60, 250)])
    lines = make_lines(doc.pages[0])
    t, i, j = find_value("date", "2026-01-05", lines) or (None, 0, 0)
    assert t is not None and t.text[i:j].startswith("2026年01月05")
    t, i, j = find_value("amount", 553.0, lines) or (None, 0, 0)
    assert t is not None and t.text[i:j] == "553.0"  # not 553: the number ends where its digits do
    assert find_value("text", "广州南", lines) is None


def test_two_arrangements_are_learned_apart() -> None:
    _, layout = training()
    assert len(layout.variants) == 2
    assert sorted(v.examples for v in layout.variants) == [5, 5]
    assert any("限乘当日当次车" in [a.text for a in v.anchors] for v in layout.variants)


def test_cluster_merges_a_lone_example_into_its_nearest_group() -> None:
    from luodi.kie.learned import Found

    line = make_lines(make_doc([("x", 0, 0)]).pages[0])[0]

    def at(u: float) -> dict[str, Found]:
        return {"a": Found(line, 0, 1, u, 0.5)}

    groups = cluster([at(0.1), at(0.11), at(0.5), at(0.52), at(0.9)])
    assert sorted(sorted(g) for g in groups) == [[0, 1], [2, 3, 4]]


@pytest.mark.parametrize("arrangement", [0, 1])
def test_stations_are_told_apart_by_position_and_accepted(arrangement: int) -> None:
    schema, layout = training()
    rng = random.Random(99)
    reader = LayoutReader(layout, schema, 0.8)
    right = 0
    for _ in range(10):
        doc, gold = ticket(rng, arrangement=arrangement)
        fields, doubt = reader.read(doc)
        assert doubt == ()
        for name in ("departure_station", "arrival_station", "train_number", "date", "time", "name", "price"):
            f = fields[name]
            right += f.value == gold[name] and not f.needs_review
    assert right == 70


def test_the_extractor_uses_the_learned_layout_beside_the_patterns() -> None:
    schema, layout = training()
    doc, gold = ticket(random.Random(5))
    plain = extractor(schema).extract_document(doc)
    learned = extractor(schema, learned=layout).extract_document(doc)
    # the pattern alone cannot tell the stations apart: the same value for both, flagged
    assert plain["departure_station"].value == plain["arrival_station"].value or plain["arrival_station"].needs_review
    assert learned.get("departure_station") == gold["departure_station"]
    assert learned.get("arrival_station") == gold["arrival_station"]
    assert not learned["arrival_station"].needs_review
    assert not learned.needs_review


def test_a_different_document_is_flagged_not_accepted() -> None:
    schema, layout = training()
    reader = LayoutReader(layout, schema, 0.8)
    doc = make_doc([("仓库入库单", 300, 30), ("品名：螺丝", 60, 120), ("数量：200", 60, 170), ("北京南站", 600, 400)])
    fields, doubt = reader.read(doc)
    assert doubt and "fields where the examples put them" in doubt[0]
    assert all(f.needs_review for f in fields.values())


def test_a_value_far_from_its_place_or_ambiguous_is_flagged() -> None:
    schema, layout = training()
    reader = LayoutReader(layout, schema, 0.8)
    rng = random.Random(7)
    doc, _ = ticket(rng)
    page = doc.pages[0]
    # the name moved to the top right corner, far from where every example printed it
    lines = [ln for ln in page.lines if "****" not in ln.text]
    idn = next(ln for ln in page.lines if "****" in ln.text)
    lines.append(make_line(idn.text, 520, 20))
    moved = dataclasses.replace(doc, pages=(dataclasses.replace(page, lines=tuple(lines)),))
    fields, _ = reader.read(moved)
    f = fields["name"]
    assert f.needs_review and any("spreads from where" in r for r in f.reasons)


def _field(
    name: str, value: Any, *, review: bool = False, where: str = "scan", reasons: tuple[str, ...] = (), box: Any = None
) -> FieldResult:
    evidence = (("where_inline", float(where == "inline")), ("where_scan", float(where == "scan")))
    return FieldResult(name, value, str(value), 0.9, box, 0, review, reasons, (), bool(reasons), evidence)


def test_merge_rules() -> None:
    box_a = ((0.0, 0.0), (100.0, 0.0), (100.0, 20.0), (0.0, 20.0))
    box_b = ((300.0, 0.0), (400.0, 0.0), (400.0, 20.0), (300.0, 20.0))
    learned = _field("f", "上海虹桥", box=box_b)
    # a labelled value that disagrees wins, flagged, with the learned one as an alternative
    got = merge_field(_field("f", "北京南", where="inline", box=box_a), learned)
    assert got.value == "北京南" and got.needs_review and "上海虹桥" in got.alternatives
    # a pattern's value elsewhere loses to the learned place and stays an alternative
    got = merge_field(_field("f", "北京南", box=box_a), learned)
    assert got.value == "上海虹桥" and not got.needs_review and "北京南" in got.alternatives
    # a pattern's value at the same place keeps its extent (05车12号下铺)
    got = merge_field(_field("f", "05车12号下铺", box=box_b), _field("f", "05车12号", box=box_b))
    assert got.value == "05车12号下铺"
    # agreement settles the pattern's "conflicting values"
    got = merge_field(_field("f", "上海虹桥", review=True, reasons=("conflicting values",), box=box_b), learned)
    assert got.value == "上海虹桥" and not got.needs_review
    # nothing learned: the schema's reading as it was
    plain = _field("f", "x")
    assert merge_field(plain, None) is plain


def test_layout_round_trips_through_json(tmp_path: Path) -> None:
    schema, layout = training()
    path = learned_path(tmp_path / "ticket.yaml")
    assert path.name == "ticket.learned.json"
    layout.save(path)
    again = LearnedLayout.load(path)
    assert again == layout
    again.check_schema(schema)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"].startswith("luodi-learned-layout/")
    data["format"] = "other"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError):
        LearnedLayout.load(path)
    with pytest.raises(SchemaError):
        extractor("waybill", learned=layout)


def test_learning_from_nothing_found_is_an_error() -> None:
    schema = load_schema(SCHEMA)
    doc = make_doc([("无关文字", 10, 10)])
    with pytest.raises(InputError):
        learn(schema, [Example(doc.pages[0], {"departure_station": "北京南"})])
    with pytest.raises(InputError):
        learn(schema, [])


def test_a_traditional_reading_is_simplified_as_the_schema_asks() -> None:
    schema, layout = training()
    assert schema.simplified
    doc, gold = ticket(random.Random(11))
    page = doc.pages[0]
    dep = next(ln for ln in page.lines if ln.text == gold["departure_station"] + "站")
    x, y = dep.box[0]
    lines = tuple(make_line("廈门北站", x, y) if ln is dep else ln for ln in page.lines)
    traditional = dataclasses.replace(doc, pages=(dataclasses.replace(page, lines=lines),))
    fields, _ = LayoutReader(layout, schema, 0.8).read(traditional)
    assert fields["departure_station"].value == "厦门北"
    assert fields["departure_station"].raw == "廈门北"


def _with_lines(doc: Any, lines: Any) -> Any:
    return dataclasses.replace(doc, pages=(dataclasses.replace(doc.pages[0], lines=tuple(lines)),))


def test_text_around_the_document_does_not_move_the_fields() -> None:
    schema, layout = training()
    reader = LayoutReader(layout, schema, 0.8)
    rng = random.Random(21)
    for arrangement in (0, 1):
        doc, gold = ticket(rng, arrangement=arrangement)
        # a watermark far above and left, a camera caption far below: the text frame doubles
        clutter = [make_line("7788.com", -500, -400), make_line("Canon PowerShot A3400 IS", 0, 1300)]
        fields, doubt = reader.read(_with_lines(doc, [*doc.pages[0].lines, *clutter]))
        assert doubt == ()
        for name in ("departure_station", "arrival_station", "train_number", "name"):
            assert fields[name].value == gold[name], name


def test_a_learned_value_the_schema_patterns_reject_is_flagged() -> None:
    schema, layout = training()
    doc, gold = ticket(random.Random(31))
    dep = gold["departure_station"]
    # printed without 站: the user's pattern (a name ending in 站) does not read it
    lines = [make_line(dep, *ln.box[0]) if ln.text == dep + "站" else ln for ln in doc.pages[0].lines]
    got = extractor(schema, learned=layout).extract_document(_with_lines(doc, lines))
    f = got["departure_station"]
    assert f.needs_review and any("patterns do not read" in r for r in f.reasons)
