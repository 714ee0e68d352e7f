"""``luodi ocr PATH...``: OCR images, PDFs and folders; results on stdout or in files.

stdout carries only results (json, jsonl, txt or csv), so it can be piped; the progress bar,
per-file errors and the summary go to stderr. In a run over several inputs a bad file is
reported and skipped (an error record in jsonl/json), and the exit status is 1 at the end.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from luodi.cli import common

FORMATS = ("json", "jsonl", "txt", "csv")
_EXT = {"json": ".json", "jsonl": ".jsonl", "txt": ".txt", "csv": ".csv"}
PROGRESS_MIN_INPUTS = 20  # below this a non-TTY stderr gets no progress bar (logs stay clean)


@click.command("ocr")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@common.model
@click.option("--no-det", is_flag=True, help="Skip detection: each input is one text line.")
@click.option("--no-cls", is_flag=True, help="Skip the 0/180 line orientation classifier.")
@common.no_locate
@common.runtime
@common.threads
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True)
@click.option(
    "-o",
    "--output",
    help="Write to FILE, or into DIR (an existing folder or a path ending in /): one file per input.",
)
@click.option(
    "--visualize", type=click.Path(file_okay=False, path_type=Path), default=None, help="Draw boxes into DIR."
)
@common.dpi
@click.option("--det-limit", type=click.IntRange(32, 8192), default=None, help="Longer side fed to the detector.")
@click.option("--drop-score", type=click.FloatRange(0, 1), default=None, help="Drop lines scored below this.")
def ocr(
    *,
    paths: tuple[str, ...],
    no_det: bool,
    no_cls: bool,
    no_locate: bool,
    fmt: str,
    output: str | None,
    visualize: Path | None,
    dpi: int | None,
    det_limit: int | None,
    drop_score: float | None,
    **settings: Any,
) -> None:
    """OCR images, PDFs and folders of them (recursive, sorted)."""
    from luodi.config import load_settings
    from luodi.ocr.options import OCROptions
    from luodi.ocr.result import Document
    from luodi.pipeline import Outcome, Pipeline

    run = common.PageRun(paths)  # raises InputNotFoundError before any work
    if not run.sources:
        from luodi.errors import EmptyInputError

        raise EmptyInputError(f"no images or PDFs found in {', '.join(run.roots)}")
    changes: dict[str, Any] = {"use_det": not no_det, "use_cls": not no_cls, "locate": not no_locate}
    if det_limit is not None:
        changes["det_limit_side"] = det_limit
    if drop_score is not None:
        changes["drop_score"] = drop_score
    pipeline = Pipeline(load_settings(**settings))
    task = pipeline.processor("ocr", options=OCROptions().replace(**changes))
    painter = None
    if visualize is not None:
        from luodi.output import VisualizationWriter

        painter = VisualizationWriter(visualize)

    def results() -> Iterator[tuple[str, str, Any]]:
        for root, source, done in run.results(pipeline, task, dpi, _progress):
            if not isinstance(done, Outcome):
                yield root, source, done  # the error record
                continue
            assert isinstance(done.result, Document)
            if painter is not None:
                painter.save(done.result, list(done.pages))
            yield root, source, done.result

    _emit(fmt, results(), output, several=run.several)
    run.finish()


def _emit(fmt: str, results: Iterator[tuple[str, str, Any]], output: str | None, *, several: bool) -> None:
    """Records to stdout, to one file, or one file per input under a folder (mirroring the inputs)."""
    from luodi.output import write_documents

    per_file_dir = _output_dir(output)
    if per_file_dir is not None:
        per_file_dir.mkdir(parents=True, exist_ok=True)
        for root, source, record in results:
            target = per_file_dir / (_relative_name(root, source) + _EXT[fmt])
            target.parent.mkdir(parents=True, exist_ok=True)
            write_documents([record], fmt, target, many=False)
    else:
        write_documents((r for _, _, r in results), fmt, output, many=several)


def _progress(items: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    from tqdm import tqdm

    show = len(items) > 1 and (sys.stderr.isatty() or len(items) >= PROGRESS_MIN_INPUTS)
    yield from tqdm(items, file=sys.stderr, unit="file", desc="ocr", dynamic_ncols=True, disable=not show)


def _output_dir(output: str | None) -> Path | None:
    if output is None or output == "-":
        return None
    if output.endswith(("/", os.sep)) or os.path.isdir(output):
        return Path(output)
    return None


def _relative_name(root: str, source: str) -> str:
    # mirror the folder structure under a folder argument so a/x.jpg and b/x.jpg never collide
    if os.path.isdir(root):
        return os.path.relpath(source, root)
    return os.path.basename(source)
