"""``luodi quantize`` for vision models: post-training INT8 of the ONNX graph, calibrated on images
like the ones the model will inspect, measured against FP32 (latency on one runtime each, and the
model's own metric on labelled data), then registered under a new name with the same vision.json.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import ConfigError, EmptyInputError, ModelError, ModelExistsError
from luodi.vision.bundle import SEARCH_INT8, read_meta
from luodi.vision.data import DataReport, Sample, iter_readable, to_input
from luodi.zoo.generic import bundle_file

MIN_CALIB_IMAGES = 8


@dataclass(frozen=True, slots=True)
class VisionQuantizeResult:
    name: str
    report: dict[str, Any]


def _calibration_images(calib_dir: Path, limit: int) -> list[Sample]:
    from luodi.io import iter_sources

    if not calib_dir.is_dir():
        raise ConfigError(f"--calib must be a folder of images, got {calib_dir}")
    files = [Path(p) for p in iter_sources([str(calib_dir)])]
    # masks beside images (a.png next to a.jpg, a_mask.png) are not calibration images
    files = [
        p
        for p in files
        if not (
            p.suffix.lower() == ".png"
            and (
                p.stem.endswith("_mask")
                or any(p.with_suffix(e).is_file() for e in (".jpg", ".jpeg", ".bmp", ".tif", ".tiff"))
            )
        )
    ]
    step = max(1, len(files) // limit)
    return [Sample(p, None) for p in files[::step][:limit]]


def recipe_for(toolchain: str, model: Path | None = None) -> Any:
    """The toolchain's default recipe. With ``model`` (the FP32 ONNX graph) the ONNX Runtime recipe
    keeps the stem (the first Conv, which sees raw pixels) and everything after the last Conv in
    float: the pooled stage features, the standardisation and the linear head, where features of
    very different ranges meet in one Concat that a single INT8 scale cannot hold, and which
    cost nothing next to the backbone. Measured on the magnetic-tile classifier:
    bench/results/vision.md ("INT8")."""
    from luodi.slim.toolchains import StageRecipe

    if toolchain != "ort" or model is None:
        return StageRecipe(toolchain=toolchain)
    return StageRecipe(toolchain=toolchain, ignore_names=float_nodes(model))


def float_nodes(model: Path) -> tuple[str, ...]:
    """Names of the nodes kept in float: the first Conv and every node after the last Conv."""
    import onnx

    nodes = onnx.load(str(model), load_external_data=False).graph.node
    convs = [i for i, n in enumerate(nodes) if n.op_type == "Conv"]
    if not convs:
        return ()
    return tuple(n.name for i, n in enumerate(nodes) if n.name and (i == convs[0] or i > convs[-1]))


def _latency_ms(session: Any, inputs: Sequence[np.ndarray], repeats: int = 2) -> float:
    name = session.input_names[0]
    session.run({name: inputs[0][None]})  # warm-up (OpenVINO compiles on first use)
    t = time.perf_counter()
    for _ in range(repeats):
        for x in inputs:
            session.run({name: x[None]})
    return (time.perf_counter() - t) * 1000 / (repeats * len(inputs))


def quantize_vision(  # noqa: PLR0913, PLR0915 - keyword-only options of luodi quantize; one linear recipe
    model: str,
    calib_dir: str | Path,
    name: str,
    *,
    toolchain: str = "openvino",
    eval_data: str | Path | None = None,
    eval_split: str | None = None,
    threads: int | None = None,
    max_images: int = 64,
    force: bool = False,
    home: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> VisionQuantizeResult:
    """INT8 of a vision model; returns the before/after report (latency ms/image, metrics)."""
    from luodi.runtime.factory import create_session
    from luodi.slim.toolchains import OUTPUT_SUFFIX, quantize_onnx
    from luodi.vision.evaluate import evaluate_vision
    from luodi.zoo import get_bundle, register_files, resolve_home
    from luodi.zoo.store import MANIFEST, bundle_dir, check_name

    say = progress or (lambda _m: None)
    home_path = resolve_home(home)
    check_name(name, ConfigError)
    if name == model:
        raise ModelExistsError("the quantized model needs a name other than its base")
    if (bundle_dir(home_path, name) / MANIFEST).is_file() and not force:
        raise ModelExistsError(f"model {name!r} already exists; pass --force to replace it")
    base = get_bundle(model, home_path)
    meta = read_meta(base)
    src = bundle_file(base, "model")
    if src.suffix != ".onnx":
        raise ModelError(f"{model!r} is not an FP32 ONNX model (already quantized?)")
    report = DataReport()
    calib = [
        x
        for _, x in (
            (s, to_input(rgb, meta.image_size, meta.resize))
            for s, rgb in iter_readable(_calibration_images(Path(calib_dir), max_images), report)
        )
    ]
    if len(calib) < MIN_CALIB_IMAGES:
        raise EmptyInputError(
            f"{calib_dir}: {len(calib)} readable images; calibration needs at least {MIN_CALIB_IMAGES}"
        )
    fp32 = create_session(src, "onnxruntime", threads)
    samples = [{fp32.input_names[0]: x[None]} for x in calib]
    with tempfile.TemporaryDirectory(prefix="luodi-vq-") as tmp:
        work = Path(tmp)
        out = work / f"model{OUTPUT_SUFFIX[toolchain]}"
        say(f"quantizing {model} ({toolchain}, {len(samples)} calibration images)")
        t = time.perf_counter()
        recipe = recipe_for(toolchain, src)
        quantize_onnx(src, out, samples, recipe)
        seconds = time.perf_counter() - t
        runtime = "openvino" if out.suffix == ".xml" else "onnxruntime"
        int8 = create_session(out, runtime, threads)
        timing = calib[: min(16, len(calib))]
        lat = {"fp32_onnxruntime": _latency_ms(fp32, timing), f"int8_{runtime}": _latency_ms(int8, timing)}
        if runtime == "openvino":
            lat["fp32_openvino"] = _latency_ms(create_session(src, "openvino", threads), timing)
        files: dict[str, Path] = {"model": out, "meta": bundle_file(base, "meta")}
        if out.suffix == ".xml":
            files["model_weights"] = out.with_suffix(".bin")
        if meta.kind == "anomaly":
            # the INT8 copy searches its bank in int8 too (luodi.vision.int8search): with the
            # backbone alone in INT8 the float search was two thirds of an image's CPU
            files["meta"] = replace(meta, search=SEARCH_INT8).write(work / "vision.json")
            files["bank"] = bundle_file(base, "bank")
            if any(f.role == "projection" for f in base.files):
                files["projection"] = bundle_file(base, "projection")
        staged = {}
        for role, path in files.items():  # the zoo keeps base names: copy the base's files in first
            dst = work / path.name
            if path != dst:
                shutil.copyfile(path, dst)
            staged[role] = dst
        say(f"registering {name}")
        register_files(
            name,
            task=base.task,
            files=staged,
            description=f"INT8 ({toolchain}) of {model}, calibrated on {len(calib)} images of {calib_dir}",
            source=f"luodi quantize {model} --calib {calib_dir}",
            force=force,
            home=home_path,
        )
    out_report: dict[str, Any] = {
        "model": model,
        "quantized": name,
        "toolchain": toolchain,
        "runtime": runtime,
        "calibration_images": len(calib),
        "float_nodes": list(recipe.ignore_names),
        "quantize_seconds": round(seconds, 1),
        "latency_ms_per_image": {k: round(v, 2) for k, v in lat.items()},
        "speedup_vs_fp32_onnxruntime": round(lat["fp32_onnxruntime"] / lat[f"int8_{runtime}"], 2),
        "threads": threads,
    }
    if eval_data is not None:
        for tag, m in (("fp32", model), ("int8", name)):
            ev = evaluate_vision(m, eval_data, split=eval_split, home=home_path, threads=threads).to_dict()
            out_report[tag] = {k: ev[k] for k in ("n", "accuracy", "macro_f1", "image_auroc", "pixel_auroc") if k in ev}
    return VisionQuantizeResult(name, out_report)
