"""Input decoding: images and PDFs into RGB pages, with limits; no model code lives here.

>>> from luodi.io import load_pages, iter_sources, sniff
>>> pages = load_pages("scan.pdf")          # list of H x W x 3 uint8 arrays, one per page
>>> for path in iter_sources(["inbox/"]):    # folders expanded, sorted
...     ...
"""

from __future__ import annotations

from luodi.io.image import composite_on_white, flatten_alpha
from luodi.io.load import Source, iter_pages, load_pages, page_sizes, read_file
from luodi.io.pdf import count_pdf_pages
from luodi.io.sniff import SUPPORTED_FORMATS, describe, is_supported, sniff
from luodi.io.sources import IMAGE_EXTENSIONS, iter_sources

__all__ = [
    "IMAGE_EXTENSIONS",
    "SUPPORTED_FORMATS",
    "Source",
    "composite_on_white",
    "count_pdf_pages",
    "describe",
    "flatten_alpha",
    "is_supported",
    "iter_pages",
    "iter_sources",
    "load_pages",
    "page_sizes",
    "read_file",
    "sniff",
]
