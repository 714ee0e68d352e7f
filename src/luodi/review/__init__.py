"""Review and labelling: the queue people work from, and exports that train the models.

``ReviewStore`` keeps items (documents, text lines, texts, images) with the machine's suggestion and
the reviewer's labels; :func:`export` writes accepted items in the formats trainers read; the
service mounts the UI at ``/ui`` (:mod:`luodi.review.service`).
"""

from __future__ import annotations

from luodi.review.export import FORMATS, ExportReport, export
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
