"""One extraction per document: what extraction returns for an input in which documents were located.

An input read flat (a scan, a PDF) is one document and its extraction keeps its usual shape. On a
photo every located document is extracted on its own, from its straightened lines
(:meth:`luodi.ocr.result.Document.parts`), and the result lists them under ``documents``:

- the top level keeps the usual keys, filled from the first document (documents are ordered top
  to bottom, then left to right), so a client that knows one label per photo keeps working;
- ``needs_review`` is forced when there is not exactly one document, with a reason saying so;
- field boxes are page pixels (mapped back from the straightened document), with their page;
- on a document cut off by the frame edge, fields whose box touches the edge and fields not
  found at all are flagged with a reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from luodi.kie.extractor import Extractor
    from luodi.kie.result import Extraction, FieldResult
    from luodi.ocr.result import Document, PageDocument

__all__ = ["DocumentExtraction", "Extractions", "extract_documents"]

CUT_OFF = "cut off by the frame edge"
MISSING_CUT_OFF = "not found; the document runs off the frame"
SMALL = (
    "documents under 1% of the frame were located: their print is too small to be sure of, some may be missed "
    "or misread (photograph fewer parcels per frame, or closer)"
)


@dataclass(frozen=True, slots=True)
class DocumentExtraction:
    """The fields of one document; ``page``/``located`` say where it was found on a photo."""

    extraction: Extraction
    page: int | None = None
    located: PageDocument | None = None

    def to_dict(self) -> dict[str, Any]:
        body = self.extraction.to_dict()
        body.pop("source", None)
        body.pop("schema", None)
        if self.located is None:
            return body
        d = self.located
        where = {"page": self.page, "index": d.index, "quad": [[round(x, 1), round(y, 1)] for x, y in d.quad]}
        return {**where, "cut_off": d.cut_off, **body}


@dataclass(frozen=True, slots=True)
class Extractions:
    """Every document's extraction for one input (see the module docstring for the JSON)."""

    source: str | None
    schema: str
    documents: tuple[DocumentExtraction, ...]
    located: bool
    empty: Extraction  # all fields missing: the top level when no document was found
    small: bool = False  # documents under 1% of a frame were located (the page's ``small_documents`` flag)

    @property
    def first(self) -> Extraction:
        """The first document's extraction (the empty one when none was found)."""
        return self.documents[0].extraction if self.documents else self.empty

    @property
    def needs_review(self) -> bool:
        return len(self.documents) != 1 or self.small or self.first.needs_review

    @property
    def reasons(self) -> tuple[str, ...]:
        if not self.located:
            return ()
        small = (SMALL,) if self.small else ()
        if len(self.documents) == 1:
            return small
        if not self.documents:
            return ("no document found in the photo", *small)
        return (f"{len(self.documents)} documents in the input: each is under documents", *small)

    def to_dict(self) -> dict[str, Any]:
        top = self.first.to_dict()
        if not self.located:
            return top
        top["needs_review"] = self.needs_review
        if self.reasons:
            top["reasons"] = [*top.get("reasons", []), *self.reasons]
            top = {k: top[k] for k in ("source", "schema", "needs_review", "reasons") if k in top} | top
        top["documents"] = [d.to_dict() for d in self.documents]
        return top


def extract_documents(extractor: Extractor, doc: Document, pages: Sequence[np.ndarray] | None = None) -> Extractions:
    """Extract ``extractor``'s schema from every document of ``doc`` (an OCR result). ``pages``
    (the page images) let the extractor's second reading, where it has one, read lines again: on
    the flat pages, whose lines are in page pixels (not yet on documents located on a photo)."""
    from luodi.ocr.result import Document as OcrDocument

    out: list[DocumentExtraction] = []
    for part in doc.parts():
        flat = pages if part.located is None else None
        extraction = extractor.extract_document(part.document, pages=flat)
        if part.located is not None and part.page is not None:
            extraction = _in_page(extraction, part.located, part.page, doc)
        out.append(DocumentExtraction(extraction, part.page, part.located))
    empty = extractor.extract_document(OcrDocument(doc.source, doc.model, (), doc.timings))
    small = any("small_documents" in page.flags for page in doc.pages)
    return Extractions(doc.source, extractor.schema.name, tuple(out), doc.located, empty, small)


def _in_page(extraction: Extraction, located: PageDocument, page: int, doc: Document) -> Extraction:
    """Field boxes to page pixels; on a cut-off document, fields at the edge or missing flagged."""
    width = height = 0
    for p in doc.pages:
        if p.index == page:
            width, height = p.width, p.height
    fields: list[FieldResult] = []
    for f in extraction.fields:
        box = None if f.box is None else tuple(located.to_page(f.box))
        reason = None
        if located.cut_off:
            if box is None and f.value is None:
                reason = MISSING_CUT_OFF
            elif box is not None and _at_edge(box, width, height):
                reason = CUT_OFF
        changed = dataclasses.replace(f, box=box, page=page)  # type: ignore[arg-type]
        if reason is not None:
            changed = dataclasses.replace(changed, needs_review=True, reasons=(*f.reasons, reason))
        fields.append(changed)
    review = extraction.needs_review or any(f.needs_review and f.found for f in fields)
    return dataclasses.replace(extraction, fields=tuple(fields), needs_review=review)


def _at_edge(box: Any, width: int, height: int) -> bool:
    tol = 0.005 * max(width, height)
    xs = [p[0] for p in box]
    ys = [p[1] for p in box]
    return bool(min(xs) <= tol or min(ys) <= tol or max(xs) >= width - tol or max(ys) >= height - tol)
