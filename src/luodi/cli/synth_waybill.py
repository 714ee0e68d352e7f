"""``luodi synth waybill``: synthetic waybill photos with ground-truth fields (labels.jsonl)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from luodi.cli.synth import parties_options, per_layout
from luodi.synth.waybill import (
    DEGRADES,
    FILLS,
    FRESH_LAYOUTS,
    HOLDOUT_LAYOUTS,
    LAYOUTS,
    WaybillOptions,
    generate_waybills,
)

_LAYOUT_HELP = (
    "Layout name or group, repeatable or comma-separated: "
    + ", ".join(LAYOUTS)
    + "; groups: dev (default, the layouts an extractor may be tuned on), holdout ("
    + ", ".join(HOLDOUT_LAYOUTS)
    + ": keep them for measurement only), all (dev + holdout), fresh ("
    + ", ".join(FRESH_LAYOUTS)
    + ": held out, drawn later, scored on their own)."
)


@click.command("waybill")
@click.option("-n", "--count", "count", type=click.IntRange(min=1), required=True, help="Number of waybills.")
@click.option(
    "-o", "--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder."
)
@click.option("--layout", "layouts", multiple=True, default=("dev",), show_default=True, help=_LAYOUT_HELP)
@click.option(
    "--degrade",
    type=click.Choice(DEGRADES),
    default="clean",
    show_default=True,
    help="clean renders; hard: rotation, perspective, blur, noise, thermal fading, low resolution, JPEG; "
    "scan / photo / photo_hard: photo-like renders (paper, background, folds, shadow, glare, stamps, camera blur).",
)
@click.option(
    "--fill",
    type=click.Choice(FILLS),
    default="full",
    show_default=True,
    help="full: filled-in forms; blank: only the printed form (labels, hints, 省/市/区县 grid); "
    "placeholder: template stand-ins (XXX, 收件人姓名, 138****0000). Blank and placeholder labels are all null "
    "but the carrier.",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Same seed, same images and labels."
)
@parties_options
def waybill(*, count: int, out: Path, ner_file: Path | None, **kw: Any) -> None:
    """Render synthetic waybills into OUT/images/*.jpg and OUT/labels.jsonl.

    Each labels.jsonl record is {"image", "layout", "holdout", "split", "degrade", "fill", "fields", "meta"}; "fields"
    uses the waybill schema's names (phones as digits, weight_kg a number, address parts).
    """
    options = WaybillOptions(ner_file=str(ner_file) if ner_file else None, **kw)  # the others are its fields
    records = generate_waybills(count, out, options)
    kind = "" if options.fill == "full" else f"{options.fill} "
    click.echo(f"wrote {len(records)} {kind}waybills ({per_layout(records)}) to {out / 'labels.jsonl'}")
