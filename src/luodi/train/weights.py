"""Pretrained weights from a shipped recogniser into the dynamic-graph model.

paddle2onnx keeps Paddle's parameter names (``conv2d_157.w_0``, ``batch_norm2d_2.w_1``...) and does
not fold BatchNorm, so the ONNX file is a complete record of the trained parameters. Their global
counters say nothing about structure, but the graph's node order is the forward order; so is the
registration order of our layers. We therefore pair them by order and insist every shape matches:
any architectural mismatch fails loudly instead of loading garbage.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import ModelError

# Names paddle2onnx invents for graph constants that are not trained parameters.
_NOT_PARAMS = ("p2o.", "fill_constant")


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
    for node in model.graph.node:
        if node.op_type == "Constant":
            continue
        for name in node.input:
            if name in consts and name not in seen and not name.startswith(_NOT_PARAMS):
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


def load_pretrained(model: Any, onnx_path: Path) -> LoadReport:
    """Copy the ONNX recogniser's parameters (BN statistics included) into ``model`` in place."""
    params = read_onnx_parameters(onnx_path)
    state = model.state_dict()
    targets = list(state.items())
    if len(params) != len(targets):
        raise ModelError(
            f"{onnx_path}: {len(params)} parameter tensors, the PP-OCRv4 rec architecture has {len(targets)}; "
            "this base model has a different architecture"
        )
    new_state: dict[str, np.ndarray] = {}
    values = 0
    for (src_name, array), (dst_name, tensor) in zip(params, targets, strict=True):
        shape = list(tensor.shape)
        if list(array.shape) != shape:
            raise ModelError(
                f"{onnx_path}: parameter {src_name} has shape {list(array.shape)}, layer {dst_name} expects {shape}"
            )
        new_state[dst_name] = array.astype(np.float32)
        values += int(array.size)
    model.set_state_dict(new_state)
    return LoadReport(source=onnx_path, tensors=len(params), values=values, num_classes=int(params[-1][1].shape[0]))
