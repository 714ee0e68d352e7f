"""``luodi eval vision MODEL DATA``: accuracy / macro-F1 / confusion, or image and pixel AUROC."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click


@click.command("vision")
@click.argument("data", type=click.Path(exists=True, path_type=Path))
@click.option("--model", required=True, help="Vision model in the zoo (luodi train vision|anomaly).")
@click.option(
    "--split",
    type=click.Choice(["train", "val", "test"]),
    help="With a CSV: only the rows of this split.",
)
@click.option("--good-class", default=None, help="Anomaly models: the class of good parts (default: good/ok/normal).")
@click.option(
    "--confusion",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Classifiers: write the confusion matrix as a PNG.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSON report here too.",
)
@click.option("--runtime", type=click.Choice(["onnxruntime", "openvino", "paddle"]), default=None)
@click.option("--threads", type=click.IntRange(min=1), default=None)
def vision(*, data: Path, model: str, confusion: Path | None, output: Path | None, **options: Any) -> None:
    """Evaluate a vision model on a folder-per-class tree or a CSV (path,label[,mask][,split])."""
    from luodi.vision.evaluate import evaluate_vision
    from luodi.vision.metrics import confusion_png

    # --split, --good-class, --runtime and --threads are evaluate_vision's keywords of the same name
    result = evaluate_vision(model, data, **options)
    report = result.to_dict()
    if confusion is not None and result.classification is not None:
        confusion_png(result.classification, confusion, title=f"{model} on {data.name}")
        report["confusion_png"] = str(confusion)
    text = json.dumps(report, ensure_ascii=False, indent=1)
    if output is not None:
        output.write_text(text + "\n", encoding="utf-8")
    if result.report.skipped:
        click.echo(f"{len(result.report.skipped)} files skipped (unreadable or unknown class)", err=True)
    click.echo(text)
    sys.stdout.flush()
