"""The numpy CRF against brute-force enumeration of every tag path."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from luodi.kie.ner import crf
from luodi.kie.ner.data import TAGS


def _random_crf(seed: int, length: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(length, k)), rng.normal(size=(k, k)), rng.normal(size=k), rng.normal(size=k)


def _all_scores(emit, trans, start, end):
    length, k = emit.shape
    paths = list(itertools.product(range(k), repeat=length))
    scores = np.array([crf.sequence_score(emit, p, trans, start, end) for p in paths])
    return paths, scores


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_viterbi_equals_brute_force(seed: int) -> None:
    emit, trans, start, end = _random_crf(seed, length=5, k=3)
    paths, scores = _all_scores(emit, trans, start, end)
    assert crf.viterbi(emit, trans, start, end) == list(paths[int(np.argmax(scores))])


def test_viterbi_hand_example() -> None:
    # Emissions prefer tag 0 everywhere, but 0->0 is heavily penalised: the best path alternates.
    emit = np.array([[2.0, 0.0], [2.0, 0.0], [2.0, 0.0]])
    trans = np.array([[-10.0, 0.0], [0.0, 0.0]])
    zeros = np.zeros(2)
    assert crf.viterbi(emit, trans, zeros, zeros) == [0, 1, 0]


@pytest.mark.parametrize("seed", [3, 4])
def test_log_likelihood_and_marginals_equal_enumeration(seed: int) -> None:
    emit, trans, start, end = _random_crf(seed, length=4, k=3)
    paths, scores = _all_scores(emit, trans, start, end)
    log_z = np.log(np.sum(np.exp(scores)))
    gold = paths[7]
    assert crf.log_likelihood(emit, gold, trans, start, end) == pytest.approx(scores[7] - log_z, abs=1e-9)
    probs = np.exp(scores - log_z)
    expected = np.zeros_like(emit)
    for p, prob in zip(paths, probs, strict=True):
        for t, y in enumerate(p):
            expected[t, y] += prob
    np.testing.assert_allclose(crf.marginals(emit, trans, start, end), expected, atol=1e-9)


def test_single_step_and_empty_sequences() -> None:
    emit = np.array([[0.1, 3.0, -1.0]])
    z = np.zeros(3)
    assert crf.viterbi(emit, np.zeros((3, 3)), z, z) == [1]
    assert crf.viterbi(np.zeros((0, 3)), np.zeros((3, 3)), z, z) == []
    assert crf.marginals(emit, np.zeros((3, 3)), z, z).sum() == pytest.approx(1.0)


def test_bio_constraints_forbid_orphan_inside_tags() -> None:
    trans_mask, start_mask = crf.bio_constraints(TAGS)
    idx = {t: i for i, t in enumerate(TAGS)}
    assert start_mask[idx["P-I"]] == crf.NEG and start_mask[idx["P-B"]] == 0
    assert trans_mask[idx["O"], idx["A1-I"]] == crf.NEG
    assert trans_mask[idx["A2-B"], idx["A1-I"]] == crf.NEG
    assert trans_mask[idx["A1-B"], idx["A1-I"]] == 0 and trans_mask[idx["A1-I"], idx["A1-I"]] == 0
    # Emissions that favour a lone P-I still decode to a well-formed sequence.
    emit = np.full((2, len(TAGS)), -1.0)
    emit[:, idx["P-I"]] = 5.0
    emit[0, idx["O"]] = 4.0
    z = np.zeros(len(TAGS))
    path = [TAGS[i] for i in crf.viterbi(emit, trans_mask.astype(float), start_mask.astype(float), z)]
    assert path[0] != "P-I" and not (path[0] == "O" and path[1] == "P-I")


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_viterbi_requiring_equals_brute_force(seed: int) -> None:
    emit, trans, start, end = _random_crf(seed, length=5, k=3)
    emit[:, 2] -= 3.0  # make tag 2 unattractive so the constraint matters
    paths, scores = _all_scores(emit, trans, start, end)
    allowed = [i for i, p in enumerate(paths) if 2 in p]
    best = max(allowed, key=lambda i: scores[i])
    assert crf.viterbi_requiring(emit, trans, start, end, required=2) == list(paths[best])
