"""Hand-built OCR documents for KIE unit tests (no models).

Each line is placed by its top-left corner; its width follows the text (``char_w`` per
character, half for ASCII), with evenly spread character positions and a per-character score.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from luodi.kie import Extractor
from luodi.kie.parties import RuleContactParser
from luodi.ocr.result import Document, Line, Page


def make_line(
    text: str,
    x: float,
    y: float,
    *,
    h: float = 24.0,
    char_w: float = 24.0,
    score: float = 0.98,
    scores: Sequence[float] | None = None,
) -> Line:
    widths = [char_w * (0.55 if c.isascii() else 1.0) for c in text]
    total = sum(widths) or 1.0
    positions, acc = [], 0.0
    for w in widths:
        positions.append((acc + w / 2) / total)
        acc += w
    box = ((x, y), (x + total, y), (x + total, y + h), (x, y + h))
    char_scores = tuple(scores) if scores is not None else tuple(score for _ in text)
    return Line(text, score, box, char_scores, tuple(positions))


def make_doc(
    items: Sequence[tuple[str, float, float]] | Sequence[Line],
    *,
    width: int = 1000,
    height: int = 1400,
    source: str | None = "test.jpg",
) -> Document:
    lines = tuple(i if isinstance(i, Line) else make_line(*i) for i in items)
    return Document(source, "fake", (Page(0, width, height, lines),))


def extractor(schema: str = "waybill", **kwargs: Any) -> Extractor:
    """An Extractor whose contact parsing is the rule-based parser: unit tests must not depend on
    what is installed in the model store (the contact model is trained by ``make setup`` only
    where the NER data is at hand)."""
    kwargs.setdefault("contact_parser", RuleContactParser())
    return Extractor(schema, **kwargs)
