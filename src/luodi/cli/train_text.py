"""``luodi train text``: train a text classifier or intent + slot model from one config; export and register it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from luodi.cli.train_dist import dist_options, run_name


@click.command("text")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Training config YAML (see examples/text/).",
)
@click.option("--name", default=None, help="Run name: the run folder under output_dir and the zoo name to register.")
@click.option(
    "--resume",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Continue the run in this folder from its last finished epoch.",
)
@click.option("--no-export", is_flag=True, help="Only train; export and register later.")
@click.option("--int8", is_flag=True, help="Register the dynamically quantized INT8 model instead of FP32.")
@click.option("--force", is_flag=True, help="Replace an existing zoo model of the same name.")
@click.option("--no-progress", is_flag=True, help="No progress bar (also off when stderr is not a terminal).")
@dist_options
@click.pass_context
def text(
    ctx: click.Context,
    /,
    *,
    config_file: Path,
    name: str | None,
    resume: Path | None,
    no_export: bool,
    int8: bool,
    force: bool,
    no_progress: bool,
    **launch: Any,
) -> None:
    """Train on your own texts (TSV, JSON/JSONL, CoNLL); with --name the best epoch is exported and registered.

    With --nproc N (and --nnodes M --master HOST:PORT on each node) it trains data-parallel: docs/batch.md.
    """
    from luodi.text.config import load_text_config
    from luodi.text.train import train_text
    from luodi.train.dist import current as current_world

    config = load_text_config(config_file)
    say = lambda msg: click.echo(msg, err=True)  # noqa: E731
    run = run_name(ctx, output_dir=config.output_dir, name=name, resume=resume, prefix="text")
    try:
        result = train_text(
            config, name=run, resume=resume, progress=not no_progress and sys.stderr.isatty(), on_log=say
        )
    except KeyboardInterrupt:
        target = resume or config.output_dir / str(run)
        say(f"interrupted; checkpoint saved. Continue with: luodi train text --config {config_file} --resume {target}")
        sys.exit(130)
    if not current_world().main:
        return  # rank 0 reports and exports
    summary: dict[str, object] = {
        "run_dir": str(result.run_dir),
        "epochs": result.epochs,
        "seconds": round(result.seconds, 1),
        "best": result.best,
        "warnings": list(result.warnings),
    }
    zoo_name = name if name is not None else (resume.name if resume else None)
    if zoo_name and not no_export:
        from luodi.text.export import export_text_run

        exported = export_text_run(result.run_dir, zoo_name, int8=int8, force=force)
        summary.update(
            model=zoo_name, onnx=str(exported.int8 or exported.onnx), export_max_abs_diff=exported.max_abs_diff
        )
        command = "nlu" if config.task == "nlu" else "classify"
        say(f"registered {zoo_name}: luodi text {command} -m {zoo_name} --text ...")
    click.echo(json.dumps(summary, ensure_ascii=False))
