"""``luodi train vision`` (defect classifier) and ``luodi train anomaly`` (good parts only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from luodi.cli import common
from luodi.cli.train_dist import dist_options, run_options, train_run, zoo_name


@click.command("vision")
@run_options(
    example="examples/vision/magnetic_tile.yml",
    resumes_from="checkpoint",
    no_export="Only train; no ONNX export or zoo registration.",
)
@dist_options
@click.pass_context
def vision(
    ctx: click.Context,
    /,
    config_file: Path,
    name: str | None,
    resume: Path | None,
    no_export: bool,
    force: bool,
    **launch: Any,
) -> None:
    """Train a defect classifier on folder-per-class images (or a CSV); with --name, export and register it.

    With --nproc N (and --nnodes M --master HOST:PORT on each node) it trains data-parallel: docs/batch.md.
    """
    from luodi.vision.classify import export_classifier, train_classifier
    from luodi.vision.config import load_vision_config

    config = load_vision_config(config_file)
    registered = zoo_name(name, resume)
    if registered and not no_export and not force:
        from luodi.zoo import resolve_home
        from luodi.zoo.store import MANIFEST, bundle_dir

        if (bundle_dir(resolve_home(), registered) / MANIFEST).is_file():
            raise click.UsageError(f"model {registered!r} already exists; pass --force to replace it")
    result = train_run(ctx, train_classifier, config, saves_on_interrupt=False)
    if result is None:
        return
    summary: dict[str, object] = {
        "run_dir": str(result.run_dir),
        "labels": list(result.labels),
        "epochs": result.epochs,
        "best_epoch": result.best_epoch,
        "eval_accuracy": result.best.get("accuracy"),
        "eval_macro_f1": result.best.get("macro_f1"),
        "seconds": round(result.seconds, 1),
    }
    if registered and not no_export:
        bundle, diff = export_classifier(result.run_dir, registered, force=force)
        summary["model"] = bundle.name
        summary["export_max_rel_diff"] = diff
        click.echo(f"registered {bundle.name}: luodi inspect IMAGE --model {bundle.name}", err=True)
    click.echo(json.dumps(summary, ensure_ascii=False))


@click.command("anomaly")
@click.option(
    "--good",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder of images of good (defect-free) parts.",
)
@click.option("--name", required=True, help="Zoo name to register the anomaly model under.")
@click.option(
    "--backbone",
    help="Backbone bundle from the zoo (default: efficientnet-lite2, luodi.vision.bundle.ANOMALY_BACKBONE).",
)
@click.option(
    "--resize",
    type=click.Choice(["native", "square"]),
    default="native",
    show_default=True,
    help="native: each image at its own resolution, turned to landscape; square: squashed to "
    "--image-size x --image-size.",
)
@click.option(
    "--image-size",
    type=click.IntRange(64, 2048),
    default=320,
    show_default=True,
    help="native: longest side an image keeps (larger ones are shrunk); square: the side.",
)
@click.option(
    "--false-alarm-rate",
    "far",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.01,
    show_default=True,
    help="Share of good parts you accept to see flagged; sets the threshold.",
)
@click.option(
    "--held",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of other good parts to set the threshold on (then all of --good builds the bank). "
    "Use it when --good holds several shots of one part: a held-back shot of a part in the bank "
    "sets the threshold too low.",
)
@click.option(
    "--holdout",
    type=click.FloatRange(0.05, 0.8),
    default=0.2,
    show_default=True,
    help="Share of the good images held back (not in the bank) to set the threshold on.",
)
@click.option(
    "--coreset",
    type=click.FloatRange(0, 1, min_open=True),
    help="Share of patch features kept in the memory bank (greedy coreset; default 0.2, luodi.vision.anomaly.CORESET).",
)
@click.option(
    "--max-bank",
    type=click.IntRange(min=1),
    help="Most patch features in the bank (bounds memory and scoring time; default 32768, "
    "luodi.vision.anomaly.MAX_BANK).",
)
@click.option(
    "--project",
    "project_to",
    type=click.IntRange(min=0),
    help="Principal axes of the patch features the bank keeps (0: all values, no projection; "
    "default 96, luodi.vision.anomaly.PROJECT).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing zoo model of the same name.")
def anomaly(*, good: Path, name: str, far: float, **options: Any) -> None:
    """Build an anomaly model from good parts only (PatchCore memory bank) and register it as NAME."""
    from luodi.vision.anomaly import train_anomaly

    # the other options are train_anomaly's keywords; the bank's take the library's defaults unless given
    unset = [k for k in ("coreset", "max_bank", "project_to") if options[k] is None]
    options = {k: v for k, v in options.items() if k not in unset}
    result = train_anomaly(good, name, false_alarm_rate=far, on_log=common.say, **options)
    click.echo(
        json.dumps(
            {
                "model": result.name,
                "bank_images": result.bank_images,
                "held_images": result.held_images,
                "patches": result.patches,
                "bank_size": result.bank_size,
                "threshold": round(result.threshold, 6),
                "false_alarm_rate": result.false_alarm_rate,
                "skipped": len(result.report.skipped),
                "masks_without_image": len(result.report.masks_without_image),
                "seconds": {k: round(v, 1) for k, v in result.seconds.items()},
            },
            ensure_ascii=False,
        )
    )
