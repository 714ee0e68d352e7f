"""``luodi train rec`` (fine-tune a recogniser) and ``luodi export`` (static graph + ONNX + zoo).

PaddlePaddle is imported only when one of these commands runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from luodi.cli import common
from luodi.cli.lazy import LazyGroup
from luodi.cli.train_dist import dist_options, run_options, train_run, zoo_name

# Subcommands that live in other modules; absent modules simply do not show up.
_EXTRA: dict[str, str] = {
    "vision": "luodi.cli.train_vision:vision",
    "anomaly": "luodi.cli.train_vision:anomaly",
    "kie": "luodi.cli.train_kie:kie",
}


@click.group(cls=LazyGroup, lazy_commands=_EXTRA)
def train() -> None:
    """Fine-tune models on your own samples (PaddlePaddle dynamic graph, CPU)."""


@train.command("rec")
@run_options(
    example="examples/finetune/dotmatrix.yml",
    resumes_from="checkpoint",
    no_export="Only train; export and register later with `luodi export`.",
)
@click.option(
    "--accept-regression",
    is_flag=True,
    help="Export even when the model lost more than Report.max_drop on the general regression set.",
)
@click.option(
    "--from-review",
    is_flag=False,
    flag_value="-",
    default=None,
    metavar="[DIR]",
    help="Add reviewed lines to Train.labels: alone, the review store's accepted lines (exported under "
    "output_dir); with DIR, a `luodi review export --format rec` folder.",
)
@dist_options
@click.pass_context
def rec(
    ctx: click.Context,
    /,
    config_file: Path,
    name: str | None,
    resume: Path | None,
    no_export: bool,
    force: bool,
    accept_regression: bool,
    from_review: str | None,
    **launch: Any,
) -> None:
    """Fine-tune a PP-OCR recogniser; with --name the best checkpoint is exported and registered as NAME.

    With --nproc N (and --nnodes M --master HOST:PORT on each node) it trains data-parallel: docs/batch.md.
    """
    from luodi.train.config import load_config
    from luodi.train.trainer import train as run_training

    say = common.say
    if from_review is not None:
        from luodi.review.loop import config_with_review

        config = config_with_review(config_file, from_review)
        say(f"training also on the reviewed lines in {config.Train.labels[-1]}")
    else:
        config = load_config(config_file)
    # the reviewed lines were exported here: the ranks read that export instead of making their own
    overrides = {"from_review": str(config.Train.labels[-1])} if from_review is not None else None
    result = train_run(ctx, run_training, config, overrides=overrides)
    if result is None:
        return
    summary: dict[str, object] = {
        "run_dir": str(result.run_dir),
        "steps": result.steps,
        "seconds": round(result.seconds, 1),
        "final_loss": round(result.final_loss, 4),
        "before": result.baseline.line_accuracy if result.baseline else None,
        "best": result.best.line_accuracy if result.best else None,
        "best_step": result.best.step if result.best else None,
        "added_characters": "".join(result.added_characters),
    }
    if result.report is not None:
        summary["report"] = result.report.to_json()["rows"]
        for warning in result.report.warnings():
            say(f"WARNING: {warning}")
    if (registered := zoo_name(name, resume)) and not no_export:
        from luodi.train.export import export_run

        if result.report is not None and result.report.regressed() and not accept_regression:
            click.echo(json.dumps(summary, ensure_ascii=False))
            say(
                f"not exported; to export anyway: luodi export {result.run_dir} --name {registered} --accept-regression"
            )
        exported = export_run(result.run_dir, registered, force=force, accept_regression=accept_regression)
        summary["model"] = registered
        summary["onnx"] = str(exported.onnx)
        summary["export_max_abs_diff"] = exported.max_abs_diff
        say(f"registered {registered}: luodi ocr --model {registered} IMAGE")
    click.echo(json.dumps(summary, ensure_ascii=False))


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--name", default=None, help="Register the export in the zoo under this name.")
@click.option(
    "--checkpoint",
    type=click.Choice(["best", "latest"]),
    default="best",
    show_default=True,
    help="Which weights of the run to export.",
)
@click.option(
    "-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Default RUN_DIR/export."
)
@click.option("--force", is_flag=True, help="Replace an existing zoo model of the same name.")
@click.option(
    "--accept-regression",
    is_flag=True,
    help="Export even when the run lost more than its limit on the general regression set.",
)
def export(*, run_dir: Path, name: str | None, out: Path | None, **options: Any) -> None:
    """Export a training run to a static graph (paddle.jit.save) and ONNX; optionally register it."""
    from luodi.train.export import export_run

    # --checkpoint, --force and --accept-regression are export_run's keywords
    result = export_run(run_dir, name, out_dir=out, **options)
    click.echo(
        json.dumps(
            {
                "onnx": str(result.onnx),
                "paddle": str(result.paddle_prefix),
                "dictionary": str(result.dictionary),
                "max_abs_diff": result.max_abs_diff,
                "model": name,
            },
            ensure_ascii=False,
        )
    )


def _register_text() -> None:
    # `luodi train text` lives in its own module (luodi.text owns it); imported lazily there
    from luodi.cli.train_text import text

    train.add_command(text)


_register_text()
