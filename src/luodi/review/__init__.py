"""Review and labelling: the queue people work from, and exports that train the models.

``ReviewStore`` keeps items (documents, text lines, texts, images) with the machine's suggestion and
the reviewer's labels; :func:`export` writes accepted items in the formats trainers read; the
service mounts the UI at ``/ui`` (:mod:`luodi.review.service`). SQLAlchemy and Alembic are imported
on first use of these names (``pip install 'luodi[review]'``), so settings can import the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from luodi.review.exports import FORMATS, ExportReport, export
    from luodi.review.store import Item, NewItem, QueuePage, QueueQuery, ReviewStore, default_labels

__all__ = [
    "FORMATS",
    "ExportReport",
    "Item",
    "NewItem",
    "QueuePage",
    "QueueQuery",
    "ReviewStore",
    "default_labels",
    "export",
]

_WHERE = {
    "FORMATS": "exports",
    "ExportReport": "exports",
    "export": "exports",
    "Item": "store",
    "NewItem": "store",
    "QueuePage": "store",
    "QueueQuery": "store",
    "ReviewStore": "store",
    "default_labels": "store",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'luodi.review' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"luodi.review.{module}"), name)
