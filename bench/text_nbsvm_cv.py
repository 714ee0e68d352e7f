"""NB-weighted bag (NBSVM, Wang & Manning 2012) and other linear fits over the default's features, validation only.

    LUODI_SHARED=/work/shared PYTHONPATH=src:bench nice -n 10 .venv/bin/python bench/text_nbsvm_cv.py

The default's stacked SVM reads char 1-3-grams + words (TF-IDF) + e5's layer-1 vector x1 (docs/text.md). Here the
same features (layer 1 from bench/text_layers_cv.py's cache of the numpy encoder) go through: LinearSVC at C 0.5 /
1 / 2; one-vs-rest SVMs over the bag scaled per class by its naive-Bayes log-count ratio (the dense e5 block left
as it is); logistic regression; and the SVM's scores plus a multinomial NB's log-probabilities. Data: SMP2019
train.json -> dev.json and 3-fold cross-validation of the bench's 8,000 THUCNews training titles (the folds of
bench/text_static_cv.py); no test split is read.
"""

from __future__ import annotations

import sys
from functools import partial
from typing import Any

import numpy as np
from text_layers_cv import _vectors
from text_static_cv import _data, say_cv


def _nb_ratio(x: Any, y: np.ndarray, c: str, alpha: float = 1.0) -> np.ndarray:
    """log of (the class's share of each feature's binarised mass) / (the rest's), smoothed by alpha."""
    b = (x > 0).astype(np.float32)
    p = alpha + np.asarray(b[y == c].sum(axis=0)).ravel()
    q = alpha + np.asarray(b[y != c].sum(axis=0)).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


def _nbsvm(
    bag_a: Any,
    dense_a: np.ndarray,
    y_a: np.ndarray,
    bag_b: Any,
    dense_b: np.ndarray,
    classes: list[str],
    c_svm: float,
    binar: bool,
) -> np.ndarray:
    from scipy.sparse import csr_matrix, diags, hstack
    from sklearn.svm import LinearSVC

    scores = np.zeros((bag_b.shape[0], len(classes)))
    ba = (bag_a > 0).astype(np.float64) if binar else bag_a
    bb = (bag_b > 0).astype(np.float64) if binar else bag_b
    for k, c in enumerate(classes):
        r = diags(_nb_ratio(bag_a, y_a, c))
        xa = hstack([ba @ r, csr_matrix(dense_a)]).tocsr()
        xb = hstack([bb @ r, csr_matrix(dense_b)]).tocsr()
        svm = LinearSVC(C=c_svm).fit(xa, (y_a == c).astype(int))
        scores[:, k] = svm.decision_function(xb)
    return np.array(classes)[scores.argmax(1)]


def _fold(
    bag_a: Any, bag_b: Any, da: np.ndarray, db: np.ndarray, ya: np.ndarray, yb: np.ndarray, want: list[str]
) -> dict[str, float]:
    """Each fit's accuracy on one split (names containing one of ``want``, or all)."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import ComplementNB, MultinomialNB
    from sklearn.svm import LinearSVC

    classes = sorted(set(ya.tolist()))
    xa, xb = hstack([bag_a, csr_matrix(da)]).tocsr(), hstack([bag_b, csr_matrix(db)]).tocsr()

    def svm_plus_nb(w: float) -> np.ndarray:
        svm = LinearSVC().fit(xa, ya)
        lp = MultinomialNB(alpha=0.1).fit(bag_a, ya).predict_log_proba(bag_b)
        lp = lp - lp.max(1, keepdims=True)
        return svm.classes_[(svm.decision_function(xb) + w * np.maximum(lp, -10) / 10).argmax(1)]

    runs = {f"svm C{c:g}": partial(lambda c: LinearSVC(C=c).fit(xa, ya).predict(xb), c) for c in (0.5, 1.0, 2.0)}
    for c in (0.5, 1.0):
        runs[f"nbsvm tfidf C{c:g}"] = partial(_nbsvm, bag_a, da, ya, bag_b, db, classes, c, False)
        runs[f"nbsvm binary C{c:g}"] = partial(_nbsvm, bag_a, da, ya, bag_b, db, classes, c, True)
    runs["logreg C10"] = lambda: LogisticRegression(C=10, max_iter=2000).fit(xa, ya).predict(xb)
    runs["cnb bag"] = lambda: ComplementNB(alpha=0.3).fit(bag_a, ya).predict(bag_b)
    for w in (0.5, 1.0):
        runs[f"svm + nb x{w:g}"] = partial(svm_plus_nb, w)
    return {name: float(np.mean(fn() == yb)) for name, fn in runs.items() if not want or any(w in name for w in want)}


def main() -> None:
    from text_ngram_cv import _features

    splits = _data()
    every = sorted({t for s in splits for part in (s[0], s[2]) for t in part})
    row = {t: k for k, t in enumerate(every)}
    vecs = _vectors(every)[:, 0]  # layer 1
    results: dict[str, list[float]] = {}
    for a_texts, a_y, b_texts, b_y in splits:
        bag_a, bag_b = _features(a_texts, b_texts, (1, 3), True, False)
        da, db = vecs[[row[t] for t in a_texts]], vecs[[row[t] for t in b_texts]]
        for name, acc in _fold(bag_a, bag_b, da, db, np.array(a_y), np.array(b_y), sys.argv[1:]).items():
            results.setdefault(name, []).append(acc)
    for name, acc in results.items():
        say_cv(name, acc)


if __name__ == "__main__":
    main()
