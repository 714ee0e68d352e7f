# mypy: disable-error-code="no-any-return"
"""The networks luodi.vision trains and exports, around the frozen EfficientNet-Lite backbone.

Fine-tuning the whole backbone in Paddle's dynamic graph on a CPU is impractical: measured here,
one forward+backward of EfficientNet-Lite0 at 224x224 costs about 0.5 s per image (Paddle's CPU
depthwise convolutions), against 26 ms for inference in ONNX Runtime. So the backbone stays
frozen: features are computed once with ONNX Runtime, and only the head trains in Paddle. On the
magnetic-tile data, multi-stage pooled features with a linear head already separate the classes
(bench/results/vision.md); the exported graph is backbone + head in one ONNX file.

- classifier features: average- and max-pooled maps at the end of stages 4, 5 and 6 (strides 16
  to 32; configurable), concatenated (max pooling keeps small defects that averaging dilutes);
- anomaly patch features: the stage-3 and stage-4 maps (both stride 16; finer stages are pooled
  onto the coarsest grid), each position averaged with its 3x3 neighbours (PatchCore's local
  neighbourhood aggregation).

Models with ``resize: native`` are exported with a dynamic height and width: every image runs at
its own size (luodi.vision.data.to_input).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # paddle warns at import about build tooling we never use
    import paddle
    from paddle import nn

from luodi.errors import ModelError
from luodi.vision.backbone import EfficientNetLite, load_backbone_weights, stage_channels

CLS_STAGES = (4, 5, 6)
PATCH_STAGES = (3, 4)
STAGE_STRIDES = (2, 4, 8, 16, 16, 32, 32)  # of the input, at the end of each stage
PARITY_TOL = 1e-3


def feature_dim(variant: str, stages: Sequence[int] = CLS_STAGES) -> int:
    channels = stage_channels(variant)
    return 2 * sum(channels[s] for s in stages)


def patch_dim(variant: str, stages: Sequence[int] = PATCH_STAGES) -> int:
    channels = stage_channels(variant)
    return sum(channels[s] for s in stages)


class PooledFeatures(nn.Layer):
    def __init__(self, backbone: EfficientNetLite, stages: Sequence[int] = CLS_STAGES) -> None:
        super().__init__()
        self.backbone = backbone
        self.stages = tuple(stages)

    def forward(self, x: Any) -> Any:
        maps = self.backbone.stage_features(x, self.stages)
        parts = []
        for m in maps:
            parts.append(paddle.mean(m, axis=[2, 3]))
            parts.append(paddle.max(m, axis=[2, 3]))
        return paddle.concat(parts, axis=1)


class Head(nn.Layer):
    """Standardise the features with the training set's statistics, then a linear layer."""

    def __init__(self, dim: int, num_classes: int, dropout: float = 0.2) -> None:
        super().__init__()
        self.mean = self.create_parameter([dim], default_initializer=nn.initializer.Constant(0.0))
        self.scale = self.create_parameter([dim], default_initializer=nn.initializer.Constant(1.0))
        self.mean.stop_gradient = True
        self.scale.stop_gradient = True
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.fc = nn.Linear(dim, num_classes)

    def set_statistics(self, mean: np.ndarray, std: np.ndarray) -> None:
        self.mean.set_value(paddle.to_tensor(mean.astype(np.float32)))
        self.scale.set_value(paddle.to_tensor((1.0 / np.maximum(std, 1e-6)).astype(np.float32)))

    def forward(self, feats: Any) -> Any:
        x = (feats - self.mean) * self.scale
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc(x)


class Classifier(nn.Layer):
    """Image in, class probabilities out: what is exported."""

    def __init__(self, features: PooledFeatures, head: Head) -> None:
        super().__init__()
        self.features = features
        self.head = head

    def forward(self, x: Any) -> Any:
        return nn.functional.softmax(self.head(self.features(x)), axis=1)


class PatchFeatures(nn.Layer):
    """Patch features for the memory bank: the maps of ``stages``, finer ones average-pooled onto the
    coarsest stage's grid (strides differ by powers of two; ``ceil_mode`` matches the backbone's
    "SAME" sizes for any input size), concatenated, then each position averaged with its 3x3
    neighbours (PatchCore's local neighbourhood aggregation)."""

    def __init__(self, backbone: EfficientNetLite, stages: Sequence[int] = PATCH_STAGES) -> None:
        super().__init__()
        self.backbone = backbone
        self.stages = tuple(sorted(stages))
        coarsest = STAGE_STRIDES[self.stages[-1]]
        self.factors = tuple(coarsest // STAGE_STRIDES[s] for s in self.stages)
        self.pool = nn.AvgPool2D(3, stride=1, padding=1, exclusive=True)

    def forward(self, x: Any) -> Any:
        maps = self.backbone.stage_features(x, self.stages)
        parts = []
        for i, m in enumerate(maps):  # paddle's dy2static cannot trace zip(..., strict=True)
            f = self.factors[i]
            parts.append(m if f == 1 else nn.functional.avg_pool2d(m, f, stride=f, ceil_mode=True, exclusive=True))
        return self.pool(parts[0] if len(parts) == 1 else paddle.concat(parts, axis=1))


def pretrained_backbone(variant: str, state: dict[str, np.ndarray]) -> EfficientNetLite:
    model = EfficientNetLite(variant, num_classes=0, dropout=0.0, drop_connect=0.0)
    load_backbone_weights(model, state)
    model.eval()
    return model


def export_onnx(layer: Any, size: int, out: Path, *, dynamic: bool = False) -> float:
    """``layer`` (input N x 3 x size x size, or N x 3 x H x W of any size when ``dynamic``) to an ONNX
    file; returns the max difference of the ONNX outputs from Paddle's on a random input, relative
    to their magnitude (refused above ``PARITY_TOL``)."""
    import onnxruntime as ort

    from luodi.train.export import to_onnx

    layer.eval()
    side: int | None = None if dynamic else size
    spec = paddle.static.InputSpec([None, 3, side, side], "float32", "x")
    with tempfile.TemporaryDirectory(prefix="luodi-vision-export-") as tmp:
        prefix = Path(tmp) / "inference"
        paddle.jit.save(layer, str(prefix), input_spec=[spec])
        program = next((p for p in (prefix.with_suffix(".json"), prefix.with_suffix(".pdmodel")) if p.is_file()), None)
        if program is None:
            raise ModelError(f"paddle.jit.save wrote no program file next to {prefix}")
        part = out.with_name(out.name + ".part")
        to_onnx(program, prefix.with_suffix(".pdiparams"), part)
        os.replace(part, out)
    # a dynamic graph is checked at a size that is neither square nor a multiple of the stride
    shape = (1, 3, size * 3 // 4 + 5, size) if dynamic else (2, 3, size, size)
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    with paddle.no_grad():
        expected = layer(paddle.to_tensor(x)).numpy()
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    # relative to the output's magnitude: pooled feature maps reach values in the tens
    scale = max(1.0, float(np.abs(expected).max()))
    diff = float(np.abs(expected - got).max()) / scale if expected.shape == got.shape else float("inf")
    if not diff <= PARITY_TOL:
        raise ModelError(f"the exported ONNX disagrees with the Paddle model (max abs diff {diff:.2e})")
    return diff


class SmoothedCrossEntropy(nn.Layer):
    """Cross-entropy with label smoothing and per-class weights, on integer labels (N x 1)."""

    def __init__(self, num_classes: int, weight: np.ndarray | None = None, smoothing: float = 0.0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.smoothing = smoothing
        self.weight = paddle.to_tensor(weight.astype(np.float32)) if weight is not None else None

    def forward(self, logits: Any, label: Any) -> Any:
        onehot = nn.functional.one_hot(label.reshape([-1]), self.num_classes).astype("float32")
        target = onehot * (1.0 - self.smoothing) + self.smoothing / self.num_classes
        per = -(target * nn.functional.log_softmax(logits, axis=-1)).sum(axis=-1)
        if self.weight is None:
            return per.mean()
        w = (onehot * self.weight).sum(axis=-1)
        return (per * w).sum() / w.sum()
