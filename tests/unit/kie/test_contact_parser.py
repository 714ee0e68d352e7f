"""The contact parser's combining logic with a scripted tagger, and its model-free rules path."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from luodi.errors import ConfigError, EmptyInputError, InputError
from luodi.kie.contact import Contact, ContactOptions, ContactParser, normalize_phone
from luodi.kie.contact.parser import _PHONE_STAND_IN, _hide_map
from luodi.kie.ner.data import EntitySpan, spans_to_tags
from luodi.kie.ner.model import NerModel, Prediction


class ScriptedTagger(NerModel):
    """A tagger whose answers are written by the test (what the real model would output).

    Answers are keyed by the text given to the parser; pieces are written as in that text, except
    that whole phone numbers are matched against the stand-in mobile the parser shows the model.
    """

    def __init__(self, answers: dict[str, list[tuple[str, str]]], confidence: float = 0.99) -> None:
        self.answers = answers
        self.confidence = confidence
        self.path = None

    def _answers_for(self, view: str) -> list[tuple[str, str]]:
        for original, answers in self.answers.items():
            if _hide_map(original, phones_as_mobile=True)[0] == view or _hide_map(original)[0] == view:
                return [(k, _PHONE_STAND_IN if normalize_phone(p) else p) for k, p in answers]
        raise KeyError(view)

    def predict(self, texts: Sequence[str], *, batch_size: int = 16) -> list[Prediction]:
        out = []
        for text in texts:
            spans, pos = [], 0
            # Pieces are listed in text order; each is looked up after the previous one.
            for kind, piece in self._answers_for(text):
                start = text.index(piece, pos)
                spans.append(EntitySpan(kind, start, start + len(piece)))
                pos = start + len(piece)
            tags = tuple(spans_to_tags(len(text), spans))
            out.append(Prediction(text, tags, (self.confidence,) * len(text)))
        return out


EXAMPLE = "黑龙江省双鸭山市尖山区八马路与东平行路交叉口北40米韦业涛18600009172"
EXAMPLE_TAGS = [
    ("A1", "黑龙江省"),
    ("A2", "双鸭山市"),
    ("A3", "尖山区"),
    ("A4", "八马路与东平行路交叉口北40米"),
    ("P", "韦业涛"),
    ("T", "18600009172"),
]


def _parser(answers: dict[str, list[tuple[str, str]]], confidence: float = 0.99) -> ContactParser:
    return ContactParser(ScriptedTagger(answers, confidence))


def _check_substrings(c: Contact) -> None:
    for name in ("name", "address", "province", "city", "district", "detail"):
        span = c.field(name)
        if span is not None:
            assert c.text[span.start : span.end] == span.value


def test_full_contact() -> None:
    c = _parser({EXAMPLE: EXAMPLE_TAGS})(EXAMPLE)
    assert c.name and c.name.value == "韦业涛"
    assert c.phone and c.phone.value == "18600009172"
    assert (c.phone.start, c.phone.end) == (EXAMPLE.index("186"), len(EXAMPLE))
    assert c.address and c.address.value == "黑龙江省双鸭山市尖山区八马路与东平行路交叉口北40米"
    assert (c.province and c.province.value, c.city and c.city.value, c.district and c.district.value) == (
        "黑龙江省",
        "双鸭山市",
        "尖山区",
    )
    assert c.region is not None and c.region.adcode == "230502"
    assert not c.needs_review and c.reasons == ()
    _check_substrings(c)
    assert c.to_dict()["fields"]["phone"]["value"] == "18600009172"


def test_spaces_and_labels_are_hidden_from_the_model_but_offsets_are_kept() -> None:
    text = "收件人：韦业涛 电话：186 0000 9172 地址：黑龙江省双鸭山市尖山区八马路"
    tagger = ScriptedTagger(
        {
            text: [
                ("P", "韦业涛"),
                ("T", "18600009172"),
                ("A1", "黑龙江省"),
                ("A2", "双鸭山市"),
                ("A3", "尖山区"),
                ("A4", "八马路"),
            ]
        }
    )
    c = ContactParser(tagger)(text)
    assert c.name and c.name.value == "韦业涛" and text[c.name.start : c.name.end] == "韦业涛"
    assert c.phone and c.phone.value == "18600009172" and text[c.phone.start : c.phone.end] == "186 0000 9172"
    assert c.detail and c.detail.value == "八马路"
    _check_substrings(c)


def test_two_phones_are_both_reported_and_flagged() -> None:
    text = "韦业涛18600009172黑龙江省双鸭山市尖山区八马路13912345678"
    c = _parser(
        {
            text: [
                ("P", "韦业涛"),
                ("T", "18600009172"),
                ("A1", "黑龙江省"),
                ("A2", "双鸭山市"),
                ("A3", "尖山区"),
                ("A4", "八马路"),
                ("T", "13912345678"),
            ]
        }
    )(text)
    assert [p.value for p in c.phones] == ["18600009172", "13912345678"]
    assert c.phone and c.phone.value == "18600009172"  # the one next to the name
    assert c.needs_review and any("2 phones" in r for r in c.reasons)


def test_phone_rules_override_model_boundaries_and_catch_missed_phones() -> None:
    text = "张三0451-86331234黑龙江省哈尔滨市南岗区西大直街"
    # The model (shown the stand-in mobile) tagged only part of it.
    c = _parser(
        {
            text: [
                ("P", "张三"),
                ("T", "1380000"),
                ("A1", "黑龙江省"),
                ("A2", "哈尔滨市"),
                ("A3", "南岗区"),
                ("A4", "西大直街"),
            ]
        }
    )(text)
    assert [p.value for p in c.phones] == ["0451-86331234"]
    text2 = "张三13812345678广东省广州市天河区体育西路"
    c2 = _parser({text2: [("P", "张三"), ("A1", "广东省"), ("A2", "广州市"), ("A3", "天河区"), ("A4", "体育西路")]})(
        text2
    )
    assert c2.phone and c2.phone.value == "13812345678" and c2.phone.score == 0.5
    assert any("pattern only" in r for r in c2.reasons)


def test_out_of_order_address_part_becomes_detail() -> None:
    text = "白雯晴18612600602台湾台中市西区台湾大道二段666号"
    c = _parser(
        {
            text: [
                ("P", "白雯晴"),
                ("T", "18612600602"),
                ("A1", "台湾"),
                ("A2", "台中市"),
                ("A3", "西区"),
                ("A1", "台湾"),
                ("A4", "大道二段666号"),
            ]
        }
    )(text)
    assert c.province and c.province.start == 14
    assert c.detail and c.detail.value == "台湾大道二段666号"
    assert not any("provinces" in r for r in c.reasons)


def test_review_reasons() -> None:
    text = "北京市海淀区中关村大街1号"
    c = _parser({text: [("A1", "北京市"), ("A3", "海淀区"), ("A4", "中关村大街1号")]}, confidence=0.5)(text)
    assert c.needs_review
    assert "no name found" in c.reasons and "no phone found" in c.reasons
    assert any(r.startswith("low confidence in province") for r in c.reasons)
    relaxed = _parser({text: [("A1", "北京市"), ("A3", "海淀区"), ("A4", "中关村大街1号")]}, confidence=0.5)(
        text, ContactOptions(review_threshold=0.4)
    )
    assert not any(r.startswith("low confidence") for r in relaxed.reasons)
    bad = "张三13812345678火星省广州市"
    c2 = _parser({bad: [("P", "张三"), ("T", "13812345678"), ("A1", "火星省"), ("A2", "广州市")]})(bad)
    assert any("火星省" in r for r in c2.reasons)


def test_bad_input() -> None:
    parser = _parser({})
    with pytest.raises(EmptyInputError):
        parser("")
    with pytest.raises(EmptyInputError):
        parser.parse_many(["张三", "  \n"])
    with pytest.raises(InputError):
        parser("张" * 5000)
    with pytest.raises(ConfigError):
        ContactOptions(review_threshold=2.0)
    with pytest.raises(ConfigError):
        ContactParser(mode="magic")  # type: ignore[arg-type]


def test_rules_only_path() -> None:
    parser = ContactParser(mode="rules")
    c = parser(EXAMPLE)
    assert c.phone and c.phone.value == "18600009172"
    assert (c.province and c.province.value, c.city and c.city.value, c.district and c.district.value) == (
        "黑龙江省",
        "双鸭山市",
        "尖山区",
    )
    assert c.name and c.name.value == "韦业涛"
    assert c.needs_review  # the name heuristic is weak and says so
    _check_substrings(c)
    c2 = parser("张三 13812345678 广东省广州市天河区体育西路1号")
    assert c2.name and c2.name.value == "张三"
    assert c2.detail and c2.detail.value == "体育西路1号"


def test_batch_keeps_order() -> None:
    texts = [EXAMPLE, "张三13812345678"]
    parser = _parser({EXAMPLE: EXAMPLE_TAGS, texts[1]: [("P", "张三"), ("T", "13812345678")]})
    out = parser.parse_many(texts)
    assert [c.text for c in out] == texts
    assert out[1].name and out[1].name.value == "张三" and "no address found" in out[1].reasons


def test_second_name_next_to_detail_joins_the_detail() -> None:
    text = "仲孙媛浩四川省凉山彝族自治州盐源县女神湾小草海18519579999"
    tagger = ScriptedTagger({})
    answers = [("P", "仲孙媛浩"), ("A1", "四川省"), ("A2", "凉山彝族自治州"), ("A3", "盐源县"), ("A4", "女神湾")]
    answers += [("P", "小草海"), ("T", "18519579999")]
    tagger.answers[text] = answers
    tagger.confidence = 0.99
    c = ContactParser(tagger)(text)
    assert c.name and c.name.value == "仲孙媛浩"
    assert c.detail and c.detail.value == "女神湾小草海"


def test_district_of_a_city_without_districts_is_detail() -> None:
    # 东莞 has no county-level units: 东城区 there is a street office, part of the detail.
    text = "酆洪羽18600272259广东省东莞市东城区东纵大道208号"
    answers = [("P", "酆洪羽"), ("T", "18600272259"), ("A1", "广东省"), ("A2", "东莞市"), ("A3", "东城区")]
    answers += [("A4", "东纵大道208号")]
    c = _parser({text: answers})(text)
    assert c.district is None
    assert c.detail and c.detail.value == "东城区东纵大道208号"
    # Elsewhere a district stays a district.
    text2 = "北京市北京市东城区东直门南大街1号张三13812345678"
    answers2 = [("A1", "北京市"), ("A2", "北京市"), ("A3", "东城区"), ("A4", "东直门南大街1号"), ("P", "张三")]
    c2 = _parser({text2: [*answers2, ("T", "13812345678")]})(text2)
    assert c2.district and c2.district.value == "东城区"


def test_clipped_span_sheds_hidden_label_characters() -> None:
    text = "收件人：王建国，电话：021-62538890"
    # The model ran the name into the phone; the phone rule cuts it back to the name alone.
    c = ContactParser(ScriptedTagger({text: [("P", "王建国1380")]}))(text)
    assert c.name and c.name.value == "王建国"
    assert c.phone and c.phone.value == "021-62538890"


def test_model_sees_every_phone_as_a_plain_mobile() -> None:
    text = "王建国 (021)6253-8890 上海市"
    view, index = _hide_map(text, phones_as_mobile=True)
    assert view == "王建国" + _PHONE_STAND_IN + "上海市"
    phone_start, phone_end = text.index("("), text.index("0 ") + 1
    assert index[3] == phone_start and index[3 + len(_PHONE_STAND_IN) - 1] + 1 == phone_end
    assert _hide_map(text)[0] == "王建国(021)6253-8890上海市"


def test_hong_kong_and_macau_areas_stand_where_a_city_would() -> None:
    # the division table has districts straight under the region: 九龙 is right, not a city it lacks
    hk = "香港特别行政区九龙油尖旺区弥敦道1号陈大文13800138000"
    tags = [("A1", "香港特别行政区"), ("A2", "九龙"), ("A3", "油尖旺区"), ("A4", "弥敦道1号"), ("P", "陈大文")]
    c = _parser({hk: [*tags, ("T", "13800138000")]})(hk)
    assert c.reasons == () and c.region is not None and c.region.district == "油尖旺区"
    wrong = hk.replace("油尖旺区", "沙井区")  # a district Hong Kong does not have still shows
    c = _parser({wrong: [*tags[:2], ("A3", "沙井区"), *tags[3:], ("T", "13800138000")]})(wrong)
    assert any("沙井区" in r for r in c.reasons)
