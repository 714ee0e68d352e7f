"""luodi (落地): offline Chinese document AI — OCR, key-information extraction, serving."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from luodi.errors import LuodiError
from luodi.ocr.result import Document, Line, Page, Timings

__version__ = "0.1.0"

if TYPE_CHECKING:
    from luodi.kie.extractor import Extractor
    from luodi.kie.result import Extraction
    from luodi.ocr.pipeline import OCR, OCROptions
    from luodi.pipeline import Pipeline

__all__ = [
    "OCR",
    "Document",
    "Extraction",
    "Extractor",
    "Line",
    "LuodiError",
    "OCROptions",
    "Page",
    "Pipeline",
    "Timings",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # Engines pull in numpy/opencv/onnxruntime; keep `import luodi` and `luodi --help` light.
    if name in ("OCR", "OCROptions"):
        from luodi.ocr import pipeline

        return getattr(pipeline, name)
    if name == "Pipeline":
        from luodi.pipeline import Pipeline

        return Pipeline
    if name in ("Extractor", "Extraction"):
        from luodi import kie

        return getattr(kie, name)
    raise AttributeError(f"module 'luodi' has no attribute {name!r}")
