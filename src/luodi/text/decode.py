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
