"""Free-text extraction (contact schema), the extract CLI in text mode, eval kie, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from docfactory import extractor

from luodi.cli import cli
from luodi.errors import InputError

TEXT = "张三 13812345678 北京市朝阳区建国路88号"


def test_contact_text_values_are_substrings() -> None:
    res = extractor("contact").extract_text(TEXT)
    v = res.values()
    assert v["name"] == "张三"
    assert v["phone"] == "13812345678"
    assert v["address"] == "北京市朝阳区建国路88号"
    for name in ("name", "address", "district", "detail"):
        assert v[name] is None or v[name] in TEXT
    assert res["name"].box is None
    assert not res.needs_review


def test_two_phones_in_one_text_are_both_reported() -> None:
    res = extractor("contact").extract_text("张三 13812345678 13987654321 北京市朝阳区建国路88号")
    phone = res["phone"]
    assert {phone.value, *phone.alternatives} == {"13812345678", "13987654321"}
    assert phone.needs_review
    assert res.needs_review


def test_empty_text_needs_review() -> None:
    res = extractor("contact").extract_text("   ")
    assert res.needs_review and all(f.value is None for f in res.fields)
    with pytest.raises(InputError):
        extractor("contact").extract_text(b"bytes")  # type: ignore[arg-type]


def test_bad_threshold() -> None:
    with pytest.raises(InputError, match="review_threshold"):
        extractor("waybill", review_threshold=1.5)


def test_cli_text_and_text_file_keep_order(tmp_path: Path) -> None:
    runner = CliRunner()
    one = runner.invoke(cli, ["extract", "--schema", "contact", "--text", TEXT])
    assert one.exit_code == 0, one.output
    assert json.loads(one.stdout)["fields"]["phone"]["value"] == "13812345678"

    lines = [TEXT, "", "李四 13900001111 上海市徐汇区漕溪北路100号"]
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    many = runner.invoke(cli, ["extract", "--schema", "contact", "--text-file", str(path)])
    assert many.exit_code == 0, many.output
    records = [json.loads(x) for x in many.stdout.splitlines()]
    assert [r["fields"]["phone"]["value"] for r in records] == ["13812345678", None, "13900001111"]
    assert records[1]["needs_review"] is True


def test_cli_errors() -> None:
    runner = CliRunner()
    from luodi.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["extract", "--schema", "invoice", "--text", TEXT])
    assert exit_info.value.code == 1
    usage = runner.invoke(cli, ["extract", "--schema", "contact"])
    assert usage.exit_code == 2
    missing = runner.invoke(cli, ["extract", "--schema", "contact", "--text-file", "/nonexistent.txt"])
    assert missing.exit_code != 0


def test_cli_unknown_schema_message(capsys: pytest.CaptureFixture[str]) -> None:
    from luodi.cli import main

    with pytest.raises(SystemExit):
        main(["extract", "--schema", "invoice", "--text", TEXT])
    assert "unknown schema 'invoice'" in capsys.readouterr().err


def test_eval_kie_on_text_records(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    records = [
        {"text": TEXT, "fields": {"name": "张三", "phone": "13812345678"}},
        {"text": "李四 13900001111 上海市徐汇区漕溪北路100号", "fields": {"name": "李四", "phone": "13900001112"}},
    ]
    labels.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    errors = tmp_path / "errors.jsonl"
    out = CliRunner().invoke(
        cli, ["eval", "kie", "--labels", str(labels), "--schema", "contact", "--errors", str(errors)]
    )
    assert out.exit_code == 0, out.output
    summary = json.loads(out.stdout)
    assert summary["documents"] == 2 and summary["fields_scored"] == 4
    assert summary["micro_accuracy"] == 0.75
    assert summary["document_exact_rate"] == 0.5
    assert summary["per_field"]["phone"]["accuracy"] == 0.5 and summary["per_field"]["phone"]["n"] == 2
    stp = summary["stp"]
    assert stp["fields_with_value"] == 4
    # The misread phone is right-looking: if it was accepted without review it counts against precision.
    assert stp["auto_accepted_right"] <= 3
    assert stp["accepted_precision"] == round(stp["auto_accepted_right"] / stp["auto_accepted"], 4)
    wrong = [json.loads(x) for x in errors.read_text(encoding="utf-8").splitlines()]
    assert wrong[0]["wrong"] == [{"field": "phone", "expected": "13900001112", "got": "13900001111"}]


def test_eval_kie_bad_labels(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"fields": {}}\n', encoding="utf-8")
    from luodi.kie.evaluate import read_labels

    with pytest.raises(InputError, match=r"labels\.jsonl:1"):
        read_labels(labels)


def test_eval_kie_complete_labels_count_spurious_values(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"text": TEXT, "fields": {"name": "张三"}}, ensure_ascii=False), encoding="utf-8")
    runner = CliRunner()
    partial = json.loads(runner.invoke(cli, ["eval", "kie", "--labels", str(labels), "-s", "contact"]).stdout)
    assert partial["fields_scored"] == 1 and partial["micro_accuracy"] == 1.0
    complete = json.loads(
        runner.invoke(cli, ["eval", "kie", "--labels", str(labels), "-s", "contact", "--complete"]).stdout
    )
    # phone and address were extracted but the (complete) labels say the text has none.
    assert complete["fields_scored"] == 7
    assert complete["per_field"]["phone"]["accuracy"] == 0.0


def test_labelled_text_through_a_document_schema() -> None:
    res = extractor("waybill").extract_text("收件人：张三 13812345678\n收件地址：北京市朝阳区建国路88号\n寄件人：李四")
    v = res.values()
    assert (v["receiver_name"], v["receiver_phone"], v["sender_name"]) == ("张三", "13812345678", "李四")
    assert v["receiver_address"] == "北京市朝阳区建国路88号"
    assert all(f.box is None for f in res.fields)


def test_fields_on_a_later_page_carry_the_page_index() -> None:
    from docfactory import extractor, make_line

    from luodi.ocr.result import Document, Page

    first = Page(0, 800, 600, (make_line("运单号：SF1234567890123", 50, 50),))
    second = Page(1, 800, 600, (make_line("收件人：张三", 50, 50), make_line("收件人电话：13812345678", 50, 90)))
    res = extractor("waybill").extract_document(Document("two.pdf", "fake", (first, second)))
    d = res.to_dict()
    assert d["fields"]["receiver_phone"]["page"] == 1
    assert d["fields"]["tracking_number"]["page"] == 0
    assert res.get("receiver_name") == "张三"


def test_visualisation_draws_found_fields(tmp_path: Path) -> None:
    import numpy as np
    from docfactory import make_doc
    from PIL import Image

    from luodi.kie.visualize import save_field_images

    doc = make_doc(
        [
            ("收件人：张三", 50, 100),
            ("收件人电话：13812345678 13987654321", 50, 140),
            ("寄件人电话：13011269666", 50, 200),
        ],
        width=600,
        height=300,
    )
    res = extractor("waybill").extract_document(doc)
    page = np.full((300, 600, 3), 255, dtype=np.uint8)
    written = save_field_images(res, [page], tmp_path, "slip")
    assert [p.name for p in written] == ["slip.fields.png"]
    with Image.open(written[0]) as drawn:
        pixels = np.asarray(drawn.convert("RGB"))
    # Green box for the accepted name, red for the phone that needs review (two phones).
    assert ((pixels[:, :, 1] > 150) & (pixels[:, :, 0] < 80)).any()
    assert ((pixels[:, :, 0] > 200) & (pixels[:, :, 1] < 80)).any()


def test_stp_counts_an_invented_value_as_a_wrong_acceptance() -> None:
    from luodi.kie.evaluate import Score
    from luodi.kie.result import Extraction, FieldResult

    score = Score(complete=True, fields=("a", "b", "c"))
    result = Extraction(
        "x",
        "s",
        (
            FieldResult("a", "right", score=0.99, needs_review=False),
            FieldResult("b", "invented", score=0.97, needs_review=False),  # the label says: no value
            FieldResult("c", "doubtful", score=0.5, needs_review=True),
        ),
        needs_review=True,
    )
    score.add({"a": "right", "c": "doubtful"}, result)
    stp = score.summary()["stp"]
    assert stp["fields_with_value"] == 2 and stp["auto_accepted"] == 2
    assert stp["invented_accepted"] == 1 and stp["accepted_precision"] == 0.5
    assert stp["auto_accept_rate"] == 0.5 and stp["review_rate"] == round(1 / 3, 4)
    curve = {r["threshold"]: r for r in score.summary()["stp_curve"]}
    assert curve[0.0]["accepted"] == 3 and curve[0.98]["accepted"] == 1 and curve[0.98]["precision"] == 1.0


def test_eval_kie_writes_the_curve(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"text": TEXT, "fields": {"name": "张三"}}, ensure_ascii=False), encoding="utf-8")
    curve = tmp_path / "curve"
    out = CliRunner().invoke(cli, ["eval", "kie", "--labels", str(labels), "-s", "contact", "--curve", str(curve)])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"
    table = (tmp_path / "curve.md").read_text(encoding="utf-8")
    assert "| threshold | auto-accepted | coverage | precision |" in table and "0.80 ←" in table


def test_a_number_is_right_to_the_cent_only() -> None:
    from luodi.kie.evaluate import same_value

    assert same_value(89620.19, "89620.19") and same_value(1.5, 1.5000001)
    assert not same_value(89620.19, 89620.1)  # 9 fen short is a wrong amount, however close
