"""``luodi quantize`` for vision models: post-training INT8 of the ONNX graph, calibrated on images
like the ones the model will inspect, measured against FP32 (latency on one runtime each, and the
model's own metric on labelled data), then registered under a new name with the same vision.json;
an anomaly model's INT8 copy gets its own threshold at the FP32 bundle's false-alarm rate
(:func:`int8_anomaly_meta`).
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
from luodi.runtime.base import InferenceSession
from luodi.vision.bundle import SEARCH_INT8, VisionMeta, read_bank, read_meta, read_projection
from luodi.vision.data import DataReport, Sample, iter_readable, scan_good, to_input
from luodi.vision.int8search import Int8BankSearch
from luodi.vision.scoring import FROM_HELD, MAPPED, MIN_HELD_IMAGES, mapped_threshold, score_samples, with_threshold
from luodi.zoo.generic import bundle_file
from luodi.zoo.spec import Bundle

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


def _check_held(model: str, meta: VisionMeta, held: str | Path | None) -> None:
    if held is None:
        return
    if meta.kind != "anomaly":
        raise ConfigError(f"--held is for anomaly models; {model!r} is a {meta.kind} model")
    scan_good(held)  # a missing or empty folder fails here, before the minutes of quantizing


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
    held: str | Path | None = None,
    force: bool = False,
    home: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> VisionQuantizeResult:
    """INT8 of a vision model; returns the before/after report (latency ms/image, metrics).

    ``held`` (anomaly models): a folder of held-back good images, not in the memory bank, on which
    the INT8 copy's threshold is re-chosen at the FP32 bundle's false-alarm rate; without it the
    FP32 threshold is mapped through the calibration images' scores, with a warning."""
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
    _check_held(model, meta, held)
    report = DataReport()
    calib_samples = _calibration_images(Path(calib_dir), max_images)
    calib = [to_input(rgb, meta.image_size, meta.resize) for _, rgb in iter_readable(calib_samples, report)]
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
        threshold: dict[str, Any] | None = None
        if meta.kind == "anomaly":
            int8_meta, threshold = int8_anomaly_meta(base, meta, fp32, int8, calib_samples, held, say)
            files["meta"] = int8_meta.write(work / "vision.json")
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
        **({"threshold": threshold} if threshold is not None else {}),
    }
    if eval_data is not None:
        for tag, m in (("fp32", model), ("int8", name)):
            ev = evaluate_vision(m, eval_data, split=eval_split, home=home_path, threads=threads).to_dict()
            out_report[tag] = {k: ev[k] for k in ("n", "accuracy", "macro_f1", "image_auroc", "pixel_auroc") if k in ev}
    return VisionQuantizeResult(name, out_report)


def _held_threshold(
    meta: VisionMeta,
    out: VisionMeta,
    int8: InferenceSession,
    held: str | Path,
    bank: np.ndarray,
    projection: np.ndarray | None,
    search: Int8BankSearch,
    say: Callable[[str], None],
) -> tuple[VisionMeta, dict[str, Any]]:
    """``out`` with the threshold chosen at the FP32 bundle's false-alarm rate on the ``held`` good
    images, scored by the INT8 copy as it will inspect; and what the report says of it."""
    assert meta.threshold is not None and meta.false_alarm_rate is not None
    rate = meta.false_alarm_rate
    samples, held_report = scan_good(held)
    scores, kept = score_samples(int8, samples, held_report, out, bank, projection, search)
    if len(kept) < MIN_HELD_IMAGES:
        raise EmptyInputError(
            f"{held}: {len(kept)} readable good images; the threshold needs at least {MIN_HELD_IMAGES}"
        )
    out = with_threshold(out, scores, rate, threshold_source=FROM_HELD, fp32_threshold=meta.threshold)
    assert out.threshold is not None
    fp32_flags = float(np.mean(scores >= meta.threshold))
    found: dict[str, Any] = {"int8": out.threshold, "source": FROM_HELD, "held_images": len(kept)}
    found |= {"held_flagged_at_fp32_threshold": round(fp32_flags, 4), "held_skipped": len(held_report.skipped)}
    say(
        f"INT8 threshold {out.threshold:.4f} (FP32 {meta.threshold:.4f}) at false-alarm rate {rate} on "
        f"{len(kept)} held-back good images; the FP32 threshold flagged {fp32_flags:.1%} of them"
    )
    return out, found


def int8_anomaly_meta(
    base: Bundle,
    meta: VisionMeta,
    fp32: InferenceSession,
    int8: InferenceSession,
    calib: list[Sample],
    held: str | Path | None,
    say: Callable[[str], None],
) -> tuple[VisionMeta, dict[str, Any]]:
    """The INT8 copy's ``vision.json`` and what its threshold report says.

    The copy searches its bank in int8 (luodi.vision.int8search: with the backbone alone in INT8
    the float search was two thirds of an image's CPU). Its backbone scores good images higher
    than FP32 does (the magnetic tiles' val good tiles: 4.85% flagged at the FP32 threshold chosen
    for 1%), so the threshold is chosen again at the FP32 bundle's false-alarm rate: on ``held``
    good images scored by the INT8 copy as it will inspect (``luodi train anomaly``'s rule), or,
    without them, mapped from the calibration images (:func:`luodi.vision.scoring.mapped_threshold`)
    with a warning: that map was measured on one dataset only."""
    if meta.threshold is None or meta.false_alarm_rate is None:
        raise ModelError(f"{base.name!r} has no threshold or false-alarm rate in its vision.json; train it again")
    bank = read_bank(base)
    projection = read_projection(base, bank)
    search = Int8BankSearch(bank)
    out = replace(meta, search=SEARCH_INT8)
    rate = meta.false_alarm_rate
    info: dict[str, Any] = {"fp32": meta.threshold, "false_alarm_rate": rate}
    if held is not None:
        out, found = _held_threshold(meta, out, int8, held, bank, projection, search, say)
        return out, info | found
    base_search = Int8BankSearch(bank) if meta.search == SEARCH_INT8 else None
    f, _ = score_samples(fp32, calib, DataReport(), meta, bank, projection, base_search)
    q, _ = score_samples(int8, calib, DataReport(), out, bank, projection, search)
    if int(np.sum(f < meta.threshold)) < MIN_HELD_IMAGES:
        raise EmptyInputError(
            f"{int(np.sum(f < meta.threshold))} calibration images score below the FP32 threshold (need "
            f"{MIN_HELD_IMAGES} to map it); pass --held DIR (good images not in the bank) to choose it"
        )
    t = mapped_threshold(meta.threshold, f, q)
    warning = (
        f"the INT8 threshold {t:.4f} (FP32 {meta.threshold:.4f}) is mapped from the calibration images, not "
        f"chosen at the false-alarm rate {rate}: pass --held DIR (good images not in the bank) to choose it"
    )
    say(f"warning: {warning}")
    scale = None if meta.score_scale is None else meta.score_scale * t / meta.threshold
    extra = tuple((k, v) for k, v in meta.extra if k not in ("threshold_source", "fp32_threshold"))
    extra += (("threshold_source", MAPPED), ("fp32_threshold", meta.threshold))
    out = replace(out, threshold=t, score_scale=scale, extra=extra)
    info |= {"int8": t, "source": MAPPED, "calibration_images": len(f), "warning": warning}
    return out, info
