"""The per-call options of the page tasks, declared once for ``luodi ocr``, ``luodi extract`` and
``luodi batch ocr|extract``, and what every command uses to group options and to talk on stderr.
(Records are written by :func:`luodi.output.write_documents`.)"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import click

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def options(*decorators: Decorator) -> Decorator:
    """Several click options (or arguments) as one decorator, as if stacked in the order given."""

    def apply(fn: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


def say(message: str) -> None:
    """A line on stderr: progress, warnings and summaries (stdout carries results only)."""
    click.echo(message, err=True)


def output_file(path: Path | None, *, newline: str | None = None) -> contextlib.AbstractContextManager[TextIO]:
    """``path`` opened to write UTF-8 text (closed with the block), or stdout (left open) without one."""
    if path is None:
        return contextlib.nullcontext(sys.stdout)
    return open(path, "w", encoding="utf-8", newline=newline)


RUNTIMES = ("onnxruntime", "paddle", "openvino")

model = click.option("--model", "-m", default=None, help="OCR model bundle (default: settings, pp-ocrv6-small).")
runtime = click.option(
    "--runtime",
    type=click.Choice(RUNTIMES),
    help="Inference backend (default: the model's own — openvino for INT8 models from luodi quantize — "
    "else onnxruntime).",
)
threads = click.option(
    "--threads", type=click.IntRange(min=1), default=None, help="Threads per model (default: all cores)."
)
dpi = click.option("--dpi", type=click.IntRange(36, 600), default=None, help="Render PDF pages at this DPI.")
no_locate = click.option(
    "--no-locate", is_flag=True, help="Read photos whole: do not look for labels / sheets to straighten."
)
schema = click.option(
    "--schema",
    "-s",
    default="waybill",
    show_default=True,
    help="A built-in schema (waybill, bank_receipt, id_card; contact for --text) or a path to a schema YAML file.",
)
threshold = click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    help="Review threshold on field scores (default: the schema's, 0.8).",
)
