"""The batched Viterbi equals the per-text one; BIO tags to spans."""

from __future__ import annotations

import numpy as np

from luodi.kie.ner.crf import viterbi
from luodi.text.data import Span, spans_to_tags
from luodi.text.decode import bio_to_spans, class_slot_mask, decode_slots, decode_slots_batch, viterbi_batch
from luodi.text.net import tag_constraints


def test_batched_viterbi_matches_one_at_a_time() -> None:
    rng = np.random.default_rng(0)
    tags = ["O", "B-a", "I-a", "B-b", "I-b"]
    trans, start, no_end = tag_constraints(tags)
    assert not no_end.any()  # BIO: a path may end on any tag
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


def test_bioes_tags_round_trip_and_constrain_the_path() -> None:
    spans = [Span(0, 1, "n"), Span(1, 4, "city"), Span(5, 7, "n")]
    tags = spans_to_tags(8, spans, "bioes")
    assert tags == ["S-n", "B-city", "I-city", "E-city", "O", "B-n", "E-n", "O"]
    assert bio_to_spans(tags) == tuple(spans)
    assert bio_to_spans(["B-a", "E-a", "S-a", "E-b"]) == (Span(0, 2, "a"), Span(2, 3, "a"), Span(3, 4, "b"))
    tag_set = ["O", "B-a", "I-a", "E-a", "S-a"]
    trans, start, end = tag_constraints(tag_set)
    ok = {(i, j) for i in range(5) for j in range(5) if trans[i, j] == 0}
    assert (1, 2) in ok and (1, 3) in ok and (2, 3) in ok and (3, 1) in ok and (4, 0) in ok and (0, 4) in ok
    assert (1, 0) not in ok and (1, 1) not in ok and (2, 0) not in ok and (0, 3) not in ok and (3, 2) not in ok
    assert [start[j] == 0 for j in range(5)] == [True, True, False, False, True]
    assert [end[j] == 0 for j in range(5)] == [True, False, False, True, True]
    # whatever the emissions, the best path is well formed: every span closed by E- or S-
    rng = np.random.default_rng(1)
    emit = rng.normal(size=(6, 9, 5)).astype(np.float32) * 3
    for path in viterbi_batch(emit, np.array([9, 1, 2, 5, 9, 3]), trans, start, end):
        labels = [tag_set[t] for t in path]
        assert spans_to_tags(len(labels), bio_to_spans(labels), "bioes") == labels


def test_slot_types_not_seen_with_the_intent_are_not_decoded() -> None:
    tags = ["O", "B-song", "I-song", "B-name", "I-name"]
    mask = class_slot_mask(["DIAL", "PLAY", "NEW"], tags, {"DIAL": ["name"], "PLAY": ["song"]})
    assert mask.shape == (3, 5) and not mask[2].any()  # a class without a record allows every type
    trans, start, _ = tag_constraints(tags)
    crf = {"trans": trans, "start": start, "end": np.zeros(len(tags), np.float32)}
    emit = np.full((2, 3, len(tags)), -5.0, np.float32)
    emit[:, :, 0] = 0.0
    emit[:, 0, 1], emit[:, 1, 2] = 6.0, 6.0  # the slot head says: a song in the first two characters
    emit[:, 0, 3], emit[:, 1, 4] = 5.0, 5.0  # a name, a little less sure
    assert decode_slots(emit[0], tags, crf) == (Span(0, 2, "song"),)
    assert decode_slots(emit[0], tags, crf, mask[0]) == (Span(0, 2, "name"),)
    both = decode_slots_batch(emit, np.array([3, 3]), tags, crf, mask[[0, 1]])
    assert both == [(Span(0, 2, "name"),), (Span(0, 2, "song"),)]


def test_decoding_over_the_allowed_tags_alone_gives_the_full_decodes_paths() -> None:
    """The texts of one predicted intent are decoded over its allowed tags only: the same spans as the
    Viterbi over every tag with the forbidden ones masked."""
    rng = np.random.default_rng(2)
    tags = ["O", *(f"{h}-{t}" for t in ("a", "b", "c", "d") for h in ("B", "I"))]
    trans, start, end = tag_constraints(tags)
    trans = trans + rng.normal(size=trans.shape).astype(np.float32)
    crf = {"trans": trans, "start": start, "end": end + rng.normal(size=len(tags)).astype(np.float32)}
    mask = class_slot_mask(["X", "Y", "Z"], tags, {"X": ["a", "c"], "Y": ["b"], "Z": []})
    emit = (rng.normal(size=(12, 6, len(tags))) * 4).astype(np.float32)
    lengths = rng.integers(1, 7, size=12)
    allowed = mask[rng.integers(0, 3, size=12)]
    full = viterbi_batch(emit + allowed[:, None, :], lengths, crf["trans"], crf["start"], crf["end"])
    got = decode_slots_batch(emit, lengths, tags, crf, allowed)
    assert got == [bio_to_spans([tags[i] for i in path]) for path in full]
    assert any(got) and all(s.type in ("a", "c") for r, spans in enumerate(got) for s in spans if allowed[r][3] < 0)
