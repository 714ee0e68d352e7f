# mypy: disable-error-code="no-any-return"
"""PP-OCRv6 small recogniser in PaddlePaddle dynamic-graph code, in its deployed (fused) form.

The layout is read off the shipped ONNX graph (``pp-ocrv6-small/rec.onnx``), whose convolutions
already carry their BatchNorm folded into a bias; we build that form, so the weights load one to one
and a fine-tuned network exports back to the same graph:

  stem (PP-HGNetV2 style): conv3x3/2 48, [conv2x2 24 -> conv2x2 48 | maxpool2x2], concat,
       conv3x3/2 48, conv1x1 96, all ReLU                                       -> 96 x 12 x W/4
  13 blocks. A stride-1 block is a 3x3 depthwise conv (its identity branch fused in), an optional
       squeeze-excite, then x + pw(2c) -> GELU -> pw(c). A downsampling block (stride 2 in height)
       is the depthwise conv with that stride, then pw(2 c_in) -> GELU -> pw(c_out), no shortcut.
  avg-pool 3x2 -> neck: a 1x1 conv shortcut, and 1x1 conv + (depthwise 1x7 conv, added) -> two
       transformer blocks -> layer norm -> + shortcut; every conv there with BatchNorm and swish.
  -> linear CTC head over T = W / 8 timesteps.

Parameters are registered in the order the graph first uses them (the neck's shortcut before its
main branch): :func:`luodi.train.weights.load_pretrained` pairs by that order and checks every shape.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # paddle warns at import about build tooling (ccache) we never use
    import paddle
    import paddle.nn.functional as F  # noqa: N812 - the Paddle convention
    from paddle import nn

from luodi.train.model import SqueezeExcite, TransformerBlock

# (in, out, height stride, squeeze-excite) per block, as the shipped graph has them.
BLOCKS: tuple[tuple[int, int, int, bool], ...] = (
    (96, 96, 1, True),
    (96, 96, 1, False),
    (96, 96, 1, False),
    (96, 192, 2, False),
    (192, 192, 1, True),
    (192, 192, 1, False),
    (192, 192, 1, True),
    (192, 192, 1, False),
    (192, 192, 1, True),
    (192, 192, 1, False),
    (192, 384, 2, False),
    (384, 384, 1, True),
    (384, 384, 1, False),
)
BACKBONE_CHANNELS = 384
NECK_DIMS = 120
NUM_HEADS = 8
DEFAULT_NUM_CLASSES = 18710


class Stem(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.stem1 = nn.Conv2D(3, 48, 3, stride=2, padding=1)
        # 2x2 kernels padded on the bottom and right only ("SAME_UPPER" in the graph)
        self.stem2a = nn.Conv2D(48, 24, 2, padding=[0, 1, 0, 1])
        self.stem2b = nn.Conv2D(24, 48, 2, padding=[0, 1, 0, 1])
        self.stem3 = nn.Conv2D(96, 48, 3, stride=2, padding=1)
        self.stem4 = nn.Conv2D(48, 96, 1)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = F.relu(self.stem1(x))
        x2 = F.relu(self.stem2b(F.relu(self.stem2a(x))))
        # "SAME" pads bottom/right like the graph; an explicit F.pad here exports a garbage pad value
        x1 = F.max_pool2d(x, kernel_size=2, stride=1, padding="SAME")
        x = paddle.concat([x1, x2], axis=1)
        return F.relu(self.stem4(F.relu(self.stem3(x))))


class Block(nn.Layer):
    def __init__(self, cin: int, cout: int, stride: int, se: bool) -> None:
        super().__init__()
        self.dw = nn.Conv2D(cin, cin, 3, stride=(stride, 1), padding=1, groups=cin)
        self.se = SqueezeExcite(cin) if se else None
        self.expand = nn.Conv2D(cin, 2 * cin, 1)
        self.project = nn.Conv2D(2 * cin, cout, 1)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.dw(x)
        if self.se is not None:
            x = self.se(x)
        y = self.project(F.gelu(self.expand(x)))
        return x + y if self.residual else y


class Backbone(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.stem = Stem()
        self.blocks = nn.LayerList([Block(*spec) for spec in BLOCKS])

    def stages(self) -> list[list[nn.Layer]]:
        """Stem, then the blocks by feature-map size (96 x 12, 192 x 6, 384 x 3): lowest first."""
        blocks = list(self.blocks)
        return [[self.stem], *(blocks[a:b] for a, b in ((0, 3), (3, 10), (10, 13)))]

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return F.avg_pool2d(x, kernel_size=(3, 2), stride=(3, 2))


class ConvBNSwish(nn.Layer):
    def __init__(self, cin: int, cout: int, kernel: tuple[int, int], groups: int = 1) -> None:
        super().__init__()
        pad = (kernel[0] // 2, kernel[1] // 2)
        self.conv = nn.Conv2D(cin, cout, kernel, padding=pad, groups=groups, bias_attr=False)
        self.bn = nn.BatchNorm2D(cout)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return F.swish(self.bn(self.conv(x)))


class Neck(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        c = BACKBONE_CHANNELS
        self.shortcut = ConvBNSwish(c, NECK_DIMS, (1, 1))
        self.conv1 = ConvBNSwish(c, NECK_DIMS, (1, 1))
        self.mix = ConvBNSwish(NECK_DIMS, NECK_DIMS, (1, 7), groups=NECK_DIMS)
        self.blocks = nn.LayerList([TransformerBlock(NECK_DIMS, NUM_HEADS) for _ in range(2)])
        self.norm = nn.LayerNorm(NECK_DIMS, epsilon=1e-6)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        shortcut = self.shortcut(x)
        z = self.conv1(x)
        z = z + self.mix(z)
        h, w = paddle.shape(z)[2], paddle.shape(z)[3]
        z = z.flatten(2).transpose([0, 2, 1])
        for block in self.blocks:
            z = block(z)
        z = self.norm(z)
        z = z.reshape([0, h, w, NECK_DIMS]).transpose([0, 3, 1, 2]) + shortcut
        return z.squeeze(2).transpose([0, 2, 1])  # N x T x C


class RecModelV6(nn.Layer):
    """Backbone + neck + linear CTC head; logits in training mode, softmax in eval mode."""

    def __init__(self, num_classes: int = DEFAULT_NUM_CLASSES) -> None:
        super().__init__()
        self.backbone = Backbone()
        self.neck = Neck()
        self.head = nn.Linear(NECK_DIMS, num_classes)

    @property
    def num_classes(self) -> int:
        return int(self.head.weight.shape[1])

    def logits(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.head(self.neck(self.backbone(x)))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        out = self.logits(x)
        if self.training:
            return out
        return F.softmax(out, axis=2)
