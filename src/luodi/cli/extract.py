"""``luodi extract``: schema-driven fields from images/PDFs/folders, or from free text.

Images: ``luodi extract PATH... --schema waybill|bank_receipt|id_card|FILE.yaml``.
Text (one party, the ``contact`` schema): ``luodi extract --schema contact --text "..."`` or
``--text-file FILE`` (one text per line; one result per line, in the same order, empty lines
included so the lines stay aligned). stdout carries only results; errors go to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from luodi.cli import common

FORMATS = ("json", "jsonl")


@click.command("extract")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@common.schema
@click.option("--text", "texts", multiple=True, help="Extract from this text instead of images (repeatable).")
@click.option(
    "--text-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Extract from each line of FILE ('-' for stdin).",
)
@common.model
@common.runtime
@common.threads
@common.threshold
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="json (default; an array for several inputs) or jsonl.",
)
@click.option("-o", "--output", default=None, help="Write results to FILE instead of stdout.")
@click.option(
    "--visualize",
    type=click.Path(file_okay=False, path_type=Path),
    help="Draw the field boxes into DIR (green: accepted, red: needs review).",
)
@common.dpi
@click.option(
    "--learn-form",
    is_flag=True,
    help="PATHs are blank forms: print their printed lines as a `form_text:` YAML block for the schema.",
)
@click.option(
    "--second-reading",
    metavar="MODEL",
    help="Read the lines of accepted values again with MODEL's recogniser (e.g. pp-ocrv4) and flag "
    "values it reads otherwise (slower: about a third of OCR time more).",
)
@click.option(
    "--second-reading-doubted",
    is_flag=True,
    help="With --second-reading: read again only the values OCR was unsure of (a few per cent of OCR "
    "time): settles values doubted for single characters, checks no value OCR read sure.",
)
@common.no_locate
def extract(
    *,
    paths: tuple[str, ...],
    schema: str,
    texts: tuple[str, ...],
    text_file: Path | None,
    threshold: float | None,
    fmt: str | None,
    output: str | None,
    visualize: Path | None,
    dpi: int | None,
    learn_form: bool,
    second_reading: str | None,
    second_reading_doubted: bool,
    no_locate: bool,
    **settings: Any,
) -> None:
    """Extract the fields of a schema from images, PDFs and folders, or from text."""
    from luodi.config import load_settings
    from luodi.ocr.options import OCROptions
    from luodi.output import write_documents
    from luodi.pipeline import ExtractProcessor, Outcome, Pipeline

    text_mode = bool(texts) or text_file is not None
    if text_mode and paths:
        raise click.UsageError("give PATHs or --text/--text-file, not both")
    if not text_mode and not paths:
        raise click.UsageError("give at least one PATH, or --text / --text-file")
    pipeline = Pipeline(load_settings(**settings))
    task = pipeline.processor(
        "extract",
        schema,
        review_threshold=threshold,
        options=OCROptions(locate=False) if no_locate else None,
        second_reading=second_reading or None,
        second_reading_doubted=second_reading_doubted,
    )
    assert isinstance(task, ExtractProcessor)

    if text_mode:
        _extract_texts(task.extractor, list(texts), text_file, fmt, output)
        return

    run = common.PageRun(paths)
    if learn_form:
        _learn_form(pipeline.ocr, task.extractor.schema, [source for _, source in run.sources], dpi)
        return

    def results() -> Iterator[dict[str, Any]]:
        for _, source, done in run.results(pipeline, task, dpi):
            if not isinstance(done, Outcome):
                yield done  # the error record
                continue
            if visualize is not None:
                _draw_fields(done, source, visualize)
            yield done.to_dict()

    write_documents(results(), fmt or "json", output, many=run.several)
    run.finish()


def _draw_fields(done: Any, source: str, folder: Path) -> None:
    """The field boxes over the pages, one image per document found on a photo."""
    from luodi.kie.visualize import save_field_images
    from luodi.locate.extract import Extractions

    assert isinstance(done.result, Extractions)
    stem = Path(source).stem
    for j, part in enumerate(done.result.documents):
        name = f"{stem}.doc{j}" if done.result.located else stem
        save_field_images(part.extraction, list(done.pages), folder, name)


def _learn_form(ocr: Any, schema: Any, sources: list[str], dpi: int | None) -> None:
    import yaml

    from luodi.io import load_pages
    from luodi.kie.formtext import learn_form_text

    texts = []
    for source in sources:
        doc = ocr.run_pages(load_pages(source, pdf_dpi=dpi), source=source)
        texts += [[line.text for line in page.lines] for page in doc.pages]
    learned = learn_form_text(texts, schema)
    click.echo(f"# {len(learned)} printed lines of {len(sources)} blank form(s); add them to the schema", err=True)
    click.echo(yaml.safe_dump({"form_text": learned}, allow_unicode=True, sort_keys=False), nl=False)


def _extract_texts(
    extractor: Any, texts: list[str], text_file: Path | None, fmt: str | None, output: str | None
) -> None:
    """``--text`` / ``--text-file``: one result per text (per line of the file, empty ones included)."""
    from luodi.output import write_documents

    if text_file is not None:
        texts += _read_lines(text_file)
    several = len(texts) > 1 or text_file is not None
    records: Iterator[dict[str, Any]] = (extractor.extract_text(t).to_dict() for t in texts)
    write_documents(records, fmt or ("jsonl" if text_file is not None else "json"), output, many=several)


def _read_lines(path: Path) -> list[str]:
    from luodi.errors import InputNotFoundError

    if str(path) == "-":
        return sys.stdin.read().splitlines()
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise InputNotFoundError(f"{path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        from luodi.errors import InputError

        raise InputError(f"cannot read {path} as UTF-8 text: {exc}") from exc
