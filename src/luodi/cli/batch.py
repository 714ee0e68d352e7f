"""``luodi batch ocr|extract|text|inspect INPUT --output OUT``: large runs, resumable, on one machine or Ray.

INPUT is a folder, a glob, a list file (``*.lst``; ``*.txt`` for page tasks) or ``s3://bucket/prefix``;
OUT a folder or ``s3://bucket/prefix`` that receives JSONL or Parquet parts (docs/batch.md).
Progress, the Ray dashboard link, failures and the final counts go to stderr; the last line on
stdout is the summary as JSON. Exit status: 0 when every input was processed, 1 when some failed
(they are in OUT/errors/), as ``luodi extract`` does for a folder.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from luodi.batch.engine import DEFAULT_BATCH_SIZE, DEFAULT_PART_SIZE

#: failures echoed to stderr one by one; past this only counted (they are all in OUT/errors/)
MAX_LISTED = 20


@click.group("batch")
def batch() -> None:
    """Run a task over a folder, glob, list file or S3 prefix into partitioned output (local or Ray)."""


def _common(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("source", metavar="INPUT"),
        click.option("-o", "--output", required=True, help="Output folder or s3://bucket/prefix."),
        click.option("--format", "fmt", type=click.Choice(["jsonl", "parquet"]), default="jsonl", show_default=True),
        click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True),
        click.option(
            "--address",
            default=None,
            help="Ray cluster: host:port, ray://host:port or auto (default: start Ray on this machine).",
        ),
        click.option("--actors", type=click.IntRange(min=1), default=None, help="Ray actors in the pool."),
        click.option("--actors-per-node", type=click.IntRange(min=1), default=None, help="Instead of --actors."),
        click.option(
            "--cpus-per-actor",
            type=click.FloatRange(min=0.01),
            default=1.0,
            show_default=True,
            help="CPUs each actor reserves; its inference threads follow (at least 1).",
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1),
            default=DEFAULT_BATCH_SIZE,
            show_default=True,
            help="Documents per worker call.",
        ),
        click.option(
            "--part-size",
            type=click.IntRange(min=1),
            default=DEFAULT_PART_SIZE,
            show_default=True,
            help="Documents per output part (the unit of commit and resume).",
        ),
        click.option("--resume", is_flag=True, help="Continue the run in OUTPUT; parts already written are skipped."),
        click.option("--overwrite", is_flag=True, help="Replace the run in OUTPUT."),
        click.option("--runtime", type=click.Choice(["onnxruntime", "paddle", "openvino"]), default=None),
        click.option("--threads", type=click.IntRange(min=1), default=None, help="Inference threads per worker."),
        click.option("--no-progress", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@batch.command("ocr")
@_common
@click.option("--model", "-m", default=None, help="OCR model bundle (default: settings).")
@click.option("--dpi", type=click.IntRange(36, 600), default=None, help="Render PDF pages at this DPI.")
@click.option("--no-locate", is_flag=True, help="Read photos whole: do not look for labels / sheets.")
def ocr(model: str | None, dpi: int | None, no_locate: bool, **common: Any) -> None:
    """OCR every image / PDF: one Document JSON per input."""
    params = {"no_locate": True} if no_locate else {}
    _run("ocr", None, params, common, model=model, pdf_dpi=dpi)


@batch.command("extract")
@_common
@click.option("--schema", "-s", default="waybill", show_default=True, help="Built-in schema or a YAML path.")
@click.option("--model", "-m", default=None, help="OCR model bundle (default: settings).")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help="Review threshold on field scores.")
@click.option("--dpi", type=click.IntRange(36, 600), default=None, help="Render PDF pages at this DPI.")
@click.option("--no-locate", is_flag=True, help="Read photos whole: do not look for labels / sheets.")
def extract(
    schema: str, model: str | None, threshold: float | None, dpi: int | None, no_locate: bool, **common: Any
) -> None:
    """Extract a schema's fields from every image / PDF."""
    params: dict[str, Any] = {"review_threshold": threshold} if threshold is not None else {}
    if no_locate:
        params["no_locate"] = True
    _run("extract", schema, params, common, model=model, pdf_dpi=dpi)


@batch.command("text")
@_common
@click.option("--model", "-m", required=True, help="Text model in the zoo (luodi train text).")
def text(model: str, **common: Any) -> None:
    """Classify / parse every text file (*.txt, one text per line)."""
    _run("text", model, {}, common)


@batch.command("inspect")
@_common
@click.option("--model", "-m", required=True, help="Vision model in the zoo (luodi train vision|anomaly).")
def inspect(model: str, **common: Any) -> None:
    """Inspect every image with a vision model."""
    _run("inspect", model, {}, common)


def _run(task: str, option: str | None, params: dict[str, Any], common: dict[str, Any], **work: Any) -> None:
    from luodi.batch import BatchOptions, WorkSpec, list_inputs, run_batch

    say = functools.partial(click.echo, err=True)
    takes = "text" if task == "text" else "pages"
    inputs = list_inputs(common["source"], takes=takes)
    if not inputs.refs:
        say(f"warning: {common['source']} holds no inputs; nothing to do")
    spec = WorkSpec(task, option, params, runtime=common["runtime"], threads=common["threads"], **work)
    options = BatchOptions(
        output=common["output"],
        format=common["fmt"],
        engine=common["engine"],
        address=common["address"],
        part_size=common["part_size"],
        batch_size=common["batch_size"],
        actors=common["actors"],
        actors_per_node=common["actors_per_node"],
        cpus_per_actor=common["cpus_per_actor"],
        resume=common["resume"],
        overwrite=common["overwrite"],
        progress=not common["no_progress"],
    )
    listed = 0

    def on_failure(record: dict[str, Any]) -> None:
        nonlocal listed
        listed += 1
        if listed <= MAX_LISTED:
            error = record.get("error", {})
            say(f"error: {record.get('source')}: {error.get('type')}: {error.get('message')}")

    say(f"{len(inputs)} inputs from {inputs.spec} -> {options.output} ({options.engine})")
    report = run_batch(spec, inputs, options, say=say, on_failure=on_failure)
    if listed > MAX_LISTED:
        say(f"... and {listed - MAX_LISTED} more failures")
    say(
        f"in {report.inputs}, out {report.out}, failed {report.failed} "
        f"({report.parts} parts, {report.parts_skipped} from an earlier run) in {report.seconds:.1f} s"
    )
    if report.failed:
        files = ", ".join(report.error_files[:3]) + (" ..." if len(report.error_files) > 3 else "")
        say(f"failed inputs and their reasons: {files} in {report.output}")
    click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    if report.failed:
        sys.exit(1)
