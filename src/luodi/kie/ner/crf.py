"""Linear-chain CRF in numpy: Viterbi decoding, forward-backward marginals, log-likelihood.

This is the inference side; training computes the same log-likelihood with Paddle ops
(:mod:`luodi.kie.ner.train`). Scores: ``start[y0] + sum_t emit[t, y_t] + sum_t trans[y_{t-1}, y_t]
+ end[y_last]``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

__all__ = [
    "NEG",
    "bio_constraints",
    "log_likelihood",
    "marginals",
    "sequence_score",
    "viterbi",
    "viterbi_requiring",
]

# Large but finite: -inf would turn 0 * -inf into NaN inside matrix products.
NEG = -1.0e4


def bio_constraints(tags: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Additive masks (transition [K,K], start [K]) that forbid ``X-I`` after anything but ``X-B``/``X-I``.

    With them every decoded path is a well-formed BIO sequence, so spans never start with an I tag.
    """
    k = len(tags)
    trans = np.zeros((k, k), dtype=np.float32)
    start = np.zeros(k, dtype=np.float32)
    for j, tag in enumerate(tags):
        if not tag.endswith("-I"):
            continue
        kind = tag[:-2]
        start[j] = NEG
        for i, prev in enumerate(tags):
            if prev not in (f"{kind}-B", f"{kind}-I"):
                trans[i, j] = NEG
    return trans, start


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    out: np.ndarray = np.squeeze(m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)), axis=axis)
    return out


def viterbi(emit: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[int]:
    """Best tag path for one sequence; ``emit`` is [L, K]."""
    length = emit.shape[0]
    if length == 0:
        return []
    score = start + emit[0]
    back = np.empty((length, emit.shape[1]), dtype=np.int64)
    for t in range(1, length):
        cand = score[:, None] + trans  # [prev, cur]
        back[t] = np.argmax(cand, axis=0)
        score = cand[back[t], np.arange(emit.shape[1])] + emit[t]
    best = int(np.argmax(score + end))
    path = [best]
    for t in range(length - 1, 0, -1):
        best = int(back[t, best])
        path.append(best)
    path.reverse()
    return path


def viterbi_requiring(
    emit: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray, required: int
) -> list[int]:
    """Best path among those that visit tag ``required`` at least once.

    Exact: Viterbi over (tag, visited-yet) pairs, so the chain structure is kept; used to ask the
    model for its best reading that contains a name when its unconstrained best has none.
    """
    k = emit.shape[1]
    # State s < k: tag s, `required` not seen yet; state k + s: tag s, seen.
    big = np.full((2 * k, 2 * k), NEG, dtype=np.float64)
    big[:k, :k] = trans
    big[:k, required] = NEG  # entering `required` moves to the seen half
    big[:k, k + required] = trans[:, required]
    big[k:, k:] = trans
    start2 = np.full(2 * k, NEG, dtype=np.float64)
    start2[:k] = start
    start2[required] = NEG
    start2[k + required] = start[required]
    end2 = np.concatenate([np.full(k, NEG), end])
    path = viterbi(np.concatenate([emit, emit], axis=1), big, start2, end2)
    return [s % k for s in path]


def _forward(emit: np.ndarray, trans: np.ndarray, start: np.ndarray) -> np.ndarray:
    alpha = np.empty_like(emit, dtype=np.float64)
    alpha[0] = start + emit[0]
    for t in range(1, emit.shape[0]):
        alpha[t] = _logsumexp(alpha[t - 1][:, None] + trans, axis=0) + emit[t]
    return alpha


def log_partition(emit: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    alpha = _forward(emit, trans, start)
    return float(_logsumexp(alpha[-1] + end, axis=0))


def sequence_score(
    emit: np.ndarray, tags: Sequence[int], trans: np.ndarray, start: np.ndarray, end: np.ndarray
) -> float:
    s = float(start[tags[0]] + end[tags[-1]])
    s += float(sum(emit[t, y] for t, y in enumerate(tags)))
    s += float(sum(trans[a, b] for a, b in itertools.pairwise(tags)))
    return s


def log_likelihood(
    emit: np.ndarray, tags: Sequence[int], trans: np.ndarray, start: np.ndarray, end: np.ndarray
) -> float:
    """log p(tags | emissions) for one sequence."""
    return sequence_score(emit, tags, trans, start, end) - log_partition(emit, trans, start, end)


def marginals(emit: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Posterior p(y_t = k | x) for every position, [L, K] (forward-backward in log space)."""
    length = emit.shape[0]
    if length == 0:
        return np.zeros((0, emit.shape[1]))
    alpha = _forward(emit, trans, start)
    beta = np.empty_like(alpha)
    beta[-1] = end
    for t in range(length - 2, -1, -1):
        beta[t] = _logsumexp(trans + (emit[t + 1] + beta[t + 1])[None, :], axis=1)
    log_z = _logsumexp(alpha[-1] + end, axis=0)
    out: np.ndarray = np.exp(alpha + beta - log_z)
    return out
