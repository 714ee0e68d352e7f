"""Accepted review items, written in the formats trainers read.

===========  ==================================================================================
``rec``      PaddleOCR recognition: ``images/<id>.<ext>`` line crops + ``rec_gt.txt``
             (``images/x.png<TAB>text``), what ``luodi train rec`` (``Train.labels``) reads
``det``      PaddleOCR detection: page images + ``det_gt.txt``
             (``images/x.png<TAB>[{"transcription": ..., "points": [[x, y], ...]}]``)
``kie``      luodi's KIE JSONL: ``images/`` + ``labels.jsonl`` ``{"image", "fields", "boxes"}``,
             what ``luodi eval kie --labels`` reads
``tsv``      PaddleNLP text classification: ``train.txt`` (``text<TAB>label``) + ``label.txt``
``folder``   folder-per-class images: ``<class>/<id>.<ext>``
===========  ==================================================================================

Every image is decoded before it is written: one that does not decode is skipped and named in the
report, and the export goes on. Label files are written last, through a temporary file, so a label
file never names an image that is not there.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luodi.errors import InputError, LuodiError, OutputError
from luodi.review.images import image_ext
from luodi.review.store import Item, ReviewStore

FORMATS = ("rec", "det", "kie", "tsv", "folder")
_KINDS = {"rec": ("line",), "det": ("line", "document"), "kie": ("document",), "tsv": ("text",), "folder": ("image",)}
_LABEL_FILES = {"rec": "rec_gt.txt", "det": "det_gt.txt", "kie": "labels.jsonl", "tsv": "train.txt"}
_CLASS_NAME = re.compile(r"^[^/\\\x00]+$")
IGNORE = "###"


@dataclass
class ExportReport:
    format: str
    out: Path
    written: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def skip(self, item: Item, why: str) -> None:
        self.skipped.append({"id": item.id, "source": item.source or "", "error": why})

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "out": str(self.out),
            "written": self.written,
            "skipped": self.skipped,
            "files": self.files,
        }


class _CorruptImageError(Exception):
    pass


def _checked(data: bytes) -> tuple[int, int]:
    """Decode the image fully (a truncated file fails here, not in the trainer); its size."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return int(im.width), int(im.height)
    except (OSError, SyntaxError, ValueError) as exc:  # PIL: OSError/UnidentifiedImageError, SyntaxError
        raise _CorruptImageError(f"image does not decode: {exc}") from exc


class _Writer:
    def __init__(self, store: ReviewStore, out: Path, report: ExportReport) -> None:
        self.store = store
        self.out = out
        self.report = report
        self.saved: dict[str, str] = {}  # image key -> relative path already written

    def image(self, key: str, folder: str = "images", stem: str | None = None) -> str:
        """Copy the store's image ``key`` under ``out/folder``; its relative path. Raises _CorruptImageError."""
        if key in self.saved and stem is None:
            return self.saved[key]
        try:
            data = self.store.images.get(key)
        except LuodiError as exc:
            raise _CorruptImageError(exc.message) from exc
        _checked(data)
        rel = f"{folder}/{stem or key.split('.', 1)[0][:24]}.{image_ext(data)}"
        _write_bytes(self.out / rel, data)
        self.saved.setdefault(key, rel)
        self.report.files.append(rel)
        return rel


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _write_text(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _one_line(text: str) -> str:
    return " ".join(str(text).replace("\t", " ").split())


def export(
    store: ReviewStore, fmt: str, out: Path, *, dataset: str | None = None, include_fields: bool = False
) -> ExportReport:
    """Write the store's accepted items of the kinds ``fmt`` takes into ``out``."""
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out = Path(out)
    report = ExportReport(fmt, out)
    writer = _Writer(store, out, report)
    kinds = ("line", "document") if fmt == "rec" and include_fields else _KINDS[fmt]
    statuses = ("accepted", "rejected", "waiting") if fmt == "det" else ("accepted",)
    chosen = store.iter_items(statuses=statuses, kinds=kinds, dataset=dataset)
    if fmt == "rec":
        rows = _rec(chosen, writer)
    elif fmt == "det":
        rows = _det(chosen, writer)
    elif fmt == "kie":
        rows = _kie(chosen, writer)
    elif fmt == "tsv":
        rows = _tsv(chosen, report)
    else:
        rows = _folder(chosen, writer)
    if fmt in _LABEL_FILES:
        _write_text(out / _LABEL_FILES[fmt], "".join(rows))
        report.files.append(_LABEL_FILES[fmt])
    return report


def _rec(chosen: Iterable[Item], w: _Writer) -> list[str]:
    rows: list[str] = []
    for item in chosen:
        if item.kind == "document":
            rows.extend(_field_crops(item, w))
            continue
        final = item.final()
        text = _one_line(final.get("text", ""))
        if final.get("illegible") or not text:
            continue
        try:
            rel = w.image(item.images[0], stem=item.id)
        except _CorruptImageError as exc:
            w.report.skip(item, str(exc))
            continue
        rows.append(f"{rel}\t{text}\n")
        w.report.written += 1
    return rows


def _field_crops(item: Item, w: _Writer) -> list[str]:
    """Crops of a document's single-line field values: the printed text (``raw``) when the value was
    accepted as suggested, the reviewer's value when it was corrected."""
    import numpy as np
    from PIL import Image

    from luodi.ocr.crop import crop_quad
    from luodi.review.ingest import encode_png

    rows: list[str] = []
    suggested = item.suggestion.get("fields") or {}
    for name, entry in (item.final().get("fields") or {}).items():
        box, value = entry.get("box"), entry.get("value")
        before = suggested.get(name) or {}
        if box is None or value is None:
            continue
        text = before.get("raw") if value == before.get("value") and before.get("raw") else value
        text = _one_line(str(text))
        page = int(entry.get("page", before.get("page") or 0) if box == before.get("box") else entry.get("page", 0))
        if not text or page >= len(item.images):
            continue
        try:
            data = w.store.images.get(item.images[page])
            _checked(data)
        except (LuodiError, _CorruptImageError) as exc:
            w.report.skip(item, str(exc))
            return rows
        with Image.open(io.BytesIO(data)) as im:
            image = np.asarray(im.convert("RGB"))
        quad = np.asarray(box, dtype=np.float32)
        width, height = np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[3] - quad[0])
        if height <= 0 or width / height < 1.0:  # not one horizontal line: no use to a line recogniser
            continue
        rel = f"images/{item.id}-{re.sub(r'[^A-Za-z0-9_]', '_', name)}.png"
        _write_bytes(w.out / rel, encode_png(crop_quad(image, quad)))
        w.report.files.append(rel)
        rows.append(f"{rel}\t{text}\n")
        w.report.written += 1
    return rows


def _det(chosen: Iterable[Item], w: _Writer) -> list[str]:  # noqa: PLR0912 - one case per kind of reviewed item
    """One row per page: a page's reviewed lines; a document's OCR lines where no line was reviewed."""
    pages: dict[str, list[dict[str, Any]]] = {}
    waiting: set[str] = set()
    owners: dict[str, Item] = {}
    documents: list[Item] = []
    for item in chosen:
        if item.kind == "document":
            if item.status == "accepted":
                documents.append(item)
            continue
        if item.parent_image is None:
            continue
        owners.setdefault(item.parent_image, item)
        regions = pages.setdefault(item.parent_image, [])
        if item.status == "waiting":
            waiting.add(item.parent_image)
        elif item.status == "accepted":
            final = item.final()
            text = IGNORE if final.get("illegible") else _one_line(final.get("text", ""))
            regions.append({"transcription": text or IGNORE, "points": item.suggestion.get("box")})
        # a rejected line is not text: no region
    for doc in documents:
        for number, key in enumerate(doc.images):
            if key in pages:
                continue
            lines = [ln for ln in doc.suggestion.get("lines") or () if int(ln.get("page", 0)) == number]
            pages[key] = [{"transcription": _one_line(ln["text"]) or IGNORE, "points": ln["box"]} for ln in lines]
            owners[key] = doc
    rows = []
    for key, regions in pages.items():
        owner = owners[key]
        if key in waiting:
            w.report.skip(owner, "the page has lines still waiting for review")
            continue
        if not regions:
            continue
        try:
            rel = w.image(key)
        except _CorruptImageError as exc:
            w.report.skip(owner, str(exc))
            continue
        rows.append(f"{rel}\t{json.dumps(regions, ensure_ascii=False)}\n")
        w.report.written += 1
    return rows


def _kie(chosen: Iterable[Item], w: _Writer) -> list[str]:
    rows = []
    for item in chosen:
        fields = item.final().get("fields") or {}
        try:
            rel = w.image(item.images[0], stem=item.id)
        except _CorruptImageError as exc:
            w.report.skip(item, str(exc))
            continue
        record = {
            "image": rel,
            "fields": {name: entry.get("value") for name, entry in fields.items()},
            "boxes": {name: entry["box"] for name, entry in fields.items() if entry.get("box") is not None},
            "schema": item.schema,
            "source": item.source,
        }
        rows.append(json.dumps(record, ensure_ascii=False) + "\n")
        w.report.written += 1
    return rows


def _tsv(chosen: Iterable[Item], report: ExportReport) -> list[str]:
    rows, labels = [], set()
    for item in chosen:
        label = item.final().get("label")
        text = _one_line(item.text or "")
        if not label or not text:
            report.skip(item, "no class label" if not label else "empty text")
            continue
        label = _one_line(label)
        labels.add(label)
        rows.append(f"{text}\t{label}\n")
        report.written += 1
    _write_text(report.out / "label.txt", "".join(f"{name}\n" for name in sorted(labels)))
    report.files.append("label.txt")
    return rows


def _folder(chosen: Iterable[Item], w: _Writer) -> list[str]:
    for item in chosen:
        label = item.final().get("label")
        if not label or not _CLASS_NAME.match(label) or label.strip(". ") == "":
            w.report.skip(item, f"class label {label!r} cannot be a folder name")
            continue
        try:
            w.image(item.images[0], folder=label, stem=item.id)
        except _CorruptImageError as exc:
            w.report.skip(item, str(exc))
            continue
        w.report.written += 1
    return []
