"""An anomaly model's image scores as its ``vision.json`` says, and the threshold chosen from them.

One place for what ``luodi train anomaly`` (the FP32 threshold on held-back good images),
``luodi quantize`` (the INT8 copy's threshold: re-chosen on held-back good images, or mapped from
the calibration images) and ``Inspector`` share: a feature map to a score and heat map, and a set
of good images' scores to the threshold at the user's false-alarm rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from luodi.errors import EmptyInputError
from luodi.runtime.base import InferenceSession
from luodi.vision.bundle import VisionMeta
from luodi.vision.data import DataReport, Sample
from luodi.vision.extract import extract_maps
from luodi.vision.patchcore import BankSearch, score_and_heat, score_map, threshold_for

MIN_HELD_IMAGES = 5
#: how an INT8 anomaly bundle's threshold was set (``vision.json``'s ``threshold_source``)
FROM_HELD = "held"  # re-chosen on held-back good images with the INT8 bundle (luodi quantize --held)
MAPPED = "mapped"  # the FP32 threshold mapped through the calibration images' scores (no --held)


def meta_score(
    fmap: np.ndarray,
    height: int,
    width: int,
    meta: VisionMeta,
    bank: np.ndarray,
    bank_norms: np.ndarray | None,
    projection: np.ndarray | None,
    search: BankSearch | None = None,
) -> tuple[float, np.ndarray]:
    """(image score, heat map at ``height x width``) of one image's feature map, scored as ``meta``."""
    return score_and_heat(
        score_map(fmap, bank, bank_norms, projection, search),
        height,
        width,
        size=meta.image_size,
        resize=meta.resize,
        border=meta.score_border,
        top=meta.score_top,
        sigma=meta.sigma,
        mode=meta.score_mode,
    )


def score_samples(
    session: InferenceSession,
    samples: Sequence[Sample],
    report: DataReport,
    meta: VisionMeta,
    bank: np.ndarray,
    projection: np.ndarray | None,
    search: BankSearch | None = None,
) -> tuple[np.ndarray, list[Sample]]:
    """The image scores of the readable ``samples`` (unreadable ones are counted in ``report``)."""
    shapes: list[tuple[int, int]] = []  # each image's size: its heat map is scored at that size

    def keep_shape(rgb: np.ndarray) -> list[np.ndarray]:
        shapes.append((int(rgb.shape[0]), int(rgb.shape[1])))
        return [rgb]

    maps, kept, _ = extract_maps(session, samples, report, meta.image_size, resize=meta.resize, make_views=keep_shape)
    norms = np.einsum("ij,ij->i", bank, bank)
    scores = [
        meta_score(m[0], h, w, meta, bank, norms, projection, search)[0] for m, (h, w) in zip(maps, shapes, strict=True)
    ]
    return np.asarray(scores, dtype=np.float64), kept


def with_threshold(meta: VisionMeta, scores: np.ndarray, false_alarm_rate: float, **extra: Any) -> VisionMeta:
    """``meta`` with the threshold that flags at most ``false_alarm_rate`` of these held-back good
    images' ``scores``, the heat map's full-red value above it, and the held images recorded."""
    if len(scores) < MIN_HELD_IMAGES:
        raise EmptyInputError(
            f"{len(scores)} readable held-back good images; the threshold needs at least {MIN_HELD_IMAGES}"
        )
    threshold = threshold_for(scores, false_alarm_rate)
    record = {
        "held_images": len(scores),
        "held_scores": [round(float(s), 5) for s in sorted(scores)],
        **extra,
    }
    kept = tuple((k, v) for k, v in meta.extra if k not in record)
    return replace(
        meta,
        threshold=threshold,
        false_alarm_rate=false_alarm_rate,
        score_scale=float(max(threshold, float(np.max(scores)))) * 1.5,
        extra=kept + tuple(record.items()),
    )


def mapped_threshold(threshold: float, fp32: np.ndarray, int8: np.ndarray) -> float:
    """The FP32 ``threshold`` carried to the INT8 model through the same images' scores by both.

    INT8 adds an error to every patch feature that is nearly independent of the patch, so a
    distance d becomes about sqrt(d^2 + e^2): the INT8 score is sqrt(fp32^2 + e^2), with e^2 the
    mean of int8^2 - fp32^2 over images FP32 scores below the threshold. Images above it (defects)
    rise less and are left out. On the magnetic tiles' dev images (bench/results/vision.md,
    "INT8 anomaly threshold") this held the val good tiles' 1% in all 300 draws of 64 good
    calibration images and in 298 of 300 draws of 64 good and defect ones (2 flagged 1.9%); a
    plain ratio or offset held it too but cut the defect recall (25% and 37% against 42-45% for
    this map and 46% for a threshold re-chosen on held images); a straight-line fit flagged over
    1% in 95-100% of draws. Calibration sets of defects only map it too low.
    """
    f, q = np.asarray(fp32, dtype=np.float64), np.asarray(int8, dtype=np.float64)
    below = f < threshold
    if not below.any():
        raise EmptyInputError("no calibration image scores below the FP32 threshold: nothing to map it from")
    e2 = float(np.mean(q[below] ** 2 - f[below] ** 2))
    return float(np.sqrt(max(threshold * threshold + e2, 0.0)))
