"""``luodi synth lines``: labelled synthetic line crops in PaddleOCR rec format.

``synth waybill`` (synthetic waybill photos) joins the group when its module is installed.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click

from luodi.cli import common
from luodi.cli.lazy import LazyGroup

_EXTRA: dict[str, str] = {
    "waybill": "luodi.cli.synth_waybill:waybill",
    "bank-receipt": "luodi.cli.synth_docs:bank_receipt",
    "id-card": "luodi.cli.synth_docs:id_card",
    "parcel": "luodi.cli.synth_parcel:parcel",
    "ticket": "luodi.cli.synth_ticket:ticket",
}


#: ``--source`` and ``--ner-file``: where the rendered parties (names, phones, addresses) come from
parties_options = common.options(
    click.option(
        "--source",
        type=click.Choice(["train", "dev"]),
        default="train",
        show_default=True,
        help="Express NER split the parties come from (use dev for evaluation sets).",
    ),
    click.option(
        "--ner-file",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help="An express NER file to take parties from instead of the shared train/dev split.",
    ),
)


def per_layout(records: list[dict[str, Any]]) -> str:
    """``"layout-a 3, layout-b 2"``: how many rendered records each layout got, in order of first use."""
    counts = Counter(rec["layout"] for rec in records)
    return ", ".join(f"{k} {v}" for k, v in counts.items())


@click.group("synth", cls=LazyGroup, lazy_commands=_EXTRA)
def synth() -> None:
    """Make synthetic labelled data (seeded: the same seed gives the same bytes)."""


@synth.command("lines")
@click.option(
    "--style",
    type=click.Choice(["print", "dotmatrix", "thermal", "stamp"]),
    default="print",
    show_default=True,
    help="print: laser/offset print; dotmatrix: impact printer dots; thermal: faded receipts; stamp: red seals.",
)
@click.option(
    "--text",
    "text_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="UTF-8 text file, one line of text per line.",
)
@click.option(
    "--ner",
    "ner_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Or: a PaddleNLP express-NER file; names, phones, addresses and chunks are cut from its records.",
)
@click.option("-n", "count", type=click.IntRange(min=1), required=True, help="Number of line images.")
@click.option(
    "-o", "--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder."
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--severity",
    type=click.Choice(["mild", "hard"]),
    default="mild",
    show_default=True,
    help="How strong the degradations are (blur, noise, JPEG, rotation, low resolution...).",
)
@click.option("--font", "fonts", multiple=True, help="Only these fonts (repeatable), e.g. wqy-zenhei-sharp.")
@click.option(
    "--family",
    type=click.Choice(["train", "eval"]),
    help="One side of the renderer split (fonts, dot-matrix heads, degradations): train for fine-tuning data, "
    "eval for blind evaluation sets.",
)
def lines(  # noqa: PLR0917 - click passes every option positionally
    style: str,
    text_file: Path | None,
    ner_file: Path | None,
    count: int,
    out: Path,
    seed: int,
    severity: str,
    fonts: tuple[str, ...],
    family: str | None,
) -> None:
    """Render N labelled line images: OUT/images/*.png and OUT/labels.txt (path<TAB>text)."""
    from luodi.synth.fonts import available_fonts
    from luodi.synth.lines import generate_lines
    from luodi.synth.text import extract_lines, read_express_ner, read_text_lines

    if (text_file is None) == (ner_file is None):
        raise click.UsageError("give exactly one of --text FILE or --ner FILE")
    if text_file is not None:
        texts = read_text_lines(text_file)
    else:
        assert ner_file is not None
        texts = extract_lines(read_express_ner(ner_file), seed=seed)
    chosen = available_fonts(fonts) if fonts else None
    from tqdm import tqdm

    with tqdm(total=count, unit="line", file=sys.stderr, leave=False, disable=not sys.stderr.isatty()) as bar:
        report = generate_lines(
            texts,
            out,
            style=style,
            n=count,
            seed=seed,
            severity=severity,
            fonts=chosen,
            progress=lambda done, _n: bar.update(done - bar.n),  # nothing drawn when stderr is not a terminal
            family=family,
        )
    for text, why in report.skipped:
        click.echo(f"skipped {text!r}: {why}", err=True)
    summary = {
        "out": str(report.out_dir),
        "labels": str(report.label_file),
        "written": report.written,
        "skipped": len(report.skipped),
        "style": style,
        "severity": severity,
        "seed": seed,
    }
    click.echo(json.dumps(summary, ensure_ascii=False))
