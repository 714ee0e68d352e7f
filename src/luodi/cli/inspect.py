"""``luodi inspect PATH... --model NAME``: classify part images or score them for anomalies."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import click

from luodi.cli import common

CSV_COLUMNS = ("source", "label", "score", "decision", "threshold", "width", "height", "error")


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--model", required=True, help="Vision model in the zoo (luodi train vision|anomaly).")
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl", "csv"]), default="json", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write results to this file instead of stdout.",
)
@click.option(
    "--visualize",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write an overlay PNG (heat map for anomaly models) per image into this folder.",
)
@click.option("--runtime", type=click.Choice(["onnxruntime", "openvino", "paddle"]), default=None)
@click.option("--threads", type=click.IntRange(min=1), default=None)
def inspect(
    *, paths: tuple[Path, ...], model: str, fmt: str, output: Path | None, visualize: Path | None, **engine: Any
) -> None:
    """Inspect images (files or folders). Each image is resized to the model's size; heat maps come
    back at the image's own size. Unreadable files are reported and skipped (exit status 1)."""
    from luodi.errors import LuodiError
    from luodi.io import iter_sources
    from luodi.vision.data import read_image
    from luodi.vision.inspector import Inspector

    inspector = Inspector(model, **engine)  # --runtime, --threads
    files = [p for p in iter_sources([str(p) for p in paths]) if not _is_mask(p)]
    records: list[dict[str, Any]] = []
    failed = 0
    with common.output_file(output, newline="") as stream:
        writer = csv.DictWriter(stream, CSV_COLUMNS, extrasaction="ignore") if fmt == "csv" else None
        if writer is not None:
            writer.writeheader()
        for path in files:
            try:
                rgb = read_image(path, inspector.limits)
                result = inspector.inspect_arrays([rgb], [path])[0]
            except LuodiError as exc:
                failed += 1
                click.echo(f"error: {path}: {exc.message}", err=True)
                rec: dict[str, Any] = {"source": path, "error": {"type": type(exc).__name__, "message": exc.message}}
            else:
                rec = result.to_dict()
                if visualize is not None:
                    from luodi.vision.visualize import save_overlay

                    rec["visualization"] = str(save_overlay(rgb, result, visualize / (Path(path).stem + ".png")))
            if fmt == "jsonl":
                stream.write(json.dumps(rec, ensure_ascii=False) + "\n")
                stream.flush()
            elif writer is not None:
                row = dict(rec)
                row["error"] = rec["error"]["message"] if "error" in rec else ""
                writer.writerow(row)
            else:
                records.append(rec)
        if fmt == "json":
            body: Any = records[0] if len(records) == 1 and len(files) == 1 else records
            stream.write(json.dumps(body, ensure_ascii=False, indent=1) + "\n")
    if failed:
        sys.exit(1)


def _is_mask(path: str) -> bool:
    """A defect mask beside its image (``a.png`` next to ``a.jpg``, or ``a_mask.png``) is not an input."""
    p = Path(path)
    if p.suffix.lower() != ".png":
        return False
    if p.stem.endswith("_mask"):
        return True
    return any(p.with_suffix(ext).is_file() for ext in (".jpg", ".jpeg", ".bmp", ".tif", ".tiff"))
