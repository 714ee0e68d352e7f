from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from luodi.errors import ConfigError
from luodi.train.charset import Charset, read_charset
from luodi.train.trainer import lr_factor


def test_classes_are_blank_entries_space() -> None:
    cs = Charset(("a", "b"))
    assert cs.classes == ("", "a", "b", " ")
    assert cs.index() == {"a": 1, "b": 2, " ": 3}


def test_extended_appends_only_new_characters_in_order() -> None:
    cs = Charset(("a", "b")).extended(["c", "a", "d", "c", " "])
    assert cs.entries == ("a", "b", "c", "d")


def test_extended_rejects_entries_with_tabs() -> None:
    with pytest.raises(ConfigError, match="extra character"):
        Charset(("a",)).extended(["x\ty"])


def test_decode_collapses_repeats_and_drops_blanks() -> None:
    cs = Charset(("a", "b"))
    seq = [1, 1, 0, 1, 2, 2, 3, 0]
    probs = np.eye(4)[seq]
    assert cs.decode(probs) == "aab "
    assert cs.decode(probs, length=3) == "a"


def test_round_trip_through_file(tmp_path: Path) -> None:
    cs = Charset(("甲", "乙", "：", "1"))
    cs.write(tmp_path / "dict.txt")
    assert read_charset(tmp_path / "dict.txt") == cs


def test_lr_factor_warms_up_then_decays_to_the_floor() -> None:
    total, warmup = 100, 10
    assert lr_factor(0, total, warmup, "cosine", 0.1) == pytest.approx(0.1)
    assert lr_factor(9, total, warmup, "cosine", 0.1) == pytest.approx(1.0)
    assert lr_factor(10, total, warmup, "cosine", 0.1) == pytest.approx(1.0)
    mid = lr_factor(55, total, warmup, "cosine", 0.1)
    assert mid == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert lr_factor(100, total, warmup, "cosine", 0.1) == pytest.approx(0.1)
    assert lr_factor(50, total, 0, "constant", 0.1) == 1.0
