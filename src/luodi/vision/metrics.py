"""Inspection metrics: classification (accuracy, macro-F1, per-class recall, confusion matrix) and
anomaly detection (image AUROC, pixel AUROC, recall at the chosen false-alarm rate)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class ClassificationMetrics:
    labels: tuple[str, ...]
    n: int
    accuracy: float
    macro_f1: float
    recall: dict[str, float]
    precision: dict[str, float]
    f1: dict[str, float]
    support: dict[str, int]
    confusion: tuple[tuple[int, ...], ...]  # rows: true class, columns: predicted

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_class": {
                k: {
                    "recall": round(self.recall[k], 4),
                    "precision": round(self.precision[k], 4),
                    "f1": round(self.f1[k], 4),
                    "support": self.support[k],
                }
                for k in self.labels
            },
            "labels": list(self.labels),
            "confusion": [list(r) for r in self.confusion],
        }


def classification_metrics(
    y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray, labels: Sequence[str]
) -> ClassificationMetrics:
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    k = len(labels)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=(precision + recall) > 0)
    present = support > 0  # macro over the classes that occur in the evaluated set
    names = tuple(labels)
    return ClassificationMetrics(
        labels=names,
        n=len(t),
        accuracy=float(tp.sum() / max(1, len(t))),
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        recall={n: float(v) for n, v in zip(names, recall, strict=True)},
        precision={n: float(v) for n, v in zip(names, precision, strict=True)},
        f1={n: float(v) for n, v in zip(names, f1, strict=True)},
        support={n: int(v) for n, v in zip(names, support, strict=True)},
        confusion=tuple(tuple(int(v) for v in row) for row in cm),
    )


def auroc(labels: Sequence[bool] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """Area under the ROC curve (ties count half): the chance a random positive outscores a random negative."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    # average ranks over ties
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_s)) + 1]
    ends = np.r_[starts[1:], len(s)]
    for a, b in zip(starts, ends, strict=True):
        ranks[order[a:b]] = (a + b + 1) / 2.0
    return float((ranks[y].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


class PixelAuroc:
    """Pixel AUROC accumulated image by image in score histograms (memory stays flat; with 4096
    bins between the given bounds the error is far below the third decimal)."""

    def __init__(self, low: float, high: float, bins: int = 4096) -> None:
        self.edges = np.linspace(low, high, bins + 1)
        self.pos = np.zeros(bins + 2, dtype=np.int64)
        self.neg = np.zeros(bins + 2, dtype=np.int64)

    def add(self, mask: np.ndarray, scores: np.ndarray) -> None:
        idx = np.searchsorted(self.edges, scores.ravel(), side="right")
        m = mask.ravel().astype(bool)
        self.pos += np.bincount(idx[m], minlength=len(self.pos))
        self.neg += np.bincount(idx[~m], minlength=len(self.neg))

    def value(self) -> float:
        p, n = self.pos.sum(), self.neg.sum()
        if p == 0 or n == 0:
            return float("nan")
        # per bin: positives beat all negatives in lower bins, tie with those in the same bin
        neg_below = np.cumsum(self.neg) - self.neg
        return float((self.pos * (neg_below + 0.5 * self.neg)).sum() / (p * n))


def confusion_png(metrics: ClassificationMetrics, path: Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(metrics.confusion)
    k = len(metrics.labels)
    fig, ax = plt.subplots(figsize=(1.1 * k + 2.5, 1.0 * k + 2))
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(k), metrics.labels, rotation=45, ha="right")
    ax.set_yticks(range(k), metrics.labels)
    ax.set(xlabel="predicted", ylabel="true")
    ax.set_title(title or f"accuracy {metrics.accuracy:.3f}, macro-F1 {metrics.macro_f1:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
