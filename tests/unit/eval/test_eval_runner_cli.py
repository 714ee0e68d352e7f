"""The dataset runner and the eval/synth CLIs, with a stub engine (no models).

The stub reads the text a test wants "recognised" from a dict keyed by image path, so each test
states exactly which predictions are right and wrong and checks the numbers that follow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from luodi.cli import cli
from luodi.errors import CorruptInputError
from luodi.eval.datasets import DetRegion, DetSample, RecSample, write_det_labels, write_rec_labels
from luodi.eval.runner import evaluate_det, evaluate_rec
from luodi.ocr.result import Document, Line, Page


class StubEngine:
    model_name = "stub"

    def __init__(self, answers: dict[str, list[tuple[str, list[tuple[float, float]]]]]) -> None:
        self.answers = answers
        self.calls: list[Any] = []

    def __call__(self, source: Any, options: Any = None, *, name: str | None = None) -> Document:
        self.calls.append(options)
        key = Path(source).name
        if key not in self.answers:
            raise CorruptInputError(f"cannot decode {key}")
        lines = tuple(Line(text=t, score=0.9, box=tuple(box)) for t, box in self.answers[key])  # type: ignore[arg-type]
        return Document(source=str(source), model="stub", pages=(Page(0, 100, 100, lines),))


BOX = [(0.0, 0.0), (100.0, 0.0), (100.0, 20.0), (0.0, 20.0)]
BOX2 = [(0.0, 30.0), (100.0, 30.0), (100.0, 50.0), (0.0, 50.0)]


def test_evaluate_rec_counts_failures_as_empty(tmp_path: Path) -> None:
    samples = [
        RecSample(tmp_path / "a.png", "上海市"),
        RecSample(tmp_path / "b.png", "电话：123"),
        RecSample(tmp_path / "broken.png", "北京"),
    ]
    engine = StubEngine({"a.png": [("上海市", BOX)], "b.png": [("电话:123", BOX)]})
    report = evaluate_rec(engine, samples, options="OPTS")
    assert engine.calls == ["OPTS"] * 3
    assert report.metrics.line_accuracy == pytest.approx(1 / 3)
    assert report.metrics.line_accuracy_norm == pytest.approx(2 / 3)
    # edits: 0 + 1 + 2 (nothing read for 北京) over 3 + 6 + 2 label characters
    assert report.metrics.one_minus_cer == pytest.approx(1 - 3 / 11)
    assert [f.path for f in report.failures] == [str(tmp_path / "broken.png")]
    errors = report.errors()
    assert [e["label"] for e in errors] == ["电话：123", "北京"]
    assert errors[1]["error"] == "cannot decode broken.png"
    assert report.to_dict()["model"] == "stub"


def test_evaluate_det_and_e2e(tmp_path: Path) -> None:
    samples = [
        DetSample(
            tmp_path / "p.png",
            (
                DetRegion(tuple(BOX), "上海"),
                DetRegion(tuple(BOX2), "北京"),
                DetRegion(((0, 60), (9, 60), (9, 70)), "###"),
            ),
        )
    ]
    engine = StubEngine(
        {"p.png": [("上海", BOX), ("北东", BOX2), ("噪", [(300, 300), (320, 300), (320, 310), (300, 310)])]}
    )
    report = evaluate_det(engine, samples)
    assert (report.det.precision, report.det.recall) == (pytest.approx(2 / 3), 1.0)
    assert report.e2e.recall == pytest.approx(1 / 2)
    (row,) = report.errors("e2e")
    assert row["misread"] == [{"label": "北京", "prediction": "北东", "iou": 1.0}]
    assert row["false_positives"][0]["text"] == "噪"
    assert report.to_dict("e2e")["e2e"]["correct"] == 1
    assert "e2e" not in report.to_dict("det")


@pytest.fixture
def stub_cli(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    made: dict[str, Any] = {}

    def fake_engine(*, model: str | None, runtime: str | None, threads: int | None) -> StubEngine:
        made["args"] = (model, runtime, threads)
        return made["engine"]

    # the commands build their engine as ``luodi.OCR(model=…, runtime=…, threads=…)``
    monkeypatch.setattr("luodi.OCR", fake_engine)
    return made


def test_cli_eval_rec_json_and_errors(tmp_path: Path, stub_cli: dict[str, Any]) -> None:
    labels = tmp_path / "set" / "labels.txt"
    write_rec_labels(labels, [RecSample(tmp_path / "set" / "a.png", "甲"), RecSample(tmp_path / "set" / "b.png", "乙")])
    stub_cli["engine"] = StubEngine({"a.png": [("甲", BOX)], "b.png": [("丙", BOX)]})
    errors = tmp_path / "errors.jsonl"
    result = CliRunner().invoke(
        cli, ["eval", "rec", "--labels", str(labels), "-m", "pp-ocrv4", "--errors", str(errors)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["line_accuracy"] == 0.5 and out["n"] == 2 and out["options"] == {"use_cls": False}
    assert stub_cli["args"] == ("pp-ocrv4", None, None)
    opts = stub_cli["engine"].calls[0]
    assert (opts.use_det, opts.use_cls, opts.drop_score) == (False, False, 0.0)
    rows = [json.loads(x) for x in errors.read_text(encoding="utf-8").splitlines()]
    assert [(r["label"], r["prediction"]) for r in rows] == [("乙", "丙")]
    assert "warning" not in result.stderr


def test_cli_eval_rec_warns_about_unreadable_images(tmp_path: Path, stub_cli: dict[str, Any]) -> None:
    labels = tmp_path / "labels.txt"
    write_rec_labels(labels, [RecSample(tmp_path / "gone.png", "甲")])
    stub_cli["engine"] = StubEngine({})
    result = CliRunner().invoke(cli, ["eval", "rec", "--labels", str(labels)], catch_exceptions=False)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["failures"] == 1
    assert "warning: 1 images could not be read, first: cannot decode gone.png" in result.stderr


def test_cli_eval_det_text_format(tmp_path: Path, stub_cli: dict[str, Any]) -> None:
    labels = tmp_path / "det.txt"
    write_det_labels(labels, [DetSample(tmp_path / "p.png", (DetRegion(tuple(BOX), "上海"),))])
    stub_cli["engine"] = StubEngine({"p.png": [("上海", BOX)]})
    result = CliRunner().invoke(cli, ["eval", "e2e", "--labels", str(labels), "--format", "text", "--det-limit", "640"])
    assert result.exit_code == 0, result.output
    assert "det P/R/hmean      1.0000 / 1.0000 / 1.0000" in result.stdout
    assert "e2e P/R/hmean      1.0000 / 1.0000 / 1.0000" in result.stdout
    assert stub_cli["engine"].calls[0].det_limit_side == 640


def test_cli_eval_malformed_labels_exit_1(tmp_path: Path) -> None:
    from luodi.cli import main

    labels = tmp_path / "bad.txt"
    labels.write_text("a.png\tok\nno tab\n", encoding="utf-8")
    with pytest.raises(SystemExit) as ei:
        main(["eval", "rec", "--labels", str(labels)])
    assert ei.value.code == 1


def test_cli_synth_lines(tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text("收件人：张三\n浙江省杭州市西湖区\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["synth", "lines", "--style", "thermal", "--text", str(text), "-n", "3", "-o", str(out), "--seed", "9"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["written"] == 3 and summary["style"] == "thermal"
    lines = (out / "labels.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and all((out / row.split("\t")[0]).is_file() for row in lines)


def test_cli_synth_lines_needs_one_source(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["synth", "lines", "-n", "1", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "exactly one of --text FILE or --ner FILE" in result.output


def test_eval_group_lists_own_and_present_extra_commands() -> None:
    import importlib.util

    result = CliRunner().invoke(cli, ["eval", "--help"])
    assert result.exit_code == 0
    for name in ("rec", "det", "e2e"):
        assert f"  {name} " in result.output
    # kie/ner live in modules owned by the KIE and NER code: listed exactly when those exist
    for name in ("kie", "ner"):
        present = importlib.util.find_spec(f"luodi.cli.eval_{name}") is not None
        assert (f"  {name} " in result.output) == present
