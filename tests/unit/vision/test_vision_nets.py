"""Dynamic-size export of the vision feature networks (random weights: no zoo bundle needed)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnxruntime as ort

from luodi.vision.backbone import EfficientNetLite, stage_channels
from luodi.vision.nets import PatchFeatures, PooledFeatures, export_onnx, feature_dim


def _backbone() -> EfficientNetLite:
    model = EfficientNetLite("efficientnet-lite0", num_classes=0, dropout=0.0, drop_connect=0.0)
    model.eval()
    return model


def test_native_patch_features_pool_finer_stages_onto_the_coarsest_grid(tmp_path: Path) -> None:
    out = tmp_path / "patch.onnx"
    # export_onnx checks ONNX against Paddle itself, at a size neither square nor a stride multiple
    assert export_onnx(PatchFeatures(_backbone(), (2, 4)), 64, out, dynamic=True) <= 1e-3
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    channels = stage_channels("efficientnet-lite0")
    for h, w in ((37, 101), (64, 64), (130, 90)):
        (y,) = session.run(None, {"x": np.zeros((1, 3, h, w), np.float32)})
        assert y.shape == (1, channels[2] + channels[4], math.ceil(h / 16), math.ceil(w / 16))


def test_native_pooled_features_take_any_size(tmp_path: Path) -> None:
    out = tmp_path / "pooled.onnx"
    export_onnx(PooledFeatures(_backbone(), (2, 3, 4, 6)), 64, out, dynamic=True)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for h, w in ((40, 120), (96, 70)):
        (y,) = session.run(None, {"x": np.zeros((2, 3, h, w), np.float32)})
        assert y.shape == (2, feature_dim("efficientnet-lite0", (2, 3, 4, 6)))
