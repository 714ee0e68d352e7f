from __future__ import annotations

import numpy as np
import pytest

from luodi.ocr.rec import Recognizer, rec_width
from luodi.runtime.fake import FakeSession

CHARS = ["<blank>", *"abcdefghijk"]


def test_rec_width_keeps_aspect_ratio() -> None:
    assert rec_width((24, 100)) == 200  # height 24 → 48 doubles the width
    assert rec_width((48, 5000)) == 5000  # very long lines are never squashed to a fixed width
    assert rec_width((100, 10)) == 8  # at least one timestep


def _crop(width: int, dark: bool = True) -> np.ndarray:
    crop = np.full((32, width, 3), 255, dtype=np.uint8)
    if dark:
        crop[:, : width // 2] = 30
    return crop


def test_batches_sorted_by_width_results_in_input_order() -> None:
    session = FakeSession.rec(num_classes=len(CHARS))
    rec = Recognizer(session, CHARS)
    crops = [_crop(300), _crop(40), _crop(160), _crop(40, dark=False)]
    single = [Recognizer(FakeSession.rec(num_classes=len(CHARS)), CHARS)([c])[0] for c in crops]
    batched = rec(crops, batch_size=2)
    assert [r.text for r in batched] == [r.text for r in single]
    assert session.calls == 2
    # the two narrowest crops share a batch padded to the wider one, rounded up to 8
    widths = sorted(s[3] for s in session.shapes)
    assert widths == [64, 456]
    assert batched[3].text == ""  # the blank crop reads nothing
    assert batched[0].text != ""


def test_batch_of_one_uses_real_width_and_min_width_pads() -> None:
    session = FakeSession.rec(num_classes=len(CHARS))
    rec = Recognizer(session, CHARS)
    rec([_crop(40)])
    rec([_crop(40)], min_width=320)
    assert [s[3] for s in session.shapes] == [64, 320]


def test_positions_ignore_padding() -> None:
    session = FakeSession.rec(num_classes=len(CHARS))
    rec = Recognizer(session, CHARS)
    (alone,) = rec([_crop(64)])
    (padded,) = rec([_crop(64)], min_width=640)
    assert alone.text == padded.text
    assert padded.char_positions == pytest.approx(alone.char_positions, abs=0.1)


def test_empty_input() -> None:
    assert Recognizer(FakeSession.rec(num_classes=len(CHARS)), CHARS)([]) == []


def test_width_buckets() -> None:
    from luodi.ocr.tensor import REC_WIDTH_BUCKETS, det_bucket, rec_bucket

    assert rec_bucket(1) == REC_WIDTH_BUCKETS[0]
    assert rec_bucket(320) == 320 and rec_bucket(321) == 400
    assert rec_bucket(2049) == 2240  # past the last bucket: the next multiple of 320
    assert all(w <= rec_bucket(w) <= max(1.34 * w, 64) for w in range(8, 2048, 8))
    assert det_bucket(960) == 960 and det_bucket(961) == 1056 and det_bucket(32) == 96
