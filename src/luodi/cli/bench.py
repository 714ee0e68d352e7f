"""``luodi bench PATH...``: which model and runtime is fastest on this machine, on these pages.

A thin layer over :func:`luodi.eval.speed.measure_speed`: it gathers pages like ``luodi ocr`` does
(files, folders, PDFs), builds one engine per model × runtime, and writes the report (text, json or
md) to stdout or ``-o FILE``; progress goes to stderr only.
"""

from __future__ import annotations

import dataclasses
import sys
from itertools import islice
from typing import TYPE_CHECKING

import click

from luodi.cli.ocr import PROGRESS_MIN_INPUTS

if TYPE_CHECKING:
    import numpy as np

    from luodi.ocr.pipeline import OCR

FORMATS = ("text", "json", "md")
RUNTIMES = ("onnxruntime", "openvino", "paddle")


@click.command("bench")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--model",
    "-m",
    "models",
    multiple=True,
    help="Model bundle to time; repeat to compare (default: settings, pp-ocrv6-small).",
)
@click.option(
    "--runtime",
    "runtimes",
    type=click.Choice(RUNTIMES),
    multiple=True,
    help="Backend; repeat to compare. Engines are every model × runtime. Default: each model's own "
    "(openvino for INT8 models from luodi quantize, else onnxruntime).",
)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Threads per model (default: all cores).")
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True, help="Timed rounds.")
@click.option(
    "--max-pages",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Use at most this many pages (the first ones, in input order).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", default=None, help="Write the report to FILE instead of stdout.")
def bench(
    paths: tuple[str, ...],
    models: tuple[str, ...],
    runtimes: tuple[str, ...],
    threads: int | None,
    rounds: int,
    max_pages: int,
    fmt: str,
    output: str | None,
) -> None:
    """Time OCR engines on your own pages: det/cls/rec ms per page, pages/s, speed-up.

    Every engine first runs once over all pages (timed apart: allocation and OpenVINO shape
    compiles happen there), then ROUNDS rounds run every engine over all pages in turn, so a
    change of load hits all of them alike; the report gives the median over rounds.
    """
    from luodi.errors import EmptyInputError
    from luodi.eval.speed import measure_speed
    from luodi.io import iter_sources

    roots = list(paths)
    sources = list(iter_sources(roots))  # raises InputNotFoundError before any work
    if not sources:
        raise EmptyInputError(f"no images or PDFs found in {', '.join(roots)}")
    engines = _engines(models, runtimes, threads)  # unknown/unpulled models, missing runtimes fail here
    pages, used = _pages(sources, max_pages)
    if not pages:
        raise EmptyInputError(f"no readable pages in {', '.join(roots)}")
    precision = {name: _precision(name, engine) for name, engine in engines.items()}

    total_runs = len(engines) * len(pages) * (rounds + 1)
    show = sys.stderr.isatty() or len(pages) >= PROGRESS_MIN_INPUTS
    from tqdm import tqdm

    bar = tqdm(total=total_runs, file=sys.stderr, unit="page", desc="bench", dynamic_ncols=True, disable=not show)
    with bar:  # closed however measuring ends; a disabled bar draws nothing
        report = measure_speed(engines, pages, rounds=rounds, precision=precision, on_page=lambda: bar.update(1))
        report = dataclasses.replace(report, sources=tuple(used))

    if fmt == "json":
        import json

        text = json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
    elif fmt == "md":
        text = report.to_markdown()
    else:
        text = report.to_text()
    if output is None or output == "-":
        sys.stdout.write(text)
        return
    from luodi.errors import OutputError

    try:
        with open(output, "w", encoding="utf-8") as stream:
            stream.write(text)
    except OSError as exc:
        raise OutputError(f"cannot write {output}: {exc.strerror or exc}") from exc
    click.echo(f"wrote {output}", err=True)


def _engines(models: tuple[str, ...], runtimes: tuple[str, ...], threads: int | None) -> dict[str, OCR]:
    """One engine per model × runtime, named MODEL@RUNTIME, in the order given (duplicates once)."""
    from luodi.errors import RuntimeBackendError
    from luodi.ocr.pipeline import OCR

    engines: dict[str, OCR] = {}
    for model in dict.fromkeys(models or (None,)):  # each pair once: models and runtimes are each deduplicated
        for runtime in dict.fromkeys(runtimes or (None,)):
            try:
                engine = OCR(model, runtime=runtime, threads=threads)
            except RuntimeBackendError as exc:
                # in a model × runtime grid, say which pair cannot run
                raise RuntimeBackendError(
                    f"{model or 'default model'} on {runtime or 'its runtime'}: {exc.message}"
                ) from exc
            # no --runtime: the model picked its own (an INT8 bundle from luodi quantize: openvino)
            name = f"{engine.model_name}@{runtime or engine.runtime_info['rec'].backend.value}"
            engines.setdefault(name, engine)
    return engines


def _pages(sources: list[str], limit: int) -> tuple[list[np.ndarray], list[str]]:
    """The first ``limit`` pages and the files they came from; a bad file among several is
    reported on stderr and skipped."""
    from luodi.errors import InputError
    from luodi.io import iter_pages

    pages: list[np.ndarray] = []
    used: list[str] = []
    for source in sources:
        if len(pages) >= limit:
            break
        try:
            before = len(pages)
            # islice stops before the next page is decoded: a long PDF is never rendered past what is needed
            pages.extend(islice(iter_pages(source), limit - len(pages)))
            if len(pages) > before:
                used.append(source)
        except InputError as exc:
            if len(sources) == 1:
                if source in exc.message:
                    raise
                # the same error, naming the file (a decoder's message does not know it)
                raise type(exc)(f"{source}: {exc.message}") from exc
            click.echo(f"skipped {source}: {exc.message}", err=True)
    return pages, used


def _precision(name: str, engine: OCR) -> dict[str, str]:
    """Per stage, INT8 where the model graph says so (the runtime reports only its float precision)."""
    from luodi.slim.report import stage_precision
    from luodi.zoo import get_bundle

    bundle = get_bundle(engine.model_name)
    return {
        stage: stage_precision(getattr(bundle, stage), info)
        for stage, info in engine.runtime_info.items()
        if getattr(bundle, stage) is not None
    }
