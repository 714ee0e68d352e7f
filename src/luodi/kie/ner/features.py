"""Inputs of the sequence labeller: character ids and gazetteer match flags (numpy only).

Shared by training and inference so both see exactly the same features.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from luodi.kie.gazetteer import Gazetteer

__all__ = ["GAZ_DIM", "PAD", "UNK", "CharVocab", "gazetteer_features", "normalize_char"]

PAD = 0
UNK = 1
# Per level (province, city, district): begins / inside / ends a known name.
GAZ_DIM = 9


def normalize_char(ch: str) -> str:
    """Full-width forms to ASCII and Latin to lower case, one character in, one out (offsets stay)."""
    folded = unicodedata.normalize("NFKC", ch).lower()
    return folded if len(folded) == 1 else ch


class CharVocab:
    """Character → id; 0 is padding, 1 stands for every character not seen in training."""

    def __init__(self, chars: Sequence[str]) -> None:
        self.chars: tuple[str, ...] = tuple(chars)
        self._ids = {c: i + 2 for i, c in enumerate(self.chars)}

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 1) -> CharVocab:
        counts: dict[str, int] = {}
        for text in texts:
            for ch in text:
                key = normalize_char(ch)
                counts[key] = counts.get(key, 0) + 1
        kept = sorted(c for c, n in counts.items() if n >= min_count)
        return cls(kept)

    def __len__(self) -> int:
        return len(self.chars) + 2

    def encode(self, text: str) -> np.ndarray:
        return np.fromiter((self._ids.get(normalize_char(ch), UNK) for ch in text), dtype=np.int64, count=len(text))

    def save(self, path: Path) -> None:
        # One character per line; a line break character would break the format, so it is escaped.
        lines = [c.encode("unicode_escape").decode("ascii") if not c.isprintable() else c for c in self.chars]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> CharVocab:
        chars = []
        for line in path.read_text(encoding="utf-8").split("\n"):
            if not line:
                continue
            chars.append(line.encode("ascii").decode("unicode_escape") if line.startswith("\\") else line)
        return cls(chars)


def gazetteer_features(text: str, gazetteer: Gazetteer) -> np.ndarray:
    """[len(text), GAZ_DIM] float32 flags from every gazetteer match (overlaps included)."""
    feats = np.zeros((len(text), GAZ_DIM), dtype=np.float32)
    for m in gazetteer.find_all(text):
        base = 3 * int(m.level)
        feats[m.start, base] = 1.0
        feats[m.start + 1 : m.end - 1, base + 1] = 1.0
        feats[m.end - 1, base + 2] = 1.0
    return feats
