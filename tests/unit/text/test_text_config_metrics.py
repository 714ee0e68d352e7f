"""The training config (strict keys, paths) and the evaluation metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from luodi.errors import ConfigError
from luodi.text.config import load_text_config, parse_text_config
from luodi.text.data import Span, TextExample
from luodi.text.metrics import confusion_png, text_metrics


def test_unknown_key_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yml"
    cfg.write_text("task: classify\ntrain: a.tsv\noptim:\n  learning_rat: 0.1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key 'optim.learning_rat'"):
        load_text_config(cfg)


def test_paths_resolve_against_the_config(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yml"
    cfg.write_text("task: nlu\ntrain: [a.json, {path: b.conll, intent_file: b.int}]\n", encoding="utf-8")
    c = load_text_config(cfg)
    assert c.train[0].path == tmp_path / "a.json" and c.train[1].intent_file == tmp_path / "b.int"
    with pytest.raises(ConfigError, match="task"):
        parse_text_config({"task": "translate", "train": "a.tsv"})


def test_metrics_and_unknown_gold_label(tmp_path: Path) -> None:
    ex = [
        TextExample("a", "x", (Span(0, 1, "n"),)),
        TextExample("b", "y", ()),
        TextExample("c", "z", (Span(0, 1, "n"),)),  # z is not a class of the model
    ]
    m = text_metrics(ex, ["x", "x", "x"], [[Span(0, 1, "n")], [], []], classes=["x", "y"])
    assert m.accuracy == pytest.approx(1 / 3)
    assert m.unknown_gold == ("z",)
    assert m.slot_f1 == pytest.approx(2 / 3)  # 1 tp, 0 fp, 1 fn
    report = {r.label: r for r in m.per_class}
    assert report["x"].precision == pytest.approx(1 / 3) and report["x"].recall == 1.0
    assert m.macro_f1 == pytest.approx((0.5 + 0 + 0) / 3)
    png = tmp_path / "cm.png"
    confusion_png(m, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
