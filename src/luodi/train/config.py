"""The fine-tuning config: a small YAML in the spirit of PaddleOCR's, validated strictly.

Every section forbids unknown keys, so a typo (``learning_rat``) is an error naming the key and
where it is, never a silently ignored setting. Relative paths are resolved against the config
file's folder, so a recipe works from any working directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from luodi.errors import ConfigError, InputNotFoundError
from luodi.ocr.line_prep import LinePrep

SYNTH_STYLES = ("print", "dotmatrix", "thermal", "stamp")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Style = Literal["print", "dotmatrix", "thermal", "stamp"]


class SynthSpec(_Strict):
    """Synthetic lines rendered by ``luodi.synth`` before training starts."""

    style: Style
    n: int = Field(gt=0)
    severity: Literal["mild", "hard"] = "mild"
    seed: int = 0
    # the text to draw: an express-NER file (PaddleNLP format) or a plain text file, one line each;
    # or generated: "general" (jieba word frequencies) or "slip" (bank-slip lines), which take no file
    text: Path | None = None
    text_format: Literal["express_ner", "lines", "general", "slip"] = "express_ner"
    max_len: int = Field(default=24, ge=2)  # express_ner: longer addresses are cut into pieces this long
    spaces: float = Field(default=0.15, ge=0.0, le=0.5)  # general: how often words are set apart by a space
    fonts: tuple[str, ...] | None = None
    # renderer family: "train" keeps fonts, dot-matrix heads and degradations of the blind eval out;
    # "train-basic" is the train family with the first, narrow dot-matrix heads only (for comparison);
    # "train-random" the train faces with domain-randomised dot-matrix printers (every line its own)
    family: Literal["train", "train-basic", "train-random", "eval"] | None = None

    @model_validator(mode="after")
    def _text_given(self) -> SynthSpec:
        if self.text_format in ("express_ner", "lines") and self.text is None:
            raise ValueError(f"text_format {self.text_format!r} needs a text file (text)")
        return self


class DataSpec(_Strict):
    labels: tuple[Path, ...] = ()  # PaddleOCR rec label files: "path<TAB>text" per line
    synth: tuple[SynthSpec, ...] = ()

    @model_validator(mode="after")
    def _some_data(self) -> DataSpec:
        if not self.labels and not self.synth:
            raise ValueError("give label files (labels) or synthetic data (synth)")
        return self


class EvalSpec(DataSpec):
    every_steps: int = Field(default=200, gt=0)
    max_samples: int | None = Field(default=None, gt=0)


class PreprocessSpec(_Strict):
    height: Literal[48] = 48  # the PP-OCR necks pool height 48 down to one row
    max_width: int = Field(default=320, ge=16)
    # line preprocessing (luodi.ocr.line_prep), applied to every line the run reads and carried by the
    # exported bundle so the OCR engine applies it too: grey levels; a closing of the dark ink of
    # dot_closing x the line height that joins an impact printer's separate dots (implies grey)
    grey: bool = False
    dot_closing: float = Field(default=0.0, ge=0.0, le=0.2)

    def line_prep(self) -> LinePrep | None:
        prep = LinePrep(grey=self.grey, dot_closing=self.dot_closing)
        return prep if prep.active else None


class AugmentSpec(_Strict):
    enabled: bool = True
    prob: float = Field(default=0.4, ge=0.0, le=1.0)  # per sample
    max_rotate_deg: float = Field(default=2.0, ge=0.0, le=15.0)
    blur: bool = True
    noise: bool = True
    jpeg: bool = True
    contrast: bool = True


class OptimizerSpec(_Strict):
    name: Literal["adamw"] = "adamw"
    lr: float = Field(default=2e-4, gt=0.0)
    weight_decay: float = Field(default=1e-4, ge=0.0)
    warmup_steps: int = Field(default=50, ge=0)
    schedule: Literal["cosine", "constant"] = "cosine"
    min_lr_ratio: float = Field(default=0.05, ge=0.0, le=1.0)
    grad_clip: float | None = Field(default=5.0, gt=0.0)


class TrainSpec(DataSpec):
    batch_size: int = Field(default=16, gt=0)
    steps: int | None = Field(default=None, gt=0)
    epochs: int | None = Field(default=None, gt=0)
    log_every: int = Field(default=10, gt=0)
    # keep the backbone's BatchNorm statistics from pretraining: tiny CPU batches estimate them badly
    freeze_bn: bool = True
    # CPU threads for Paddle's math; None: the cores this process may use, shared among this node's
    # ranks (Paddle's own default is one thread, which leaves the other cores of a small machine idle)
    threads: int | None = Field(default=None, gt=0)
    # leave out training lines the stock model reads with a character error rate above this (None: keep
    # all): lines degraded past reading teach guessing from noise (luodi.train.legibility)
    max_stock_cer: float | None = Field(default=None, ge=0.0)

    @model_validator(mode="after")
    def _one_length(self) -> TrainSpec:
        if (self.steps is None) == (self.epochs is None):
            raise ValueError("give exactly one of steps or epochs")
        return self


class GuardSpec(_Strict):
    """Keeps what the stock model knows while it learns the new data (see luodi.train.guard)."""

    enabled: bool = True
    lines: int = Field(default=1200, ge=1)  # general lines rendered for the guard (train-family renderer)
    share: float = Field(default=0.25, ge=0.0, lt=1.0)  # of every batch
    styles: tuple[Style, ...] = ("print",)
    coverage: float = Field(default=0.15, ge=0.0, le=1.0)  # share of lines drawn uniformly from the dictionary
    # how often words are set apart by a space: with none, fine-tuning unlearns the space class
    spaces: float = Field(default=0.15, ge=0.0, le=0.5)
    hard: float = Field(default=0.3, ge=0.0, le=1.0)  # share of them rendered at hard severity (degraded print)
    distill: float = Field(default=1.0, ge=0.0)  # weight of the KL to the stock model's outputs on those lines
    topk: int = Field(default=8, ge=1, le=64)  # teacher classes kept per timestep (the rest as one bin)
    backbone_lr: float = Field(default=0.3, ge=0.0, le=1.0)  # learning-rate factor; 0 freezes the backbone
    frozen_stages: int = Field(default=0, ge=0, le=6)  # lowest backbone stages frozen: 1 the stem, 2 + first group...
    ema: float | None = Field(default=None, ge=0.9, lt=1.0)  # decay of an exponential moving average of weights
    # weight of the fine-tuned weights in what is evaluated, chosen and exported; below 1 they are
    # interpolated toward the stock model's (WiSE-FT). 1: the fine-tuned weights as trained
    interpolate: float = Field(default=1.0, gt=0.0, le=1.0)
    seed: int = 0


class ReportSpec(_Strict):
    """The before/after report: the shipped general regression set and the user's other styles."""

    regression: bool = True
    max_drop: float = Field(default=0.01, ge=0.0, le=1.0)  # export refuses a larger loss on the general set
    max_lines: int | None = Field(default=None, gt=0)  # score only the first lines of each set (smoke tests)


class CharacterSpec(_Strict):
    extra: tuple[str, ...] = ()  # characters to add to the dictionary (each one entry)
    add_unknown: bool = False  # add training-label characters missing from the dictionary


class TrainConfig(_Strict):
    base: str = "pp-ocrv6-small"
    output_dir: Path = Path("runs")
    seed: int = 0
    Preprocess: PreprocessSpec = PreprocessSpec()
    Augment: AugmentSpec = AugmentSpec()
    Optimizer: OptimizerSpec = OptimizerSpec()
    Characters: CharacterSpec = CharacterSpec()
    Guard: GuardSpec = GuardSpec()
    Report: ReportSpec = ReportSpec()
    Train: TrainSpec
    Eval: EvalSpec | None = None


def _resolve_paths(raw: Any, root: Path) -> Any:
    """Resolve the path-valued keys (``labels``, ``text``, ``output_dir``) against ``root``."""
    if isinstance(raw, dict):
        out: dict[str, Any] = {}
        for key, value in raw.items():
            if key in ("text", "output_dir") and isinstance(value, str):
                out[key] = str((root / value).resolve()) if not Path(value).is_absolute() else value
            elif key == "labels" and isinstance(value, list | str):
                items = [value] if isinstance(value, str) else value
                out[key] = [
                    str((root / v).resolve()) if isinstance(v, str) and not Path(v).is_absolute() else v for v in items
                ]
            else:
                out[key] = _resolve_paths(value, root)
        return out
    if isinstance(raw, list):
        return [_resolve_paths(v, root) for v in raw]
    return raw


def _format_error(source: str, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            parts.append(f"unknown key {where!r}")
        elif err["type"] == "missing":
            parts.append(f"missing key {where!r}")
        else:
            parts.append(f"{where}: {err['msg']}")
    return f"{source}: " + "; ".join(parts)


def parse_config(data: Any, *, root: Path | None = None, source: str = "config") -> TrainConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    if root is not None:
        data = _resolve_paths(data, root)
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(source, exc)) from exc


def load_config(path: str | Path) -> TrainConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputNotFoundError(f"config file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_config(data, root=path.resolve().parent, source=str(path))
