"""The anomaly threshold's rules shared by ``luodi train anomaly`` and ``luodi quantize``: chosen at a
false-alarm rate on held-back good scores, or mapped from FP32 to INT8 through calibration scores."""

from __future__ import annotations

import numpy as np
import pytest

from luodi.errors import EmptyInputError
from luodi.vision.bundle import VisionMeta
from luodi.vision.patchcore import threshold_for
from luodi.vision.scoring import mapped_threshold, with_threshold

META = VisionMeta(kind="anomaly", image_size=64, backbone="efficientnet-lite2", extra=(("coreset", 0.2),))


def good_scores(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.normal(25.0, 2.0, n)


def as_int8(fp32: np.ndarray, rng: np.random.Generator, e2: float = 100.0) -> np.ndarray:
    """What INT8 does to a distance-like score: an independent error added in quadrature, plus noise."""
    return np.sqrt(fp32**2 + e2) + rng.normal(0.0, 0.1, len(fp32))


def test_the_threshold_moves_with_the_scores_to_keep_the_rate() -> None:
    rng = np.random.default_rng(0)
    fp32 = good_scores(rng, 400)
    int8 = as_int8(fp32, rng)
    m32 = with_threshold(META, fp32, 0.01)
    m8 = with_threshold(META, int8, 0.01, threshold_source="held")
    assert m32.threshold is not None and m8.threshold is not None
    # the FP32 threshold kept on the INT8 scores flags far more than 1%; the re-chosen one does not
    assert np.mean(int8 >= m32.threshold) > 0.03
    assert np.mean(int8 >= m8.threshold) <= 0.01
    assert np.mean(int8 >= np.nextafter(m8.threshold, -np.inf)) > 0  # no higher than it needs to be
    assert m8.threshold > m32.threshold + 1.0
    assert m8.false_alarm_rate == 0.01 and m8.score_scale == pytest.approx(1.5 * max(m8.threshold, int8.max()))
    extra = dict(m8.extra)
    assert extra["coreset"] == 0.2 and extra["threshold_source"] == "held" and extra["held_images"] == 400
    assert extra["held_scores"] == [round(float(s), 5) for s in sorted(int8)]
    # choosing again replaces the held record instead of adding a second one
    again = with_threshold(m8, fp32, 0.05)
    keys = [k for k, _ in again.extra]
    assert keys.count("held_scores") == 1 and dict(again.extra)["held_images"] == 400
    assert again.threshold == threshold_for(fp32, 0.05)


def test_too_few_held_scores_are_refused() -> None:
    with pytest.raises(EmptyInputError, match="at least 5"):
        with_threshold(META, np.array([1.0, 2.0, 3.0]), 0.01)


def test_the_mapped_threshold_keeps_the_rate_on_unseen_good_scores() -> None:
    rng = np.random.default_rng(1)
    held32 = good_scores(rng, 2000)  # the FP32 model's held-back good images
    t = threshold_for(held32, 0.01)
    calib32 = rng.normal(22.0, 1.5, 64)  # calibration images from the bank: they score lower
    # and some defects among them, which INT8 moves less: they must not pull the map down
    defects32 = rng.normal(40.0, 3.0, 16)
    calib8 = np.concatenate([as_int8(calib32, rng), defects32 + 0.3])
    mapped = mapped_threshold(t, np.concatenate([calib32, defects32]), calib8)
    assert mapped == pytest.approx(np.sqrt(t * t + 100.0), abs=0.1)
    unseen8 = as_int8(good_scores(rng, 20000), rng)
    assert np.mean(unseen8 >= t) > 0.03  # the FP32 threshold kept: the defect this fixes
    assert np.mean(unseen8 >= mapped) == pytest.approx(0.01, abs=0.004)


def test_nothing_below_the_threshold_cannot_be_mapped() -> None:
    with pytest.raises(EmptyInputError, match="below the FP32 threshold"):
        mapped_threshold(10.0, np.array([11.0, 12.0]), np.array([12.0, 13.0]))
