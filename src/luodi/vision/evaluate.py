"""``luodi eval vision``: score a vision model on a labelled folder-per-class tree or CSV."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import ConfigError, EmptyInputError
from luodi.vision.data import DataReport, Sample, iter_readable, load_dataset, read_mask
from luodi.vision.inspector import Inspector
from luodi.vision.metrics import ClassificationMetrics, PixelAuroc, auroc, classification_metrics

GOOD_NAMES = ("good", "ok", "normal", "MT_Free")


@dataclass
class VisionEval:
    model: str
    kind: str
    data: str
    n: int
    report: DataReport
    classification: ClassificationMetrics | None = None
    anomaly: dict[str, Any] = field(default_factory=dict)
    ms_per_image: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model, "kind": self.kind, "data": self.data, "n": self.n}
        if self.classification is not None:
            out.update(self.classification.to_dict())
        out.update(self.anomaly)
        out["ms_per_image"] = round(self.ms_per_image, 2)
        out["data_report"] = self.report.to_dict()
        return out


def _samples(data: str | Path, split: str | None) -> tuple[list[Sample], DataReport]:
    samples, report = load_dataset(data)
    if split is not None:
        samples = [s for s in samples if s.split == split]
        if not samples:
            raise EmptyInputError(f"{data} has no rows with split={split}")
    return samples, report


def evaluate_vision(
    model: str | Inspector,
    data: str | Path,
    *,
    split: str | None = None,
    good_class: str | None = None,
    home: str | Path | None = None,
    runtime: str | None = None,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> VisionEval:
    """Classification models: accuracy, macro-F1, per-class recall, confusion. Anomaly models: image
    AUROC (defect classes vs ``good_class``), pixel AUROC over images with masks (good images count
    as all-good pixels), recall of defects and false alarms at the model's threshold."""
    inspector = model if isinstance(model, Inspector) else Inspector(model, home=home, runtime=runtime, threads=threads)
    samples, report = _samples(data, split)
    result = VisionEval(inspector.name, inspector.kind, str(data), 0, report)
    if inspector.kind == "classify":
        labels = inspector.meta.labels
        index = {name: i for i, name in enumerate(labels)}
        unknown = sorted({str(s.label) for s in samples} - set(labels))
        if unknown:
            report.skipped += [f"class {u}: not a class of the model" for u in unknown]
            samples = [s for s in samples if s.label in index]
        y_true, y_pred, spent = [], [], 0.0
        for s, rgb in iter_readable(samples, report, inspector.limits):
            t = time.perf_counter()
            r = inspector.inspect_arrays([rgb], [str(s.path)])[0]
            spent += time.perf_counter() - t
            y_true.append(index[str(s.label)])
            y_pred.append(index[r.label])
            if progress is not None:
                progress(1)
        if not y_true:
            raise EmptyInputError(f"{data}: no readable images of the model's classes")
        result.classification = classification_metrics(y_true, y_pred, labels)
        result.n = len(y_true)
        result.ms_per_image = spent * 1000 / len(y_true)
        return result
    return _evaluate_anomaly(inspector, samples, report, result, good_class, progress)


def _evaluate_anomaly(
    inspector: Inspector,
    samples: list[Sample],
    report: DataReport,
    result: VisionEval,
    good_class: str | None,
    progress: Callable[[int], None] | None,
) -> VisionEval:
    classes = sorted({str(s.label) for s in samples})
    good = good_class or next((g for g in GOOD_NAMES if g in classes), None)
    if good is None or good not in classes:
        raise ConfigError(f"name the class of good parts with --good-class (classes: {', '.join(classes)})")
    if len(classes) < 2:
        raise ConfigError("anomaly evaluation needs good images and at least one defect class")
    scores: list[float] = []
    is_defect: list[bool] = []
    per_class: list[str] = []
    maps: list[tuple[np.ndarray, np.ndarray]] = []
    spent = 0.0
    for s, rgb in iter_readable(samples, report, inspector.limits):
        t = time.perf_counter()
        r = inspector.inspect_arrays([rgb], [str(s.path)])[0]
        spent += time.perf_counter() - t
        scores.append(r.score)
        is_defect.append(s.label != good)
        per_class.append(str(s.label))
        if r.heatmap is not None and (s.mask is not None or s.label == good):
            mask = read_mask(s.mask, r.heatmap.shape) if s.mask is not None else np.zeros(r.heatmap.shape, bool)
            # stored at a quarter of the pixels: enough for the AUROC, a fraction of the memory
            maps.append((mask[::2, ::2], r.heatmap[::2, ::2].astype(np.float32)))
        if progress is not None:
            progress(1)
    if not scores:
        raise EmptyInputError("no readable images")
    y = np.array(is_defect)
    sc = np.array(scores)
    thr = inspector.meta.threshold
    out: dict[str, Any] = {
        "good_class": good,
        "image_auroc": round(auroc(y, sc), 4),
        "threshold": thr,
        "false_alarm_rate_target": inspector.meta.false_alarm_rate,
    }
    if thr is not None:
        flagged = sc >= thr
        out["recall_at_threshold"] = round(float(flagged[y].mean()), 4) if y.any() else None
        out["false_alarm_rate"] = round(float(flagged[~y].mean()), 4) if (~y).any() else None
    out["per_class_image_auroc"] = {
        c: round(auroc(y[(np.array(per_class) == c) | ~y], sc[(np.array(per_class) == c) | ~y]), 4)
        for c in sorted(set(per_class) - {good})
    }
    if maps and any(m.any() for m, _ in maps):
        out["pixel_auroc"] = round(_pixel_auroc(maps), 4)
        out["pixel_images"] = len(maps)
    result.anomaly = out
    result.n = len(scores)
    result.ms_per_image = spent * 1000 / len(scores)
    return result


def _pixel_auroc(maps: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """AUROC of the heat maps' pixels against the defect masks, over all (mask, heat map) pairs."""
    pix = PixelAuroc(min(float(h.min()) for _, h in maps), max(float(h.max()) for _, h in maps))
    for m, h in maps:
        pix.add(m, h)
    return pix.value()
