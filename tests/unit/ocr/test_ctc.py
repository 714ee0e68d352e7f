from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from luodi.errors import ModelError
from luodi.ocr.ctc import ctc_decode, load_characters

CHARS = ["<blank>", "a", "b", "c", " "]


def _probs(seq: list[int], conf: list[float] | None = None, classes: int = len(CHARS)) -> np.ndarray:
    probs = np.full((1, len(seq), classes), 0.0, dtype=np.float32)
    for t, k in enumerate(seq):
        p = conf[t] if conf else 0.9
        probs[0, t, :] = (1 - p) / (classes - 1)
        probs[0, t, k] = p
    return probs


def test_collapses_repeats_and_blanks() -> None:
    #          a  a  _  a  b  b  _  _  c
    (res,) = ctc_decode(_probs([1, 1, 0, 1, 2, 2, 0, 0, 3]), CHARS)
    assert res.text == "aabc"  # the blank between the a's keeps them apart
    assert len(res.char_scores) == len(res.char_positions) == 4


def test_confidence_is_first_step_of_each_run_and_score_their_mean() -> None:
    (res,) = ctc_decode(_probs([1, 1, 0, 2], conf=[0.6, 0.99, 0.9, 0.8]), CHARS)
    assert res.text == "ab"
    assert res.char_scores == pytest.approx((0.6, 0.8), abs=1e-6)
    assert res.score == pytest.approx(0.7, abs=1e-6)


def test_positions_are_run_centres_over_content_width() -> None:
    seq = [1, 1, 0, 0, 0, 0, 0, 0, 2, 2]  # "a" at steps 0-1, "b" at 8-9
    (res,) = ctc_decode(_probs(seq), CHARS)
    assert res.char_positions == pytest.approx((0.1, 0.9))
    # the same sequence where only the first half of the tensor was the crop (rest is padding)
    (half,) = ctc_decode(_probs([1, 1, 0, 0, 2, 0, 0, 0, 0, 0]), CHARS, content_fraction=[0.5])
    assert half.char_positions == pytest.approx((0.2, 0.9))
    assert all(0.0 <= p <= 1.0 for p in half.char_positions)


def test_all_blank_is_empty_with_zero_score() -> None:
    (res,) = ctc_decode(_probs([0, 0, 0]), CHARS)
    assert res.text == "" and res.score == 0.0 and res.char_scores == ()


def test_batch_rows_decode_independently() -> None:
    batch = np.concatenate([_probs([1, 0, 2]), _probs([3, 3, 4])])
    assert [r.text for r in ctc_decode(batch, CHARS)] == ["ab", "c "]


def test_class_count_mismatch_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="do not belong together"):
        ctc_decode(_probs([1], classes=7), CHARS)


def test_multi_codepoint_entries_keep_scores_aligned() -> None:
    chars = ["<blank>", "a", "🇨🇳"]
    (res,) = ctc_decode(_probs([1, 0, 2], classes=3), chars)
    assert res.text == "a🇨🇳"
    assert len(res.char_scores) == len(res.char_positions) == len(res.text) == 3


def test_load_characters(tmp_path: Path) -> None:
    d = tmp_path / "dict.txt"
    d.write_bytes("一\r\n二\r\n \r\n".encode())
    chars = load_characters(d)
    assert chars == ["<blank>", "一", "二", " ", " "]  # an entry may itself be a space
    assert load_characters(None, "x\ny", use_space=False) == ["<blank>", "x", "y"]


def test_load_characters_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read"):
        load_characters(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ModelError, match="empty"):
        load_characters(empty)
    with pytest.raises(ModelError, match="no character dictionary"):
        load_characters(None)
