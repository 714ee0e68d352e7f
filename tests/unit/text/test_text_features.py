"""The featurizer: one character in, one position out; TF-IDF bag; lexicon slots; JSON round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from luodi.text.features import LEX_SLOTS, Featurizer, normalize


def test_normalize_keeps_positions() -> None:
    text = "ＡＢ１２，北京㎏"
    out = normalize(text)
    assert len(out) == len(text) and out.startswith("ab12,北京")
    assert out[-1] == "㎏"  # NFKC would make it two characters ("kg"): kept as it is


def test_encode_shapes_truncation_and_round_trip(tmp_path: Path) -> None:
    texts = ["北京天气", "上海天气怎么样", "北京到上海"]
    f = Featurizer.fit(texts, ["北京", "上海", "天气", "北", "京"], max_len=5, min_count=1)
    enc = f.encode(["北京天气很好啊", "未知"])
    assert enc.truncated == (True, False)
    assert enc.char_ids.shape == (2, 5) and enc.lex_ids.shape == (2, 5, LEX_SLOTS)
    assert list(enc.lengths) == [5, 2]
    assert enc.char_ids[1, 0] == 1  # unknown character
    # 北 at 0: itself, the word 北京 starting there; 京 at 1: the word 北京 ending there
    lex = f.lexicon
    assert enc.lex_ids[0, 0, 0] == lex["北"] and enc.lex_ids[0, 0, 1] == lex["北京"]
    assert enc.lex_ids[0, 1, 4] == lex["北京"]
    w = enc.bag_weights[0]
    assert np.isclose(float(np.sqrt((w * w).sum())), 1.0)
    f.save(tmp_path / "features.json")
    g = Featurizer.load(tmp_path / "features.json")
    again = g.encode(["北京天气很好啊", "未知"])
    for a, b in zip(enc.inputs().values(), again.inputs().values(), strict=True):
        assert np.allclose(a, b)
