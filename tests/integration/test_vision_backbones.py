"""The pinned EfficientNet-Lite checkpoints load into luodi's Paddle network: every tensor, every
shape (torch_to_paddle refuses a missing or misfitting one), and the ImageNet head gives a sharp,
finite prediction on a smooth synthetic image, where untrained weights give a flat one."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

pytestmark = [pytest.mark.integration]


@pytest.mark.parametrize("name", ["efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"])
def test_pinned_backbone_loads_whole_and_predicts(name: str, require_bundle: Callable[[str], object]) -> None:
    from luodi.vision.backbone import EfficientNetLite, load_backbone_weights, paddle, stage_channels
    from luodi.vision.bundle import BACKBONES
    from luodi.vision.pth import load_pth
    from luodi.zoo.generic import bundle_file

    bundle = require_bundle(name)
    state = load_pth(bundle_file(bundle, "weights"))  # type: ignore[arg-type]
    model = EfficientNetLite(BACKBONES[name], num_classes=1000, dropout=0.0, drop_connect=0.0)
    model.eval()
    assert load_backbone_weights(model, state, with_fc=True) == len(model.state_dict())
    # a smooth gradient image: ImageNet weights give peaked logits, random ones do not
    ramp = np.linspace(-1, 1, 224, dtype=np.float32)
    x = np.stack([np.add.outer(ramp, ramp) / 2, np.add.outer(ramp, -ramp) / 2, np.outer(ramp, ramp)])[None]
    with paddle.no_grad():
        logits = model(paddle.to_tensor(x)).numpy()[0]
        maps = model.stage_features(paddle.to_tensor(x), (3, 4))
    assert logits.shape == (1000,) and np.isfinite(logits).all()
    assert logits.max() - np.median(logits) > 2.0  # measured 4.2-4.6; untrained weights give ~0
    channels = stage_channels(BACKBONES[name])
    assert [tuple(m.shape) for m in maps] == [(1, channels[3], 14, 14), (1, channels[4], 14, 14)]
