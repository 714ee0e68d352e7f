"""``luodi train text``: train a text classifier or intent + slot model from one config; export and register it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from luodi.cli.train_dist import dist_options, run_options, train_run, zoo_name


@click.command("text")
@run_options(
    example="examples/text/", resumes_from="finished epoch", no_export="Only train; export and register later."
)
@click.option("--int8", is_flag=True, help="Register the dynamically quantized INT8 model instead of FP32.")
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
    **launch: Any,
) -> None:
    """Train on your own texts (TSV, JSON/JSONL, CoNLL); with --name the best epoch is exported and registered.

    With --nproc N (and --nnodes M --master HOST:PORT on each node) it trains data-parallel: docs/batch.md.
    """
    from luodi.text.config import load_text_config
    from luodi.text.train import train_text

    config = load_text_config(config_file)
    result = train_run(ctx, train_text, config)
    if result is None:
        return
    summary: dict[str, object] = {
        "run_dir": str(result.run_dir),
        "epochs": result.epochs,
        "seconds": round(result.seconds, 1),
        "best": result.best,
        "warnings": list(result.warnings),
    }
    if (registered := zoo_name(name, resume)) and not no_export:
        from luodi.text.export import export_text_run

        exported = export_text_run(result.run_dir, registered, int8=int8, force=force)
        summary.update(
            model=registered, onnx=str(exported.int8 or exported.onnx), export_max_abs_diff=exported.max_abs_diff
        )
        command = "nlu" if config.task == "nlu" else "classify"
        click.echo(f"registered {registered}: luodi text {command} -m {registered} --text ...", err=True)
    click.echo(json.dumps(summary, ensure_ascii=False))
