"""Frozen result types of the OCR pipeline: Document → Page → Line.

One return type always. ``to_dict()`` gives exactly the JSON shape documented in DESIGN.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]


@dataclass(frozen=True, slots=True)
class Line:
    """One recognised text line.

    ``box`` is the line's quadrilateral in page pixel coordinates, clockwise from top-left in
    reading direction. ``char_scores`` holds one CTC confidence per character of ``text`` and
    ``char_positions`` the horizontal centre of each character as a fraction (0..1) of the line's
    reading length, so a caller can cut a sub-box for a substring (see :meth:`sub_box`).
    """

    text: str
    score: float
    box: Quad
    char_scores: tuple[float, ...] = ()
    char_positions: tuple[float, ...] = ()
    angle: int = 0  # 0 or 180: what the line classifier decided

    def sub_box(self, start: int, end: int) -> Quad:
        """Approximate box of characters ``text[start:end]`` by interpolating along the line."""
        n = len(self.text)
        if n == 0 or not self.char_positions or (start <= 0 and end >= n):
            return self.box
        start = max(0, min(start, n - 1))
        end = max(start + 1, min(end, n))
        pos = self.char_positions
        half = 0.5 / max(n, 1)
        lo = max(0.0, pos[start] - half if start == 0 else (pos[start - 1] + pos[start]) / 2)
        hi = min(1.0, pos[end - 1] + half if end == n else (pos[end - 1] + pos[end]) / 2)
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = self.box

        def lerp(a: Point, b: Point, t: float) -> Point:
            return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)

        tl, tr, br, bl = (x0, y0), (x1, y1), (x2, y2), (x3, y3)
        return (lerp(tl, tr, lo), lerp(tl, tr, hi), lerp(bl, br, hi), lerp(bl, br, lo))

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "score": round(float(self.score), 4),
            "box": [[round(float(x), 1), round(float(y), 1)] for x, y in self.box],
        }


@dataclass(frozen=True, slots=True)
class Page:
    index: int
    width: int
    height: int
    lines: tuple[Line, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "width": self.width,
            "height": self.height,
            "lines": [line.to_dict() for line in self.lines],
        }


@dataclass(frozen=True, slots=True)
class Timings:
    """Wall time per stage in milliseconds, summed over the document's pages."""

    det: float = 0.0
    cls: float = 0.0
    rec: float = 0.0
    total: float = 0.0

    def to_dict(self) -> dict[str, float]:
        return {k: round(float(getattr(self, k)), 2) for k in ("det", "cls", "rec", "total")}


@dataclass(frozen=True, slots=True)
class Document:
    source: str | None
    model: str
    pages: tuple[Page, ...] = ()
    timings: Timings = field(default_factory=Timings)

    @property
    def text(self) -> str:
        return "\n\n".join(page.text for page in self.pages)

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(line for page in self.pages for line in page.lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "model": self.model,
            "pages": [page.to_dict() for page in self.pages],
            "timings_ms": self.timings.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class RecResult:
    """What the recogniser read from one line crop (before it becomes a positioned ``Line``).

    ``char_scores``/``char_positions`` hold one entry per character of ``text``: the CTC confidence
    and the character's centre as a fraction (0..1) of the crop's width in reading direction.
    """

    text: str
    score: float
    char_scores: tuple[float, ...] = ()
    char_positions: tuple[float, ...] = ()
