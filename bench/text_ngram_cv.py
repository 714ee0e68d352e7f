"""Which n-grams the bag should hold, by a linear SVM (scikit-learn) on validation data only.

    PYTHONPATH=src nice -n 10 .venv/bin/python bench/text_ngram_cv.py

SMP2019 train.json -> dev.json, and 3-fold cross-validation on the bench's 8,000 THUCNews training titles
(bench/out/text/thuc_train8k.tsv, written by text_bench.py); the test splits are not read. Words come from
luodi's segmenter learned on each fold's training texts, as training does.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LUODI_SHARED", ROOT.parent / "shared")) / "data" / "text"
VARIANTS = {  # char n-gram range, words, word bigrams
    "char 1-3": ((1, 3), False, False),
    "char 1-3 + words (the default)": ((1, 3), True, False),
    "char 1-4 + words": ((1, 4), True, False),
    "char 1-3 + words + word bigrams": ((1, 3), True, True),
}


def _features(train: list[str], test: list[str], ngrams: tuple[int, int], words: bool, pairs: bool) -> Any:
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    from luodi.text.features import normalize
    from luodi.text.segment import Segmenter

    seg = Segmenter.learn(normalize(t) for t in train)

    def tokens(text: str) -> list[str]:
        t = normalize(text)
        out = seg.words(t) if words else []
        if pairs:
            cut = seg.cut(t)
            out += [f"{a}_{b}" for a, b in itertools.pairwise(cut)]
        return out

    chars = TfidfVectorizer(analyzer="char", ngram_range=ngrams, sublinear_tf=True)
    xa, xb = [chars.fit_transform(train)], [chars.transform(test)]
    if words or pairs:
        vec = TfidfVectorizer(analyzer=tokens, sublinear_tf=True)
        xa.append(vec.fit_transform(train))
        xb.append(vec.transform(test))
    return hstack(xa).tocsr(), hstack(xb).tocsr()


def main() -> None:
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    from luodi.text.data import read_examples

    tr, dv = read_examples(SHARED / "smp2019" / "train.json"), read_examples(SHARED / "smp2019" / "dev.json")
    thuc = read_examples(ROOT / "bench" / "out" / "text" / "thuc_train8k.tsv")
    texts, y = np.array([e.text for e in thuc]), np.array([e.label for e in thuc])
    for name, (ngrams, words, pairs) in VARIANTS.items():
        xa, xb = _features([e.text for e in tr], [e.text for e in dv], ngrams, words, pairs)
        pred = LinearSVC().fit(xa, [e.label for e in tr]).predict(xb)
        smp = float(np.mean([p == e.label for p, e in zip(pred, dv, strict=True)]))
        folds = []
        for a, b in StratifiedKFold(3, shuffle=True, random_state=0).split(texts, y):
            xa, xb = _features(list(texts[a]), list(texts[b]), ngrams, words, pairs)
            folds.append(float(np.mean(LinearSVC().fit(xa, y[a]).predict(xb) == y[b])))
        print(f"{name}: SMP2019 dev {smp:.4f}, THUCNews 3-fold {np.mean(folds):.4f}", flush=True)


if __name__ == "__main__":
    main()
