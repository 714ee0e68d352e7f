"""The CTC class list and growing it with new characters without disturbing the old ones.

PaddleOCR's classes are: blank, the dictionary file's entries in order, then space. New characters
are appended to the dictionary file, so in class space they go between the last entry and space:
the head's space column moves to the end and the new columns sit just before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import ConfigError, ModelError

NEW_ROW_STD = 1e-3  # new characters start nearly silent: old predictions barely move
NEW_BIAS = -5.0  # ...and start unlikely, so the blank and known characters keep winning until trained


@dataclass(frozen=True, slots=True)
class Charset:
    entries: tuple[str, ...]  # the dictionary file's lines

    @property
    def classes(self) -> tuple[str, ...]:
        return ("", *self.entries, " ")

    @property
    def num_classes(self) -> int:
        return len(self.entries) + 2

    def index(self) -> dict[str, int]:
        idx = {c: i + 1 for i, c in enumerate(self.entries)}
        idx.setdefault(" ", len(self.entries) + 1)
        return idx

    def known(self) -> set[str]:
        return set(self.entries) | {" "}

    def extended(self, new: Iterable[str]) -> Charset:
        seen = self.known()
        added: list[str] = []
        for c in new:
            if not c or "\n" in c or "\t" in c or "\r" in c:
                raise ConfigError(f"extra character {c!r}: an entry must be non-empty, without tabs or newlines")
            if c not in seen and c not in added:
                added.append(c)
        return Charset((*self.entries, *added))

    def write(self, path: Path) -> None:
        path.write_text("".join(f"{e}\n" for e in self.entries), encoding="utf-8")

    def decode(self, probs: np.ndarray, length: int | None = None) -> str:
        """Greedy CTC: best class per timestep, repeats collapsed, blanks dropped."""
        best = probs[: length if length is not None else len(probs)].argmax(axis=-1)
        classes = self.classes
        out: list[str] = []
        prev = -1
        for k in best.tolist():
            if k not in (prev, 0):
                out.append(classes[k])
            prev = k
        return "".join(out)


def read_charset(path: Path) -> Charset:
    raw = path.read_text(encoding="utf-8").split("\n")
    if raw and raw[-1] == "":
        raw.pop()
    entries = tuple(e[:-1] if e.endswith("\r") else e for e in raw)
    if not entries:
        raise ModelError(f"character dictionary {path} is empty")
    return Charset(entries)


def extend_head(model: Any, old: Charset, new: Charset, *, seed: int = 0) -> int:
    """Grow ``model.head`` from ``old`` to ``new`` classes in place; returns how many were added.

    Old columns keep their exact weights (the space column moves to the end with its weights), so
    every old class's logit is unchanged; new columns start small and with a low bias.
    """
    import paddle
    from paddle import nn

    added = new.num_classes - old.num_classes
    if added < 0 or new.entries[: len(old.entries)] != old.entries:
        raise ModelError("the new character set must start with the old one")
    if added == 0:
        return 0
    w = model.head.weight.numpy()  # in x classes
    b = model.head.bias.numpy()
    if w.shape[1] != old.num_classes:
        raise ModelError(f"the head has {w.shape[1]} classes, the dictionary implies {old.num_classes}")
    rng = np.random.default_rng(seed)
    new_w = rng.normal(0.0, NEW_ROW_STD, (w.shape[0], added)).astype(np.float32)
    new_b = np.full((added,), NEW_BIAS, dtype=np.float32)
    w2 = np.concatenate([w[:, :-1], new_w, w[:, -1:]], axis=1)
    b2 = np.concatenate([b[:-1], new_b, b[-1:]])
    head = nn.Linear(w.shape[0], new.num_classes)
    head.weight.set_value(paddle.to_tensor(w2))
    head.bias.set_value(paddle.to_tensor(b2))
    model.head = head
    return added


def old_class_positions(old: Charset, new: Charset) -> Sequence[int]:
    """Where each old class sits in the new class list (for comparing logits)."""
    return [*range(old.num_classes - 1), new.num_classes - 1]
