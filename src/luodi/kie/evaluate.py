"""Field-level evaluation of an Extractor against labelled records.

A record is ``{"image": PATH, "fields": {NAME: VALUE, ...}}`` (or ``{"text": ..., "fields": ...}``
for text schemas). Only the fields a record names are scored; a ``null`` label means the
document has no such field and is right only when nothing was extracted. Values compare after
folding full-width characters and dropping whitespace; numbers compare numerically.

Reported: per-field accuracy, micro accuracy over all scored fields, the document exact rate
(every labelled field right), how often the extractor asked for review, and extraction time as
a share of OCR time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
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
            return abs(float(got) - float(expected)) <= 1e-6 + 1e-3 * abs(float(expected))
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

    def add(self, expected: Mapping[str, Any], result: Extraction) -> list[dict[str, Any]]:
        """Score one document; returns its wrong fields (name, expected, got)."""
        got = result.values()
        wrong = []
        if self.complete:
            expected = {**dict.fromkeys(self.fields), **expected}
        for name, value in expected.items():
            tally = self.per_field.setdefault(name, [0, 0])
            tally[1] += 1
            if same_value(value, got.get(name)):
                tally[0] += 1
            else:
                wrong.append({"field": name, "expected": value, "got": got.get(name)})
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
            "per_field": {
                name: {"accuracy": round(c / t, 4), "n": t} for name, (c, t) in sorted(self.per_field.items())
            },
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
