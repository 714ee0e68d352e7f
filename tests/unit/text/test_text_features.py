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


def test_gazetteer_marks_slot_values_and_leaves_a_texts_own_out(tmp_path: Path) -> None:
    texts = ["给张三打电话", "张三在北京", "去北京", "导航到天安门"]
    slots = [[("张三", "name")], [("张三", "name"), ("北京", "city")], [("北京", "city")], [("天安门", "poi")]]
    f = Featurizer.fit(texts, [], max_len=16, min_count=1, slots=slots)
    assert f.slot_types == ("city", "name", "poi") and f.sizes["gaz"] == 6
    name_b, name_i, poi_b, poi_i = 2, 3, 4, 5
    new = f.encode(["张三去天安门"]).gaz
    assert new is not None and new.shape == (1, 6, 6)
    assert new[0, 0, name_b] == 1 and new[0, 1, name_i] == 1 and new[0, 1, name_b] == 0
    assert new[0, 3, poi_b] == 1 and list(new[0, 4:, poi_i]) == [1, 1]
    assert new[0, 2].sum() == 0
    # training: 天安门 is carried by this text alone, so it does not fire; 张三 is in another text too
    own = f.encode(["导航到天安门", "给张三打电话"], own_slots=[slots[3], slots[0]]).gaz
    assert own is not None and own[0].sum() == 0 and own[1, 1, name_b] == 1
    f.save(tmp_path / "features.json")
    g = Featurizer.load(tmp_path / "features.json")
    assert g.gazetteer == f.gazetteer and g.slot_types == f.slot_types
    assert np.array_equal(g.encode(["张三去天安门"]).gaz, new)


def test_without_slots_there_is_no_gazetteer_input() -> None:
    f = Featurizer.fit(["北京天气", "上海天气"], [], max_len=8, min_count=1)
    enc = f.encode(["北京"])
    assert f.sizes["gaz"] == 0 and enc.gaz is None and "gaz" not in enc.inputs()
    old = f.to_json()
    del old["slot_types"], old["gazetteer"]  # a file written before the gazetteer
    assert Featurizer.from_json(old).sizes["gaz"] == 0
