"""Field-level evaluation of an Extractor against labelled records.

A record is ``{"image": PATH, "fields": {NAME: VALUE, ...}}`` (or ``{"text": ..., "fields": ...}``
for text schemas). Only the fields a record names are scored; a ``null`` label means the
document has no such field and is right only when nothing was extracted. Values compare after
folding full-width characters and dropping whitespace; numbers compare numerically.

Reported: per-field accuracy, micro accuracy over all scored fields, the document exact rate
(every labelled field right), how often the extractor asked for review, and extraction time as
a share of OCR time.

Straight-through processing (STP), overall and per field. A field is *auto-accepted* when it has a
value and ``needs_review`` is false: it is keyed in without a human look, so its precision is the
number that matters.

* ``auto_accept_rate``: auto-accepted fields / fields whose label has a value;
* ``accepted_precision``: right auto-accepted fields / all auto-accepted fields (a value accepted
  where the label is null, an invented value, counts as wrong);
* ``review_rate``: fields sent to review (``needs_review``) / scored fields;
* the precision / coverage curve: the same two numbers if the review threshold were ``t``
  (a field is accepted when it has a value, no rule flagged it and its score is ≥ ``t``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from luodi.errors import InputError, InputNotFoundError
from luodi.kie.extractor import Extractor
from luodi.kie.normalize import compact
from luodi.kie.result import Extraction


def same_value(expected: Any, got: Any) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        try:
            # To the cent (a weight to 5 g): 89620.1 for 89620.19 is a wrong amount, however close.
            return abs(float(got) - float(expected)) <= 0.005
        except (TypeError, ValueError):
            return False
    return compact(str(expected)) == compact(str(got))


def read_labels(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise InputNotFoundError(f"labels file {path} does not exist")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not a JSON object: {exc.msg}") from exc
        if not isinstance(record, dict) or not isinstance(record.get("fields"), dict):
            raise InputError(f'{path}:{number}: a record needs "fields" (an object) and "image" or "text"')
        if "image" not in record and "text" not in record:
            raise InputError(f'{path}:{number}: a record needs "image" or "text"')
        records.append(record)
    return records


# Thresholds of the precision / coverage curve: coarse below 0.8, fine above (where it matters).
CURVE_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(16)) + tuple(round(0.8 + 0.01 * i, 2) for i in range(20))


@dataclass(frozen=True, slots=True)
class FieldOutcome:
    """One scored field: what the curve needs to re-decide it at any threshold."""

    name: str
    expected_value: bool  # the label has a value
    found: bool
    right: bool
    score: float
    flagged: bool  # a rule asked for review, whatever the threshold
    needs_review: bool

    @property
    def accepted(self) -> bool:
        return self.found and not self.needs_review

    def accepted_at(self, threshold: float) -> bool:
        return self.found and not self.flagged and self.score >= threshold


def stp_summary(outcomes: Sequence[FieldOutcome]) -> dict[str, Any]:
    """Auto-accept rate, precision of what is accepted, review rate (see the module docstring)."""
    valued = [o for o in outcomes if o.expected_value]
    accepted = [o for o in outcomes if o.accepted]
    right = sum(o.right for o in accepted)
    return {
        "fields": len(outcomes),
        "fields_with_value": len(valued),
        "auto_accepted": len(accepted),
        "auto_accepted_right": right,
        "invented_accepted": sum(1 for o in accepted if not o.expected_value),
        "auto_accept_rate": round(sum(o.accepted for o in valued) / len(valued), 4) if valued else None,
        "accepted_precision": round(right / len(accepted), 4) if accepted else None,
        "review_rate": round(sum(o.needs_review for o in outcomes) / len(outcomes), 4) if outcomes else None,
    }


def stp_curve(outcomes: Sequence[FieldOutcome], thresholds: Sequence[float] = CURVE_THRESHOLDS) -> list[dict[str, Any]]:
    """Coverage (auto-accepted / fields with a value) and precision if the threshold were ``t``."""
    valued = sum(o.expected_value for o in outcomes)
    rows = []
    for t in thresholds:
        acc = [o for o in outcomes if o.accepted_at(t)]
        right = sum(o.right for o in acc)
        rows.append(
            {
                "threshold": t,
                "accepted": len(acc),
                "coverage": round(sum(o.expected_value for o in acc) / valued, 4) if valued else None,
                "precision": round(right / len(acc), 4) if acc else None,
            }
        )
    return rows


def curve_markdown(rows: Sequence[Mapping[str, Any]], *, current: float | None = None) -> str:
    """The curve as a Markdown table (the current threshold marked)."""
    out = ["| threshold | auto-accepted | coverage | precision |", "|---|---|---|---|"]
    for r in rows:
        mark = " ←" if current is not None and abs(r["threshold"] - current) < 1e-9 else ""
        cov = "–" if r["coverage"] is None else f"{r['coverage']:.3f}"
        prec = "–" if r["precision"] is None else f"{r['precision']:.4f}"
        out.append(f"| {r['threshold']:.2f}{mark} | {r['accepted']} | {cov} | {prec} |")
    return "\n".join(out)


def plot_curve(curves: Mapping[str, Sequence[Mapping[str, Any]]], path: Path, *, title: str = "") -> None:
    """Precision against coverage, one line per named set, as a PNG (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise InputError("drawing the curve needs matplotlib: pip install matplotlib") from exc
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=110)
    for name, rows in curves.items():
        pts = [
            (r["coverage"], r["precision"]) for r in rows if r["coverage"] is not None and r["precision"] is not None
        ]
        if pts:
            ax.plot([c for c, _ in pts], [p for _, p in pts], marker=".", label=name)
    ax.set_xlabel("coverage (auto-accepted / fields with a value)")
    ax.set_ylabel("precision of auto-accepted fields")
    ax.axhline(0.995, color="grey", linestyle=":", linewidth=1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


class Score:
    """Running tallies; :meth:`summary` gives the JSON report."""

    def __init__(self, *, complete: bool = False, fields: tuple[str, ...] = ()) -> None:
        # complete: the labels list every field the document has, so a field missing from a
        # record is expected to be empty and a value extracted for it counts as an error.
        self.complete = complete
        self.fields = fields
        self.per_field: dict[str, list[int]] = {}  # name -> [correct, total]
        self.documents = 0
        self.exact = 0
        self.flagged = 0
        self.ocr_ms = 0.0
        self.extract_ms = 0.0
        self.errors: list[dict[str, Any]] = []
        self.outcomes: list[FieldOutcome] = []

    def add(self, expected: Mapping[str, Any], result: Extraction) -> list[dict[str, Any]]:
        """Score one document; returns its wrong fields (name, expected, got)."""
        got = {f.name: f for f in result.fields}
        wrong = []
        if self.complete:
            expected = {**dict.fromkeys(self.fields), **expected}
        for name, value in expected.items():
            tally = self.per_field.setdefault(name, [0, 0])
            tally[1] += 1
            field = got.get(name)
            pred = field.value if field is not None else None
            right = same_value(value, pred)
            if right:
                tally[0] += 1
            else:
                wrong.append({"field": name, "expected": value, "got": pred})
            self.outcomes.append(
                FieldOutcome(
                    name,
                    value is not None,
                    pred is not None,
                    right,
                    field.score if field is not None else 0.0,
                    field.flagged if field is not None else False,
                    field.needs_review if field is not None else True,
                )
            )
        self.documents += 1
        self.exact += not wrong
        self.flagged += result.needs_review
        timings = dict(result.timings_ms)
        self.ocr_ms += timings.get("ocr", 0.0)
        self.extract_ms += timings.get("extract", 0.0)
        return wrong

    def summary(self) -> dict[str, Any]:
        correct = sum(c for c, _ in self.per_field.values())
        total = sum(t for _, t in self.per_field.values())
        return {
            "documents": self.documents,
            "fields_scored": total,
            "micro_accuracy": round(correct / total, 4) if total else None,
            "document_exact_rate": round(self.exact / self.documents, 4) if self.documents else None,
            "needs_review_rate": round(self.flagged / self.documents, 4) if self.documents else None,
            "stp": stp_summary(self.outcomes),
            "per_field": {
                name: {
                    "accuracy": round(c / t, 4),
                    "n": t,
                    **{
                        k: v
                        for k, v in stp_summary([o for o in self.outcomes if o.name == name]).items()
                        if k != "fields"
                    },
                }
                for name, (c, t) in sorted(self.per_field.items())
            },
            "stp_curve": stp_curve(self.outcomes),
            "extract_ms_total": round(self.extract_ms, 2),
            "ocr_ms_total": round(self.ocr_ms, 2),
            "extract_share_of_ocr": round(self.extract_ms / self.ocr_ms, 4) if self.ocr_ms else None,
            "failed_inputs": self.errors,
        }


def evaluate(
    extractor: Extractor, records: Iterable[Mapping[str, Any]], score: Score, *, root: Path | None = None
) -> Iterator[tuple[Mapping[str, Any], Extraction, list[dict[str, Any]]]]:
    """Run ``extractor`` over labelled records, tallying into ``score`` and yielding each result."""
    for record in records:
        if "text" in record:
            result = extractor.extract_text(str(record["text"]))
        else:
            image = Path(str(record["image"]))
            if root is not None and not image.is_absolute():
                image = root / image
            result = extractor(str(image), name=str(record["image"]))
        wrong = score.add(record["fields"], result)
        yield record, result, wrong
