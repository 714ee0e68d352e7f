"""``luodi text classify|nlu``: run a trained text model on texts (files or --text), JSON/JSONL out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from luodi.cli import common
from luodi.errors import ConfigError


@click.group()
def text() -> None:
    """Classify texts, or find their intent and slots, with a model from `luodi train text`."""


_options = common.options(
    click.argument("paths", nargs=-1, type=click.Path(dir_okay=False, path_type=Path)),
    click.option("--text", "texts", multiple=True, help="A text to process (repeatable)."),
    click.option("--model", "-m", required=True, help="A text model registered by `luodi train text --name`."),
    click.option("--top-k", type=click.IntRange(min=1), default=3, show_default=True),
    click.option("--format", "fmt", type=click.Choice(["json", "jsonl"]), default="jsonl", show_default=True),
    click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None),
    click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True),
)


def _inputs(paths: tuple[Path, ...], texts: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(source, text): --text values, then each non-blank line of each file (TSV: the text column)."""
    for i, t in enumerate(texts):
        yield f"--text[{i}]", t
    for path in paths:
        from luodi.text.data import read_examples

        for ex in read_examples(path, "tsv" if path.suffix.lower() not in (".json", ".jsonl", ".conll") else None):
            yield ex.where, ex.text


def _run(
    kind: str,
    *,
    paths: tuple[Path, ...],
    texts: tuple[str, ...],
    model: str,
    top_k: int,
    fmt: str,
    output: Path | None,
    threads: int,
) -> None:
    from luodi.text.model import TextModel

    items = list(_inputs(paths, texts))
    if not items:
        raise ConfigError("give texts with --text or files of texts (one per line)")
    engine = TextModel(model, threads=threads)
    if kind == "nlu" and engine.task != "nlu":
        raise ConfigError(f"model {model!r} was trained for {engine.task}, it has no slots; use `luodi text classify`")
    results = engine([t for _, t in items], top_k=top_k)
    rows = []
    for (source, _), r in zip(items, results, strict=True):
        row = {"source": source, "model": model, **r.to_dict()}
        if kind == "nlu":
            row["intent"] = row.pop("label")
        else:
            row.pop("slots")
        rows.append(row)
    with common.output_file(output) as out:
        if fmt == "json":
            out.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        else:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    truncated = sum(1 for r in results if r.truncated)
    if truncated:
        click.echo(f"note: {truncated} text(s) longer than {engine.max_len} characters were cut to fit", err=True)


@text.command()
@_options
def classify(**options: Any) -> None:
    """Label each text: label, score, top-k."""
    _run("classify", **options)


@text.command()
@_options
def nlu(**options: Any) -> None:
    """Intent and slots of each text (slots with their character spans)."""
    _run("nlu", **options)
