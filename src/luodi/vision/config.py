"""``luodi train vision`` config: a small YAML, validated strictly (a typo is an error naming the key).

Relative paths are resolved against the config file's folder. Example::

    backbone: efficientnet-lite0
    image_size: 224
    output_dir: runs/vision
    good_class: MT_Free          # optional: the class that means "no defect"
    Train:
      data: data/tiles           # folder-per-class, or a CSV (path,label[,mask][,split])
      epochs: 40
    Eval:
      holdout: 0.15              # or data: data/tiles-val
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from luodi.errors import ConfigError, InputNotFoundError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrainSpec(_Strict):
    data: Path
    epochs: int = Field(default=60, gt=0)
    batch_size: int = Field(default=64, gt=0)
    lr: float = Field(default=3e-3, gt=0.0)
    weight_decay: float = Field(default=1e-3, ge=0.0)
    dropout: float = Field(default=0.2, ge=0.0, lt=1.0)
    label_smoothing: float = Field(default=0.05, ge=0.0, lt=0.5)
    # "balanced": each class weighs as much as the others in the loss (inverse frequency)
    class_weights: Literal["balanced", "none"] = "balanced"


class EvalSpec(_Strict):
    data: Path | None = None  # a separate folder/CSV; else a CSV's split=val rows, else a holdout
    holdout: float = Field(default=0.15, ge=0.0, lt=0.9)


class AugmentSpec(_Strict):
    """Extra views of each training image, computed once (the backbone is frozen; see nets.py).

    Surface images have no natural "up" at the defect scale, so flips keep them realistic;
    brightness/contrast and blur stand for exposure and focus changes between shots.
    """

    hflip: bool = True
    vflip: bool = True
    photometric: int = Field(default=1, ge=0, le=8)  # views with random brightness/contrast/blur/noise


class VisionTrainConfig(_Strict):
    backbone: str = "efficientnet-lite0"
    # square: resized to image_size x image_size (aspect ratio not kept); native: each image at its
    # own resolution, turned to landscape, shrunk only when its long side exceeds image_size.
    # The defaults are the best measured on the magnetic tiles (examples/vision/magnetic_tile.yml,
    # bench/results/vision.md): square 224 with stages 4-6 recognised other shots of known parts
    # best, and parts never seen better than the previous native 640 recipe
    resize: Literal["native", "square"] = "square"
    image_size: int = Field(default=224, ge=64, le=2048)
    # backbone stages whose maps are average- and max-pooled into the head's features (0..6;
    # strides 2, 4, 8, 16, 16, 32, 32): early ones keep thin, small defects at native resolution
    stages: tuple[int, ...] = Field(default=(4, 5, 6), min_length=1)
    output_dir: Path = Path("runs/vision")
    seed: int = 0
    good_class: str | None = None
    Train: TrainSpec
    Eval: EvalSpec = EvalSpec()
    Augment: AugmentSpec = AugmentSpec()

    @field_validator("stages")
    @classmethod
    def _known_stages(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 0 <= s <= 6 for s in v) or len(set(v)) != len(v):
            raise ValueError("stages are distinct numbers from 0 to 6")
        return tuple(sorted(v))


def _resolve(data: dict[str, Any], base: Path) -> dict[str, Any]:
    out = dict(data)
    if "output_dir" in out and out["output_dir"] is not None:
        out["output_dir"] = str(base / out["output_dir"])
    for section in ("Train", "Eval"):
        sec = out.get(section)
        if isinstance(sec, dict) and sec.get("data") is not None:
            out[section] = {**sec, "data": str(base / str(sec["data"]))}
    return out


def load_vision_config(path: str | Path) -> VisionTrainConfig:
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputNotFoundError(f"{p}: cannot read the config ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{p} must hold a mapping of settings")
    return parse_vision_config(raw, base=p.parent)


def parse_vision_config(raw: dict[str, Any], base: Path | None = None) -> VisionTrainConfig:
    try:
        return VisionTrainConfig.model_validate(_resolve(raw, base or Path.cwd()))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"config: {where}: {first['msg']}") from exc
