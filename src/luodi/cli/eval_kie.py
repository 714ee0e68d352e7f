"""``luodi eval kie``: field accuracy and straight-through processing of an Extractor on labelled
images (or texts), as JSON; optionally the precision / coverage curve as a PNG and a table."""

from __future__ import annotations

import contextlib
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
    help="Folder relative image paths start from (default: the labels file's folder).",
)
@click.option(
    "--errors",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write each document's wrong fields to this JSONL file.",
)
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help="Review threshold.")
@click.option(
    "--complete",
    is_flag=True,
    help="Labels list every field a document has: a field a record leaves out must come back empty.",
)
@click.option(
    "--curve",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the precision / coverage curve over the review threshold: PATH.png and PATH.md.",
)
def kie(
    labels: Path,
    schema: str,
    model: str | None,
    root: Path | None,
    errors: Path | None,
    threshold: float | None,
    complete: bool,
    curve: Path | None,
) -> None:
    """Per-field accuracy, auto-accept rate and precision of what is accepted without review."""
    from luodi.kie.evaluate import Score, curve_markdown, evaluate, plot_curve, read_labels
    from luodi.kie.extractor import Extractor

    records = read_labels(labels)
    extractor = Extractor(schema, model=model, review_threshold=threshold)
    score = Score(complete=complete, fields=tuple(extractor.schema.fields))
    with errors.open("w", encoding="utf-8") if errors is not None else contextlib.nullcontext() as sink:
        for record, result, wrong in evaluate(extractor, records, score, root=root or labels.parent):
            if sink is not None and wrong:
                source = record.get("image", record.get("text"))
                sink.write(
                    json.dumps({"source": source, "wrong": wrong, "result": result.to_dict()}, ensure_ascii=False)
                    + "\n"
                )
    summary = {"labels": str(labels), "schema": extractor.schema.name, **score.summary()}
    if curve is not None:
        rows = summary["stp_curve"]
        plot_curve({labels.name: rows}, curve.with_suffix(".png"), title=f"{extractor.schema.name}: {labels}")
        curve.with_suffix(".md").write_text(
            curve_markdown(rows, current=extractor.review_threshold) + "\n", encoding="utf-8"
        )
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
