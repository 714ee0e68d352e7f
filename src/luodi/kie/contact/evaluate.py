"""Entity-level evaluation of the contact parser on express-NER BIO files.

Uses the project's shared span metric (:func:`luodi.eval.metrics.span_metrics`): a predicted entity
counts only when its type and both ends equal a gold entity's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from luodi.eval.metrics import EntitySpan, span_metrics
from luodi.kie.contact.parser import Contact, ContactParser, Mode
from luodi.kie.ner.data import Record, read_bio

__all__ = ["contact_entities", "evaluate_file", "evaluate_records"]

_TYPES = (("name", "P"), ("province", "A1"), ("city", "A2"), ("district", "A3"), ("detail", "A4"))


def contact_entities(contact: Contact) -> list[EntitySpan]:
    """The parse as typed spans in the dataset's tag set (every phone found counts as a T entity)."""
    spans = [EntitySpan(p.start, p.end, "T") for p in contact.phones]
    for field, kind in _TYPES:
        span = contact.field(field)
        if span is not None:
            spans.append(EntitySpan(span.start, span.end, kind))
    return spans


def evaluate_records(records: Sequence[Record], parser: ContactParser) -> dict[str, Any]:
    t0 = time.perf_counter()
    contacts = parser.parse_many([r.text for r in records])
    seconds = time.perf_counter() - t0
    gold = [[EntitySpan(s.start, s.end, s.type) for s in r.spans] for r in records]
    metrics = span_metrics(gold, [contact_entities(c) for c in contacts])
    return {
        "mode": parser.mode,
        "texts": len(records),
        "micro": metrics.overall.to_dict(),
        "per_type": {k: v.to_dict() for k, v in sorted(metrics.per_type.items())},
        "ms_per_text": round(1000 * seconds / max(1, len(records)), 3),
    }


def evaluate_file(path: str | Path, *, model: str | Path | None = None, mode: Mode = "combined") -> dict[str, Any]:
    """P/R/F1 per entity type and micro-averaged for the parser on one BIO file."""
    records = read_bio(path)
    parser = ContactParser(model, mode=mode)
    result = evaluate_records(records, parser)
    result["data"] = str(path)
    result["model"] = str(parser.model.path) if parser.model is not None and parser.model.path else None
    return result
