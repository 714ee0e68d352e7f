"""luodi (落地): offline Chinese document AI — OCR, key-information extraction, serving.

The public API is what this module exports (``__all__``); the subpackages behind it are internal and
may be reorganised between releases, as in httpx. Engines load lazily, so ``import luodi`` and
``luodi --help`` stay light: numpy, OpenCV and the runtimes are imported on first use of a name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from luodi import errors as _errors
from luodi.errors import LuodiError
from luodi.ocr.result import Document, Line, Page, Timings

__version__ = "0.1.0"

if TYPE_CHECKING:
    from luodi.config import Limits, Settings, load_settings
    from luodi.kie.extractor import Extractor
    from luodi.kie.result import Extraction, FieldResult
    from luodi.ocr.pipeline import OCR, OCROptions
    from luodi.pipeline import Item, ItemResult, Outcome, Pipeline

# name -> the internal module it lives in, imported on first use
_LAZY = {
    "OCR": "luodi.ocr.pipeline",
    "OCROptions": "luodi.ocr.options",
    "Extractor": "luodi.kie.extractor",
    "Extraction": "luodi.kie.result",
    "FieldResult": "luodi.kie.result",
    "Pipeline": "luodi.pipeline",
    "Item": "luodi.pipeline",
    "ItemResult": "luodi.pipeline",
    "Outcome": "luodi.pipeline",
    "Settings": "luodi.config",
    "Limits": "luodi.config",
    "load_settings": "luodi.config",
}

#: every error class of luodi.errors is public too (as httpx exports its exception tree)
_ERRORS = tuple(sorted(n for n, v in vars(_errors).items() if isinstance(v, type) and issubclass(v, LuodiError)))

__all__ = [
    "OCR",
    "Document",
    "Extraction",
    "Extractor",
    "FieldResult",
    "Item",
    "ItemResult",
    "Limits",
    "Line",
    "LuodiError",
    "OCROptions",
    "Outcome",
    "Page",
    "Pipeline",
    "Settings",
    "Timings",
    "__version__",
    "load_settings",
]
__all__ += list(_ERRORS)


def __getattr__(name: str) -> Any:
    if name in _ERRORS:
        return getattr(_errors, name)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'luodi' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
