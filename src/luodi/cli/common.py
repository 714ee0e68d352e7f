"""The per-call options of the page tasks, declared once for ``luodi ocr``, ``luodi extract`` and
``luodi batch ocr|extract``, and what every command uses to group options and to talk on stderr.
(Records are written by :func:`luodi.output.write_documents`.)"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
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


class PageRun:
    """``luodi ocr`` / ``luodi extract`` over PATHs: every input found under them (each PATH must exist
    before any work starts), run through a pipeline task. Over several inputs (more than one, or a
    folder) a bad one is said on stderr and becomes an error record, and the run goes on; over one,
    its error is raised (the CLI's one readable line)."""

    def __init__(self, paths: Sequence[str]) -> None:
        from luodi.io import iter_sources

        self.roots = list(paths)
        iter_sources(self.roots)
        #: (the PATH it was found under, the input)
        self.sources = [(root, source) for root in self.roots for source in iter_sources([root])]
        self.several = len(self.sources) > 1 or any(os.path.isdir(p) for p in self.roots)
        self.failures = 0

    def results(
        self, pipeline: Any, task: Any, dpi: int | None, progress: Callable[[list[Any]], Iterable[Any]] = iter
    ) -> Iterator[tuple[str, str, Any]]:
        """(PATH, input, the task's :class:`~luodi.pipeline.Outcome` or an error record) per input, in order."""
        from luodi.output import error_record
        from luodi.pipeline import Item

        items = (Item(source) for _, source in progress(self.sources))
        for done in pipeline.run_many(task, items, pdf_dpi=dpi):
            root, source = self.sources[done.index]
            if done.error is None:
                yield root, source, done.outcome
                continue
            if not self.several:
                raise done.error
            self.failures += 1
            say(f"error: {source}: {done.error.message}")
            yield root, source, error_record(source, done.error)

    def finish(self) -> None:
        """Exit with status 1, after saying how many, when any input failed."""
        if self.failures:
            say(f"{self.failures} of {len(self.sources)} inputs failed")
            sys.exit(1)


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
