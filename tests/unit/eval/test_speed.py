"""measure_speed with fake sessions (no models): order of runs, rounds, the numbers and the report."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from luodi.errors import CorruptInputError, EmptyInputError
from luodi.eval.speed import Environment, SpeedReport, StageRuntime, measure_speed, summarise
from luodi.ocr.options import OCROptions
from luodi.ocr.pipeline import OCR
from luodi.ocr.result import Timings
from luodi.runtime.base import SessionBase
from luodi.runtime.fake import FakeSession

CHARS = ["<blank>", *"abcdefghijk"]


class Logged(SessionBase):
    """A session that notes its label in a shared log on every run (and can be made slow)."""

    def __init__(self, inner: FakeSession, label: str, log: list[str], delay_s: float = 0.0) -> None:
        self._inner = inner
        self._inputs = tuple(inner.input_names)
        self._outputs = tuple(inner.output_names)
        self._info = inner.info
        self._label = label
        self._log = log
        self._delay_s = delay_s

    def run(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        self._log.append(self._label)
        if self._delay_s:
            time.sleep(self._delay_s)
        return self._inner.run(inputs)


def _engine(label: str, log: list[str], delay_s: float = 0.0, name: str = "fake") -> OCR:
    return OCR.from_sessions(
        det=Logged(FakeSession.det(), label, log, delay_s),
        cls_session=FakeSession.cls_(),
        rec=FakeSession.rec(num_classes=len(CHARS)),
        characters=CHARS,
        model_name=name,
    )


def _page(bars: int, size: tuple[int, int] = (200, 300)) -> np.ndarray:
    """A white page with ``bars`` dark text-like bars (the fake detector reads dark as text)."""
    page = np.full((*size, 3), 255, dtype=np.uint8)
    for i in range(bars):
        y = 20 + 40 * i
        page[y : y + 20, 30:250] = 10
        page[y : y + 20, 140:250] = 70
    return page


PAGES = [_page(2), _page(3, size=(240, 320))]


def test_first_pass_then_rounds_each_running_every_engine_in_turn() -> None:
    log: list[str] = []
    engines = {"a": _engine("a", log), "b": _engine("b", log)}
    ticks: list[int] = []
    report = measure_speed(engines, PAGES, rounds=3, on_page=lambda: ticks.append(len(log)))
    # the detector runs once per page: first pass a a b b, then each round a a b b again
    assert log == ["a", "a", "b", "b"] * 4
    assert len(ticks) == 2 * 2 * 4 and ticks == sorted(ticks)  # after every page run, in order
    assert report.rounds == 3 and report.pages == 2
    for e in report.engines:
        assert len(e.round_total_ms_per_page) == 3


def test_report_structure_and_json() -> None:
    log: list[str] = []
    engines = {"first@onnxruntime": _engine("a", log, name="m1"), "second@onnxruntime": _engine("b", log, name="m2")}
    report = measure_speed(engines, PAGES, rounds=2, options=OCROptions(use_cls=False))
    d = json.loads(json.dumps(report.to_dict()))
    assert set(d) == {"pages", "megapixels_per_page", "rounds", "sources", "baseline", "engines", "environment"}
    assert d["sources"] == []  # arrays in, no file names
    assert d["baseline"] == "first@onnxruntime"
    assert d["megapixels_per_page"] == pytest.approx((200 * 300 + 240 * 320) / 2 / 1e6, abs=1e-3)
    first, second = d["engines"]
    assert [first["name"], second["name"]] == ["first@onnxruntime", "second@onnxruntime"]
    assert [first["model"], second["model"]] == ["m1", "m2"]
    assert set(first["runtime"]) == {"det", "cls", "rec"}
    assert first["runtime"]["rec"] == {"backend": "onnxruntime", "device": "cpu", "threads": 1, "precision": "fp32"}
    assert set(first["ms_per_page"]) == {"locate", "det", "cls", "rec", "total"}
    assert first["speedup"] == 1.0
    # the per-call options reached the engine: the classifier was skipped
    assert first["ms_per_page"]["cls"] == 0.0
    # page one has 2 bars, page two 3: 2.5 lines per page
    assert first["lines_per_page"] == 2.5 and second["lines_per_page"] == 2.5
    for e in report.engines:
        t = e.ms_per_page
        assert t.total > 0 and t.total >= t.det
        assert e.pages_per_s == pytest.approx(1000.0 / t.total)
        assert e.first_pass_ms_per_page > 0
    env = d["environment"]
    assert env["cores"] == len(os.sched_getaffinity(0))
    assert env["cpu"] and env["python"] and env["luodi"]
    assert isinstance(env["load_start"], float) and isinstance(env["load_end"], float)
    assert "onnxruntime" in env["packages"]


def test_slow_engine_shows_as_slower_against_the_first() -> None:
    log: list[str] = []
    engines = {"fast": _engine("a", log), "slow": _engine("b", log, delay_s=0.05)}
    report = measure_speed(engines, PAGES[:1], rounds=2)
    fast, slow = report.engines
    assert slow.ms_per_page.det >= 50.0  # sleep is a lower bound
    assert slow.ms_per_page.total > fast.ms_per_page.total
    assert slow.speedup == pytest.approx(fast.ms_per_page.total / slow.ms_per_page.total)
    assert slow.speedup < 1.0 and fast.speedup == 1.0


def test_summarise_takes_the_median_per_stage_and_divides_by_the_first() -> None:
    def t(det: float, rec: float, total: float) -> Timings:
        return Timings(det=det, cls=1.0, rec=rec, total=total)

    runtime = (StageRuntime("rec", "onnxruntime", "cpu", 2, "fp32"),)
    a, b = summarise(
        {"a": "m", "b": "m"},
        {"a": runtime, "b": runtime},
        {"a": 99.0, "b": 500.0},
        {"a": [t(4, 6, 10), t(8, 20, 30), t(6, 12, 20)], "b": [t(1, 2, 5), t(9, 40, 50), t(3, 6, 10)]},
        {"a": 3.0, "b": 2.0},
    )
    assert a.ms_per_page == Timings(det=6.0, cls=1.0, rec=12.0, total=20.0)
    assert b.ms_per_page == Timings(det=3.0, cls=1.0, rec=6.0, total=10.0)
    assert (a.speedup, b.speedup) == (1.0, 2.0)
    assert (a.pages_per_s, b.pages_per_s) == (50.0, 100.0)
    assert b.round_total_ms_per_page == (5.0, 50.0, 10.0)  # in round order, not sorted
    assert (a.first_pass_ms_per_page, b.first_pass_ms_per_page) == (99.0, 500.0)
    assert (a.lines_per_page, b.lines_per_page) == (3.0, 2.0)


def _fixed_report() -> SpeedReport:
    runtime = (
        StageRuntime("det", "onnxruntime", "cpu", 2, "fp32"),
        StageRuntime("rec", "onnxruntime", "cpu", 2, "fp32"),
    )
    ov = (
        StageRuntime("det", "openvino", "cpu", 2, "int8 weights, bfloat16 compute"),
        StageRuntime("rec", "openvino", "cpu", 2, "int8 (FakeQuantize), rest bfloat16"),
    )
    engines = summarise(
        {"m@onnxruntime": "m", "m-int8@openvino": "m-int8"},
        {"m@onnxruntime": runtime, "m-int8@openvino": ov},
        {"m@onnxruntime": 130.0, "m-int8@openvino": 2400.0},
        {
            "m@onnxruntime": [Timings(40, 0, 80, 120), Timings(41, 0, 81, 121)],
            "m-int8@openvino": [Timings(20, 0, 40, 60), Timings(21, 0, 41, 61)],
        },
        {"m@onnxruntime": 12.0, "m-int8@openvino": 12.0},
    )
    env = Environment(
        cpu="Test CPU 9000",
        cores=2,
        load_start=0.5,
        load_end=1.75,
        python="3.11.7",
        luodi="0.1.0",
        packages=(("onnxruntime", "1.2.3"),),
    )
    return SpeedReport(
        engines=engines, pages=4, megapixels_per_page=0.75, rounds=2, environment=env, sources=("a.jpg", "b.pdf")
    )


def test_markdown_names_the_numbers_what_ran_and_the_machine() -> None:
    md = _fixed_report().to_markdown()
    lines = md.splitlines()
    assert lines[0] == "# OCR speed on your pages"
    assert "4 pages (mean 0.75 megapixels), 2 interleaved rounds" in md
    assert "| m@onnxruntime | 40.5 | 0.0 | 80.5 | 120.5 | 8.30 | 1.00x | 130.0 | 120.0, 121.0 | 12.0 |" in lines
    assert "| m-int8@openvino | 20.5 | 0.0 | 40.5 | 60.5 | 16.53 | 1.99x | 2400.0 | 60.0, 61.0 | 12.0 |" in lines
    assert "| m-int8@openvino | m-int8 | rec | openvino | cpu | 2 | int8 (FakeQuantize), rest bfloat16 |" in lines
    assert "`m@onnxruntime` (the first engine)" in md
    assert "Pages from `a.jpg`, `b.pdf`." in lines
    many = dataclasses.replace(_fixed_report(), sources=tuple(f"p{i}.jpg" for i in range(12)))
    assert "`p9.jpg` and 2 more." in many.to_markdown()
    assert "Test CPU 9000, 2 cores available" in md and "onnxruntime 1.2.3" in md
    assert "0.50 at start, 1.75 at end" in md
    assert "Timings on a loaded machine swing" in md
    # every table row has as many cells as its header
    tables = [ln for ln in lines if ln.startswith("|")]
    assert all(ln.count("|") in (11, 8) for ln in tables)


def test_text_is_a_table_with_one_row_per_engine() -> None:
    text = _fixed_report().to_text()
    rows = text.splitlines()
    assert rows[0].split() == [
        "engine",
        "det",
        "cls",
        "rec",
        "total",
        "pages/s",
        "speed-up",
        "first",
        "pass",
        "lines/page",
    ]
    assert rows[1].split()[:5] == ["m@onnxruntime", "40.5", "0.0", "80.5", "120.5"]
    assert rows[2].split()[6] == "1.99x"
    assert "load average 0.50 at start, 1.75 at end" in text
    assert "m-int8@openvino: det: openvino, 2 threads, int8 weights, bfloat16 compute" in text


def test_precision_labels_replace_what_the_runtime_reports() -> None:
    log: list[str] = []
    report = measure_speed(
        {"x": _engine("a", log)}, PAGES[:1], rounds=1, precision={"x": {"rec": "int8 (QDQ), rest fp32"}}
    )
    by_stage = {r.stage: r.precision for r in report.engines[0].runtime}
    assert by_stage == {"det": "fp32", "cls": "fp32", "rec": "int8 (QDQ), rest fp32"}


def test_bad_arguments() -> None:
    engines = {"a": _engine("a", [])}
    with pytest.raises(EmptyInputError):
        measure_speed(engines, [])
    with pytest.raises(ValueError, match="rounds"):
        measure_speed(engines, PAGES, rounds=0)
    with pytest.raises(ValueError, match="engine"):
        measure_speed({}, PAGES)


def test_cli_takes_the_first_pages_and_skips_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    from luodi.cli.bench import _pages

    pdf = tmp_path / "a.pdf"
    sheets = [Image.new("RGB", (200 + 10 * i, 100), "white") for i in range(5)]
    sheets[0].save(pdf, save_all=True, append_images=sheets[1:])
    bad = tmp_path / "b.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    png = tmp_path / "c.png"
    Image.new("RGB", (50, 40), "white").save(png)

    pages, used = _pages([str(pdf)], 3)  # three of the PDF's five pages
    assert len(pages) == 3 and used == [str(pdf)]
    widths = [p.shape[1] for p in pages]
    assert widths == sorted(widths) and len(set(widths)) == 3  # pages 1, 2, 3 in order

    pages, used = _pages([str(bad), str(png), str(pdf)], 2)
    assert used == [str(png), str(pdf)]
    assert [p.shape[:2] for p in pages[:1]] == [(40, 50)] and len(pages) == 2
    assert capsys.readouterr().err.startswith(f"skipped {bad}: ")

    with pytest.raises(CorruptInputError, match=str(bad)):
        _pages([str(bad)], 2)  # a single input: its error, naming the file
