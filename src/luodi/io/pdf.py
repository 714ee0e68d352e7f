"""PDF rendering with PDFium (pypdfium2): one page at a time, limits checked before rendering.

PDFium is not thread-safe: no two threads may be inside it at once, and that includes closing
documents. Every PDFium call here runs under one process-wide lock, and every handle is closed
explicitly under that lock instead of being left to the garbage collector (whose finalizers could
run in another thread at any time). The lock is released between pages, so two threads rendering
two PDFs interleave page by page rather than one waiting for the other's whole document.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import numpy as np

from luodi.config import Limits
from luodi.errors import EmptyInputError, EncryptedPdfError, PdfError, TooManyPagesError
from luodi.io.image import check_pixels

_PDFIUM_LOCK = threading.RLock()

# PDF user space unit: 1/72 inch.
_POINTS_PER_INCH = 72.0


def _pdfium() -> Any:
    # Imported on first use so `import luodi.io` stays light for callers that never see a PDF.
    import pypdfium2

    return pypdfium2


def rendered_size(width_pt: float, height_pt: float, dpi: int) -> tuple[int, int]:
    """Pixel size PDFium renders a page of ``width_pt x height_pt`` points to at ``dpi``."""
    scale = dpi / _POINTS_PER_INCH
    return math.ceil(width_pt * scale), math.ceil(height_pt * scale)


def _open(data: bytes) -> Any:
    pdfium = _pdfium()
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == pdfium.raw.FPDF_ERR_PASSWORD:
            raise EncryptedPdfError("the PDF is encrypted with a password; remove the password and retry") from exc
        if code == pdfium.raw.FPDF_ERR_SECURITY:
            raise EncryptedPdfError("the PDF uses an unsupported security handler (encryption)") from exc
        if code == pdfium.raw.FPDF_ERR_SUCCESS:
            # PDFium refuses a document without a usable page tree but reports no error code.
            raise PdfError("the PDF has no readable pages (its page tree is empty or missing)") from exc
        raise PdfError(f"the PDF is broken and cannot be opened ({exc})") from exc


def count_pdf_pages(data: bytes) -> int:
    """Number of pages of the PDF in ``data`` (raises the same errors as rendering would)."""
    with _PDFIUM_LOCK, closing(_open(data)) as doc:
        return len(doc)


def pdf_page_sizes(data: bytes, dpi: int, max_pages: int) -> list[tuple[int, int]]:
    """(width, height) in pixels of every page rendered at ``dpi``, read from the page tree only."""
    pdfium = _pdfium()
    with _PDFIUM_LOCK, closing(_open(data)) as doc:
        sizes = _page_tree(pdfium, doc, max_pages)
    return [rendered_size(width, height, dpi) for width, height in sizes]


def _page_tree(pdfium: Any, doc: Any, max_pages: int) -> list[tuple[float, float]]:
    """Every page's size in points, from the page tree (call it under ``_PDFIUM_LOCK``)."""
    try:
        count = len(doc)
        if count > max_pages:
            raise TooManyPagesError(f"the PDF has {count} pages, over the limit of {max_pages}")
        return [doc.get_page_size(i) for i in range(count)]
    except pdfium.PdfiumError as exc:
        raise PdfError(f"cannot read the PDF's page tree ({exc})") from exc


def iter_pdf_pages(data: bytes, limits: Limits, dpi: int, max_pages: int) -> Iterator[np.ndarray]:
    """Render every page of the PDF in ``data`` at ``dpi`` into RGB ``uint8`` arrays.

    The page count and every page's rendered size are checked before the first page is rendered,
    so a 500-page or a poster-sized PDF is refused without spending any rendering time on it.
    """
    pdfium = _pdfium()
    with _PDFIUM_LOCK:
        doc = _open(data)
    try:
        with _PDFIUM_LOCK:
            sizes = _page_tree(pdfium, doc, max_pages)
        count = len(sizes)
        if count == 0:
            raise EmptyInputError("the PDF has no pages")
        for index, (width_pt, height_pt) in enumerate(sizes):
            width, height = rendered_size(width_pt, height_pt, dpi)
            check_pixels(width, height, limits, what=f"PDF page {index + 1} at {dpi} dpi")
        for index in range(count):
            with _PDFIUM_LOCK:
                page_array = _render(pdfium, doc, index, dpi)
            yield page_array
            del page_array  # a streaming caller's page is not kept alive while the next one renders
    finally:
        with _PDFIUM_LOCK:
            doc.close()


def _render(pdfium: Any, doc: Any, index: int, dpi: int) -> np.ndarray:
    page = bitmap = None
    try:
        page = doc[index]
        bitmap = page.render(
            scale=dpi / _POINTS_PER_INCH,
            fill_color=(255, 255, 255, 255),
            rev_byteorder=True,  # RGB rather than PDFium's native BGR
            draw_annots=True,
        )
        pixels = bitmap.to_numpy()
        # The bitmap's buffer dies with the bitmap; rows may also be padded. Copy out compactly.
        return np.array(pixels[:, :, :3], dtype=np.uint8, order="C", copy=True)
    except pdfium.PdfiumError as exc:
        raise PdfError(f"cannot render PDF page {index + 1} ({exc})") from exc
    except ValueError as exc:  # pypdfium2 refuses degenerate (zero-size) pages this way
        raise PdfError(f"cannot render PDF page {index + 1}: {exc}") from exc
    finally:
        if bitmap is not None:
            bitmap.close()
        if page is not None:
            page.close()
