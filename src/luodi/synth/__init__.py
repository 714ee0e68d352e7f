"""Synthetic training and evaluation data: text lines and pages in chosen print styles.

``render_line(text, style, seed=...)`` draws one line (print, dotmatrix, thermal, stamp);
``generate_lines`` / ``generate_pages`` write PaddleOCR-format datasets; ``extract_lines`` turns the
express-waybill NER records into realistic lines. Everything is seeded and reproducible.
"""

from __future__ import annotations

from luodi.synth.fonts import KNOWN_FONTS, Font, FontSpec, available_fonts
from luodi.synth.lines import DatasetReport, PageSample, generate_lines, generate_pages, render_page
from luodi.synth.styles import SEVERITIES, STYLES, pick_font, render_line, text_mask
from luodi.synth.text import NerRecord, extract_lines, read_express_ner, read_text_lines

__all__ = [
    "KNOWN_FONTS",
    "SEVERITIES",
    "STYLES",
    "DatasetReport",
    "Font",
    "FontSpec",
    "NerRecord",
    "PageSample",
    "available_fonts",
    "extract_lines",
    "generate_lines",
    "generate_pages",
    "pick_font",
    "read_express_ner",
    "read_text_lines",
    "render_line",
    "render_page",
    "text_mask",
]
