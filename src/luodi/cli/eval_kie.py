"""``luodi eval kie``: field accuracy of an Extractor on labelled images (or texts), as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("kie")
@click.option(
    "--labels",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help='JSONL: {"image": PATH, "fields": {NAME: VALUE}} per line ("text" instead of "image" for text).',
)
@click.option("--schema", "-s", default="waybill", show_default=True, help="Schema name or YAML file.")
@click.option("--model", "-m", default=None, help="OCR model bundle.")
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder relative image paths start from (default: the labels file's folder).",
)
@click.option(
    "--errors",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write each document's wrong fields to this JSONL file.",
)
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help="Review threshold.")
@click.option(
    "--complete",
    is_flag=True,
    help="Labels list every field a document has: a field a record leaves out must come back empty.",
)
def kie(  # noqa: PLR0917 - click passes every option positionally
    labels: Path,
    schema: str,
    model: str | None,
    root: Path | None,
    errors: Path | None,
    threshold: float | None,
    complete: bool,
) -> None:
    """Per-field accuracy, micro accuracy and document exact rate of an extraction schema."""
    from luodi.kie.evaluate import Score, evaluate, read_labels
    from luodi.kie.extractor import Extractor

    records = read_labels(labels)
    extractor = Extractor(schema, model=model, review_threshold=threshold)
    score = Score(complete=complete, fields=tuple(extractor.schema.fields))
    sink = errors.open("w", encoding="utf-8") if errors is not None else None
    try:
        for record, result, wrong in evaluate(extractor, records, score, root=root or labels.parent):
            if sink is not None and wrong:
                source = record.get("image", record.get("text"))
                sink.write(
                    json.dumps({"source": source, "wrong": wrong, "result": result.to_dict()}, ensure_ascii=False)
                    + "\n"
                )
    finally:
        if sink is not None:
            sink.close()
    summary = {"labels": str(labels), "schema": extractor.schema.name, **score.summary()}
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
