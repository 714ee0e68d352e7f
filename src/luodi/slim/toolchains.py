"""The INT8 toolchains.

- ``openvino`` (the default): NNCF quantizes the OpenVINO model read from the FP32 ONNX file and
  writes OpenVINO IR (``.xml`` + ``.bin``, INT8 weights). It runs on the OpenVINO runtime only, and
  is what met the speed and accuracy targets on this CPU (bench/results/quantize.md): NNCF's OpenVINO
  backend places its quantizers where OpenVINO's CPU plugin fuses them, and with
  ``ModelType.TRANSFORMER`` (SmoothQuant, attention kept sensible) the SVTR rec keeps its accuracy.
- ``ort``: ONNX Runtime's static quantizer writes an ordinary QDQ ONNX file that runs on ONNX
  Runtime (and OpenVINO, and a GPU runtime): portable, but on this CPU the QuantizeLinear/
  DequantizeLinear pairs around every activation ate the integer kernels' gain (0.99x end to end).
- ``nncf``: NNCF's ONNX backend (QDQ ONNX). Kept for comparison: on these graphs it lost 13-16
  points of rec line accuracy where the same library on the OpenVINO model lost none.

The heavy imports (onnx, onnxruntime.quantization, nncf, openvino) happen only when a quantizer runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import ConfigError, ModelError

Sample = Mapping[str, np.ndarray]

TOOLCHAINS = ("openvino", "ort", "nncf")
MODES = ("int8", "weights", "float")

#: the file each toolchain writes per stage: OpenVINO IR (an .xml with its .bin) or ONNX
OUTPUT_SUFFIX = {"openvino": ".xml", "ort": ".onnx", "nncf": ".onnx"}


@dataclass(frozen=True)
class StageRecipe:
    """How one stage is quantized. ``ignore_ops``/``ignore_names`` stay FP32 (mixed precision)."""

    toolchain: str = "openvino"
    per_channel: bool = True
    calibration: str = "minmax"  # ort: minmax|entropy|percentile
    ignore_ops: tuple[str, ...] = ()
    ignore_names: tuple[str, ...] = ()
    ignore_patterns: tuple[str, ...] = ()  # nncf: regex over node names
    transformer: bool = False  # nncf ModelType.TRANSFORMER (SmoothQuant; attention's sensitive ops FP32)
    fast_bias_correction: bool = True
    # openvino toolchain only: "int8" = static INT8 (weights and activations); "weights" = INT8
    # weights only, dequantized when the model is compiled, so it computes in float (the file
    # shrinks, the arithmetic does not change); "float" = not quantized, FP16 weights in the IR
    mode: str = "int8"
    # the first N layers with weights (in graph order) stay float: the stem sees raw pixels
    float_first: int = 0
    # layers with weights, by position in graph order (negative: from the end), that stay float
    float_positions: tuple[int, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "toolchain": self.toolchain,
            "per_channel": self.per_channel,
            # NNCF picks its own statistics (min/max per preset, plus bias correction)
            "calibration": self.calibration if self.toolchain == "ort" else "nncf",
            "ignore_ops": list(self.ignore_ops),
            "ignore_names": list(self.ignore_names),
            "ignore_patterns": list(self.ignore_patterns),
            "transformer": self.transformer,
            "mode": self.mode,
            "float_first": self.float_first,
            "float_positions": list(self.float_positions),
            "options": dict(self.extra.get("ort_options", {})),
        }


def quantize_onnx(src: Path, dst: Path, samples: Sequence[Sample], recipe: StageRecipe) -> None:
    """Quantize ``src`` into ``dst`` with ``recipe``, calibrating on ``samples``."""
    if not samples:
        raise ModelError(f"no calibration samples for {src.name}")
    if recipe.mode not in MODES:
        raise ConfigError(f"unknown quantization mode {recipe.mode!r}; choose one of: {', '.join(MODES)}")
    if (recipe.mode != "int8" or recipe.float_first or recipe.float_positions) and recipe.toolchain != "openvino":
        raise ConfigError(
            f"mode {recipe.mode!r}, float_first and float_positions are openvino-toolchain options (OpenVINO IR)"
        )
    if recipe.toolchain == "openvino":
        _quantize_openvino(src, dst, samples, recipe)
    elif recipe.toolchain == "ort":
        _quantize_ort(src, dst, samples, recipe)
    elif recipe.toolchain == "nncf":
        _quantize_nncf(src, dst, samples, recipe)
    else:
        raise ConfigError(f"unknown toolchain {recipe.toolchain!r}; choose one of: {', '.join(TOOLCHAINS)}")


def _quantize_ort(src: Path, dst: Path, samples: Sequence[Sample], recipe: StageRecipe) -> None:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self._it = iter(samples)

        def get_next(self) -> dict[str, np.ndarray] | None:
            item = next(self._it, None)
            return None if item is None else dict(item)

    methods = {
        "minmax": CalibrationMethod.MinMax,
        "entropy": CalibrationMethod.Entropy,
        "percentile": CalibrationMethod.Percentile,
    }
    if recipe.calibration not in methods:
        raise ConfigError(f"unknown calibration method {recipe.calibration!r}; choose one of {sorted(methods)}")
    src, dst = Path(src).resolve(), Path(dst).resolve()
    with tempfile.TemporaryDirectory(prefix="luodi-ortq-") as tmp:
        pre = Path(tmp) / "pre.onnx"
        opset13 = _at_least_opset(src, 13, Path(tmp) / "opset13.onnx")
        # symbolic shape inference + ONNX optimisation first: the quantizer needs shapes to place
        # QDQ pairs, and folded BatchNorms quantize as one conv instead of two ops.
        # ORT's pre-processing saves an external-data file named by a UUID in the *current* folder
        # (20 MB for rec): run it from the temp folder so a user's working directory stays clean.
        # chdir is process-wide; quantization is a one-shot batch job, never run inside the service.
        with _quiet(), contextlib.chdir(tmp):
            try:
                quant_pre_process(str(opset13), str(pre), skip_symbolic_shape=False)
            except Exception:
                # paddle2onnx graphs with dynamic widths defeat ORT's symbolic shape inference;
                # ONNX's own shape inference and the optimiser still run
                quant_pre_process(str(opset13), str(pre), skip_symbolic_shape=True)
            quantize_static(
                str(pre),
                str(dst),
                Reader(),
                quant_format=QuantFormat.QDQ,
                per_channel=recipe.per_channel,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=methods[recipe.calibration],
                op_types_to_quantize=list(recipe.extra.get("op_types", [])) or None,
                nodes_to_exclude=list(recipe.ignore_names),
                extra_options={"CalibTensorRangeSymmetric": False, **recipe.extra.get("ort_options", {})},
            )
    _copy_metadata(src, dst)


def _nncf_options(nncf: Any, samples: Sequence[Sample], recipe: StageRecipe) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "subset_size": len(samples),
        "fast_bias_correction": recipe.fast_bias_correction,
        "preset": nncf.QuantizationPreset.MIXED,  # asymmetric activations, symmetric weights
    }
    if recipe.transformer:
        kwargs["model_type"] = nncf.ModelType.TRANSFORMER
    if recipe.ignore_ops or recipe.ignore_names or recipe.ignore_patterns:
        kwargs["ignored_scope"] = nncf.IgnoredScope(
            names=list(recipe.ignore_names),
            types=list(recipe.ignore_ops),
            patterns=list(recipe.ignore_patterns),
            validate=False,
        )
    return kwargs


def _quantize_openvino(src: Path, dst: Path, samples: Sequence[Sample], recipe: StageRecipe) -> None:
    """NNCF on the OpenVINO model; ``dst`` is the IR .xml (its .bin is written beside it)."""
    try:
        import nncf
        import openvino as ov
    except ImportError as exc:
        raise ConfigError("the openvino toolchain needs nncf and openvino: pip install 'luodi[slim]'") from exc
    if dst.suffix != ".xml":
        raise ConfigError(f"the openvino toolchain writes OpenVINO IR: {dst.name} must end in .xml")
    try:
        model = ov.Core().read_model(str(src))
    except Exception as exc:
        raise ModelError(f"openvino cannot read {src.name}: {exc}") from exc
    if recipe.mode == "float":
        ov.save_model(model, str(dst), compress_to_fp16=True)
        return
    weighted = _weighted_layers(model)
    kept = weighted[: recipe.float_first]
    kept += [weighted[i] for i in recipe.float_positions if -len(weighted) <= i < len(weighted)]
    if kept:
        recipe = replace(recipe, ignore_names=(*recipe.ignore_names, *dict.fromkeys(kept)))
    if recipe.mode == "weights":
        kwargs = {k: v for k, v in _nncf_options(nncf, samples, recipe).items() if k == "ignored_scope"}
        with _quiet():
            try:
                # per-channel asymmetric INT8 weights for every conv/matmul not ignored
                compressed = nncf.compress_weights(model, mode=nncf.CompressWeightsMode.INT8_ASYM, **kwargs)
            except Exception as exc:
                raise ModelError(f"nncf could not compress {src.name}: {exc}") from exc
            ov.save_model(compressed, str(dst), compress_to_fp16=True)
        return
    names = [next(iter(p.get_names())) for p in model.inputs]
    # samples arrive as {input name: array}; OpenVINO takes them keyed by the same names
    data = nncf.Dataset([{n: s[n] for n in names} for s in samples])
    with _quiet():
        try:
            quantized = nncf.quantize(model, data, **_nncf_options(nncf, samples, recipe))
        except Exception as exc:  # nncf raises its own and OpenVINO's exception types
            raise ModelError(f"nncf could not quantize {src.name}: {exc}") from exc
        # constants left in float (the few layers NNCF keeps FP32, biases) are stored as FP16:
        # they still run in the plugin's precision, and the file stays small
        ov.save_model(quantized, str(dst), compress_to_fp16=True)


def _weighted_layers(model: Any) -> list[str]:
    """Names of the layers with constant weights (convolutions, matmuls), in graph order."""
    kinds = ("Convolution", "GroupConvolution", "ConvolutionBackpropData", "GroupConvolutionBackpropData", "MatMul")
    out = []
    for op in model.get_ordered_ops():
        weighted = op.get_type_name() in kinds and op.get_input_size() > 1
        if weighted and op.input_value(1).get_node().get_type_name() in ("Constant", "Convert"):
            out.append(op.get_friendly_name())
    return out


def _quantize_nncf(src: Path, dst: Path, samples: Sequence[Sample], recipe: StageRecipe) -> None:
    try:
        import nncf
        import onnx
    except ImportError as exc:
        raise ConfigError("the nncf toolchain needs nncf and onnx: pip install 'luodi[slim]'") from exc

    model = onnx.load(str(src))
    with _quiet():
        try:
            quantized = nncf.quantize(model, nncf.Dataset(list(samples)), **_nncf_options(nncf, samples, recipe))
        except Exception as exc:  # nncf raises its own and ORT's exception types
            raise ModelError(f"nncf could not quantize {src.name}: {exc}") from exc
    onnx.save(quantized, str(dst))
    _copy_metadata(src, dst)


def _at_least_opset(src: Path, opset: int, dst: Path) -> Path:
    """Per-channel DequantizeLinear (its ``axis``) needs opset 13; paddle2onnx writes 11."""
    import onnx
    from onnx import version_converter

    model = onnx.load(str(src))
    current = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), opset)
    if current >= opset:
        return src
    try:
        converted = version_converter.convert_version(model, opset)
    except Exception as exc:
        raise ModelError(f"cannot convert {src.name} from opset {current} to {opset}: {exc}") from exc
    onnx.save(converted, str(dst))
    return dst


def _copy_metadata(src: Path, dst: Path) -> None:
    """Keep the FP32 file's metadata (paddle2onnx puts the rec dictionary under ``character``)."""
    import onnx

    original = onnx.load(str(src), load_external_data=False)
    meta = {p.key: p.value for p in original.metadata_props}
    if not meta:
        return
    model = onnx.load(str(dst))
    have = {p.key for p in model.metadata_props}
    for key, value in meta.items():
        if key not in have:
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
    onnx.save(model, str(dst))


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The quantizers log progress bars and notices at INFO/WARNING; a CLI user gets our summary."""
    names = ("nncf", "onnxruntime", "root")
    saved = {n: logging.getLogger(None if n == "root" else n).level for n in names}
    old_tqdm = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"
    try:
        for n in names:
            logging.getLogger(None if n == "root" else n).setLevel(logging.ERROR)
        yield
    finally:
        for n, level in saved.items():
            logging.getLogger(None if n == "root" else n).setLevel(level)
        if old_tqdm is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = old_tqdm
