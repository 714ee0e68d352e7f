"""A tiny CTC recogniser built with onnx.helper, so quantization runs for real in milliseconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DICT = ["甲", "乙", "丙"]  # 3 characters → 5 classes (blank first, space last)


def tiny_rec(path: Path, *, opset: int = 11, seed: int = 0) -> Path:
    """x[N,3,48,W] → conv 48×8 stride 48×8 → [N,T,5] softmax: the shape contract of a PP-OCR rec."""
    onnx = pytest.importorskip("onnx")  # the slim extra; tests that build models skip without it
    from onnx import TensorProto, helper

    rng = np.random.default_rng(seed)
    w = helper.make_tensor("w", TensorProto.FLOAT, [5, 3, 48, 8], rng.normal(0, 0.05, (5, 3, 48, 8)).ravel())
    b = helper.make_tensor("b", TensorProto.FLOAT, [5], rng.normal(0, 0.1, 5))
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="Conv.0", kernel_shape=[48, 8], strides=[48, 8]),
        helper.make_node("Relu", ["c"], ["r"], name="Relu.0"),
        helper.make_node("Squeeze", ["r"], ["s"], name="Squeeze.0", axes=[2]),
        helper.make_node("Transpose", ["s"], ["t"], name="Transpose.0", perm=[0, 2, 1]),
        helper.make_node("Softmax", ["t"], ["y"], name="Softmax.0", axis=2),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_rec",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 48, "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", "T", 5])],
        initializer=[w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    entry = model.metadata_props.add()
    entry.key, entry.value = "character", "\n".join(DICT)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def rec_samples(n: int, seed: int = 1) -> list[dict[str, np.ndarray]]:
    """Crops of varying width, normalised to [-1, 1] as the pipeline feeds them."""
    rng = np.random.default_rng(seed)
    return [{"x": rng.uniform(-1, 1, (1, 3, 48, int(rng.integers(2, 12)) * 8)).astype(np.float32)} for _ in range(n)]


@pytest.fixture
def tiny_rec_model(tmp_path: Path) -> Path:
    return tiny_rec(tmp_path / "tiny_rec.onnx")


@pytest.fixture
def make_tiny_rec():
    return tiny_rec


@pytest.fixture
def make_samples():
    return rec_samples
