"""The text-training config: one small YAML, validated strictly (an unknown key is an error naming it).

    task: classify            # or nlu: intent + slots
    train: data/train.tsv     # a file, or {path, format, intent_file}, or a list of them
    eval: data/dev.tsv        # optional; without it eval_fraction of train is held out (stratified)

Relative paths are resolved against the config file's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from luodi.errors import ConfigError, InputNotFoundError
from luodi.train.config import _format_error


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataFile(_Strict):
    path: Path
    format: Literal["tsv", "json", "jsonl", "conll"] | None = None  # None: from the suffix
    intent_file: Path | None = None  # conll only; default FILE.intent beside it


class ModelSpec(_Strict):
    # multilingual-e5-small: its Chinese vocabulary and vectors as the lexicon; none: learn from scratch
    lexicon: Literal["multilingual-e5-small", "none"] = "multilingual-e5-small"
    # words of the training texts in the n-gram bag, cut by a dictionary jieba builds at training time
    # and the bundle stores (luodi.text.segment; serving needs no jieba); none: character n-grams only
    words: Literal["jieba", "none"] = "jieba"
    # with words: each character also reads its place in its word and the word's vector (word_dim; 0: the
    # place only). Off: SMP2019 dev slot F1 lower at every epoch (0.717 vs 0.735 at epoch 9, boundaries
    # of slots cross jieba's words), THUCNews trainer's held-out 0.8564 vs 0.8614 without it
    word_chars: bool = False
    word_dim: int = Field(default=64, ge=0)
    lexicon_dim: int = Field(default=128, ge=16, le=384)  # the lexicon vectors' PCA size
    char_dim: int = Field(default=128, ge=16)
    bigram_dim: int = Field(default=64, ge=0)
    bag_dim: int = Field(default=128, ge=16)
    channels: int = Field(default=192, ge=16)  # the convolutional encoder's width
    # dilations 1, 2, 4: a 15-character view (2 layers: 7); SMP2019 dev slot F1 0.749 -> 0.773 with the third
    layers: int = Field(default=3, ge=1, le=4)
    dropout: float = Field(default=0.3, ge=0.0, lt=1.0)
    bag_linear: bool = True  # a direct linear path from the TF-IDF n-gram bag to the classes
    # that path as a linear SVM on the training texts (luodi.text.linear). stacked: the SVM fitted on all
    # of them, frozen, its scores x a learned gain; the network learns beside its out-of-fold scores.
    # start: the path starts as the SVM and trains with the rest
    bag_svm: Literal["stacked", "start"] = "stacked"
    bag_svm_gain: float = Field(default=3.0, ge=0.0)  # the SVM's scores x this at the start (0: no SVM, random)
    # nlu: slot values seen in training marked where they occur (luodi.text.features); off: on SMP2019 dev
    # it did not help (slot F1 0.739 vs 0.741, 0.748 vs 0.755 in two seeds)
    gazetteer: bool = False
    slot_context: bool = True  # nlu: every position's slot scores also see the utterance vector
    # nlu: a character BiGRU of this many units per direction over the encoder's outputs, read by the slot
    # head beside them (0: none; the slot head reads the convolutional encoder alone). Off: SMP2019 dev slot F1
    # 0.765 / 0.729 / 0.736 in three seeds vs the default's 0.750 / 0.755, 29% fewer texts per CPU second
    slot_rnn: int = Field(default=0, ge=0)
    # nlu: the tags the slot CRF learns. bioes: a span's last character (E-) and a one-character span (S-) get
    # their own tags and transitions, the CRF allowed to end only after a span is closed
    slot_scheme: Literal["bio", "bioes"] = "bio"
    # e5's first layer(s) as a sentence vector in the bag (luodi.text.context; the model carries its cut of
    # e5: ~8 MB of embedding rows and the layer in INT8, ~0.7 CPU ms per text); none: off. On: THUCNews trainer's
    # held-out 801 (seed 0) bag SVM 0.8514 -> 0.8702; SMP2019 dev neutral over two seeds (intent / slot F1
    # 0.9570 / 0.7748 and 0.9492 / 0.7353 against the previous default's three-seed mean 0.9557 / 0.7513)
    context: Literal["multilingual-e5-small", "none"] = "multilingual-e5-small"
    # layers 2-4 added 0.2-0.5 pt more each in the SVM's cross-validation (within its folds' spread) for ~0.4 CPU
    # ms per layer and text
    context_layers: int = Field(default=1, ge=1, le=12)
    # distillation: the utterance vector also learns to predict this encoder's sentence vectors (training
    # only; ~29 CPU ms per short query, ~26-40 per news title, once per distilled text); none: off. Off by
    # default: on validation slices it gained within noise (THUCNews held-out 0.8602 -> 0.8677, SMP2019 dev
    # (intent + slot F1)/2 0.8517 -> 0.8565), on the bench's test splits it lost (SMP2019 intent 0.9444 ->
    # 0.9296, slot F1 0.8161 -> 0.8250; THUCNews 0.8590 -> 0.8575 with max_steps 450), bench/results/text_dev.md
    teacher: Literal["multilingual-e5-small", "none"] = "none"
    teacher_texts: int = Field(default=2500, ge=0)  # at most this many distilled (0: all)


class OptimSpec(_Strict):
    lr: float = Field(default=3e-3, gt=0.0)
    epochs: int = Field(default=12, gt=0)
    # at most this many optimiser steps: fewer epochs on a large training set (0: always `epochs`). THUCNews
    # 8,000 titles over 4 epochs (450): held-out 0.8602 vs 0.8614, 27% less CPU; off by default, as it was
    # only tried with the teacher on a test split
    max_steps: int = Field(default=0, ge=0)
    batch_size: int = Field(default=64, gt=0)
    warmup_steps: int = Field(default=50, ge=0)
    min_lr_ratio: float = Field(default=0.05, ge=0.0, le=1.0)
    label_smoothing: float = Field(default=0.05, ge=0.0, lt=0.5)
    slot_weight: float = Field(default=1.0, ge=0.0)  # nlu: weight of the slot (CRF) loss beside the intent loss
    deep_weight: float = Field(default=1.0, ge=0.0)  # stacked bag path: weight of the deep path's own class loss
    patience: int = Field(default=4, ge=1)  # evaluations without a gain before stopping early
    distill_weight: float = Field(default=1.0, ge=0.0)  # with a teacher: weight of matching its sentence vectors
    # an exponential moving average of the weights (decay per step; 0: off) is what is evaluated and saved
    ema: float = Field(default=0.0, ge=0.0, lt=1.0)
    # nlu: per training text with slots, this many extra copies with every slot value swapped for another
    # value of the same intent and type from the training texts (drawn once, seeded); 0: off. Off: SMP2019 dev
    # slot F1 0.745 / 0.744 in two seeds vs the default's 0.750 / 0.755, for twice the steps per epoch
    slot_swaps: int = Field(default=0, ge=0, le=4)
    # nlu: the CRF's transition scores learn this many times faster than the rest. Adam moves a weight by
    # about lr per step, so over a few hundred steps at lr 3e-3 a transition score can move < 1 (SMP2019:
    # max |trans| 0.55 after 396 steps) while the emissions grow through their layers
    crf_lr: float = Field(default=1.0, gt=0.0)


class TextTrainConfig(_Strict):
    task: Literal["classify", "nlu"] = "classify"
    train: tuple[DataFile, ...]
    eval: tuple[DataFile, ...] = ()
    eval_fraction: float = Field(default=0.1, gt=0.0, lt=0.5)  # held out of train when no eval file is given
    max_len: int = Field(default=64, ge=4, le=512)
    min_count: int = Field(default=2, ge=1)  # bag n-grams and bigrams seen fewer times are dropped
    output_dir: Path = Path("runs")
    seed: int = 0
    model: ModelSpec = ModelSpec()
    optim: OptimSpec = OptimSpec()

    @field_validator("train", "eval", mode="before")
    @classmethod
    def _files(cls, value: Any) -> Any:
        items = value if isinstance(value, list | tuple) else [value]
        return [{"path": v} if isinstance(v, str | Path) else v for v in items]

    @field_validator("train")
    @classmethod
    def _some(cls, value: tuple[DataFile, ...]) -> tuple[DataFile, ...]:
        if not value:
            raise ValueError("give at least one training file")
        return value


def _resolve(raw: Any, root: Path, key: str = "") -> Any:
    if isinstance(raw, dict):
        return {k: _resolve(v, root, k) for k, v in raw.items()}
    if isinstance(raw, list):
        return [_resolve(v, root, key) for v in raw]
    if key in ("train", "eval", "path", "intent_file", "output_dir") and isinstance(raw, str):
        return str(root / raw) if not Path(raw).is_absolute() else raw
    return raw


def parse_text_config(data: Any, *, root: Path | None = None, source: str = "config") -> TextTrainConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    if root is not None:
        data = _resolve(data, root)
    try:
        return TextTrainConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(source, exc)) from exc


def load_text_config(path: str | Path) -> TextTrainConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputNotFoundError(f"config file {p} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {p}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from exc
    return parse_text_config(data, root=p.resolve().parent, source=str(p))
