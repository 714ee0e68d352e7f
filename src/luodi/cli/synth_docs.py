"""``luodi synth bank-receipt`` and ``luodi synth id-card``: synthetic documents with KIE labels."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from luodi.cli import common
from luodi.cli.synth import parties_options
from luodi.synth.documents import DOC_DEGRADES

_DEGRADE_HELP = (
    "clean renders, or photo-like: scan (flat, paper texture), photo (on a background, perspective, shadow, "
    "blur), photo_hard (folds, glare, motion blur, low resolution, strong JPEG)."
)


def _options(layout_help: str) -> common.Decorator:
    return common.options(
        click.option("-n", "--count", "count", type=click.IntRange(min=1), required=True),
        click.option("-o", "--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True),
        click.option("--layout", "layouts", multiple=True, default=("dev",), show_default=True, help=layout_help),
        click.option(
            "--degrade", type=click.Choice(DOC_DEGRADES), default="clean", show_default=True, help=_DEGRADE_HELP
        ),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True),
        parties_options,
    )


def _run(kind: str, render: Callable[..., Any], count: int, out: Path, **kw: Any) -> None:
    from luodi.cli.synth import per_layout
    from luodi.synth.documents import DocOptions, write_set

    ner_file = kw.pop("ner_file")
    opts = DocOptions(**kw, ner_file=str(ner_file) if ner_file else None)
    records = write_set(count, out, lambda i: render(i, opts), jpeg_quality=opts.jpeg_quality)
    click.echo(f"wrote {len(records)} {kind} ({per_layout(records)}) to {out / 'labels.jsonl'}")


@click.command("bank-receipt")
@_options(
    "Style or group, repeatable or comma-separated: icbc_ebank, ccb_business (dev), abc_counter, boc_handwritten "
    "(holdout: measurement only), psbc_boxes (fresh holdout, only by name or the group fresh); groups dev, "
    "holdout, all, fresh."
)
def bank_receipt(*, count: int, out: Path, **kw: Any) -> None:
    """Render bank receipts (回单) into OUT/images/*.jpg and OUT/labels.jsonl (bank_receipt schema)."""
    from luodi.synth.bank_receipt import render_bank_receipt, resolve_styles

    resolve_styles(kw["layouts"])
    _run("bank receipts", render_bank_receipt, count, out, **kw)


@click.command("id-card")
@_options("Layout or group: card_scan (dev), card_photocopy (holdout: measurement only); groups dev, holdout, all.")
def id_card(*, count: int, out: Path, **kw: Any) -> None:
    """Render ID cards, front and back, into OUT/images/*.jpg and OUT/labels.jsonl (id_card schema)."""
    from luodi.synth.id_card import render_id_card, resolve_card_layouts

    resolve_card_layouts(kw["layouts"])
    _run("ID cards", render_id_card, count, out, **kw)
