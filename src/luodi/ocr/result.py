"""Frozen result types of the OCR pipeline: Document → Page → Line, and Page → PageDocument → Line.

One return type always. ``to_dict()`` gives exactly the JSON shape documented in docs/architecture.md
and docs/ocr.md. ``Page.lines`` holds every line read on the page in page pixels, for a flat scan as
for a photo; on a photo (``Page.located``) each document found on it is a ``PageDocument`` with the
same lines again in its own straightened pixels (what extraction reads), ``line_ids`` naming them
in ``Page.lines``.
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
    cut_off: bool = False  # the line runs into the frame edge: its text may be incomplete
    # Per character, blue's lead over red and green on its ink (luodi.ocr.ink): ballpoint ink, a
    # handwriting cue on forms printed in black; empty where not measured (OCROptions.mark_pen off).
    char_blue: tuple[float, ...] = ()

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
        out: dict[str, Any] = {
            "text": self.text,
            "score": round(float(self.score), 4),
            "box": _points(self.box),
        }
        if self.cut_off:
            out["cut_off"] = True
        return out


def _points(points: Any) -> list[list[float]]:
    return [[round(float(x), 1), round(float(y), 1)] for x, y in points]


@dataclass(frozen=True, slots=True)
class PageDocument:
    """One document (a label, a sheet) found on a photographed page, read straightened.

    ``quad`` is where it lies on the page (page pixels), clockwise from the document's own
    top-left as its text reads; ``polygon`` its outline (it follows a bent label); ``width`` and
    ``height`` the size it was read at; ``lines`` its lines in those straightened pixels, in
    reading order, and ``line_ids`` the same lines' positions in ``Page.lines``. ``rotation`` is
    how far it is turned on the page (degrees counter-clockwise of its top edge), ``transform``
    the 3×3 matrix (row-major) from its pixels to the page's. ``cut_off``: it runs off the frame.
    """

    index: int
    quad: Quad
    width: int
    height: int
    lines: tuple[Line, ...] = ()
    line_ids: tuple[int, ...] = ()
    polygon: tuple[Point, ...] = ()
    rotation: float = 0.0
    score: float = 0.0
    method: str = "model"
    cut_off: bool = False
    transform: tuple[float, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def to_page(self, points: Any) -> list[Point]:
        """Points in this document's pixels → page pixels."""
        m = self.transform
        out: list[Point] = []
        for x, y in points:
            d = m[6] * x + m[7] * y + m[8]
            out.append(((m[0] * x + m[1] * y + m[2]) / d, (m[3] * x + m[4] * y + m[5]) / d))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "quad": _points(self.quad),
            "polygon": _points(self.polygon),
            "width": self.width,
            "height": self.height,
            "rotation": round(float(self.rotation), 1),
            "score": round(float(self.score), 4),
            "method": self.method,
            "cut_off": self.cut_off,
            "transform": [round(float(v), 6) for v in self.transform],
            "line_ids": list(self.line_ids),
            "lines": [line.to_dict() for line in self.lines],
        }


@dataclass(frozen=True, slots=True)
class Page:
    """One page. ``located``: the page was read as a photo (its documents found, straightened and
    read one by one); otherwise as one flat document, and ``documents`` is empty. ``flags`` say what
    a caller should know (``no_document``: a photo in which no document was found;
    ``too_many_documents``: more than the cap were found, the rest left unread;
    ``small_documents``: documents under 1% of the frame were located, whose print is too small to
    be sure of: some may be missed or misread)."""

    index: int
    width: int
    height: int
    lines: tuple[Line, ...] = ()
    documents: tuple[PageDocument, ...] = ()
    located: bool = False
    flags: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "width": self.width,
            "height": self.height,
            "lines": [line.to_dict() for line in self.lines],
            "located": self.located,
            "documents": [d.to_dict() for d in self.documents],
            "flags": list(self.flags),
        }


@dataclass(frozen=True, slots=True)
class Timings:
    """Wall time per stage in milliseconds, summed over the document's pages."""

    det: float = 0.0
    cls: float = 0.0
    rec: float = 0.0
    total: float = 0.0
    locate: float = 0.0  # finding the documents on photos (and warping them upright)

    def to_dict(self) -> dict[str, float]:
        return {k: round(float(getattr(self, k)), 2) for k in ("locate", "det", "cls", "rec", "total")}


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

    @property
    def located(self) -> bool:
        return any(page.located for page in self.pages)

    def parts(self) -> tuple[DocumentPart, ...]:
        """What to extract fields from, one part per document: each document located on a photo
        alone, as a one-page Document in its straightened pixels; the flat pages together, as one
        Document. An input without photos is one part, itself; a photo with nothing found, none."""
        if not self.located:
            return (DocumentPart(self, None, None),)
        parts: list[DocumentPart] = []
        flat = tuple(p for p in self.pages if not p.located)
        if flat:
            parts.append(DocumentPart(Document(self.source, self.model, flat, self.timings), None, None))
        for page in self.pages:
            for d in page.documents:
                sub = Page(index=page.index, width=d.width, height=d.height, lines=d.lines)
                parts.append(DocumentPart(Document(self.source, self.model, (sub,), self.timings), page.index, d))
        return tuple(parts)


@dataclass(frozen=True, slots=True)
class DocumentPart:
    """One document of an input (see :meth:`Document.parts`): ``page`` and ``located`` say where it
    was found on a photo (both None for flat pages)."""

    document: Document
    page: int | None
    located: PageDocument | None


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
