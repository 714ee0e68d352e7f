"""Evaluation: PaddleOCR dataset label files, metrics (pure functions) and dataset runners.

The metrics are importable without any model (``from luodi.eval.metrics import field_metrics``), so
the KIE, NER and training code score themselves with the same definitions as ``luodi eval``.
"""

from __future__ import annotations

from luodi.eval.datasets import (
    IGNORE_TEXT,
    DetRegion,
    DetSample,
    RecSample,
    read_det_labels,
    read_rec_labels,
    write_det_labels,
    write_rec_labels,
)
from luodi.eval.metrics import (
    DetMetrics,
    E2EMetrics,
    EntityMetrics,
    EntitySpan,
    FieldMetrics,
    GtRegion,
    ImageMatch,
    PredRegion,
    RecMetrics,
    bio_spans,
    det_metrics,
    e2e_metrics,
    edit_distance,
    entity_metrics,
    field_metrics,
    match_detections,
    normalize_text,
    polygon_iou,
    rec_metrics,
    span_metrics,
)

__all__ = [
    "IGNORE_TEXT",
    "DetMetrics",
    "DetRegion",
    "DetSample",
    "E2EMetrics",
    "EntityMetrics",
    "EntitySpan",
    "FieldMetrics",
    "GtRegion",
    "ImageMatch",
    "PredRegion",
    "RecMetrics",
    "RecSample",
    "bio_spans",
    "det_metrics",
    "e2e_metrics",
    "edit_distance",
    "entity_metrics",
    "field_metrics",
    "match_detections",
    "normalize_text",
    "polygon_iou",
    "read_det_labels",
    "read_rec_labels",
    "rec_metrics",
    "span_metrics",
    "write_det_labels",
    "write_rec_labels",
]
