"""``luodi review``: import a folder to label, export what was reviewed, and look after the store.

The store is the one ``luodi serve`` uses: SQLite under the model home unless ``--db`` (or
``LUODI_SERVE_REVIEW__DB_URL``) names a PostgreSQL URL; images in a folder or ``s3://bucket/prefix``
(``--images`` / ``LUODI_SERVE_REVIEW__IMAGES``).
"""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path
from typing import Any

import click

_AS = ("documents", "lines", "texts", "images")


@click.group()
@click.option(
    "--db",
    envvar="LUODI_SERVE_REVIEW__DB_URL",
    help="sqlite:///PATH or postgresql+psycopg://USER@HOST/DB [sqlite under $LUODI_HOME/review].",
)
@click.option(
    "--images",
    envvar="LUODI_SERVE_REVIEW__IMAGES",
    help="Image folder or s3://bucket/prefix [$LUODI_HOME/review/images].",
)
@click.option("--home", type=click.Path(path_type=Path, file_okay=False), default=None, help="Model home.")
@click.pass_context
def review(ctx: click.Context, db: str | None, images: str | None, home: Path | None) -> None:
    """The review and labelling store behind /ui (采集 → 标注 → 训练)."""
    ctx.obj = {"db": db, "images": images, "home": home}


def _store(ctx: click.Context) -> Any:
    from luodi.review import ReviewStore

    o = ctx.find_root().obj if ctx.obj is None else ctx.obj
    return ReviewStore.open(o["db"], o["images"], home=o["home"])


@review.command("migrate")
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Create or upgrade the store's tables (Alembic); every open does it too."""
    with closing(_store(ctx)) as store:
        from luodi.review.store import current_revision

        with store.engine.connect() as conn:
            revision = current_revision(conn)
        click.echo(json.dumps({"revision": revision, "database": store.engine.url.render_as_string()}))


@review.command("stats")
@click.pass_context
def stats(ctx: click.Context) -> None:
    """Waiting items per kind, and the filter values in use."""
    from luodi.review import QueueQuery

    with closing(_store(ctx)) as store:
        out = {
            "waiting": store.counts(),
            "accepted": store.queue(QueueQuery(status="accepted", limit=1)).total,
            "rejected": store.queue(QueueQuery(status="rejected", limit=1)).total,
            **store.facets(),
        }
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))


@review.command("import")
@click.argument("path", type=click.Path(path_type=Path, exists=True))
@click.option("--as", "kind", type=click.Choice(_AS), required=True, help="What each file becomes in the queue.")
@click.option("--schema", "-s", default="waybill", show_default=True, help="documents: the schema to pre-fill.")
@click.option("--classes", default="", help="texts/images: the class names, comma-separated.")
@click.option("--dataset", default=None, help="A name to group this import by (export --dataset NAME).")
@click.option("--no-prefill", is_flag=True, help="documents/lines: no OCR or extraction; start empty.")
@click.option("--model", "-m", default=None, help="OCR model bundle for the pre-fill.")
@click.pass_context
def import_(
    ctx: click.Context,
    path: Path,
    kind: str,
    schema: str,
    classes: str,
    dataset: str | None,
    no_prefill: bool,
    model: str | None,
) -> None:
    """Add a folder of images (or a text file: .txt / .tsv / .jsonl) to label.

    documents: one item per page image, fields pre-filled by the extractor. lines: every text line
    the OCR finds, as a crop with its text pre-filled. texts: one item per line of the file.
    images: one item per image; a file in a sub-folder named like a class starts with that class.
    """
    from luodi.config import get_settings
    from luodi.errors import InputError
    from luodi.review import ingest

    names = tuple(c.strip() for c in classes.split(",") if c.strip())
    if kind in ("texts", "images") and not names:
        raise InputError(f"--as {kind} needs --classes a,b,c")
    limits = get_settings().limits
    with closing(_store(ctx)) as store:
        if kind == "texts":
            if not path.is_file():
                raise InputError("--as texts takes a .txt, .tsv or .jsonl file")
            report = ingest.import_texts(store, path, classes=names, dataset=dataset)
        else:
            root = path if path.is_dir() else path.parent
            files = ingest.folder_images(path) if path.is_dir() else [path]
            if kind == "images":
                report = ingest.import_images(store, files, classes=names, dataset=dataset, root=root)
            elif kind == "documents":
                report = ingest.import_documents(
                    store,
                    files,
                    extract=None if no_prefill else _extract_fn(schema, model),
                    schema=schema,
                    dataset=dataset,
                    limits=limits,
                    root=root,
                )
            else:
                report = ingest.import_lines(
                    store, files, ocr=_ocr_fn(model, empty=no_prefill), dataset=dataset, limits=limits, root=root
                )
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        for skipped in report.skipped:
            click.echo(f"skipped {skipped['source']}: {skipped['error']}", err=True)


def _extract_fn(schema: str, model: str | None) -> Any:
    from luodi.kie import Extractor  # type: ignore[attr-defined]

    extractor = Extractor(schema, model=model)

    def run(data: bytes, name: str) -> Any:
        doc = extractor.ocr(data, extractor.ocr_options(), name=name)
        return extractor.extract_document(doc), doc

    return run


def _ocr_fn(model: str | None, *, empty: bool) -> Any:
    from luodi.ocr.pipeline import OCR

    engine = OCR(model)

    def run(page: Any, name: str) -> Any:
        doc = engine.run_pages([page], source=name)
        if empty:  # keep the detected boxes, drop what was read
            from dataclasses import replace

            pages = tuple(replace(p, lines=tuple(replace(ln, text="", score=0.0) for ln in p.lines)) for p in doc.pages)
            doc = replace(doc, pages=pages)
        return doc

    return run


@review.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["rec", "det", "kie", "tsv", "folder"]), required=True, help="Trainer format."
)
@click.option("-o", "--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Output folder.")
@click.option("--dataset", default=None, help="Only items imported under this name.")
@click.option("--with-fields", is_flag=True, help="rec: also crops of accepted single-line document fields.")
@click.pass_context
def export_(ctx: click.Context, fmt: str, out: Path, dataset: str | None, with_fields: bool) -> None:
    """Write accepted items in a trainer's format; an image that does not decode is skipped and named."""
    from luodi.review import export

    with closing(_store(ctx)) as store:
        report = export(store, fmt, out, dataset=dataset, include_fields=with_fields)
    summary = report.to_dict()
    summary.pop("files")
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    for skipped in report.skipped:
        click.echo(f"skipped {skipped['id']} ({skipped['source']}): {skipped['error']}", err=True)
