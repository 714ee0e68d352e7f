from __future__ import annotations

import numpy as np
import pytest

from luodi.errors import ConfigError
from luodi.train.config import parse_config
from luodi.train.data import LineImage
from luodi.train.legibility import char_error_rate, drop_illegible


def line(label: str, source: str) -> LineImage:
    return LineImage(np.zeros((48, 64, 3), np.uint8), label, source)


def test_char_error_rate() -> None:
    assert char_error_rate("北京市", "北京市") == 0.0
    assert char_error_rate("北京", "北京市") == pytest.approx(1 / 3)
    assert char_error_rate("3X10152", "收件人") > 1.0  # more edits than characters
    assert char_error_rate("", "") == 0.0


def test_lines_read_worse_than_the_limit_are_dropped_and_counted() -> None:
    lines = [line("北京市海淀区", "a"), line("上海市", "b"), line("收件人李四", "c"), line("王五", "d")]
    reads = ["北京市海淀区", "上每市", "3X10152", ""]
    kept, rep = drop_illegible(lines, reads, 0.5)
    assert [ln.source for ln in kept] == ["a", "b"]  # one wrong character of three is legible
    assert (rep.kept, rep.dropped) == (2, 2)
    assert rep.examples[0].startswith("c: '收件人李四' -> '3X10152'")
    assert "2 of 4 lines (50.0%) left out" in rep.summary(0.5)
    kept, rep = drop_illegible(lines, reads, 0.0)
    assert [ln.source for ln in kept] == ["a"] and rep.dropped == 3


def test_the_filter_is_off_unless_asked_and_refuses_a_negative_limit() -> None:
    base = {"Train": {"steps": 1, "labels": ["x.txt"]}}
    assert parse_config(base).Train.max_stock_cer is None
    assert parse_config({"Train": {**base["Train"], "max_stock_cer": 0.5}}).Train.max_stock_cer == 0.5
    with pytest.raises(ConfigError, match="max_stock_cer"):
        parse_config({"Train": {**base["Train"], "max_stock_cer": -1}})
