"""A second reading of the lines of accepted values (luodi.kie.second_reading): hand-built pages
whose lines are painted with distinct grey levels, read again by a stand-in recogniser that knows
each line by its grey (no model)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from docfactory import extractor, make_doc, make_line

from luodi.kie.second_reading import SecondReading, compare_span
from luodi.ocr.result import Document, Line, RecResult

LINES = [
    ("收件人：张三丰", 50, 100),
    ("收件人电话：13812345678", 50, 140),
    ("收件地址：浙江省杭州市西湖区文三路90号", 50, 180),
    ("寄件人：李四", 50, 600),
    ("寄件人电话：13912345678", 50, 640),
    ("寄件地址：江苏省南京市玄武区中山路1号", 50, 680),
]


class GreyReader:
    """Reads a crop as the text given for its grey level (the line it was cut from)."""

    def __init__(self, texts: dict[int, tuple[str, Sequence[float]]]) -> None:
        self.texts = texts
        self.crops = 0

    def recognize(self, crops: Sequence[np.ndarray]) -> list[RecResult]:
        self.crops += len(crops)
        out = []
        for c in crops:
            text, scores = self.texts[int(c[c.shape[0] // 2, c.shape[1] // 2, 0])]
            out.append(RecResult(text, min(scores), tuple(scores)))
        return out


def page_of(doc: Document) -> tuple[np.ndarray, dict[int, Line]]:
    """The page image, each line's box painted with its own grey (10, 20, …), and the lines by grey."""
    page = doc.pages[0]
    img = np.full((page.height, page.width, 3), 255, np.uint8)
    by_grey = {}
    for i, line in enumerate(page.lines):
        grey = 10 * (i + 1)
        (x0, y0), _, (x1, y1), _ = line.box
        img[int(y0) + 1 : int(y1) - 1, int(x0) + 1 : int(x1) - 1] = grey
        by_grey[grey] = line
    return img, by_grey


def reader_for(by_grey: dict[int, Line], changed: dict[str, tuple[str, Sequence[float]]]) -> GreyReader:
    """Every line read as the first reading did, sure, except the lines ``changed`` names."""
    texts = {}
    for grey, line in by_grey.items():
        texts[grey] = changed.get(line.text, (line.text, [0.99] * len(line.text)))
    return GreyReader(texts)


def test_compare_span_counts_what_a_reader_reads_otherwise() -> None:
    sure = [0.99] * 20
    assert compare_span("收件人：张三丰", "收件人：张三丰", sure, 4, 7).differ == -1.0
    other = compare_span("收件人：张三丰", "收件人：张王丰", [0.99, 0.99, 0.99, 0.99, 0.99, 0.91, 0.99], 4, 7)
    assert other.text == "张王丰" and other.differ == 0.91
    # a character the first reading dropped at the value's end, of the value's kind
    assert compare_span("收件人：李丽 138", "收件人：李丽颖 138", sure, 4, 6).differ > 0
    # not differences: punctuation, whitespace, full width, O for 0, the second reading lacking one
    assert compare_span("附5,6,7号", "附5.6.7号", sure, 0, 7).differ == -1.0
    assert compare_span("JT0007 1346", "jto0071346", sure, 0, 11).differ == -1.0
    assert compare_span("ＡＢ12", "AB12", sure, 0, 4).differ == -1.0
    dropped = compare_span("轩辕九天", "轩九天", sure, 0, 4)
    assert dropped.differ == -1.0 and dropped.agree == 0.0  # not read again: not confirmed either
    # a character the second recogniser cannot read, or a rare one it reads as a common look-alike
    assert compare_span("酆怡瑞", "鄂怡瑞", sure, 0, 3, frozenset("鄂怡瑞")).differ == -1.0
    assert compare_span("顾彧", "顾或", sure, 0, 2).differ == -1.0


def test_an_accepted_value_read_otherwise_is_flagged() -> None:
    doc = make_doc(LINES)
    img, by_grey = page_of(doc)
    first = extractor("waybill").extract_document(doc)
    assert not first["receiver_name"].needs_review and not first["receiver_address"].needs_review
    reader = reader_for(
        by_grey, {"收件地址：浙江省杭州市西湖区文三路90号": ("收件地址：浙江省杭州市西湖区文三路96号", [0.98] * 21)}
    )
    res = extractor("waybill", second_reading=SecondReading(reader)).extract_document(doc, pages=[img])
    addr = res["receiver_address"]
    assert addr.needs_review and addr.flagged
    assert any("second reading" in r for r in addr.reasons)
    assert "浙江省杭州市西湖区文三路96号" in addr.alternatives
    assert res["receiver_detail"].needs_review  # the difference lies in the detail
    assert not res["receiver_province"].needs_review  # read the same: still accepted
    assert not res["receiver_name"].needs_review and not res["sender_address"].needs_review
    assert reader.crops > 0


def test_an_unsure_difference_or_a_misread_division_flags_nothing() -> None:
    doc = make_doc(LINES)
    img, by_grey = page_of(doc)
    unsure = {"收件人：张三丰": ("收件人：张王丰", [0.99, 0.99, 0.99, 0.99, 0.99, 0.42, 0.99])}
    res = extractor("waybill", second_reading=SecondReading(reader_for(by_grey, unsure))).extract_document(
        doc, pages=[img]
    )
    assert not res["receiver_name"].needs_review
    base = extractor("waybill")
    if base._divisions is None:  # no gazetteer installed: nothing to settle a division with
        return
    misread_city = {"收件地址：浙江省杭州市西湖区文三路90号": ("收件地址：浙江省抗州市西湖区文三路90号", [0.98] * 21)}
    res = extractor("waybill", second_reading=SecondReading(reader_for(by_grey, misread_city))).extract_document(
        doc, pages=[img]
    )
    assert not res["receiver_city"].needs_review  # 杭州市 is known to the gazetteer, 抗州市 is not
    assert not res["receiver_address"].needs_review


def test_a_name_doubted_for_one_character_is_settled_by_a_sure_second_reading() -> None:
    lines = list(LINES)
    weak = make_line("收件人：张三丰", 50, 100, scores=[0.98, 0.98, 0.98, 0.98, 0.98, 0.86, 0.98])
    doc = make_doc([weak, *(make_line(*t) for t in lines[1:])])
    img, by_grey = page_of(doc)
    first = extractor("waybill").extract_document(doc)
    assert first["receiver_name"].needs_review
    assert first["receiver_name"].reasons == ("character 三 read with confidence 0.86",)
    sure = extractor("waybill", second_reading=SecondReading(reader_for(by_grey, {}))).extract_document(
        doc, pages=[img]
    )
    assert not sure["receiver_name"].needs_review and sure["receiver_name"].value == "张三丰"
    # read as sure as the first reading's weak character only, or otherwise: the doubt stays
    half = {"收件人：张三丰": ("收件人：张三丰", [0.99, 0.99, 0.99, 0.99, 0.99, 0.9, 0.99])}
    other = {"收件人：张三丰": ("收件人：张王丰", [0.99] * 7)}
    for changed in (half, other):
        res = extractor("waybill", second_reading=SecondReading(reader_for(by_grey, changed))).extract_document(
            doc, pages=[img]
        )
        assert res["receiver_name"].needs_review


def test_without_page_images_there_is_no_second_reading() -> None:
    doc = make_doc(LINES)
    _, by_grey = page_of(doc)
    reader = reader_for(by_grey, {"收件人：张三丰": ("收件人：张王丰", [0.99] * 7)})
    res = extractor("waybill", second_reading=SecondReading(reader)).extract_document(doc)
    assert not res["receiver_name"].needs_review and reader.crops == 0
    assert "second_reading" not in dict(res.timings_ms)


def test_the_pipelines_extraction_passes_the_flat_pages_on() -> None:
    from luodi.locate.extract import extract_documents

    doc = make_doc(LINES)
    img, by_grey = page_of(doc)
    reader = reader_for(by_grey, {"收件人：张三丰": ("收件人：张王丰", [0.99] * 7)})
    ex = extractor("waybill", second_reading=SecondReading(reader))
    got = extract_documents(ex, doc, [img]).documents[0].extraction
    assert got["receiver_name"].needs_review and "张王丰" in got["receiver_name"].alternatives
    assert not extract_documents(ex, doc).documents[0].extraction["receiver_name"].needs_review


def test_an_unknown_second_reading_model_is_one_clear_error(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import cv2
    import pytest

    from luodi.cli import main

    image = tmp_path / "page.png"
    cv2.imwrite(str(image), np.full((60, 200, 3), 255, np.uint8))
    with pytest.raises(SystemExit) as exit_info:
        main(["extract", str(image), "--second-reading", "no-such-model"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "unknown model 'no-such-model'" in err and "Traceback" not in err


def test_the_pipeline_builds_its_extractor_with_the_second_reading() -> None:
    import pytest

    from luodi.errors import ModelNotPulledError
    from luodi.pipeline import Pipeline

    try:
        task = Pipeline().processor("extract", "waybill", second_reading="pp-ocrv4")
    except ModelNotPulledError:
        pytest.skip("pp-ocrv4 is not in the model store (make setup pulls it)")
    second = task.extractor.second_reading  # type: ignore[attr-defined]
    assert second is not None and second.charset is not None and "张" in second.charset
    assert Pipeline().processor("extract", "waybill").extractor.second_reading is None  # type: ignore[attr-defined]


def test_a_value_crop_reads_only_the_stretch_of_the_line_that_holds_the_values() -> None:
    import dataclasses

    doc = make_doc(LINES)
    img, by_grey = page_of(doc)
    name_line = next(line for line in by_grey.values() if line.text == "收件人：张三丰")
    widths: list[int] = []

    class Narrow(GreyReader):
        def recognize(self, crops: Sequence[np.ndarray]) -> list[RecResult]:
            widths.extend(c.shape[1] for c in crops if abs(c.shape[0] - 24) <= 2)
            return super().recognize(crops)

    texts = {g: (line.text, [0.99] * len(line.text)) for g, line in by_grey.items()}
    grey = next(g for g, line in by_grey.items() if line is name_line)
    texts[grey] = ("：张王丰", [0.99] * 4)  # the name and one character before it, read otherwise
    second = dataclasses.replace(SecondReading(Narrow(texts)), crop="value")
    res = extractor("waybill", second_reading=second).extract_document(doc, pages=[img])
    assert res["receiver_name"].needs_review and "张王丰" in res["receiver_name"].alternatives
    (x0, _), (x1, _), _, _ = name_line.box
    assert min(widths) < 0.75 * (x1 - x0)  # not the whole line: its label stayed out


def test_doubt_below_reads_again_only_the_values_the_first_reading_was_unsure_of() -> None:
    weak = make_line("收件人：张三丰", 50, 100, scores=[0.98, 0.98, 0.98, 0.98, 0.98, 0.86, 0.98])
    doc = make_doc([weak, *(make_line(*t) for t in LINES[1:])])  # every other character at 0.98
    img, by_grey = page_of(doc)
    addr_line = "收件地址：浙江省杭州市西湖区文三路90号"
    misread = {addr_line: ("收件地址：浙江省杭州市西湖区文三路96号", [0.98] * 21)}
    # reading every accepted value again catches the address read otherwise ...
    everything = reader_for(by_grey, misread)
    res = extractor("waybill", second_reading=SecondReading(everything)).extract_document(doc, pages=[img])
    assert res["receiver_address"].needs_review and not res["receiver_name"].needs_review
    # ... reading only the doubted ones settles the name and leaves the sure address as it was
    doubted = reader_for(by_grey, misread)
    cheap = SecondReading(doubted, doubt_below=0.9)
    res = extractor("waybill", second_reading=cheap).extract_document(doc, pages=[img])
    assert not res["receiver_name"].needs_review and res["receiver_name"].value == "张三丰"
    assert not res["receiver_address"].needs_review
    assert 0 < doubted.crops < everything.crops
    assert doubted.crops == 1  # the name's line only
    # a value with a character below the bar is read again, and the misreading caught
    strict = SecondReading(reader_for(by_grey, misread), doubt_below=0.99)
    res = extractor("waybill", second_reading=strict).extract_document(doc, pages=[img])
    assert res["receiver_address"].needs_review


def test_the_pipeline_reads_only_the_doubted_values_when_asked(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import cv2
    import pytest

    from luodi.cli import main
    from luodi.errors import ConfigError, ModelNotPulledError
    from luodi.kie.second_reading import DOUBT_BELOW
    from luodi.pipeline import Pipeline

    with pytest.raises(ConfigError, match="needs a second reading model"):
        Pipeline().processor("extract", "waybill", second_reading_doubted=True)
    image = tmp_path / "page.png"
    cv2.imwrite(str(image), np.full((60, 200, 3), 255, np.uint8))
    with pytest.raises(SystemExit) as exit_info:
        main(["extract", str(image), "--second-reading-doubted"])
    assert exit_info.value.code != 0
    err = capsys.readouterr().err
    assert "needs a second reading model" in err and "Traceback" not in err
    try:
        task = Pipeline().processor("extract", "waybill", second_reading="pp-ocrv4", second_reading_doubted=True)
    except ModelNotPulledError:
        pytest.skip("pp-ocrv4 is not in the model store (make setup pulls it)")
    second = task.extractor.second_reading  # type: ignore[attr-defined]
    assert second is not None and second.doubt_below == DOUBT_BELOW
    every = Pipeline().processor("extract", "waybill", second_reading="pp-ocrv4").extractor.second_reading  # type: ignore[attr-defined]
    assert every.doubt_below is None
