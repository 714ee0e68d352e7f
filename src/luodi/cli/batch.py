"""``luodi batch ocr|extract|text|inspect INPUT --output OUT``: large runs, resumable, on one machine or Ray.

INPUT is a folder, a glob, a list file (``*.lst``; ``*.txt`` for page tasks) or ``s3://bucket/prefix``;
OUT a folder or ``s3://bucket/prefix`` that receives JSONL or Parquet parts (docs/batch.md).
Progress, the Ray dashboard link, failures and the final counts go to stderr; the last line on
stdout is the summary as JSON. Exit status: 0 when every input was processed, 1 when some failed
(they are in OUT/errors/), as ``luodi extract`` does for a folder.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from luodi.batch.engine import DEFAULT_BATCH_SIZE, DEFAULT_PART_SIZE
from luodi.cli import common

#: failures echoed to stderr one by one; past this only counted (they are all in OUT/errors/)
MAX_LISTED = 20


@click.group("batch")
def batch() -> None:
    """Run a task over a folder, glob, list file or S3 prefix into partitioned output (local or Ray)."""


_common = common.options(
    click.argument("source", metavar="INPUT"),
    click.option("-o", "--output", required=True, help="Output folder or s3://bucket/prefix."),
    click.option("--format", "fmt", type=click.Choice(["jsonl", "parquet"]), default="jsonl", show_default=True),
    click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True),
    click.option(
        "--address",
        help="Ray cluster: host:port, ray://host:port or auto (default: start Ray on this machine).",
    ),
    click.option("--dashboard", is_flag=True, help="Ray started for this run: with its dashboard (costs CPU)."),
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
    common.runtime,
    click.option("--threads", type=click.IntRange(min=1), default=None, help="Inference threads per worker."),
    click.option("--no-progress", is_flag=True, help="No progress bar."),
)


@batch.command("ocr")
@_common
@common.model
@common.dpi
@common.no_locate
def ocr(model: str | None, dpi: int | None, no_locate: bool, **shared: Any) -> None:
    """OCR every image / PDF: one Document JSON per input."""
    params = {"no_locate": True} if no_locate else {}
    _run("ocr", None, params, shared, model=model, pdf_dpi=dpi)


@batch.command("extract")
@_common
@common.schema
@common.model
@common.threshold
@common.dpi
@common.no_locate
def extract(
    schema: str, model: str | None, threshold: float | None, dpi: int | None, no_locate: bool, **shared: Any
) -> None:
    """Extract a schema's fields from every image / PDF."""
    params: dict[str, Any] = {"review_threshold": threshold} if threshold is not None else {}
    if no_locate:
        params["no_locate"] = True
    _run("extract", schema, params, shared, model=model, pdf_dpi=dpi)


@batch.command("text")
@_common
@click.option("--model", "-m", required=True, help="Text model in the zoo (luodi train text).")
def text(model: str, **shared: Any) -> None:
    """Classify / parse every text file (*.txt, one text per line)."""
    _run("text", model, {}, shared)


@batch.command("inspect")
@_common
@click.option("--model", "-m", required=True, help="Vision model in the zoo (luodi train vision|anomaly).")
def inspect(model: str, **shared: Any) -> None:
    """Inspect every image with a vision model."""
    _run("inspect", model, {}, shared)


def _run(task: str, option: str | None, params: dict[str, Any], shared: dict[str, Any], **work: Any) -> None:
    from luodi.batch import BatchOptions, WorkSpec, list_inputs, run_batch

    say = common.say
    takes = "text" if task == "text" else "pages"
    inputs = list_inputs(shared["source"], takes=takes)
    if not inputs.refs:
        say(f"warning: {shared['source']} holds no inputs; nothing to do")
    spec = WorkSpec(task, option, params, runtime=shared["runtime"], threads=shared["threads"], **work)
    # the options named as BatchOptions' fields go over as they are
    same = {k: v for k, v in shared.items() if k in BatchOptions.__dataclass_fields__}
    options = BatchOptions(format=shared["fmt"], progress=not shared["no_progress"], **same)
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
