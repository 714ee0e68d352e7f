"""The one Q4_0 reader (luodi.text.lexicon.dequant_q4) that the lexicon, the teacher and the context cut share."""

from __future__ import annotations

import numpy as np

from luodi.text.lexicon import dequant_q4


def _block(scale: float, codes: list[int]) -> np.ndarray:
    """One Q4_0 block: an fp16 scale, then values i and i + 16 as the low and high nibble of byte i."""
    raw = np.zeros(18, np.uint8)
    raw[:2] = np.array([scale], np.float16).view(np.uint8)
    for i in range(16):
        raw[2 + i] = (codes[i] + 8) | ((codes[i + 16] + 8) << 4)
    return raw


def test_a_block_reads_back_as_its_scale_times_its_codes() -> None:
    # every code -8..7 once in each half, and value i never equal to value i + 16: a reader that
    # swapped the low and high nibbles (or put them side by side) would read other values
    codes = [*range(-8, 8), *range(7, -9, -1)]
    other = [(5 * i) % 16 - 8 for i in range(16)] + [(5 * i + 3) % 16 - 8 for i in range(16)]
    blocks = np.stack([np.stack([_block(0.5, codes), _block(-2.0, other)])])  # one row of two blocks
    got = dequant_q4(blocks)
    assert got.shape == (1, 64) and got.dtype == np.float32
    assert np.array_equal(got[0, :32], 0.5 * np.array(codes, np.float32))
    assert np.array_equal(got[0, 32:], -2.0 * np.array(other, np.float32))


def test_rows_stay_apart() -> None:
    a, b = [1] * 32, [-3] * 32
    got = dequant_q4(np.stack([_block(1.0, a)[None], _block(0.25, b)[None]]))
    assert got.tolist() == [[1.0] * 32, [-0.75] * 32]
