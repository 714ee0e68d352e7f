"""General and bank-slip text, capital-numeral amounts, and the train/eval split of the renderer."""

from __future__ import annotations

import numpy as np
import pytest

from luodi.synth.fonts import FONT_FAMILIES, family_fonts
from luodi.synth.styles import render_line
from luodi.synth.text import _BANKS, WordTable, general_lines, rmb_upper, slip_lines


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (100, "壹佰元整"),
        (10005.5, "壹万零伍元伍角"),
        (0.07, "柒分"),
        (10.07, "壹拾元零柒分"),
        (1001, "壹仟零壹元整"),
        (100010, "壹拾万零壹拾元整"),
        (305000, "叁拾万伍仟元整"),
        (1000000, "壹佰万元整"),
        (123456789.12, "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
        ("0.005", "壹分"),
        (0, "零元整"),
    ],
)
def test_capital_numeral_amounts(amount: float | str, words: str) -> None:
    assert rmb_upper(amount) == words


def test_capital_numerals_refuse_what_slips_cannot_hold() -> None:
    with pytest.raises(ValueError, match="out of range"):
        rmb_upper(-1)


TABLE = WordTable(("电子", "货物", "的", "运输", "食品"), np.full(5, 0.2))


def test_slip_lines_keep_their_families_apart() -> None:
    train = slip_lines(300, seed=1, family="train", table=TABLE)
    held_out = slip_lines(300, seed=1, family="eval", table=TABLE)
    assert len(train) == 300 and train == slip_lines(300, seed=1, family="train", table=TABLE)
    assert any(b in line for line in train for b in _BANKS["train"])
    assert not any(b in line for line in train for b in _BANKS["eval"] if b not in "".join(_BANKS["train"]))
    assert any(b in line for line in held_out for b in _BANKS["eval"])
    assert any(line.endswith(("元整", "分", "角")) for line in train)


def test_general_lines_mix_words_numbers_and_dictionary_coverage() -> None:
    lines = general_lines(200, seed=3, coverage_chars=["垄"], coverage=0.2, table=TABLE)
    assert len(lines) == 200 and lines == general_lines(200, seed=3, coverage_chars=["垄"], coverage=0.2, table=TABLE)
    assert sum(set(line) == {"垄"} for line in lines) > 20
    assert any(any(c.isdigit() for c in line) for line in lines)
    assert all(2 <= len(line) <= 20 for line in lines)


def test_font_families_are_disjoint_and_installed() -> None:
    assert not set(FONT_FAMILIES["train"]) & set(FONT_FAMILIES["eval"])
    assert {f.key for f in family_fonts("eval")} <= set(FONT_FAMILIES["eval"])
    assert family_fonts("train")


def test_the_eval_family_renders_differently_and_reproducibly() -> None:
    a = render_line("中国工商银行 6222", "dotmatrix", seed=4, family="eval")
    b = render_line("中国工商银行 6222", "dotmatrix", seed=4, family="train")
    assert a.shape != b.shape or not np.array_equal(a, b)
    np.testing.assert_array_equal(a, render_line("中国工商银行 6222", "dotmatrix", seed=4, family="eval"))


def test_the_heldout_dotmatrix_printers_are_their_own_and_reproducible() -> None:
    from luodi.train.config import SynthSpec

    text = "中国工商银行 6222"
    held = render_line(text, "dotmatrix", seed=9, family="heldout")
    assert held.dtype == np.uint8 and held.ndim == 3 and held.shape[2] == 3
    np.testing.assert_array_equal(held, render_line(text, "dotmatrix", seed=9, family="heldout"))
    eval_line = render_line(text, "dotmatrix", seed=9, family="eval")
    assert held.shape != eval_line.shape or not np.array_equal(held, eval_line)
    # the held-out printers are for blind evaluation only: no recipe may train on them
    with pytest.raises(ValueError, match="family"):
        SynthSpec(style="dotmatrix", n=4, text_format="general", family="heldout")  # type: ignore[arg-type]


def test_the_fresh_dotmatrix_printers_are_their_own_and_reproducible() -> None:
    from luodi.synth.dotmatrix_fresh import _high_speed
    from luodi.train.config import SynthSpec

    text = "货到付款 运费1250元"
    lines = [render_line(text, "dotmatrix", seed=[3, k], severity="hard", family="fresh") for k in range(6)]
    assert all(im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3 for im in lines)
    again = render_line(text, "dotmatrix", seed=[3, 0], severity="hard", family="fresh")
    np.testing.assert_array_equal(lines[0], again)
    held = render_line(text, "dotmatrix", seed=[3, 0], severity="hard", family="heldout")
    assert held.shape != lines[0].shape or not np.array_equal(held, lines[0])
    # high-speed draft: no two horizontally neighbouring dots of a row are struck
    drafted = _high_speed(np.ones((2, 7), np.float32))
    assert drafted.tolist() == [[1, 0, 1, 0, 1, 0, 1]] * 2
    with pytest.raises(ValueError, match="family"):
        SynthSpec(style="dotmatrix", n=4, text_format="general", family="fresh")  # type: ignore[arg-type]


def test_the_late_dotmatrix_printers_are_their_own_and_reproducible() -> None:
    from luodi.synth.dotmatrix_late import point_grid
    from luodi.synth.fonts import available_fonts
    from luodi.train.config import SynthSpec

    text = "货到付款 运费1250元"
    lines = [render_line(text, "dotmatrix", seed=[3, k], severity="hard", family="late") for k in range(6)]
    assert all(im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3 for im in lines)
    np.testing.assert_array_equal(lines[0], render_line(text, "dotmatrix", seed=[3, 0], severity="hard", family="late"))
    fresh = render_line(text, "dotmatrix", seed=[3, 0], severity="hard", family="fresh")
    assert fresh.shape != lines[0].shape or not np.array_equal(fresh, lines[0])
    # one sample per dot: a full-width glyph cell is as many dots wide as the head has rows
    font = available_fonts()[0]
    grid = point_grid("国", font, 18, 0.5)
    assert grid.shape == (18, 19) and set(np.unique(grid)) <= {0.0, 1.0} and grid.sum() > 20
    assert point_grid(" ", font, 18, 0.5).sum() == 0
    # for blind evaluation only: no recipe may train on these printers
    with pytest.raises(ValueError, match="family"):
        SynthSpec(style="dotmatrix", n=4, text_format="general", family="late")  # type: ignore[arg-type]


def test_the_ledger_dotmatrix_printers_are_their_own_and_reproducible() -> None:
    from luodi.synth.dotmatrix_ledger import rom_grid
    from luodi.synth.fonts import available_fonts
    from luodi.train.config import SynthSpec

    text = "货到付款 运费12.50元"
    lines = [render_line(text, "dotmatrix", seed=[3, k], severity="hard", family="ledger") for k in range(6)]
    assert all(im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3 for im in lines)
    again = render_line(text, "dotmatrix", seed=[3, 0], severity="hard", family="ledger")
    np.testing.assert_array_equal(lines[0], again)
    late = render_line(text, "dotmatrix", seed=[3, 0], severity="hard", family="late")
    assert late.shape != lines[0].shape or not np.array_equal(late, lines[0])
    # ROM cells: a CJK character is as many dots wide as the head has rows, ASCII half; a period sits
    # low on the baseline, not centred (it would read as a middle dot)
    font = available_fonts()[0]
    grid = rom_grid("国.", font, 16)
    assert grid.shape == (16, 16 + 8) and set(np.unique(grid)) <= {0.0, 1.0} and grid[:, :16].sum() > 20
    period_rows = np.nonzero(grid[:, 16:].any(axis=1))[0]
    assert period_rows.size and period_rows.min() >= 10
    assert rom_grid(" ", font, 16).sum() == 0
    # for blind evaluation only: no recipe may train on these printers
    with pytest.raises(ValueError, match="family"):
        SynthSpec(style="dotmatrix", n=4, text_format="general", family="ledger")  # type: ignore[arg-type]


def test_general_lines_set_words_apart_with_single_spaces() -> None:
    spaced = general_lines(300, seed=5, table=TABLE)
    assert spaced == general_lines(300, seed=5, table=TABLE)
    with_space = [line for line in spaced if " " in line]
    assert 0.1 * len(spaced) < len(with_space) < 0.6 * len(spaced)
    assert all("  " not in line and line == line.strip() for line in spaced)
    # without spaces: the lines as they were before spaces existed (the guard's old cache holds these)
    assert not any(" " in line for line in general_lines(300, seed=5, spaces=0.0, table=TABLE))


def test_the_widened_training_printers_vary_and_reproduce() -> None:
    from luodi.synth import dotmatrix_train as dt

    text = "北京市朝阳区建国路88号"
    lines = [render_line(text, "dotmatrix", seed=s, family="train", severity="hard") for s in range(12)]
    np.testing.assert_array_equal(lines[3], render_line(text, "dotmatrix", seed=3, family="train", severity="hard"))
    # every head is drawn: replay each line's first draw, which picks its head
    heads = {dt.HEADS[int(np.random.default_rng(s).choice(len(dt.HEADS), p=dt.HEAD_P))] for s in range(12)}
    assert heads == set(dt.HEADS)
    assert len({line.shape for line in lines}) > 6  # cells, pitch, margins and scan resolution differ
    basic = render_line(text, "dotmatrix", seed=5, family="train-basic")
    np.testing.assert_array_equal(basic, render_line(text, "dotmatrix", seed=5, family="train-basic"))


def test_training_glyphs_are_dot_grids_cut_thin_or_bold() -> None:
    from luodi.synth.dotmatrix_train import _glyph
    from luodi.synth.fonts import family_fonts

    font = family_fonts("train")[0].get(16)
    thin, bold = _glyph("朝", font, 20, 16, 0.7, False), _glyph("朝", font, 20, 16, 0.3, False)
    assert set(np.unique(thin)) <= {0.0, 1.0} and thin.shape[1] <= 16
    assert 0 < thin.sum() < bold.sum()  # a higher cut leaves thinner strokes
    assert _glyph("朝", font, 20, 16, 0.7, True).sum() > thin.sum()  # emphasised: struck twice


def test_the_randomised_printers_draw_every_line_from_its_own_printer() -> None:
    from luodi.synth.dotmatrix_random import _kernel, _sampled_grid

    text = "北京市朝阳区建国路88号"
    lines = [render_line(text, "dotmatrix", seed=[7, k], family="train-random", severity="hard") for k in range(10)]
    again = render_line(text, "dotmatrix", seed=[7, 4], family="train-random", severity="hard")
    np.testing.assert_array_equal(lines[4], again)
    assert all(im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3 for im in lines)
    assert len({im.shape for im in lines}) >= 9  # grid, pitch, margins and scan resolution drawn per line

    # glyph heights (rows of clearly dark ink) vary too, not only the margins around them
    def ink_rows(im: np.ndarray) -> int:
        grey = im.min(axis=2).astype(np.float32)
        return int((grey < (np.median(grey) + grey.min()) / 2).sum(axis=1).__gt__(2).sum())

    heights = [ink_rows(im) for im in lines]
    assert min(heights) > 5 and max(heights) > 1.5 * min(heights)
    assert render_line(text, "dotmatrix", seed=[7, 4], family="train").shape != again.shape
    # a square pin leaves more ink than a round one of the same size; an ellipse is longer one way
    square, round_ = _kernel(3.0, 3.0, "square", 0.0), _kernel(3.0, 3.0, "round", 0.0)
    assert square.sum() > 1.15 * round_.sum()
    ellipse = _kernel(4.0, 2.0, "ellipse", 0.0) > 0.5
    assert ellipse.any(axis=0).sum() > 1.6 * ellipse.any(axis=1).sum()
    # the whole line sampled down to a coarse pin grid: 0/1 dots, exactly that many rows at most
    grid = _sampled_grid(text, family_fonts("train-random")[0], 16, 1.0, 0.45)
    assert set(np.unique(grid)) <= {0.0, 1.0} and 12 <= grid.shape[0] <= 16
    assert {f.key for f in family_fonts("train-random")} <= set(FONT_FAMILIES["train"])
