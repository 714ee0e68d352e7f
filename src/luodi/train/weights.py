"""Pretrained weights from a shipped recogniser into the dynamic-graph model.

paddle2onnx keeps Paddle's parameter names (``conv2d_157.w_0``, ``batch_norm2d_2.w_1``...) and does
not fold BatchNorm, so the ONNX file is a complete record of the trained parameters. Their global
counters say nothing about structure, but the graph's node order is the forward order; so is the
registration order of our layers. We therefore pair them by order and insist every shape matches:
any architectural mismatch fails loudly instead of loading garbage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import ModelError

# Paddle's own parameter names (``conv2d_157.w_0``, ``learnable_affine_block_3.w_1``): trained tensors.
_PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]*_\d+\.(w|b)_\d+$")
# Newer paddle2onnx exports fold some parameters into renamed tensors: conv biases reshaped to
# [1, C, 1, 1] (``p2o.pd_op.reshape.N.0``) and layer-norm scales/shifts (``helper.reshape.N``).
# Scalars under those prefixes are graph constants (GELU's sqrt 2, epsilons), never parameters.
_RENAMED_PARAM_PREFIXES = ("p2o.pd_op.reshape.", "helper.reshape.")


def _is_parameter(name: str, value: np.ndarray) -> bool:
    if _PARAM_NAME.match(name):
        return True
    return name.startswith(_RENAMED_PARAM_PREFIXES) and value.dtype.kind == "f" and value.size > 1


@dataclass(frozen=True, slots=True)
class LoadReport:
    source: Path
    tensors: int
    values: int
    num_classes: int


def read_onnx_parameters(path: Path) -> list[tuple[str, np.ndarray]]:
    """Trained parameters of a paddle2onnx recogniser, in the order the graph first uses them."""
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load(str(path))
    except Exception as exc:  # onnx raises DecodeError/OSError variants
        raise ModelError(f"cannot read ONNX model {path}: {exc}") from exc
    consts: dict[str, np.ndarray] = {}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    for init in model.graph.initializer:
        consts[init.name] = numpy_helper.to_array(init)
    ordered: list[tuple[str, np.ndarray]] = []
    seen: set[str] = set()
    # Identity nodes only rename: follow them back to the tensor they pass on
    alias = {n.output[0]: n.input[0] for n in model.graph.node if n.op_type == "Identity"}
    for node in model.graph.node:
        if node.op_type in ("Constant", "Identity"):
            continue
        for raw in node.input:
            name = raw
            while name in alias:
                name = alias[name]
            if name in consts and name not in seen and _is_parameter(name, consts[name]):
                seen.add(name)
                ordered.append((name, consts[name]))
    return ordered


def onnx_character_metadata(path: Path) -> str | None:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    for prop in model.metadata_props:
        if prop.key == "character":
            return str(prop.value)
    return None


def detect_architecture(onnx_path: Path, num_classes: int | None = None) -> str:
    """The rebuilt layout whose parameter shapes are exactly the ONNX recogniser's, or ModelError."""
    from luodi.train.model import ARCHITECTURES, build_model

    params = read_onnx_parameters(onnx_path)
    classes = num_classes or int(params[-1][1].shape[0])
    shapes = [int(np.prod(a.shape)) for _, a in params]
    for arch in ARCHITECTURES:
        model = build_model(classes, arch)
        if [int(np.prod(t.shape)) for t in model.state_dict().values()] == shapes:
            return arch
    raise ModelError(
        f"{onnx_path}: {len(params)} parameter tensors match none of the rebuilt recogniser layouts "
        f"({', '.join(ARCHITECTURES)}); fine-tuning needs a PP-OCRv4/v5 mobile or PP-OCRv6 small base"
    )


def load_pretrained(model: Any, onnx_path: Path) -> LoadReport:
    """Copy the ONNX recogniser's parameters (BN statistics included) into ``model`` in place."""
    params = read_onnx_parameters(onnx_path)
    state = model.state_dict()
    targets = list(state.items())
    if len(params) != len(targets):
        raise ModelError(
            f"{onnx_path}: {len(params)} parameter tensors, the {type(model).__name__} architecture has "
            f"{len(targets)}; this base model has a different architecture"
        )
    new_state: dict[str, np.ndarray] = {}
    values = 0
    for (src_name, stored), (dst_name, tensor) in zip(params, targets, strict=True):
        shape = list(tensor.shape)
        array = stored
        if list(array.shape) != shape and array.size == tensor.size and array.squeeze().shape == tuple(shape):
            array = array.reshape(shape)  # a conv bias the export stored as [1, C, 1, 1]
        if list(array.shape) != shape:
            raise ModelError(
                f"{onnx_path}: parameter {src_name} has shape {list(array.shape)}, layer {dst_name} expects {shape}"
            )
        new_state[dst_name] = array.astype(np.float32)
        values += int(array.size)
    model.set_state_dict(new_state)
    return LoadReport(source=onnx_path, tensors=len(params), values=values, num_classes=int(params[-1][1].shape[0]))
