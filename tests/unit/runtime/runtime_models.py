"""Tiny ONNX models built in the test, for the runtime tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def matmul_onnx(path: Path, weights: np.ndarray) -> Path:
    """A tiny ONNX ``y = x @ W`` (x: [n, features])."""
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", weights.shape[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", weights.shape[1]])],
        initializer=[numpy_helper.from_array(weights, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    path.write_bytes(model.SerializeToString())
    return path
