"""Run an OCR engine over a labelled dataset and score it.

The engine is anything with the :class:`luodi.OCR` call signature (``engine(source, options) ->
Document``), which keeps this module free of model imports and lets unit tests pass a stub. An image
that fails to load or recognise is scored as an empty prediction (and reported in ``failures``):
dropping it would make a broken model look better than it is.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from luodi.errors import LuodiError
from luodi.eval.datasets import DetSample, RecSample
from luodi.eval.metrics import (
    DetMetrics,
    E2EMetrics,
    GtRegion,
    ImageMatch,
    PredRegion,
    RecMetrics,
    det_metrics,
    e2e_metrics,
    edit_distance,
    match_detections,
    normalize_text,
    rec_metrics,
)
from luodi.ocr.result import Document


class Engine(Protocol):
    def __call__(self, source: Any, options: Any = None, *, name: str | None = None) -> Document: ...


Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Failure:
    path: str
    error: str


@dataclass(frozen=True, slots=True)
class RecOutcome:
    path: str
    label: str
    prediction: str
    score: float
    edits: int
    correct: bool
    correct_norm: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "label": self.label,
            "prediction": self.prediction,
            "score": round(self.score, 4),
            "edits": self.edits,
            "correct": self.correct,
            "correct_norm": self.correct_norm,
        }


@dataclass(frozen=True, slots=True)
class RecReport:
    metrics: RecMetrics
    outcomes: tuple[RecOutcome, ...]
    failures: tuple[Failure, ...]
    seconds: float
    model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": "rec",
            "model": self.model,
            **self.metrics.to_dict(),
            "failures": len(self.failures),
            "seconds": round(self.seconds, 3),
            "ms_per_sample": round(1000 * self.seconds / max(self.metrics.n, 1), 2),
        }

    def errors(self) -> list[dict[str, Any]]:
        """Per-sample rows for every line not read exactly right (including failures)."""
        failed = {f.path: f.error for f in self.failures}
        rows = []
        for o in self.outcomes:
            if not o.correct:
                row = o.to_dict()
                if o.path in failed:
                    row["error"] = failed[o.path]
                rows.append(row)
        return rows


@dataclass(frozen=True, slots=True)
class DetOutcome:
    path: str
    match: ImageMatch
    gts: tuple[GtRegion, ...]
    preds: tuple[PredRegion, ...]

    def to_dict(self) -> dict[str, Any]:
        matched_gt = {i for i, _, _ in self.match.pairs}
        matched_pred = {j for _, j, _ in self.match.pairs}
        ignored = set(self.match.ignored_preds)
        return {
            "path": self.path,
            "n_gt": self.match.n_gt,
            "n_pred": self.match.n_pred,
            "matched": len(self.match.pairs),
            "e2e_correct": self.match.e2e_correct,
            "missed": [
                {"text": g.text, "points": [list(p) for p in g.points]}
                for i, g in enumerate(self.gts)
                if not g.ignore and i not in matched_gt
            ],
            "false_positives": [
                {"text": p.text, "points": [[round(x, 1), round(y, 1)] for x, y in p.points]}
                for j, p in enumerate(self.preds)
                if j not in matched_pred and j not in ignored
            ],
            "misread": [
                {"label": self.gts[i].text, "prediction": self.preds[j].text, "iou": round(iou, 3)}
                for i, j, iou in self.match.pairs
                if self.preds[j].text != self.gts[i].text
            ],
        }


@dataclass(frozen=True, slots=True)
class DetReport:
    det: DetMetrics
    e2e: E2EMetrics
    outcomes: tuple[DetOutcome, ...]
    failures: tuple[Failure, ...]
    seconds: float
    model: str | None = None

    def to_dict(self, task: str = "det") -> dict[str, Any]:
        out: dict[str, Any] = {"task": task, "model": self.model, **self.det.to_dict()}
        if task == "e2e":
            out["e2e"] = self.e2e.to_dict()
        out["failures"] = len(self.failures)
        out["seconds"] = round(self.seconds, 3)
        out["s_per_image"] = round(self.seconds / max(self.det.n_images, 1), 3)
        return out

    def errors(self, task: str = "det") -> list[dict[str, Any]]:
        failed = {f.path: f.error for f in self.failures}
        rows = []
        for o in self.outcomes:
            row = o.to_dict()
            bad = row["missed"] or row["false_positives"] or (task == "e2e" and row["misread"])
            if bad or o.path in failed:
                if o.path in failed:
                    row["error"] = failed[o.path]
                rows.append(row)
        return rows


def _model_name(engine: Any) -> str | None:
    name = getattr(engine, "model_name", None)
    return name if isinstance(name, str) else None


def evaluate_rec(
    engine: Engine,
    samples: Sequence[RecSample],
    options: Any = None,
    *,
    progress: Progress | None = None,
) -> RecReport:
    """Recognise every sample's image as one line and score the predictions.

    ``options`` is passed to the engine as is; for a luodi OCR give ``OCROptions(use_det=False)``
    (the CLI does) so each image is read as a single line.
    """
    outcomes: list[RecOutcome] = []
    failures: list[Failure] = []
    t0 = time.perf_counter()
    for k, s in enumerate(samples):
        path = str(s.path)
        try:
            doc = engine(path, options)
            lines = doc.lines
            pred = "".join(line.text for line in lines)
            score = min((line.score for line in lines), default=0.0)
        except LuodiError as exc:
            failures.append(Failure(path, exc.message))
            pred, score = "", 0.0
        ed = edit_distance(pred, s.label)
        outcomes.append(
            RecOutcome(
                path=path,
                label=s.label,
                prediction=pred,
                score=float(score),
                edits=ed,
                correct=pred == s.label,
                correct_norm=normalize_text(pred) == normalize_text(s.label),
            )
        )
        if progress is not None:
            progress(k + 1, len(samples))
    seconds = time.perf_counter() - t0
    metrics = rec_metrics([o.prediction for o in outcomes], [o.label for o in outcomes])
    return RecReport(metrics, tuple(outcomes), tuple(failures), seconds, _model_name(engine))


def evaluate_det(
    engine: Engine,
    samples: Sequence[DetSample],
    options: Any = None,
    *,
    iou_threshold: float = 0.5,
    progress: Progress | None = None,
) -> DetReport:
    """Run the full pipeline on every image; score detection and end-to-end recognition together."""
    outcomes: list[DetOutcome] = []
    failures: list[Failure] = []
    t0 = time.perf_counter()
    for k, s in enumerate(samples):
        path = str(s.path)
        gts = tuple(GtRegion(r.points, r.transcription, r.ignore) for r in s.regions)
        try:
            doc = engine(path, options)
            preds = tuple(PredRegion(tuple(line.box), line.text) for line in doc.lines)
        except LuodiError as exc:
            failures.append(Failure(path, exc.message))
            preds = ()
        outcomes.append(DetOutcome(path, match_detections(gts, preds, iou_threshold), gts, preds))
        if progress is not None:
            progress(k + 1, len(samples))
    seconds = time.perf_counter() - t0
    matches = [o.match for o in outcomes]
    return DetReport(
        det_metrics(matches), e2e_metrics(matches), tuple(outcomes), tuple(failures), seconds, _model_name(engine)
    )


def write_jsonl(path: str | os.PathLike[str], rows: Sequence[dict[str, Any]]) -> None:
    """Write rows as JSON Lines (UTF-8, Chinese kept readable)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
