"""``luodi eval ner``: entity precision / recall / F1 of the contact parser on an express-NER BIO file."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("ner")
@click.option(
    "--data",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="BIO file in the express-NER format (header text_a<TAB>label; chars and tags joined by U+0002).",
)
@click.option(
    "--model",
    type=click.Path(path_type=Path, file_okay=False),
    help="Model folder (default $LUODI_HOME/models/express-ner).",
)
@click.option(
    "--mode",
    type=click.Choice(["combined", "model", "rules"]),
    default="combined",
    show_default=True,
    help="combined = model + phone rules + gazetteer; model = the tagger alone; rules = no model.",
)
def ner(data: Path, model: Path | None, mode: str) -> None:
    """Entity P/R/F1 per type (P name, T phone, A1-A4 address parts) and micro-averaged, as JSON."""
    from luodi.kie.contact.evaluate import evaluate_file

    result = evaluate_file(data, model=model, mode=mode)  # type: ignore[arg-type]
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))
