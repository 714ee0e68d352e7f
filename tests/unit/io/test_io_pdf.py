"""PDF rendering: every page, at the chosen DPI, with page/pixel limits and clean errors."""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from io_samples import encode, make_pdf
from PIL import Image

from luodi.config import Limits
from luodi.errors import (
    ConfigError,
    EncryptedPdfError,
    PdfError,
    TooManyPagesError,
    TooManyPixelsError,
)
from luodi.io import count_pdf_pages, iter_pages, load_pages, sniff


def _encrypt(data: bytes, user_password: str) -> bytes:
    pypdf = pytest.importorskip("pypdf", reason="pypdf (dev extra) builds the encrypted test PDFs")
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(data))
    # RC4-128 needs no optional crypto library, so the test does not depend on one.
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_every_page_is_rendered_at_the_default_dpi() -> None:
    data = make_pdf([(72, 36), (144, 72), (36, 36)])  # points: 1 x 0.5 in, 2 x 1 in, 0.5 x 0.5 in
    assert sniff(data) == "pdf"
    pages = load_pages(data, Limits())
    assert [p.shape for p in pages] == [(100, 200, 3), (200, 400, 3), (100, 100, 3)]  # 200 dpi
    for page in pages:
        assert page.dtype == np.uint8 and page.flags.c_contiguous and page.flags.writeable


@pytest.mark.parametrize(("dpi", "expected"), [(72, (36, 72)), (150, (75, 150)), (300, (150, 300))])
def test_dpi_is_respected(dpi: int, expected: tuple[int, int]) -> None:
    [page] = load_pages(make_pdf([(72, 36)]), Limits(), pdf_dpi=dpi)
    assert page.shape[:2] == expected
    [page] = load_pages(make_pdf([(72, 36)]), Limits(pdf_dpi=dpi))
    assert page.shape[:2] == expected


def test_colours_come_out_as_rgb() -> None:
    [page] = load_pages(make_pdf([(40, 40)], color="red"), Limits(), pdf_dpi=72)
    r, g, b = (int(v) for v in page[20, 20])
    assert r > 240 and g < 15 and b < 15  # PDFium's native order is BGR; this catches a swap


def test_bad_dpi_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="pdf_dpi"):
        load_pages(make_pdf([(72, 72)]), Limits(), pdf_dpi=5000)


def test_too_many_pages() -> None:
    data = make_pdf([(20, 20)] * 5)
    assert count_pdf_pages(data) == 5
    with pytest.raises(TooManyPagesError, match="5 pages, over the limit of 4"):
        load_pages(data, Limits(max_pages=4))
    with pytest.raises(TooManyPagesError):
        load_pages(data, Limits(), max_pages=3)
    assert len(load_pages(data, Limits(max_pages=5))) == 5


def test_page_pixels_are_checked_before_rendering() -> None:
    # A 200 x 200 inch page at 600 dpi would be 14 gigapixels; it must be refused from its size.
    poster = make_pdf([(144, 144)], points_per_pixel=100)
    started = time.perf_counter()
    with pytest.raises(TooManyPixelsError, match="PDF page 1 at 600 dpi"):
        load_pages(poster, Limits(), pdf_dpi=600)
    assert time.perf_counter() - started < 1.0
    # The second page is the big one: nothing may be rendered before the refusal.
    mixed = make_pdf([(72, 72), (2000, 2000)])
    with pytest.raises(TooManyPixelsError, match="PDF page 2"):
        next(iter_pages(mixed, Limits(max_pixels=1_000_000), pdf_dpi=72))


def test_iter_pages_yields_one_page_at_a_time() -> None:
    pages = iter_pages(make_pdf([(72, 72), (36, 36)]), Limits(), pdf_dpi=72)
    assert next(pages).shape == (72, 72, 3)
    assert next(pages).shape == (36, 36, 3)
    with pytest.raises(StopIteration):
        next(pages)


def test_abandoned_iteration_releases_the_document() -> None:
    pages = iter_pages(make_pdf([(72, 72), (36, 36)]), Limits(), pdf_dpi=72)
    next(pages)
    pages.close()  # runs the generator's cleanup: the PDFium document is closed under the lock
    # The lock is free again: another PDF renders at once.
    assert len(load_pages(make_pdf([(10, 10)]), Limits(), pdf_dpi=72)) == 1


def test_password_protected_pdf_is_an_encrypted_pdf_error() -> None:
    locked = _encrypt(make_pdf([(72, 72)]), user_password="secret")
    with pytest.raises(EncryptedPdfError, match="password"):
        load_pages(locked, Limits())


def test_owner_password_only_pdf_still_renders() -> None:
    # Encrypted with an empty user password: readers open it without asking, and so do we.
    restricted = _encrypt(make_pdf([(72, 72)], color="blue"), user_password="")
    [page] = load_pages(restricted, Limits(), pdf_dpi=72)
    r, g, b = (int(v) for v in page[36, 36])
    assert r < 5 and g < 5 and b > 250


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n",
        b"%PDF-1.4\n" + bytes(range(256)) * 8,
        make_pdf([(300, 300)])[:400],
        # A catalog whose page tree has no pages at all.
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF",
        b"%PDF-1.4\ntrailer<<>>\n%%EOF",
    ],
    ids=["header-only", "garbage-body", "truncated", "zero-pages", "no-root"],
)
def test_broken_pdfs_raise_pdf_error(data: bytes) -> None:
    with pytest.raises(PdfError):
        load_pages(data, Limits())


def test_zero_page_pdf_written_by_a_real_library() -> None:
    pypdf = pytest.importorskip("pypdf", reason="pypdf (dev extra) writes the zero-page PDF")
    out = io.BytesIO()
    pypdf.PdfWriter().write(out)
    # PDFium refuses to open it; which error code it reports varies, the class must not.
    with pytest.raises(PdfError):
        load_pages(out.getvalue(), Limits())


def test_broken_xref_is_repaired_or_refused_cleanly() -> None:
    data = make_pdf([(72, 72), (36, 36)])
    # Point startxref at nonsense and mangle the table: PDFium rebuilds it by scanning objects.
    broken = data.replace(b"xref", b"xrfe").replace(b"startxref\n", b"startxref\n99999")
    pages = load_pages(broken, Limits(), pdf_dpi=72)
    assert [p.shape for p in pages] == [(72, 72, 3), (36, 36, 3)]


def test_pdf_with_leading_junk_is_still_a_pdf() -> None:
    data = b"\r\n" * 10 + make_pdf([(72, 72)])
    assert sniff(data) == "pdf"
    assert load_pages(data, Limits(), pdf_dpi=72)[0].shape == (72, 72, 3)


def test_concurrent_rendering_matches_sequential() -> None:
    # PDFium is not thread-safe; the module serialises it. Different PDFs from 4 threads must
    # render exactly as they do one after another.
    pdfs = []
    for shade in range(6):
        picture = Image.new("RGB", (120, 80), (shade * 40, 255 - shade * 40, 128))
        picture.paste((0, 0, 0), (10, 10, 60 + shade * 5, 40))
        pdfs.append(encode(picture, "PDF", save_all=True, append_images=[picture.rotate(90, expand=True)]))
    sequential = [load_pages(pdf, Limits(), pdf_dpi=100) for pdf in pdfs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda pdf: load_pages(pdf, Limits(), pdf_dpi=100), pdfs * 3))
    for index, pages in enumerate(concurrent):
        expected = sequential[index % len(pdfs)]
        assert len(pages) == len(expected)
        assert all(np.array_equal(a, b) for a, b in zip(pages, expected, strict=True))
