"""``luodi train text``: train a text classifier or intent + slot model from one config; export and register it."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click


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
def text(
    *,
    config_file: Path,
    name: str | None,
    resume: Path | None,
    no_export: bool,
    int8: bool,
    force: bool,
    no_progress: bool,
) -> None:
    """Train on your own texts (TSV, JSON/JSONL, CoNLL); with --name the best epoch is exported and registered."""
    from luodi.text.config import load_text_config
    from luodi.text.train import train_text

    config = load_text_config(config_file)
    say = lambda msg: click.echo(msg, err=True)  # noqa: E731
    run_name = name or (None if resume else time.strftime("text-%Y%m%d-%H%M%S"))
    try:
        result = train_text(
            config, name=run_name, resume=resume, progress=not no_progress and sys.stderr.isatty(), on_log=say
        )
    except KeyboardInterrupt:
        target = resume or config.output_dir / str(run_name)
        say(f"interrupted; checkpoint saved. Continue with: luodi train text --config {config_file} --resume {target}")
        sys.exit(130)
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
