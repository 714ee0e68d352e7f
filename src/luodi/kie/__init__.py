"""Key-information extraction: schema-driven fields (waybill, contact, bank_receipt, id_card).

``from luodi.kie import Extractor, Extraction``. Heavy pieces load lazily so that importing the
package (for example for ``luodi.kie.contact``) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from luodi.kie.extractor import Extractor
    from luodi.kie.learned import LearnedLayout
    from luodi.kie.result import Extraction, FieldResult
    from luodi.kie.schema import Schema, list_schemas, load_schema

__all__ = ["Extraction", "Extractor", "FieldResult", "LearnedLayout", "Schema", "list_schemas", "load_schema"]

_WHERE = {
    "Extractor": "luodi.kie.extractor",
    "Extraction": "luodi.kie.result",
    "FieldResult": "luodi.kie.result",
    "LearnedLayout": "luodi.kie.learned",
    "Schema": "luodi.kie.schema",
    "list_schemas": "luodi.kie.schema",
    "load_schema": "luodi.kie.schema",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'luodi.kie' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
