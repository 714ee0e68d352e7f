"""The segmenter learned at training time: its cuts, its persistence, and the word features it feeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from luodi.text.features import BEGIN, END, MIDDLE, SINGLE, UNK, WORD, Featurizer
from luodi.text.segment import Segmenter


def test_cut_takes_the_most_probable_words_and_keeps_every_character() -> None:
    seg = Segmenter({"北京": 5, "天气": 4, "北京天": 1, "怎么样": 3, "北": 1, "京": 1, "天": 2, "气": 1})
    assert seg.cut("北京天气怎么样") == ["北京", "天气", "怎么样"]
    # characters it never saw cut one by one; the text comes back whole
    assert seg.cut("上海天气") == ["上", "海", "天气"]
    assert "".join(seg.cut("a北京 b")) == "a北京 b"
    assert seg.cut("") == [] and seg.words("北京天气怎么样") == ["北京", "天气", "怎么样"]


def test_learned_from_jieba_and_round_trips_without_it() -> None:
    pytest.importorskip("jieba")
    texts = ["北京天气怎么样", "上海明天天气怎么样", "给张三打电话"]
    seg = Segmenter.learn(texts)
    assert seg.counts["天气"] == 2 and seg.counts["怎么样"] == 2 and seg.counts["打电话"] == 1
    again = Segmenter.from_json(seg.to_json())
    assert again == seg
    assert again.cut("广州天气怎么样")[-2:] == ["天气", "怎么样"]


def test_words_join_the_bag_and_mark_each_character(tmp_path: Path) -> None:
    seg = Segmenter({"北京": 5, "天气": 4, "怎么样": 3, "很": 1})
    texts = ["北京天气怎么样", "北京天气很好", "天气怎么样"]
    f = Featurizer.fit(texts, [], max_len=16, min_count=2, segmenter=seg, word_chars=True)
    # a word is its own bag entry, apart from the character bigram of the same characters
    assert WORD + "天气" in f.bag and "天气" in f.bag and WORD + "很" not in f.bag
    assert f.sizes["words"] == 2 + 3  # 北京, 天气, 怎么样 (seen twice); 0 padding, 1 unknown
    enc = f.encode(["北京天气很好", "好"])
    assert enc.seg_ids is not None and enc.seg_ids.shape == (2, 6, 2)
    assert list(enc.seg_ids[0, :, 0]) == [BEGIN, END, BEGIN, END, SINGLE, SINGLE]
    assert enc.seg_ids[0, 0, 1] == enc.seg_ids[0, 1, 1] > UNK and enc.seg_ids[0, 4, 1] == UNK
    assert list(enc.seg_ids[1, :, 0]) == [SINGLE, 0, 0, 0, 0, 0]  # padding stays 0
    assert list(f.encode(["怎么样"]).seg_ids[0, :, 0]) == [BEGIN, MIDDLE, END]  # type: ignore[index]
    assert list(enc.inputs())[-1] == "seg_ids"
    f.save(tmp_path / "features.json")
    g = Featurizer.load(tmp_path / "features.json")
    assert g.segmenter == seg and g.sizes == f.sizes
    for a, b in zip(enc.inputs().values(), g.encode(["北京天气很好", "好"]).inputs().values(), strict=True):
        assert np.allclose(a, b)  # idf is saved rounded to 6 places
    bag_only = Featurizer.fit(texts, [], max_len=16, min_count=2, segmenter=seg)  # the default: words in the bag
    assert bag_only.sizes["words"] == 0 and bag_only.encode(["北京"]).seg_ids is None
    assert WORD + "天气" in bag_only.bag


def test_without_a_segmenter_there_are_no_words() -> None:
    f = Featurizer.fit(["北京天气", "北京天气"], [], max_len=8, min_count=1)
    assert f.sizes["words"] == 0 and f.encode(["北京"]).seg_ids is None
    assert not any(g.startswith(WORD) for g in f.bag)


def test_serving_cuts_without_importing_jieba(tmp_path: Path) -> None:
    import subprocess
    import sys

    f = Featurizer.fit(["北京天气", "北京天气"], [], max_len=8, min_count=1, segmenter=Segmenter({"北京": 2}))
    f.save(tmp_path / "features.json")
    code = (
        "import sys; from pathlib import Path; from luodi.text.features import Featurizer, WORD; "
        f"f = Featurizer.load(Path({str(tmp_path / 'features.json')!r})); f.encode(['北京天气']); "
        "print(WORD + '北京' in f.bag, 'jieba' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False"]
