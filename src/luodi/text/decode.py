"""Slot decoding: CRF Viterbi over the network's emissions, BIO tags to spans (numpy only)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from luodi.kie.ner.crf import viterbi
from luodi.text.data import Span


def decode_slots(emissions: np.ndarray, tags: Sequence[str], crf: Mapping[str, np.ndarray]) -> tuple[Span, ...]:
    """The best tag path for one text's emissions ``[L, K]``, as spans (the constraints keep it well-formed)."""
    if emissions.shape[0] == 0:
        return ()
    path = viterbi(emissions, crf["trans"], crf["start"], crf["end"])
    return bio_to_spans([tags[i] for i in path])


def bio_to_spans(tags: Sequence[str]) -> tuple[Span, ...]:
    spans: list[Span] = []
    start, typ = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        head, _, t = tag.partition("-")
        if start >= 0 and (head != "I" or t != typ):
            spans.append(Span(start, i, typ))
            start = -1
        if head == "B" or (head == "I" and start < 0):
            start, typ = i, t
    return tuple(spans)


def viterbi_batch(
    emissions: np.ndarray, lengths: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray
) -> list[list[int]]:
    """Best tag paths for a padded batch ``[B, L, K]`` at once: one numpy step per position for the
    whole batch instead of one per text (the per-text loop was 44% of a 111-tag model's time)."""
    b, steps, _k = emissions.shape
    score = start[None, :] + emissions[:, 0]
    back = np.zeros((b, steps, emissions.shape[2]), np.int64)
    into = np.ascontiguousarray(trans.T)[None]  # [1, to, from]: reductions over the last, contiguous axis
    for t in range(1, steps):
        cand = score[:, None, :] + into  # [B, to, from]
        best = cand.argmax(axis=2)
        new = np.take_along_axis(cand, best[:, :, None], axis=2)[:, :, 0] + emissions[:, t]
        active = (t < lengths)[:, None]
        score = np.where(active, new, score)
        back[:, t] = best
    last = (score + end[None, :]).argmax(axis=1)
    paths: list[list[int]] = []
    for row in range(b):
        n = int(lengths[row])
        if n <= 0:
            paths.append([])
            continue
        path = [int(last[row])]
        for t in range(n - 1, 0, -1):
            path.append(int(back[row, t, path[-1]]))
        paths.append(path[::-1])
    return paths


def decode_slots_batch(
    emissions: np.ndarray, lengths: np.ndarray, tags: Sequence[str], crf: Mapping[str, np.ndarray]
) -> list[tuple[Span, ...]]:
    paths = viterbi_batch(emissions, lengths, crf["trans"], crf["start"], crf["end"])
    return [bio_to_spans([tags[i] for i in path]) for path in paths]
