"""``luodi synth parcel``: photos of parcels with waybill labels, ground truth per label (labels.jsonl)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from luodi.cli.synth import parties_options
from luodi.synth.parcel import DEV_FAMILIES, FAMILIES, HOLDOUT_FAMILIES, ParcelOptions, generate_parcels

_FAMILY_HELP = (
    "Texture family or group, repeatable or comma-separated: "
    + ", ".join(f"{name} ({f.kind})" for name, f in FAMILIES.items())
    + "; groups: dev (default: "
    + ", ".join(DEV_FAMILIES)
    + "), holdout ("
    + ", ".join(HOLDOUT_FAMILIES)
    + ": keep them for measurement only), all."
)


def _range(kind: type[int] | type[float]):  # type: ignore[no-untyped-def]
    def parse(ctx: click.Context, param: click.Parameter, value: str) -> tuple[float, float]:
        lo, _, hi = value.partition("-")
        try:
            a, b = kind(lo), kind(hi or lo)
        except ValueError:
            raise click.BadParameter(f"expected N or N-M, got {value!r}") from None
        return (a, b)

    return parse


@click.command("parcel")
@click.option("-n", "--count", "count", type=click.IntRange(min=1), required=True, help="Number of frames.")
@click.option(
    "-o", "--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder."
)
@click.option("--families", multiple=True, default=("dev",), show_default=True, help=_FAMILY_HELP)
@click.option(
    "--layout",
    "layouts",
    multiple=True,
    default=("dev",),
    show_default=True,
    help="Waybill layouts or groups (as `luodi synth waybill --layout`: dev, holdout, all or names).",
)
@click.option("--labels", default="1-4", show_default=True, callback=_range(int), help="Labels per frame, N or N-M.")
@click.option(
    "--megapixels", default="4-12", show_default=True, callback=_range(float), help="Frame size in MP, N or N-M."
)
@click.option(
    "--cut-off-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Frames whose first label runs off the edge.",
)
@click.option("--empty-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True, help="Frames with no label.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Same seed, same frames.")
@parties_options
@click.option("--flat/--no-flat", default=True, show_default=True, help="Also write each label flat (OUT/flat/).")
def parcel(*, count: int, out: Path, labels: tuple[int, int], megapixels: tuple[float, float], **kw: Any) -> None:
    """Render parcel photos into OUT/images/*.jpg and their ground truth into OUT/labels.jsonl.

    Each record: {"image", "width", "height", "families", "holdout", "view", "labels": [{"quad",
    "polygon", "fields", "layout", "holdout", "angle", "visible", "cut_off", "flat", "lines"}]};
    quads are frame pixels clockwise from each label's own top-left.
    """
    flat, ner_file = kw.pop("flat"), kw.pop("ner_file")
    options = ParcelOptions(  # the other options are its fields of the same name
        labels=(int(labels[0]), int(labels[1])),
        megapixels=(float(megapixels[0]), float(megapixels[1])),
        ner_file=str(ner_file) if ner_file else None,
        **kw,
    )
    records = generate_parcels(count, out, options, flat=flat)
    found = sum(len(r["labels"]) for r in records)
    click.echo(f"wrote {len(records)} frames with {found} labels to {out / 'labels.jsonl'}")
