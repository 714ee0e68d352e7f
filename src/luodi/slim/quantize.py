"""``quantize_bundle``: post-training static INT8 of a whole OCR bundle, registered under a new name.

Order of work, so that a failure leaves nothing behind: check the name and the base model, record
calibration inputs by running the FP32 pipeline over the user's pages, quantize every stage into a
temporary folder, load and measure the result (before/after report) from there, and only then
register the files in the zoo in one atomic step.
"""

from __future__ import annotations

import logging
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from luodi.errors import ConfigError, InputError, ModelError, ModelExistsError
from luodi.slim.calibrate import MIN_CALIB_PAGES, STAGES, CalibrationSet, collect, list_calibration_files
from luodi.slim.report import QuantizeReport, build_report
from luodi.slim.toolchains import OUTPUT_SUFFIX, TOOLCHAINS, StageRecipe, quantize_onnx
from luodi.zoo.spec import Bundle

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def default_recipes(toolchain: str = "openvino") -> dict[str, StageRecipe]:
    """The per-stage recipes chosen by measurement on this CPU (bench/results/quantize.md)."""
    if toolchain not in TOOLCHAINS:
        raise ConfigError(f"unknown toolchain {toolchain!r}; choose one of: {', '.join(TOOLCHAINS)}")
    if toolchain == "openvino":
        # rec is an SVTR (convs + attention): the transformer recipe (SmoothQuant, sensitive attention
        # ops kept in float) lost no line accuracy where the plain recipe lost half of it (0.51).
        # det: INT8 weights only, computing in float. Its static INT8 ran 0.95x of OpenVINO's bf16
        # on this CPU and cost 1.3 points of waybill field accuracy (60 hard waybills); INT8 weights
        # everywhere still cost 0.7; with the first 10 weighted layers (stem, first stage: the
        # group whose INT8 weights moved the probability map most) in FP16 it cost none (+0.1).
        return {
            "det": StageRecipe(toolchain="openvino", mode="weights", float_first=10),
            "cls": StageRecipe(toolchain="openvino"),
            # the conv that feeds the CTC head (the second-to-last weighted layer) stays float:
            # INT8 there cost PP-OCRv4 5.3 points on printed lines (0.950 -> 0.897, now 0.960);
            # on PP-OCRv6 small it moved the 909 eval lines from -0.2 to +0.1 points, for 0.13 MB
            "rec": StageRecipe(toolchain="openvino", transformer=True, float_positions=(-2,)),
        }
    if toolchain == "nncf":
        return {
            "det": StageRecipe(toolchain="nncf"),
            "cls": StageRecipe(toolchain="nncf"),
            "rec": StageRecipe(toolchain="nncf", transformer=True),
        }
    return {
        "det": StageRecipe(toolchain="ort", ignore_names=DET_FP32),
        "cls": StageRecipe(toolchain="ort"),
        "rec": StageRecipe(toolchain="ort", ignore_names=REC_FP32, extra={"ort_options": {"CalibMovingAverage": True}}),
    }


#: Nodes kept in FP32 (mixed precision), by name in the paddle2onnx graphs; names absent from a
#: given model are simply not matched. Chosen by measurement (bench/results/quantize.md).
#: PP-OCRv6 small rec on 150 real-width lines: all convs INT8 lost 2.7 points of line accuracy,
#: keeping the three stem convs FP32 lost 0.7 (the stem sees raw pixels, whose range per channel
#: the per-tensor activation scale fits worst); keeping the last stage FP32 instead did not help.
#: Rec activation ranges are the moving average of per-crop min/max: plain MinMax lets a few outlier
#: crops widen every range (240 lines: 0.963 → 0.967 vs FP32 0.979); ORT's percentile/entropy
#: calibrators cannot take crops of different widths.
DET_FP32: tuple[str, ...] = ("Conv.0",)
REC_FP32: tuple[str, ...] = ("Conv.0", "Conv.1", "Conv.2")


#: cls stays FP32 by default: the 0/180 classifier is 0.6 MB and runs on a fixed 48×192 canvas;
#: INT8 saved 0.25 MB and measured 1.02x and 0.66x (slower) in two bench runs.
DEFAULT_STAGES: tuple[str, ...] = ("det", "rec")


@dataclass(frozen=True)
class QuantizeResult:
    bundle: Bundle
    report: QuantizeReport
    calibration: CalibrationSet


def quantize_bundle(  # noqa: PLR0912, PLR0913, PLR0915 - luodi quantize's entry: its options, then its steps
    model: str,
    calib_dir: str | Path,
    name: str,
    *,
    stages: Sequence[str] = DEFAULT_STAGES,
    toolchain: str = "openvino",
    keep_float: Sequence[str] | None = None,
    recipes: Mapping[str, StageRecipe] | None = None,
    force: bool = False,
    home: str | Path | None = None,
    eval_labels: Sequence[str | Path] = (),
    runtime: str | None = None,
    threads: int | None = None,
    max_pages: int = 64,
    min_pages: int = MIN_CALIB_PAGES,
    max_samples: Mapping[str, int] | None = None,
    latency_pages: int = 8,
    command: str | None = None,
    progress: Progress | None = None,
) -> QuantizeResult:
    """Quantize ``model``'s stages to INT8 with calibration pages from ``calib_dir``; register ``name``.

    ``keep_float`` names stages stored as FP16 OpenVINO IR without INT8 (default: the toolchain's
    recipes — det for openvino). ``max_samples`` caps the calibration samples per stage (default
    det 48, cls 256, rec 400).
    Stages not in ``stages`` are borrowed from ``model`` unchanged. ``eval_labels`` are PaddleOCR rec
    label files (``path<TAB>text``) and/or KIE ``labels.jsonl`` files; each is scored before and
    after. ``runtime`` is the runtime of the FP32 baseline in the report (default: the default
    runtime, onnxruntime); the INT8 model is measured on the runtime it is made for (OpenVINO IR:
    openvino; QDQ ONNX: the same as the baseline), and the FP32 model on that runtime too, so the
    report separates what INT8 gains from what the runtime gains. Raises ``ModelExistsError`` for a
    taken name (unless ``force``), ``ModelNotPulledError`` /
    ``UnknownModelError`` for the base, ``InputError`` for unusable calibration input.
    """
    from luodi.zoo import get_bundle, resolve_home
    from luodi.zoo.registry import BUILTINS
    from luodi.zoo.store import MANIFEST, bundle_dir, check_name

    say = progress or (lambda _msg: None)
    home_path = resolve_home(home)
    check_name(name, ConfigError)
    chosen = tuple(dict.fromkeys(stages))
    unknown = [s for s in chosen if s not in STAGES]
    if unknown or not chosen:
        raise ConfigError(f"stages must be some of det, cls, rec; got {list(stages)}")
    if name == model:
        raise ModelExistsError(f"the quantized model needs a name other than its base {model!r}")
    if name in BUILTINS:
        raise ModelExistsError(f"{name!r} is a built-in model name; choose another name")
    if (bundle_dir(home_path, name) / MANIFEST).is_file() and not force:
        raise ModelExistsError(f"model {name!r} already exists; pass --force to replace it")
    labels = [Path(p) for p in eval_labels]
    for p in labels:
        if not p.is_file():
            raise InputError(f"--eval-labels: {p} does not exist or is not a file")
    list_calibration_files(calib_dir)  # a missing or empty folder fails here, before any model loads
    base = get_bundle(model, home_path)  # ModelNotPulledError names the pull command
    recipe_map = dict(default_recipes(toolchain))
    if keep_float is not None:  # which of the stages stay float (FP16 IR) instead of INT8
        bad = [s for s in keep_float if s not in STAGES]
        if bad:
            raise ConfigError(f"keep_float must name stages among det, cls, rec; got {list(keep_float)}")
        if keep_float and toolchain != "openvino":
            raise ConfigError("stages kept in float (FP16 OpenVINO IR) need the openvino toolchain")
        for s in STAGES:
            if s in keep_float:
                recipe_map[s] = replace(recipe_map[s], mode="float")
    recipe_map.update(recipes or {})
    for stage in chosen:
        if getattr(base, stage) is None or getattr(base, stage).model is None:
            raise ModelError(f"{model!r} has no ONNX {stage} model to quantize")

    say(f"calibrating: running {model} over the pages in {calib_dir}")
    t0 = time.perf_counter()
    calib = collect(model, calib_dir, home=home_path, max_pages=max_pages, min_pages=min_pages, max_samples=max_samples)
    calib_s = time.perf_counter() - t0
    for stage in chosen:
        if calib.count(stage) == 0:
            raise InputError(f"the calibration pages produced no {stage} inputs (no text lines found?)")

    with tempfile.TemporaryDirectory(prefix="luodi-quantize-") as tmp:
        work = Path(tmp)
        out_paths: dict[str, Path] = {}
        seconds: dict[str, float] = {}
        for stage in chosen:
            spec = getattr(base, stage)
            recipe = recipe_map[stage]
            say(f"quantizing {stage} ({recipe.toolchain}, {calib.count(stage)} calibration samples)")
            t = time.perf_counter()
            out = work / f"{stage}{OUTPUT_SUFFIX[recipe.toolchain]}"
            quantize_onnx(spec.model, out, calib.samples[stage], recipe)
            seconds[stage] = time.perf_counter() - t
            out_paths[stage] = out
        candidate = _candidate_bundle(base, name, out_paths)
        ir = {s: p for s, p in out_paths.items() if p.suffix == ".xml"}
        onnx_out = {s: p for s, p in out_paths.items() if p.suffix != ".xml"}
        say("measuring FP32 vs INT8 (latency, accuracy)")
        report = build_report(
            base=base,
            quantized=candidate,
            calib=calib,
            calib_dir=Path(calib_dir),
            recipes={s: recipe_map[s] for s in chosen},
            quantize_seconds={"calibration": calib_s, **seconds},
            labels=labels,
            runtime=runtime,
            threads=threads,
            latency_pages=latency_pages,
            command=command or _command_line(),
        )
        say(f"registering {name}")
        from luodi.zoo import register_bundle

        bundle = register_bundle(
            name,
            base=model,
            force=force,
            home=home_path,
            description=f"INT8 ({', '.join(chosen)}) of {model}, calibrated on {calib.pages} pages",
            source=f"luodi quantize {model} --calib {calib_dir}",
            det=onnx_out.get("det"),
            cls=onnx_out.get("cls"),
            rec=onnx_out.get("rec"),
            det_openvino=ir.get("det"),
            cls_openvino=ir.get("cls"),
            rec_openvino=ir.get("rec"),
            runtime="openvino" if ir else None,
        )
    report = report.with_bundle(bundle)
    return QuantizeResult(bundle=bundle, report=report, calibration=calib)


def _candidate_bundle(base: Bundle, name: str, paths: Mapping[str, Path]) -> Bundle:
    """The bundle as it will be registered, with its files still in the work folder."""
    changes: dict[str, Any] = {"name": name}
    for stage, path in paths.items():
        if path.suffix == ".xml":  # OpenVINO IR: no ONNX or Paddle twin of the INT8 graph exists
            changes[stage] = replace(getattr(base, stage), model=None, paddle_model=None, openvino_model=path)
            changes["runtime"] = "openvino"
        else:
            changes[stage] = replace(getattr(base, stage), model=path, paddle_model=None, openvino_model=None)
    return replace(base, **changes)


def _command_line() -> str:
    argv = list(sys.argv)
    if argv and argv[0].endswith(("luodi", "__main__.py")):
        argv[0] = "luodi"
    return shlex.join(argv)
