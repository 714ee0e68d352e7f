"""The bag path's linear SVM (luodi.text.linear): it reaches the optimum scikit-learn's LinearSVC finds."""

from __future__ import annotations

import numpy as np
import pytest

from luodi.text.linear import bag_scores, fit_bag_svm, out_of_fold_scores


def _problem(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Texts as 8 n-gram ids each (0: padding), 3 classes, each class favouring its own ids."""
    rng = np.random.default_rng(seed)
    n, g, n_features, k = 300, 8, 60, 3
    y = rng.integers(0, k, n)
    own = 1 + y[:, None] * 15 + rng.integers(0, 15, (n, g))
    ids = np.where(rng.random((n, g)) < 0.6, own, rng.integers(1, n_features, (n, g)))
    ids[:, -2:] = 0  # padding
    weights = np.where(ids > 0, rng.random((n, g)) + 0.1, 0.0).astype(np.float32)
    weights /= np.linalg.norm(weights, axis=1, keepdims=True)
    return ids, weights, y, n_features, k


def _objective(w: np.ndarray, b: np.ndarray, ids: np.ndarray, x: np.ndarray, y: np.ndarray, c: float) -> float:
    scores = np.einsum("ng,ngk->nk", x, w[ids]) + b
    sign = np.where(np.arange(w.shape[1])[None] == y[:, None], 1.0, -1.0)
    return float(0.5 * (w * w).sum() + c * (np.maximum(0.0, 1.0 - sign * scores) ** 2).sum())


def test_fit_matches_scikit_learns_linear_svc() -> None:
    svm = pytest.importorskip("sklearn.svm", reason="scikit-learn (the bench extra) is the reference")
    ids, x, y, n_features, k = _problem()
    w, b = fit_bag_svm(ids, x, y, n_features=n_features, n_classes=k, steps=400)
    dense = np.zeros((len(y), n_features), np.float32)
    np.add.at(dense, (np.repeat(np.arange(len(y)), ids.shape[1]), ids.ravel()), x.ravel())
    dense[:, 0] = 0.0
    ref = svm.LinearSVC(C=1.0, intercept_scaling=100.0, tol=1e-5, max_iter=5000).fit(dense, y)
    ours = _objective(w, b, ids, x, y, 1.0)
    theirs = _objective(ref.coef_.T.astype(np.float32), ref.intercept_.astype(np.float32), ids, x, y, 1.0)
    assert ours <= theirs * 1.01
    pred = (np.einsum("ng,ngk->nk", x, w[ids]) + b).argmax(1)
    assert (pred == ref.predict(dense)).mean() >= 0.97
    assert np.all(w[0] == 0.0)


def test_unlabelled_texts_are_ignored() -> None:
    ids, x, y, n_features, k = _problem(1)
    w, _ = fit_bag_svm(ids, x, y, n_features=n_features, n_classes=k, steps=100)
    y2 = y.copy()
    y2[:50] = -1
    w2, _ = fit_bag_svm(ids, x, y2, n_features=n_features, n_classes=k, steps=100)
    w3, _ = fit_bag_svm(ids[50:], x[50:], y[50:], n_features=n_features, n_classes=k, steps=100)
    assert np.allclose(w2, w3, atol=1e-5)
    assert not np.allclose(w, w2, atol=1e-3)


def test_out_of_fold_scores_come_from_fits_that_did_not_see_the_text() -> None:
    ids, x, y, n_features, k = _problem(2)
    # each text also carries an n-gram of its own, seen nowhere else, that gives its label away
    unique = (n_features + np.arange(len(y)))[:, None]
    ids = np.concatenate([ids, unique], axis=1)
    x = np.concatenate([x, np.full((len(y), 1), 2.0, np.float32)], axis=1)
    y = y.copy()
    y[::7] = (y[::7] + 1) % k  # labels the shared n-grams disagree with
    total = n_features + len(y)
    w, b = fit_bag_svm(ids, x, y, n_features=total, n_classes=k)
    seen = (bag_scores(ids, x, w, b).argmax(1) == y).mean()
    oof = out_of_fold_scores(ids, x, y, n_features=total, n_classes=k, folds=3)
    assert oof.shape == (len(y), k)
    unseen = (oof.argmax(1) == y).mean()
    assert seen == 1.0  # in sample the unique n-grams memorise every text
    assert 0.6 < unseen < 0.9  # out of fold they are worthless: about the 6 of 7 the shared n-grams get


def test_a_dense_block_fits_as_the_sparse_path_would() -> None:
    """``dense_from``: ids from there up (every text carries them all, in any column) are fitted as one
    matrix product; the weights are those the sparse path reaches on the same entries."""
    ids, x, y, n_features, k = _problem(2)
    rng = np.random.default_rng(3)
    d = 5
    vec = (rng.normal(size=(len(y), d)) + 0.5 * y[:, None]).astype(np.float32) * 0.3
    dense_ids = np.broadcast_to(np.arange(n_features, n_features + d), (len(y), d))
    # the dense entries first in half the rows, last in the other half: columns do not matter, ids do
    first = np.arange(len(y)) % 2 == 0
    all_ids = np.where(first[:, None], np.c_[dense_ids, ids], np.c_[ids, dense_ids])
    all_x = np.where(first[:, None], np.c_[vec, x], np.c_[x, vec]).astype(np.float32)
    total = n_features + d
    w_sparse, b_sparse = fit_bag_svm(all_ids, all_x, y, n_features=total, n_classes=k, steps=200)
    w_dense, b_dense = fit_bag_svm(all_ids, all_x, y, n_features=total, n_classes=k, steps=200, dense_from=n_features)
    assert np.abs(w_dense[n_features:]).max() > 0.05  # the block was fitted, not left at zero
    assert np.allclose(w_dense, w_sparse, atol=2e-4) and np.allclose(b_dense, b_sparse, atol=2e-4)
