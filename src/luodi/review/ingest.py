"""Turning results and folders into review items.

Only the public result types are used: :class:`~luodi.kie.result.Extraction` /
:class:`~luodi.kie.result.FieldResult` for documents, :class:`~luodi.ocr.result.Document` for lines.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from luodi.errors import InputError, LuodiError
from luodi.review.images import image_ext
from luodi.review.store import NewItem, ReviewStore

if TYPE_CHECKING:
    import numpy as np

    from luodi.config import Limits
    from luodi.kie.result import Extraction
    from luodi.ocr.result import Document

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
UNFLAGGED = "low score"  # a field the extractor flagged without saying why


def extraction_suggestion(extraction: Extraction, doc: Document | None = None) -> dict[str, Any]:
    """What the extractor said, as stored with a document item (and the OCR lines, for det export)."""
    fields: dict[str, Any] = {}
    for f in extraction.fields:
        entry = f.to_dict(with_page=True)
        entry["raw"] = f.raw
        entry.setdefault("reasons", [])
        fields[f.name] = entry
    out: dict[str, Any] = {"fields": fields, "needs_review": extraction.needs_review}
    if doc is not None:
        out["lines"] = [{**line.to_dict(), "page": page.index} for page in doc.pages for line in page.lines]
    return out


def extraction_flags(extraction: Extraction) -> tuple[tuple[str, str], ...]:
    # the document's own reasons (a blank form, two tracking numbers...) under the name "document"
    pairs: list[tuple[str, str]] = [("document", str(r)) for r in getattr(extraction, "reasons", ()) or ()]
    for f in extraction.fields:
        if f.needs_review:
            pairs.extend((f.name, r) for r in (f.reasons or (UNFLAGGED,)))
    return tuple(pairs)


def document_item(
    extraction: Extraction,
    pages: Sequence[bytes],
    *,
    origin: str,
    doc: Document | None = None,
    dataset: str | None = None,
    source: str | None = None,
) -> NewItem:
    return NewItem(
        kind="document",
        suggestion=extraction_suggestion(extraction, doc),
        images=tuple(pages),
        schema=extraction.schema,
        dataset=dataset,
        origin=origin,
        source=source if source is not None else extraction.source,
        flags=extraction_flags(extraction),
    )


def page_images(data: bytes, limits: Limits) -> list[bytes]:
    """Images to show for an input: the image bytes as sent, or each PDF page rendered to PNG."""
    from luodi.io import iter_pages  # one page decoded at a time; only the PNGs are kept

    if data.startswith(b"%PDF"):
        return [encode_png(page) for page in iter_pages(data, limits)]
    try:
        image_ext(data)
    except LuodiError:  # a format the browser may not show (e.g. PNM): keep a PNG of it
        return [encode_png(page) for page in iter_pages(data, limits)]
    return [data]


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of an RGB (what :func:`luodi.io.load_pages` gives) or grey ``uint8`` array."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    return buf.getvalue()


# --- import a folder ------------------------------------------------------------------------------
@dataclass
class ImportReport:
    added: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"added": self.added, "skipped": self.skipped}


def folder_images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def import_documents(
    store: ReviewStore,
    paths: Iterable[Path],
    *,
    extract: Callable[[Any, str], tuple[Extraction, Document]] | None,
    schema: str,
    dataset: str | None,
    limits: Limits,
    root: Path,
) -> ImportReport:
    """One document item per file, pre-filled by ``extract(pages, name)`` when given."""
    from luodi.kie.result import Extraction

    report = ImportReport()
    for path in paths:
        name = path.relative_to(root).as_posix()
        try:
            data = path.read_bytes()
            pages = page_images(data, limits)
            if extract is not None:
                extraction, doc = extract(data, name)
            else:
                extraction, doc = Extraction(source=name, schema=schema, fields=(), needs_review=True), None
            store.add(document_item(extraction, pages, origin="import", doc=doc, dataset=dataset, source=name))
            report.added += 1
        except (LuodiError, OSError) as exc:
            report.skipped.append({"source": name, "error": getattr(exc, "message", None) or str(exc)})
    return report


def line_items(
    doc: Document, page_key: str, page: np.ndarray, *, dataset: str | None, source: str
) -> Iterator[NewItem]:
    """One line item per OCR line of ``page``: its crop, the OCR text pre-filled, its place on the page."""
    import numpy as np

    from luodi.ocr.crop import crop_quad

    for number, line in enumerate(doc.pages[0].lines if doc.pages else ()):
        crop = crop_quad(page, np.asarray(line.box, dtype=np.float32))
        yield NewItem(
            kind="line",
            suggestion={"text": line.text, "score": round(float(line.score), 4), **_box(line.box)},
            images=(encode_png(crop),),
            dataset=dataset,
            origin="import",
            source=f"{source}#{number}",
            parent_image=page_key,
            flags=(("text", "low score"),) if line.score < 0.9 else (),
        )


def _box(quad: Any) -> dict[str, Any]:
    return {"box": [[round(float(x), 1), round(float(y), 1)] for x, y in quad]}


def import_lines(
    store: ReviewStore,
    paths: Iterable[Path],
    *,
    ocr: Callable[[Any, str], Document],
    dataset: str | None,
    limits: Limits,
    root: Path,
) -> ImportReport:
    """Each page's lines as line items (crops with the OCR text), for transcription."""
    from luodi.io import load_pages

    report = ImportReport()
    for path in paths:
        name = path.relative_to(root).as_posix()
        try:
            data = path.read_bytes()
            for number, page in enumerate(load_pages(data, limits)):
                page_bytes = encode_png(page)
                page_key = store.images.put(page_bytes)
                where = name if number == 0 else f"{name}@{number + 1}"
                doc = ocr(page, where)
                for item in line_items(doc, page_key, page, dataset=dataset, source=where):
                    store.add(item)
                    report.added += 1
        except (LuodiError, OSError) as exc:
            report.skipped.append({"source": name, "error": getattr(exc, "message", None) or str(exc)})
    return report


def import_images(
    store: ReviewStore, paths: Iterable[Path], *, classes: Sequence[str], dataset: str | None, root: Path
) -> ImportReport:
    """Image items for class labels; a file in a sub-folder named like a class is pre-labelled with it."""
    from PIL import Image

    report = ImportReport()
    for path in paths:
        name = path.relative_to(root).as_posix()
        try:
            data = path.read_bytes()
            with Image.open(io.BytesIO(data)) as im:
                im.verify()
            guess = path.parent.name if path.parent != root and path.parent.name in classes else None
            store.add(
                NewItem(
                    kind="image",
                    suggestion={"label": guess, "classes": list(classes)},
                    images=(data,),
                    dataset=dataset,
                    origin="import",
                    source=name,
                )
            )
            report.added += 1
        except (LuodiError, OSError, SyntaxError) as exc:  # PIL raises SyntaxError for some broken files
            report.skipped.append({"source": name, "error": getattr(exc, "message", None) or str(exc)})
    return report


def read_texts(path: Path) -> Iterator[tuple[str, str | None]]:
    """Texts to label: a ``.txt`` (one per line), a TSV ``text<TAB>label`` or a JSONL ``{"text", "label"}``."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        if path.suffix == ".jsonl":
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise InputError(f'{path}:{number}: expected {{"text": "...", "label": "..."}}')
            label = record.get("label")
            yield record["text"], label if isinstance(label, str) and label else None
        elif "\t" in line and path.suffix in (".tsv", ".txt"):
            text, _, label = line.partition("\t")
            yield text, label.strip() or None
        else:
            yield line, None


def import_texts(
    store: ReviewStore, path: Path, *, classes: Sequence[str], dataset: str | None, predict: Any = None
) -> ImportReport:
    """Text items for class labels; a label in the file (or ``predict(text)``) pre-fills it."""
    report = ImportReport()
    for number, (text, label) in enumerate(read_texts(path), 1):
        guess = label if label is not None else (predict(text) if predict is not None else None)
        store.add(
            NewItem(
                kind="text",
                suggestion={"label": guess, "classes": list(classes)},
                text=text,
                dataset=dataset,
                origin="import",
                source=f"{path.name}:{number}",
            )
        )
        report.added += 1
    return report
