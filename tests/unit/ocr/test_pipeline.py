"""The engine around inference, with fake sessions: geometry, options, hooks, immutability, threads."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from luodi.errors import InputError, ModelError
from luodi.ocr.options import OCROptions
from luodi.ocr.pipeline import OCR
from luodi.ocr.result import RecResult
from luodi.runtime.fake import FakeSession

CHARS = ["<blank>", *"abcdefghijk"]


def _engine(with_cls: bool = True) -> OCR:
    return OCR.from_sessions(
        det=FakeSession.det(),
        cls_session=FakeSession.cls_() if with_cls else None,
        rec=FakeSession.rec(num_classes=len(CHARS)),
        characters=CHARS,
        model_name="fake",
    )


def _page(rects: Sequence[tuple[int, int, int, int, int]], size: tuple[int, int] = (300, 400)) -> np.ndarray:
    """White page with dark bars (x0, y0, x1, y1, grey level): the fake detector sees dark as text."""
    page = np.full((*size, 3), 255, dtype=np.uint8)
    for x0, y0, x1, y1, level in rects:
        page[y0:y1, x0:x1] = level
        # a lighter second half gives the fake recogniser varied columns to read
        page[y0:y1, (x0 + x1) // 2 : x1] = min(255, level + 60)
    return page


PAGE = _page([(200, 40, 360, 70, 0), (20, 42, 150, 72, 40), (30, 150, 330, 190, 20), (60, 240, 120, 262, 30)])


def test_lines_in_reading_order_with_boxes_on_the_bars() -> None:
    doc = _engine().run_pages([PAGE], source="page.png")
    assert doc.source == "page.png" and doc.model == "fake"
    (page,) = doc.pages
    assert (page.width, page.height) == (400, 300)
    assert len(page.lines) == 4
    lefts = [min(p[0] for p in line.box) for line in page.lines]
    tops = [min(p[1] for p in line.box) for line in page.lines]
    assert lefts[0] < 30 and lefts[1] > 170  # first row: left bar, then right bar (boxes grow by unclip)
    assert 110 < tops[2] < 150 and 200 < tops[3] < 240
    for line in page.lines:
        assert line.text and 0.5 <= line.score <= 1.0
        assert len(line.char_scores) == len(line.char_positions) == len(line.text)
        assert list(line.char_positions) == sorted(line.char_positions)
    d = doc.to_dict()
    assert set(d) == {"source", "model", "pages", "timings_ms"}
    assert set(d["timings_ms"]) == {"locate", "det", "cls", "rec", "total"}
    assert d["timings_ms"]["total"] >= d["timings_ms"]["det"]


def test_empty_page_has_no_lines() -> None:
    doc = _engine().run_pages([np.full((100, 100, 3), 255, dtype=np.uint8)])
    assert doc.pages[0].lines == ()
    assert doc.text == ""


def test_no_det_reads_the_whole_page_as_one_line() -> None:
    crop = _page([(0, 0, 200, 40, 0)], size=(40, 200))
    doc = _engine().run_pages([crop], OCROptions(use_det=False))
    (line,) = doc.lines
    assert line.box == ((0.0, 0.0), (200.0, 0.0), (200.0, 40.0), (0.0, 40.0))
    assert doc.timings.det < 1.0


def test_classifier_turns_upside_down_lines() -> None:
    page = np.full((200, 400, 3), 255, dtype=np.uint8)
    page[80:100, 50:350] = 0  # dark top half of the line
    page[100:120, 50:350] = 120  # lighter bottom half: the fake cls calls this 180°
    with_cls = _engine().run_pages([page])
    without = _engine().run_pages([page], OCROptions(use_cls=False))
    assert with_cls.lines[0].angle == 180 and without.lines[0].angle == 0
    # the box starts at the reading top-left, which for a turned line is the page's bottom-right
    x0, y0 = with_cls.lines[0].box[0]
    assert x0 > 300 and y0 > 110


def test_per_call_options_are_not_written_back() -> None:
    engine = _engine()
    first = engine.run_pages([PAGE])
    engine.run_pages([PAGE], OCROptions(drop_score=1.0, use_cls=False))
    assert engine.run_pages([PAGE]).text == first.text != ""
    assert engine.run_pages([PAGE], OCROptions(drop_score=1.0)).text == ""


def test_engine_is_immutable() -> None:
    engine = _engine()
    with pytest.raises(AttributeError, match="immutable"):
        engine.model_name = "other"
    with pytest.raises(AttributeError):
        engine._rec = None  # type: ignore[assignment]
    with pytest.raises(TypeError):
        engine.runtime_info["rec"] = engine.runtime_info["det"]
    assert set(engine.runtime_info) == {"det", "cls", "rec"}


def test_recognizer_hook_replaces_rec_stage() -> None:
    seen: list[int] = []

    def recognizer(crops: Sequence[np.ndarray]) -> list[RecResult]:
        seen.append(len(crops))
        return [RecResult(text=f"line{i}", score=0.9, char_scores=(0.9,) * 5) for i in range(len(crops))]

    doc = _engine().run_pages([PAGE], recognizer=recognizer)
    assert seen == [4]
    assert [line.text for line in doc.lines] == ["line0", "line1", "line2", "line3"]

    with pytest.raises(ModelError, match="returned 1 results for 4 crops"):
        _engine().run_pages([PAGE], recognizer=lambda crops: [RecResult("x", 1.0)])


def test_recognize_crops_directly() -> None:
    engine = _engine()
    crops = [np.ascontiguousarray(PAGE[40:70, 200:360]), np.full((30, 50, 3), 255, dtype=np.uint8)]
    results = engine.recognize(crops)
    assert len(results) == 2 and results[0].text and results[1].text == ""


@pytest.mark.parametrize(
    "bad",
    [np.zeros((10, 10), dtype=np.uint8), np.zeros((10, 10, 3), dtype=np.float32), np.zeros((10, 10, 4), np.uint8), "x"],
)
def test_bad_pages_raise_input_error(bad: object) -> None:
    with pytest.raises(InputError, match="RGB uint8"):
        _engine().run_pages([bad])  # type: ignore[list-item]


def test_multi_page_document() -> None:
    doc = _engine().run_pages([PAGE, np.full((50, 50, 3), 255, np.uint8), PAGE])
    assert [p.index for p in doc.pages] == [0, 1, 2]
    assert doc.pages[0].lines == doc.pages[2].lines
    assert doc.text.count("\n\n") == 2


def test_eight_threads_match_sequential_results() -> None:
    engine = _engine()
    pages = [
        _page([(10 + 7 * i, 20, 200 + 9 * i, 50, 8 * (i % 5)), (40, 100 + 3 * i, 380 - 5 * i, 130 + 3 * i, 40)])
        for i in range(16)
    ]
    options = [OCROptions(), OCROptions(use_cls=False), OCROptions(rec_batch_size=4)]
    jobs = [(p, options[i % 3]) for i, p in enumerate(pages)]
    expected = [dataclasses.replace(engine.run_pages([p], o), timings=None) for p, o in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            got = list(
                pool.map(lambda job: dataclasses.replace(engine.run_pages([job[0]], job[1]), timings=None), jobs)
            )
            assert got == expected
    # every page differs (boxes, and mostly texts), so a mix-up between threads would show
    assert len({d.pages for d in expected}) == len(jobs)
    assert len({d.text for d in expected}) >= 3


def test_rec_min_width_engine_default_and_per_call_override() -> None:
    rec = FakeSession.rec(num_classes=len(CHARS))
    engine = OCR.from_sessions(rec=rec, characters=CHARS, rec_min_width=320)
    crop = np.full((32, 40, 3), 255, dtype=np.uint8)
    engine.recognize([crop])
    engine.recognize([crop], OCROptions(rec_min_width=0))
    assert [s[3] for s in rec.shapes] == [320, 64]


def test_bundle_rec_min_width() -> None:
    from pathlib import Path

    from luodi.ocr.pipeline import _bundle_rec_min_width
    from luodi.zoo.spec import Bundle, StageSpec

    def bundle(version: str, extra: dict[str, int] | None = None) -> Bundle:
        rec = StageSpec(model=Path("rec.onnx"), extra=extra or {})
        return Bundle(name="b", task="ocr", version=version, det=None, cls=None, rec=rec, dictionary=None)

    assert _bundle_rec_min_width(bundle("v4")) == 0
    assert _bundle_rec_min_width(bundle("v6")) == 0
    assert _bundle_rec_min_width(bundle("v6", {"rec_min_width": 160})) == 160


def test_static_shape_backend_sees_bucketed_shapes_and_reads_the_same() -> None:
    """A backend that compiles per shape gets a few padded shapes; the padding changes no result."""
    from luodi.ocr.tensor import DET_SIDE_STEP, REC_WIDTH_BUCKETS

    det, cls_, rec = (
        FakeSession.det(static_shapes=True),
        FakeSession.cls_(static_shapes=True),
        FakeSession.rec(num_classes=len(CHARS), static_shapes=True),
    )
    static = OCR.from_sessions(det=det, cls_session=cls_, rec=rec, characters=CHARS, model_name="fake")
    page = _page([(200, 40, 360, 70, 0), (20, 42, 150, 72, 40), (30, 150, 330, 190, 20)], size=(250, 410))
    want, got = _engine().run_pages([page]), static.run_pages([page])
    assert [line.text for line in got.lines] == [line.text for line in want.lines] != []
    assert [line.box for line in got.lines] == [line.box for line in want.lines]
    assert all(h % DET_SIDE_STEP == 0 and w % DET_SIDE_STEP == 0 for _, _, h, w in det.shapes)
    assert det.shapes[0][2:] != (256, 416)  # padded beyond the plain multiple-of-32 size
    assert all(w in REC_WIDTH_BUCKETS for *_, w in rec.shapes)
    assert {n for n, *_ in cls_.shapes} == {OCROptions().cls_batch_size}  # always full batches
    rec.shapes.clear()
    batched = static.run_pages([page], OCROptions(rec_batch_size=2))
    assert [line.text for line in batched.lines] == [line.text for line in want.lines]
    assert {n for n, *_ in rec.shapes} == {2}  # three lines: a full batch and a padded one


def test_warm_up_compiles_every_bucket_only_for_static_shape_backends() -> None:
    from luodi.ocr.tensor import REC_WIDTH_BUCKETS

    assert _engine().warm_up() == 0  # dynamic shapes: nothing to compile ahead
    det, cls_, rec = (
        FakeSession.det(static_shapes=True),
        FakeSession.cls_(static_shapes=True),
        FakeSession.rec(num_classes=len(CHARS), static_shapes=True),
    )
    engine = OCR.from_sessions(det=det, cls_session=cls_, rec=rec, characters=CHARS)
    assert engine.warm_up() == len(REC_WIDTH_BUCKETS) + 1 + 2
    assert sorted({s[3] for s in rec.shapes}) == sorted(REC_WIDTH_BUCKETS)
    assert cls_.shapes == [(OCROptions().cls_batch_size, 3, 48, 192)]
    assert {s[2:] for s in det.shapes} == {(960, 672), (672, 960)}  # A4 at the 960 limit, bucketed
