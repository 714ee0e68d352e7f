"""Text metrics: accuracy, macro-F1, a per-class report, entity-level slot F1, a confusion matrix PNG."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from luodi.eval.metrics import EntitySpan, span_metrics
from luodi.text.data import Span, TextExample


@dataclass(frozen=True, slots=True)
class ClassReport:
    label: str
    precision: float
    recall: float
    f1: float
    support: int  # gold texts of this class


@dataclass(frozen=True, slots=True)
class TextMetrics:
    n: int
    accuracy: float
    macro_f1: float  # over the classes present in gold or predictions
    per_class: tuple[ClassReport, ...]
    labels: tuple[str, ...]  # row/column order of the confusion matrix
    confusion: tuple[tuple[int, ...], ...]  # [gold][predicted]
    unknown_gold: tuple[str, ...]  # gold labels the model cannot predict (absent from its classes)
    slot_f1: float | None = None
    slot_precision: float | None = None
    slot_recall: float | None = None
    slot_per_type: dict[str, dict[str, float]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "slot_f1": self.slot_f1,
            "slot_precision": self.slot_precision,
            "slot_recall": self.slot_recall,
            "unknown_gold_labels": list(self.unknown_gold),
            "per_class": [
                {"label": r.label, "precision": r.precision, "recall": r.recall, "f1": r.f1, "support": r.support}
                for r in self.per_class
            ],
            "slot_per_type": self.slot_per_type,
        }


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def text_metrics(
    examples: Sequence[TextExample],
    predicted: Sequence[str],
    predicted_spans: Sequence[Sequence[Span]] | None,
    classes: Sequence[str],
) -> TextMetrics:
    """Metrics of predictions against labelled ``examples``; a gold label the model does not know counts as an error."""
    gold = [str(ex.label) for ex in examples]
    labels = sorted(set(gold) | set(predicted))
    index = {lab: i for i, lab in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), np.int64)
    for g, p in zip(gold, predicted, strict=True):
        cm[index[g], index[p]] += 1
    reports = []
    for lab, i in index.items():
        tp, support, predicted_n = int(cm[i, i]), int(cm[i].sum()), int(cm[:, i].sum())
        prec = tp / predicted_n if predicted_n else 0.0
        rec = tp / support if support else 0.0
        reports.append(ClassReport(lab, prec, rec, _f1(prec, rec), support))
    n = len(gold)
    accuracy = float(np.trace(cm)) / n if n else 0.0
    macro = float(np.mean([r.f1 for r in reports])) if reports else 0.0
    known = set(classes)
    unknown = tuple(sorted({g for g in gold if g not in known}))
    slot: dict[str, Any] = {}
    if predicted_spans is not None and all(ex.spans is not None for ex in examples):
        m = span_metrics(
            [[EntitySpan(s.start, s.end, s.type) for s in ex.spans or ()] for ex in examples],
            [[EntitySpan(s.start, s.end, s.type) for s in spans] for spans in predicted_spans],
        )
        slot = {
            "slot_f1": m.overall.f1,
            "slot_precision": m.overall.precision,
            "slot_recall": m.overall.recall,
            "slot_per_type": {k: v.to_dict() for k, v in sorted(m.per_type.items())},
        }
    return TextMetrics(
        n,
        accuracy,
        macro,
        tuple(reports),
        tuple(labels),
        tuple(tuple(int(v) for v in row) for row in cm),
        unknown,
        **slot,
    )


def confusion_png(metrics: TextMetrics, path: Path, *, title: str = "") -> None:
    """The confusion matrix as a PNG (rows: gold, columns: predicted; counts in the cells)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(metrics.confusion)
    k = len(metrics.labels)
    side = min(24.0, 2.5 + 0.45 * k)
    fig, ax = plt.subplots(figsize=(side, side))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(k), metrics.labels, rotation=90, fontsize=8)
    ax.set_yticks(range(k), metrics.labels, fontsize=8)
    ax.set(xlabel="predicted", ylabel="gold", title=title or f"accuracy {metrics.accuracy:.4f} (n={metrics.n})")
    if k <= 40:
        top = cm.max() or 1
        for i in range(k):
            for j in range(k):
                if cm[i, j]:
                    ax.text(
                        j,
                        i,
                        str(cm[i, j]),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if cm[i, j] > top / 2 else "black",
                    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
