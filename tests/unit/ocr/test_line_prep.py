from __future__ import annotations

import cv2
import numpy as np
import pytest

from luodi.errors import ModelError
from luodi.ocr.line_prep import LinePrep
from luodi.ocr.rec import Recognizer
from luodi.runtime.fake import FakeSession

CHARS = ["<blank>", *"abcdefghijk"]


def dotted_stroke(height: int = 60, pitch: int = 4) -> np.ndarray:
    """A horizontal stroke of separate dark dots on light paper, as an impact printer strikes it."""
    img = np.full((height, 200, 3), 230, np.uint8)
    for x in range(20, 180, pitch):
        cv2.circle(img, (x, height // 2), 1, (20, 20, 20), -1)
    return img


def test_inactive_prep_returns_the_crop_itself() -> None:
    crop = dotted_stroke()
    assert LinePrep()(crop) is crop
    assert not LinePrep().active and LinePrep().to_extra() == {}
    assert LinePrep.from_extra({}) is None and LinePrep.from_extra({"line_prep": {"dot_closing": 0.0}}) is None


def test_closing_joins_separate_dots_into_one_stroke_and_keeps_the_shape() -> None:
    crop = dotted_stroke()
    out = LinePrep(dot_closing=0.1)(crop)  # a 6-pixel kernel: wider than the gaps between the dots
    assert out.shape == crop.shape and out.dtype == np.uint8
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])

    def parts(img: np.ndarray) -> int:
        dark = (cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) < 128).astype(np.uint8)
        return int(cv2.connectedComponents(dark)[0]) - 1

    assert parts(crop) == 40
    assert parts(out) == 1
    # a small crop: the kernel rounds to one pixel, so only the grey conversion is left
    small = dotted_stroke(height=20)
    np.testing.assert_array_equal(LinePrep(dot_closing=0.03)(small), LinePrep(grey=True)(small))


def test_bundle_extra_round_trip_and_malformed_entries() -> None:
    prep = LinePrep(dot_closing=0.03)
    assert LinePrep.from_extra(prep.to_extra()) == prep
    assert LinePrep.from_extra({"ctc_blank": 0}) is None
    for bad in ({"line_prep": "closing"}, {"line_prep": {"dot_closing": "wide"}}, {"line_prep": {"radius": 2}}):
        with pytest.raises(ModelError, match="line_prep"):
            LinePrep.from_extra(bad)
    with pytest.raises(ModelError, match="dot_closing"):
        LinePrep(dot_closing=0.5)


def test_the_recogniser_reads_the_preprocessed_crop() -> None:
    crop = dotted_stroke()
    crop[:, :60] = (200, 40, 40)  # colour the preprocessing turns grey
    prep = LinePrep(dot_closing=0.05)
    plain = FakeSession.rec(num_classes=len(CHARS))
    with_prep = FakeSession.rec(num_classes=len(CHARS))
    want = Recognizer(plain, CHARS)([prep(crop)])
    got = Recognizer(with_prep, CHARS, prep=prep)([crop])
    assert [r.text for r in got] == [r.text for r in want]
    assert plain.shapes == with_prep.shapes
