"""The document locator network (Paddle): a small convolutional encoder with a two-step
top-down decoder, predicting two maps at a quarter of the input size:

- ``mask``: pixels of any document (label, sheet);
- ``kernel``: the centre of each document (its outline shrunk), so touching labels stay apart.

About 0.15 M parameters; imported only to train and export (inference runs the ONNX export).
"""

from __future__ import annotations

import warnings
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # paddle warns at import about build tooling (ccache) we never use
    import paddle
    import paddle.nn.functional as F  # noqa: N812 - the Paddle convention
    from paddle import nn

paddle.device.set_device("cpu")

__all__ = ["ConvBN", "LocatorNet", "build_model", "paddle"]


class ConvBN(nn.Layer):
    def __init__(self, cin: int, cout: int, k: int = 3, stride: int = 1, *, groups: int = 1, dilation: int = 1) -> None:
        super().__init__()
        pad = dilation * (k // 2)
        self.conv = nn.Conv2D(cin, cout, k, stride, pad, dilation=dilation, groups=groups, bias_attr=False)
        self.bn = nn.BatchNorm2D(cout)

    def forward(self, x: Any) -> Any:
        return F.relu(self.bn(self.conv(x)))


class LocatorNet(nn.Layer):
    """Plain 3×3 convolutions: on Paddle's CPU kernels depthwise-separable blocks trained 2-3x
    slower per step for the same accuracy budget, and training happens on the user's machine."""

    def __init__(self, channels: tuple[int, int, int, int] = (16, 24, 48, 64), width: int = 32) -> None:
        super().__init__()
        c1, c2, c3, c4 = channels
        self.stage2 = nn.Sequential(ConvBN(3, c1, 3, 2), ConvBN(c1, c2, 3, 2), ConvBN(c2, c2, 3))  # 1/4
        self.stage3 = nn.Sequential(ConvBN(c2, c3, 3, 2), ConvBN(c3, c3, 3))  # 1/8
        # 1/16 with dilated context: a white label on a white bag is told by what surrounds it
        self.stage4 = nn.Sequential(ConvBN(c3, c4, 3, 2), ConvBN(c4, c4, 3, dilation=2), ConvBN(c4, c4, 3, dilation=4))
        self.lat4 = ConvBN(c4, width, 1)
        self.lat3 = ConvBN(c3, width, 1)
        self.lat2 = ConvBN(c2, width, 1)
        self.fuse = ConvBN(width, width, 3)
        self.head = nn.Conv2D(width, 2, 1)

    def forward(self, x: Any) -> Any:
        f2 = self.stage2(x)
        f3 = self.stage3(f2)
        f4 = self.stage4(f3)
        p = self.lat4(f4)
        p = F.interpolate(p, size=paddle.shape(f3)[2:], mode="bilinear", align_corners=False) + self.lat3(f3)
        p = F.interpolate(p, size=paddle.shape(f2)[2:], mode="bilinear", align_corners=False) + self.lat2(f2)
        return F.sigmoid(self.head(self.fuse(p)))


def build_model() -> Any:
    return LocatorNet()
