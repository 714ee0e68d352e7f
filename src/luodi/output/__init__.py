"""Writing OCR results: json / jsonl / txt / csv writers and side-by-side visualisations."""

from __future__ import annotations

from luodi.output.visualize import (
    VisualizationWriter,
    find_cjk_font,
    render_visualization,
    save_visualizations,
)
from luodi.output.writers import (
    CSV_COLUMNS,
    FORMATS,
    Record,
    Writer,
    check_format,
    document_to_dict,
    document_to_json,
    error_record,
    is_error_record,
    make_writer,
    write_documents,
)

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "Record",
    "VisualizationWriter",
    "Writer",
    "check_format",
    "document_to_dict",
    "document_to_json",
    "error_record",
    "find_cjk_font",
    "is_error_record",
    "make_writer",
    "render_visualization",
    "save_visualizations",
    "write_documents",
]
