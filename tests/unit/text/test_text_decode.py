"""The batched Viterbi equals the per-text one; BIO tags to spans."""

from __future__ import annotations

import numpy as np

from luodi.kie.ner.crf import viterbi
from luodi.text.data import Span
from luodi.text.decode import bio_to_spans, viterbi_batch
from luodi.text.net import tag_constraints


def test_batched_viterbi_matches_one_at_a_time() -> None:
    rng = np.random.default_rng(0)
    tags = ["O", "B-a", "I-a", "B-b", "I-b"]
    trans, start = tag_constraints(tags)
    trans = trans + rng.normal(size=trans.shape).astype(np.float32)
    end = rng.normal(size=len(tags)).astype(np.float32)
    lengths = np.array([7, 1, 4, 7])
    emit = rng.normal(size=(4, 7, len(tags))).astype(np.float32)
    got = viterbi_batch(emit, lengths, trans, start, end)
    for row, n in enumerate(lengths):
        assert got[row] == viterbi(emit[row, :n], trans, start, end)
        assert all(
            not tags[t].startswith("I-") or p in (t, t - 1) for p, t in zip(got[row], got[row][1:], strict=False)
        )


def test_bio_to_spans() -> None:
    assert bio_to_spans(["B-a", "I-a", "O", "I-b", "B-a"]) == (Span(0, 2, "a"), Span(3, 4, "b"), Span(4, 5, "a"))
