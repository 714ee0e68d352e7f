"""Frozen extraction results: one :class:`Extraction` per document, one :class:`FieldResult` per field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from luodi.ocr.result import Quad


@dataclass(frozen=True, slots=True)
class FieldResult:
    """One extracted field.

    ``value`` is the normalised value (``None`` when the field was not found); ``raw`` the text
    as read. ``box`` is the value's quadrilateral in page pixels (``None`` for text input or a
    missing field). ``alternatives`` holds other values seen for the field (a second phone on
    the line, a disagreeing copy on a two-part stub). ``flagged`` says the field needs review
    whatever the threshold (a rule fired: failed validation, disagreeing copies, printed form text);
    a field that is only scored low is not flagged. It is not part of the JSON output.
    """

    name: str
    value: Any = None
    raw: str | None = None
    score: float = 0.0
    box: Quad | None = None
    page: int = 0
    needs_review: bool = True
    reasons: tuple[str, ...] = ()
    alternatives: tuple[Any, ...] = ()
    flagged: bool = False
    # What the score was computed from (luodi.kie.calibration.FEATURES); not in the JSON output.
    evidence: tuple[tuple[str, float], ...] = ()
    # The pieces of OCR lines the value was read from (luodi.kie.layout.Piece: line, start, end),
    # for a second look at them (luodi.kie.second_reading); not in the JSON output.
    pieces: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    @property
    def found(self) -> bool:
        return self.value is not None

    def to_dict(self, *, with_page: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": self.value,
            "score": round(float(self.score), 4),
            "box": None if self.box is None else [[round(float(x), 1), round(float(y), 1)] for x, y in self.box],
            "needs_review": self.needs_review,
        }
        if self.reasons:
            out["reasons"] = list(self.reasons)
        if self.alternatives:
            out["alternatives"] = list(self.alternatives)
        if with_page and self.box is not None:
            out["page"] = self.page
        return out


@dataclass(frozen=True, slots=True)
class Extraction:
    """All fields of one schema for one document (or one text)."""

    source: str | None
    schema: str
    fields: tuple[FieldResult, ...]
    needs_review: bool
    pages: int = 1
    timings_ms: tuple[tuple[str, float], ...] = ()
    # Why the whole document needs review (a blank form, no form on the page, two documents).
    reasons: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> FieldResult:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def get(self, name: str) -> Any:
        """The value of field ``name`` (``None`` when missing)."""
        for f in self.fields:
            if f.name == name:
                return f.value
        return None

    def values(self) -> dict[str, Any]:
        return {f.name: f.value for f in self.fields}

    def to_dict(self) -> dict[str, Any]:
        multi = self.pages > 1
        out: dict[str, Any] = {
            "source": self.source,
            "schema": self.schema,
            "needs_review": self.needs_review,
        }
        if self.reasons:
            out["reasons"] = list(self.reasons)
        out["fields"] = {f.name: f.to_dict(with_page=multi) for f in self.fields}
        return out
