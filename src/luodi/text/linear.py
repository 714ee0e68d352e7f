"""A linear SVM on the TF-IDF n-gram bag, fitted before the network trains (numpy).

The issue's baseline — char 1-3-gram TF-IDF + a linear SVM — beat the jointly trained network on
intent (SMP2019 dev 0.957 vs 0.934): with Adam's bounded steps and a few hundred updates, the
network's linear bag path never grew the large weights of rare n-grams a max-margin fit gives, and
rare intents (4-6 examples) were lost to QUERY. So the bag path starts from that fit: the objective
scikit-learn's ``LinearSVC`` minimises (one-vs-rest squared hinge, L2, ``C``), and the network then
learns beside it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bag_scores", "fit_bag_svm", "out_of_fold_scores"]


def fit_bag_svm(  # noqa: PLR0913 - keyword-only: the SVM's settings and the dense block's start
    bag_ids: np.ndarray,
    bag_weights: np.ndarray,
    y: np.ndarray,
    *,
    n_features: int,
    n_classes: int,
    c: float = 1.0,
    steps: int = 300,
    lr: float = 0.05,
    dense_from: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``[n_features, n_classes]`` and biases ``[n_classes]`` of a one-vs-rest linear SVM.

    ``bag_ids``/``bag_weights``: ``[N, G]`` padded n-gram ids (0: padding, its row stays 0) and
    their TF-IDF weights; ``y``: ``[N]`` class ids (-1: no label, ignored). Minimises
    ``(0.5 |W|^2 + C sum_i sum_k max(0, 1 - s_ik (x_i W_k + b_k))^2) / N``, ``s_ik`` = +1 for the
    text's class and -1 otherwise, by full-batch Adam: the problem is convex and the rows are sparse
    (only their nonzero entries are visited), so a few hundred steps take seconds (8,000 news titles,
    10 classes: about 5 CPU s). The bias is not regularised.
    ``dense_from``: ids from this one up are a dense block every text carries (the context vector,
    :mod:`luodi.text.context`), fitted as one matrix product (0: none). Through the sparse path its 384
    entries per text were 13x the work per step of a news title's ~34 n-grams.
    """
    keep = y >= 0
    ids, x, y = bag_ids[keep], bag_weights[keep].astype(np.float32), y[keep]
    n = len(y)
    sign = np.full((n, n_classes), -1.0, np.float32)
    sign[np.arange(n), y] = 1.0
    # the nonzero entries only, as (row, column, value) in row order: the padded [N, G] arrays are more
    # than half padding (THUCNews titles: 34 n-grams on average, padded to 75), 4x the work per step
    dense_w = n_features - dense_from if 0 < dense_from < n_features else 0
    dense = np.zeros((n, dense_w), np.float32)
    if dense_w:
        drow, dcol = np.nonzero(ids >= dense_from)
        dense[drow, ids[drow, dcol] - dense_from] = x[drow, dcol]
        ids = np.where(ids >= dense_from, 0, ids)
    rid, col = np.nonzero((ids > 0) & (x != 0))
    cid, val = ids[rid, col], x[rid, col]
    filled = np.unique(rid)  # texts with at least one known n-gram (the others score the bias alone)
    row_starts = np.flatnonzero(np.r_[True, rid[1:] != rid[:-1]]) if len(rid) else rid
    # the gradient X^T G as sums over runs of equal columns: one sort, then np.add.reduceat per step
    order = np.argsort(cid, kind="stable")
    cid_sorted, rid_sorted, val_sorted = cid[order], rid[order], val[order, None]
    starts = np.flatnonzero(np.r_[True, cid_sorted[1:] != cid_sorted[:-1]]) if len(cid) else cid
    rows = cid_sorted[starts]
    w = np.zeros((n_features, n_classes), np.float32)
    b = np.zeros(n_classes, np.float32)
    params, moments = (w, b), [np.zeros_like(w), np.zeros_like(b), np.zeros_like(w), np.zeros_like(b)]
    reg = np.float32(1.0 / (c * max(1, n)))
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, steps + 1):
        scores = np.zeros((n, n_classes), np.float32)
        if len(rid):
            scores[filled] = np.add.reduceat(val[:, None] * w[cid], row_starts, axis=0)
        scores += b
        if dense_w:
            scores += dense @ w[dense_from:]
        margin = np.maximum(0.0, 1.0 - sign * scores)
        d_scores = (-2.0 / max(1, n)) * sign * margin  # d loss / d scores
        grad_w = reg * w
        if len(rid):
            grad_w[rows] += np.add.reduceat(val_sorted * d_scores[rid_sorted], starts, axis=0)
        if dense_w:
            grad_w[dense_from:] += dense.T @ d_scores
        grads = (grad_w, d_scores.sum(axis=0))
        for i, (param, grad) in enumerate(zip(params, grads, strict=True)):
            m, v = moments[i], moments[i + 2]
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            np.subtract(param, lr * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + eps), out=param)
    w[0] = 0.0
    return w, b


def bag_scores(bag_ids: np.ndarray, bag_weights: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The linear model's class scores ``[N, K]`` for padded bags."""
    scores: np.ndarray = np.einsum("ng,ngk->nk", bag_weights.astype(np.float32), w[bag_ids]) + b
    return scores


def out_of_fold_scores(  # noqa: PLR0913 - keyword-only: the folds, and the fit's settings
    bag_ids: np.ndarray,
    bag_weights: np.ndarray,
    y: np.ndarray,
    *,
    n_features: int,
    n_classes: int,
    folds: int = 4,
    seed: int = 0,
    c: float = 1.0,
    dense_from: int = 0,
) -> np.ndarray:
    """Each text's SVM scores from a fit on the other folds (``[N, K]``): what the SVM says about
    texts it has not seen, so a model stacked on it learns from the SVM's real errors.

    On its own training texts the SVM is almost always right (THUCNews: 99.95% of 8,000 titles), so a
    network trained beside those scores has nothing left to learn; on unseen titles it is right 85%
    of the time. Folds are a seeded permutation split; a class is never missing from every fold's
    training part unless it has a single example (then its text scores as the other classes say).
    """
    n = len(y)
    order = np.random.default_rng(seed).permutation(n)
    out = np.zeros((n, n_classes), np.float32)
    for k in range(folds):
        held = np.zeros(n, bool)
        held[order[k::folds]] = True
        fit_y = np.where(held, -1, y)  # -1: left out of the fit
        w, b = fit_bag_svm(
            bag_ids, bag_weights, fit_y, n_features=n_features, n_classes=n_classes, c=c, dense_from=dense_from
        )
        out[held] = bag_scores(bag_ids[held], bag_weights[held], w, b)
    return out
