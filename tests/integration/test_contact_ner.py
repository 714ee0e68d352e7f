"""The trained express-NER model end to end: the architecture document's example, made-up texts, dev-set F1, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from luodi.errors import EmptyInputError, ModelNotPulledError
from luodi.kie.contact import ContactParser, parse_contact, parse_contacts
from luodi.kie.ner import load_ner_model
from luodi.kie.ner.store import default_model_dir, train_command

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def parser() -> ContactParser:
    try:
        load_ner_model()
    except ModelNotPulledError as exc:
        pytest.skip(f"{exc.message} (integration tests need `make setup` or `{train_command(default_model_dir())}`)")
    return ContactParser()


@pytest.fixture(scope="module")
def dev_file() -> Path:
    from luodi.data import EXPRESS_NER

    return EXPRESS_NER / "dev.txt"


def test_design_example(parser: ContactParser) -> None:
    c = parse_contact("黑龙江省双鸭山市尖山区八马路与东平行路交叉口北40米韦业涛18600009172")
    assert c.name is not None and c.name.value == "韦业涛"
    assert c.phone is not None and c.phone.value == "18600009172"
    assert c.province is not None and c.province.value == "黑龙江省"
    assert c.city is not None and c.city.value == "双鸭山市"
    assert c.district is not None and c.district.value == "尖山区"
    assert c.detail is not None and c.detail.value == "八马路与东平行路交叉口北40米"
    assert c.address is not None and c.address.value == "黑龙江省双鸭山市尖山区八马路与东平行路交叉口北40米"
    assert c.name.score > 0.5 and c.phone.score > 0.9


@pytest.mark.parametrize(
    ("text", "name", "phone", "province", "district"),
    [
        ("张晓明13812345678广东省广州市天河区体育西路100号", "张晓明", "13812345678", "广东省", "天河区"),
        ("浙江省杭州市西湖区文三路90号东部软件园李娜 15957112345", "李娜", "15957112345", "浙江省", "西湖区"),
        (
            "收件人：王建国，电话：021-62538890，地址：上海市上海市徐汇区虹漕路461号",
            "王建国",
            "021-62538890",
            "上海市",
            "徐汇区",
        ),
    ],
)
def test_made_up_contacts(
    parser: ContactParser, text: str, name: str, phone: str, province: str, district: str
) -> None:
    c = parser(text)
    assert c.name is not None and c.name.value == name
    assert c.phone is not None and c.phone.value == phone
    assert c.province is not None and c.province.value == province
    assert c.district is not None and c.district.value == district
    for field in ("name", "province", "district", "detail", "address"):
        span = c.field(field)
        assert span is None or text[span.start : span.end] == span.value


def test_two_phones_both_reported(parser: ContactParser) -> None:
    c = parser("张晓明13812345678广东省广州市天河区体育西路100号 备用15900001111")
    assert [p.value for p in c.phones] == ["13812345678", "15900001111"]
    assert c.phone is not None and c.phone.value == "13812345678"
    assert c.needs_review and any("2 phones" in r for r in c.reasons)


def test_empty_text(parser: ContactParser) -> None:
    with pytest.raises(EmptyInputError):
        parse_contact("   ")


def test_batch_equals_single(parser: ContactParser, dev_file: Path) -> None:
    from luodi.kie.ner import read_bio

    texts = [r.text for r in read_bio(dev_file)[:20]]
    batch = parse_contacts(texts)
    single = [parse_contact(t) for t in texts]
    # Padded batches and single texts go through different BLAS paths: the spans and decisions must
    # agree exactly, the rounded scores only to float noise (0.937 vs 0.9371 was seen).
    for b, s in zip(batch, single, strict=True):
        db, ds = b.to_dict(), s.to_dict()
        assert (db["needs_review"], db["reasons"]) == (ds["needs_review"], ds["reasons"])
        assert db["fields"].keys() == ds["fields"].keys()
        for key, fb in db["fields"].items():
            fs = ds["fields"][key]
            if fb is None or fs is None:
                assert fb == fs, key
                continue
            assert (fb["value"], fb["start"], fb["end"]) == (fs["value"], fs["start"], fs["end"]), key
            assert fb["score"] == pytest.approx(fs["score"], abs=2e-4), key


def test_dev_f1_above_floor(parser: ContactParser, dev_file: Path) -> None:
    from luodi.kie.contact.evaluate import evaluate_file

    combined = evaluate_file(dev_file, mode="combined")
    assert combined["texts"] == 200
    assert combined["micro"]["f1"] >= 0.985, combined["micro"]
    rules = evaluate_file(dev_file, mode="rules")
    assert rules["micro"]["f1"] < combined["micro"]["f1"]


def test_eval_ner_cli(parser: ContactParser, dev_file: Path) -> None:
    from luodi.cli.eval_ner import ner

    result = CliRunner().invoke(ner, ["--data", str(dev_file)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out["per_type"]) == {"P", "T", "A1", "A2", "A3", "A4"}
    assert out["micro"]["f1"] >= 0.985
