# mypy: disable-error-code="no-any-return"
"""PP-OCRv4 (and v5) mobile recogniser in PaddlePaddle dynamic-graph code, in its deployed (re-parameterised) form.

The shipped inference program has the PPLCNetV3 rep-branches already fused: each block is one
convolution with a bias, a learnable scalar affine ("lab"), hard-swish and another scalar affine.
We build exactly that form, so the pretrained weights load one to one and the fine-tuned network
exports back to the same graph. The training-only NRTR/SAR branch is not in the inference model and
is not rebuilt; the CTC head is all we fine-tune.

Layout (input N x 3 x 48 x W):
  stem conv3x3/2 + BN -> 14 depthwise/pointwise blocks (two with squeeze-excite) -> avg-pool 3x2
  -> SVTR neck (conv 1x3, conv 1x1, 2 transformer blocks, conv 1x1, concat shortcut, conv 1x3, conv 1x1)
  -> linear CTC head over T = W / 8 timesteps.
"""

from __future__ import annotations

import warnings
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # paddle warns at import about build tooling (ccache) we never use
    import paddle
    import paddle.nn.functional as F  # noqa: N812 - the Paddle convention
    from paddle import nn

# (kernel, in, out, stride, squeeze-excite) per block; the stride applies to the depthwise conv.
BLOCKS: tuple[tuple[int, int, int, tuple[int, int], bool], ...] = (
    (3, 16, 32, (1, 1), False),
    (3, 32, 64, (1, 1), False),
    (3, 64, 64, (1, 1), False),
    (3, 64, 128, (2, 1), False),
    (3, 128, 128, (1, 1), False),
    (3, 128, 240, (1, 2), False),
    (5, 240, 240, (1, 1), False),
    (5, 240, 240, (1, 1), False),
    (5, 240, 240, (1, 1), False),
    (5, 240, 240, (1, 1), False),
    (5, 240, 480, (2, 1), True),
    (5, 480, 480, (1, 1), True),
    (5, 480, 480, (2, 1), False),
    (5, 480, 480, (1, 1), False),
)
BACKBONE_CHANNELS = 480
NECK_DIMS = 120
NECK_HIDDEN = 60  # in_channels // 8
NUM_HEADS = 8
DEFAULT_NUM_CLASSES = 6625


class ScalarAffine(nn.Layer):
    """y = a * x + b with scalar learnable a, b (PPLCNetV3's learnable affine block)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = self.create_parameter([1], default_initializer=nn.initializer.Constant(1.0))
        self.bias = self.create_parameter([1], default_initializer=nn.initializer.Constant(0.0))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.scale * x + self.bias


class ConvAct(nn.Layer):
    """Fused conv (with bias) -> affine -> hard-swish -> affine."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: tuple[int, int], groups: int) -> None:
        super().__init__()
        self.conv = nn.Conv2D(cin, cout, kernel, stride=stride, padding=(kernel - 1) // 2, groups=groups)
        self.lab = ScalarAffine()
        self.act_lab = ScalarAffine()

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.act_lab(F.hardswish(self.lab(self.conv(x))))


class SqueezeExcite(nn.Layer):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2D(channels, channels // 4, 1)
        self.expand = nn.Conv2D(channels // 4, channels, 1)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        s = F.adaptive_avg_pool2d(x, 1)
        s = F.hardsigmoid(self.expand(F.relu(self.reduce(s))), slope=1.0 / 6.0, offset=0.5)
        return x * s


class Block(nn.Layer):
    def __init__(self, kernel: int, cin: int, cout: int, stride: tuple[int, int], se: bool) -> None:
        super().__init__()
        self.dw = ConvAct(cin, cin, kernel, stride, groups=cin)
        self.se = SqueezeExcite(cin) if se else None
        self.pw = ConvAct(cin, cout, 1, (1, 1), groups=1)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.dw(x)
        if self.se is not None:
            x = self.se(x)
        return self.pw(x)


class Backbone(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2D(3, 16, 3, stride=2, padding=1, bias_attr=False)
        self.stem_bn = nn.BatchNorm2D(16)
        self.blocks = nn.LayerList([Block(*spec) for spec in BLOCKS])

    def stages(self) -> list[list[nn.Layer]]:
        """Stem, then PPLCNetV3's block groups (blocks2 ... blocks6): lowest first."""
        groups = ((0, 1), (1, 3), (3, 5), (5, 10), (10, 14))
        blocks = list(self.blocks)
        return [[self.stem, self.stem_bn], *(blocks[a:b] for a, b in groups)]

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.stem_bn(self.stem(x))
        for block in self.blocks:
            x = block(x)
        # height 3 -> 1 and width halved: one timestep per 8 input columns
        return F.avg_pool2d(x, kernel_size=(3, 2), stride=(3, 2))


class ConvBNSwish(nn.Layer):
    def __init__(self, cin: int, cout: int, kernel: tuple[int, int]) -> None:
        super().__init__()
        pad = (kernel[0] // 2, kernel[1] // 2)
        self.conv = nn.Conv2D(cin, cout, kernel, padding=pad, bias_attr=False)
        self.bn = nn.BatchNorm2D(cout)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return F.swish(self.bn(self.conv(x)))


class Attention(nn.Layer):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim**-0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        n = paddle.shape(x)[1]
        qkv = self.qkv(x).reshape([0, -1, 3, self.heads, self.head_dim]).transpose([2, 0, 3, 1, 4])
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = F.softmax(q.matmul(k.transpose([0, 1, 3, 2])), axis=-1)
        out = attn.matmul(v).transpose([0, 2, 1, 3]).reshape([0, n, self.heads * self.head_dim])
        return self.proj(out)


class TransformerBlock(nn.Layer):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, epsilon=1e-5)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, epsilon=1e-5)
        self.fc1 = nn.Linear(dim, dim * 2)
        self.fc2 = nn.Linear(dim * 2, dim)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.swish(self.fc1(self.norm2(x))))


class SVTRNeck(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        c = BACKBONE_CHANNELS
        self.conv1 = ConvBNSwish(c, NECK_HIDDEN, (1, 3))
        self.conv2 = ConvBNSwish(NECK_HIDDEN, NECK_DIMS, (1, 1))
        self.blocks = nn.LayerList([TransformerBlock(NECK_DIMS, NUM_HEADS) for _ in range(2)])
        self.norm = nn.LayerNorm(NECK_DIMS, epsilon=1e-6)
        self.conv3 = ConvBNSwish(NECK_DIMS, c, (1, 1))
        self.conv4 = ConvBNSwish(2 * c, NECK_HIDDEN, (1, 3))
        self.conv5 = ConvBNSwish(NECK_HIDDEN, NECK_DIMS, (1, 1))

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        shortcut = x
        z = self.conv2(self.conv1(x))
        h, w = paddle.shape(z)[2], paddle.shape(z)[3]
        z = z.flatten(2).transpose([0, 2, 1])
        for block in self.blocks:
            z = block(z)
        z = self.norm(z)
        z = z.reshape([0, h, w, NECK_DIMS]).transpose([0, 3, 1, 2])
        z = self.conv3(z)
        z = paddle.concat([shortcut, z], axis=1)
        z = self.conv5(self.conv4(z))
        return z.squeeze(2).transpose([0, 2, 1])  # N x T x C


class RecModel(nn.Layer):
    """Backbone + neck + linear CTC head. ``forward`` returns logits (N x T x classes) in training
    mode and softmax probabilities in eval mode, as the shipped inference model does."""

    def __init__(self, num_classes: int = DEFAULT_NUM_CLASSES) -> None:
        super().__init__()
        self.backbone = Backbone()
        self.neck = SVTRNeck()
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


# The recogniser layouts we rebuild, by the name a run records: PP-OCRv4 and v5 mobile share one
# layout (v5 only has a larger dictionary); PP-OCRv6 small has its own (luodi.train.model_v6).
ARCHITECTURES = ("pplcnetv3", "ppocrv6-small")
DEFAULT_ARCH = "pplcnetv3"


def build_model(num_classes: int = DEFAULT_NUM_CLASSES, arch: str = DEFAULT_ARCH) -> Any:
    if arch == "pplcnetv3":
        return RecModel(num_classes)
    if arch == "ppocrv6-small":
        from luodi.train.model_v6 import RecModelV6

        return RecModelV6(num_classes)
    raise ValueError(f"unknown recogniser architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")


def parameter_count(model: nn.Layer) -> int:
    total: Any = sum(int(p.numel()) for p in model.parameters())
    return int(total)
