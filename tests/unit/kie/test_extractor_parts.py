"""The extractor is assembled from parts that are passed in (no models: fakes and rules)."""

from __future__ import annotations

from pathlib import Path

from docfactory import extractor, make_doc

from luodi.kie.parties import ModelContactParser, PartyParse, RuleContactParser, Span


class _Recording:
    """A contact parser that says every block is 甲乙 and records what it was asked."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, text: str) -> PartyParse:
        self.texts.append(text)
        return PartyParse(name=Span("甲乙", 0, 2, 1.0), reasons=("fake parser",))


def test_the_contact_parser_is_the_one_passed_in() -> None:
    fake = _Recording()
    ex = extractor("waybill", contact_parser=fake)
    doc = make_doc([("收件人：张三丰 北京市朝阳区建国路88号", 30, 100)])
    res = ex.extract_document(doc)
    assert fake.texts, "the parser passed in was not used"
    assert res.get("receiver_name") == "甲乙"


def test_one_parse_per_block_text_within_a_document() -> None:
    # Two copies of one party (a two-part stub): the block text is parsed once per document.
    fake = _Recording()
    ex = extractor("waybill", contact_parser=fake)
    lines = [("收件人：张三丰 北京市朝阳区建国路88号", 30, 100), ("收件人：张三丰 北京市朝阳区建国路88号", 30, 700)]
    ex.extract_document(make_doc(lines))
    assert len(fake.texts) == len(set(fake.texts))
    ex.extract_document(make_doc(lines))  # a new document asks again: nothing is kept between calls
    assert len(fake.texts) == 2 * len(set(fake.texts))


def test_a_missing_contact_model_falls_back_to_rules(tmp_path: Path) -> None:
    parser = ModelContactParser(tmp_path / "no-model-here")
    got = parser("北京市朝阳区建国路88号 张三 13812345678 ")
    assert not parser.available
    assert got.phones[0].value == "13812345678"
    assert any("rule-based" in r for r in got.reasons)


def test_rules_need_nothing_from_the_store() -> None:
    got = RuleContactParser()("韦业涛 18600009172")
    assert got.name is not None and got.name.value == "韦业涛"
    assert not got.model_based
