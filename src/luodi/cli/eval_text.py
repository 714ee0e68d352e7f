"""``luodi eval text``: accuracy, macro-F1, per-class report, slot F1 and a confusion matrix PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click


@click.command("text")
@click.option(
    "--data",
    "data_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Labelled texts: TSV, JSON/JSONL or CoNLL (+ FILE.intent).",
)
@click.option("--model", "-m", required=True, help="A text model registered by `luodi train text --name`.")
@click.option(
    "--data-format",
    type=click.Choice(["tsv", "json", "jsonl", "conll"]),
    help="Default: from the file's suffix.",
)
@click.option(
    "--intent-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CoNLL only: the parallel intent file (default FILE.intent).",
)
@click.option(
    "--confusion",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the confusion matrix here as a PNG.",
)
@click.option(
    "--errors",
    "errors_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the misclassified texts here, one JSON object per line.",
)
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True)
def text(*, data_file: Path, model: str, data_format: str | None, **options: Any) -> None:
    """Score a text model on labelled texts; gold labels the model does not know count as errors."""
    from luodi.text.evaluate import evaluate_model

    # --intent-file, --confusion, --errors and --threads are evaluate_model's keywords of the same name
    report = evaluate_model(model, data_file, fmt=data_format, **options)
    for note in report["notes"]:
        click.echo(f"warning: {note}", err=True)
    click.echo(json.dumps(report, ensure_ascii=False, indent=1))
