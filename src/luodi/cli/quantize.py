"""``luodi quantize MODEL --calib DIR --name NEW``: INT8 post-training quantization of a bundle."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from luodi.cli import common


@click.command()
@click.argument("model")
@click.option(
    "--calib",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder of page images (or PDFs) like the ones the model will read; at least 4 pages.",
)
@click.option("--name", required=True, help="Name to register the INT8 model under.")
@click.option(
    "--eval-labels",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Score before/after on this PaddleOCR rec label file or KIE labels.jsonl (repeatable).",
)
@click.option(
    "--report",
    type=click.Path(path_type=Path),
    help="Write the report to FILE.json and FILE.md (default: print the Markdown).",
)
@click.option(
    "--held",
    type=click.Path(path_type=Path),
    help="Anomaly models: folder of held-back good images (not in the memory bank) on which the INT8 "
    "model's threshold is chosen again at the FP32 model's false-alarm rate. Without it the FP32 threshold "
    "is mapped through the calibration images' scores, with a warning (docs/vision.md).",
)
@click.option("--force", is_flag=True, help="Replace an existing model of that name.")
@click.option(
    "--toolchain",
    type=click.Choice(["openvino", "ort", "nncf"]),
    default="openvino",
    show_default=True,
    help="openvino: NNCF on the OpenVINO model, INT8 OpenVINO IR that runs on --runtime openvino (chosen by "
    "the model itself; measured fastest and most accurate here). ort: ONNX Runtime's QDQ ONNX, runs on any "
    "runtime. nncf: NNCF's ONNX backend (QDQ ONNX).",
)
@click.option(
    "--stages",
    default="det,rec",
    show_default=True,
    help="Stages to quantize (det,cls,rec); the others are borrowed from MODEL as they are (cls: measured no gain).",
)
@click.option(
    "--keep-float",
    help="With --toolchain openvino: stages among --stages stored as FP16 IR without any INT8 (default: none; "
    "det gets INT8 weights computing in float, rec static INT8).",
)
@click.option(
    "--runtime",
    type=click.Choice(["onnxruntime", "openvino"]),
    default="onnxruntime",
    show_default=True,
    help="Runtime of the FP32 baseline in the report; the INT8 model is measured on its own runtime, and "
    "the FP32 model on that runtime too.",
)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Threads per model when measuring.")
@click.option("--max-pages", type=click.IntRange(min=1), default=64, show_default=True, help="Calibration pages used.")
def quantize(
    *, model: str, calib: Path, name: str, report: Path | None, stages: str, keep_float: str | None, **options: Any
) -> None:
    """Quantize MODEL to INT8 with calibration pages from --calib and register it as --name.

    A vision model (luodi train vision|anomaly) is calibrated on the images in --calib; its
    --eval-labels is a labelled folder or CSV (with a split column: its test rows). An anomaly model's
    INT8 copy gets its own threshold at the FP32 model's false-alarm rate: chosen on --held."""
    from luodi.slim import quantize_bundle
    from luodi.zoo import describe_bundle

    if describe_bundle(model).task.startswith("vision-"):
        _quantize_vision(model, calib, name, report, **options)
        return

    if options.pop("held") is not None:
        raise click.UsageError("--held is for anomaly models (luodi train anomaly)")
    say = common.say
    # options: --eval-labels, --force, --toolchain, --runtime, --threads and --max-pages, quantize_bundle's keywords
    result = quantize_bundle(
        model,
        calib,
        name,
        stages=[s.strip() for s in stages.split(",") if s.strip()],
        keep_float=None if keep_float is None else [s.strip() for s in keep_float.split(",") if s.strip()],
        command=shlex.join(["luodi", "quantize", *sys.argv[2:]]) if len(sys.argv) > 1 else None,
        progress=say,
        **options,
    )
    if report is not None:
        json_path, md_path = result.report.write(report)
        say(f"report: {json_path} and {md_path}")
        size = result.report.to_dict()["size"]["total"]
        lat = result.report.to_dict()["latency"]["speedup"]
        click.echo(
            json.dumps({"name": result.bundle.name, "size_ratio": size["ratio"], "speedup": lat}, ensure_ascii=False)
        )
    else:
        click.echo(result.report.to_markdown())


def _quantize_vision(
    model: str,
    calib: Path,
    name: str,
    report: Path | None,
    *,
    eval_labels: tuple[Path, ...],
    max_pages: int,
    **options: Any,
) -> None:
    from luodi.vision.quantize import quantize_vision

    options.pop("runtime")  # the OCR baseline's runtime: not used for a vision model
    eval_data = eval_labels[0] if eval_labels else None
    split = "test" if eval_data is not None and eval_data.suffix.lower() == ".csv" else None
    result = quantize_vision(
        model,
        calib,
        name,
        eval_data=eval_data,
        eval_split=split,
        max_images=max_pages,  # calibration images
        progress=common.say,
        **options,  # --force, --toolchain, --threads, --held
    )
    text = json.dumps(result.report, ensure_ascii=False, indent=1)
    if report is not None:
        report.with_suffix(".json").write_text(text + "\n", encoding="utf-8")
    click.echo(text)
