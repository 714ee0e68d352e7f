"""Texts → the integer arrays the network reads. Pure numpy and Python; saved as JSON in the bundle.

Three views of a text (characters normalised one to one, so positions stay those of the input):

- **bag**: every character 1-, 2- and 3-gram known from training, weighted TF-IDF style
  (sublinear term frequency × idf, L2-normalised) — what the strong linear baselines see;
- **characters**: per position the character and the bigram starting there (ids learned in training);
- **lexicon**: per position the pretrained lexicon entries touching it: the character itself, the
  words of 2..4 characters starting there and those ending there (rows of the lexicon table).

A text longer than ``max_len`` characters is cut to its first ``max_len``: the result says so.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import ModelError

PAD, UNK = 0, 1
NGRAMS = (1, 2, 3)
WORD_LENGTHS = (2, 3, 4)
LEX_SLOTS = 1 + 2 * len(WORD_LENGTHS)  # the character, words starting at it, words ending at it
FORMAT = "luodi-text-features/1"


def normalize(text: str) -> str:
    """Full-width forms to half-width, letters lower-cased; one character in, one out."""
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch).lower()
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


def _grams(text: str) -> list[str]:
    return [text[i : i + n] for n in NGRAMS for i in range(len(text) - n + 1)]


@dataclass(frozen=True, slots=True)
class Encoded:
    """A batch, padded to its longest text (at least one position)."""

    char_ids: np.ndarray  # [B, L] int64
    bigram_ids: np.ndarray  # [B, L] int64
    lex_ids: np.ndarray  # [B, L, LEX_SLOTS] int64 (0: nothing)
    bag_ids: np.ndarray  # [B, N] int64 (0: padding)
    bag_weights: np.ndarray  # [B, N] float32
    lengths: np.ndarray  # [B] int64, characters kept per text
    truncated: tuple[bool, ...]

    def inputs(self) -> dict[str, np.ndarray]:
        return {
            "char_ids": self.char_ids,
            "bigram_ids": self.bigram_ids,
            "lex_ids": self.lex_ids,
            "bag_ids": self.bag_ids,
            "bag_weights": self.bag_weights,
        }


@dataclass(frozen=True)
class Featurizer:
    max_len: int
    chars: dict[str, int]
    bigrams: dict[str, int]
    bag: dict[str, int]
    idf: np.ndarray  # [len(bag) + 1] float32, index 0 unused
    lexicon: dict[str, int]  # entry -> row of the lexicon table (row 0 is the zero vector)

    @property
    def sizes(self) -> dict[str, int]:
        return {
            "chars": len(self.chars) + 2,
            "bigrams": len(self.bigrams) + 2,
            "bag": len(self.bag) + 1,
            "lexicon": len(self.lexicon) + 1,
        }

    @classmethod
    def fit(cls, texts: Sequence[str], lexicon_words: Sequence[str], *, max_len: int, min_count: int = 2) -> Featurizer:
        """Vocabularies from the training texts: characters seen once, bigrams and bag n-grams seen
        ``min_count`` times (rarer ones are noise a linear model memorises), idf over the texts."""
        norm = [normalize(t)[:max_len] for t in texts]
        char_counts = Counter(c for t in norm for c in t)
        bigram_counts = Counter(t[i : i + 2] for t in norm for i in range(len(t) - 1))
        doc_freq: Counter[str] = Counter()
        for t in norm:
            doc_freq.update(set(_grams(t)))
        chars = {c: i + 2 for i, c in enumerate(sorted(char_counts))}
        bigrams = {b: i + 2 for i, b in enumerate(sorted(b for b, n in bigram_counts.items() if n >= min_count))}
        kept = sorted(g for g, n in doc_freq.items() if len(g) == 1 or n >= min_count)
        bag = {g: i + 1 for i, g in enumerate(kept)}
        n_docs = max(1, len(norm))
        idf = np.zeros(len(bag) + 1, dtype=np.float32)
        for g, i in bag.items():
            idf[i] = math.log((1 + n_docs) / (1 + doc_freq[g])) + 1.0  # scikit-learn's smooth idf
        lexicon = {w: i + 1 for i, w in enumerate(lexicon_words)}
        return cls(max_len, chars, bigrams, bag, idf, lexicon)

    def encode(self, texts: Sequence[str]) -> Encoded:
        norm = [normalize(t) for t in texts]
        truncated = tuple(len(t) > self.max_len for t in norm)
        norm = [t[: self.max_len] for t in norm]
        b = len(norm)
        width = max([1, *(len(t) for t in norm)])
        char_ids = np.zeros((b, width), np.int64)
        bigram_ids = np.zeros((b, width), np.int64)
        lex_ids = np.zeros((b, width, LEX_SLOTS), np.int64)
        bags = [self._bag(t) for t in norm]
        n = max([1, *(len(x) for x in bags)])
        bag_ids = np.zeros((b, n), np.int64)
        bag_weights = np.zeros((b, n), np.float32)
        for row, t in enumerate(norm):
            for i, ch in enumerate(t):
                char_ids[row, i] = self.chars.get(ch, UNK)
                if i + 1 < len(t):
                    bigram_ids[row, i] = self.bigrams.get(t[i : i + 2], UNK)
            self._lex_row(t, lex_ids[row])
            for k, (gid, w) in enumerate(bags[row]):
                bag_ids[row, k] = gid
                bag_weights[row, k] = w
        lengths = np.array([len(t) for t in norm], np.int64)
        return Encoded(char_ids, bigram_ids, lex_ids, bag_ids, bag_weights, lengths, truncated)

    def _bag(self, text: str) -> list[tuple[int, float]]:
        counts = Counter(self.bag[g] for g in _grams(text) if g in self.bag)
        weighted = [(gid, (1.0 + math.log(c)) * float(self.idf[gid])) for gid, c in counts.items()]
        norm = math.sqrt(sum(w * w for _, w in weighted)) or 1.0
        return [(gid, w / norm) for gid, w in weighted]

    def _lex_row(self, text: str, out: np.ndarray) -> None:
        lex = self.lexicon
        for i, ch in enumerate(text):
            out[i, 0] = lex.get(ch, 0)
            for k, n in enumerate(WORD_LENGTHS):
                if i + n <= len(text):
                    out[i, 1 + k] = lex.get(text[i : i + n], 0)
                if i - n + 1 >= 0:
                    out[i, 1 + len(WORD_LENGTHS) + k] = lex.get(text[i - n + 1 : i + 1], 0)

    # --- persistence ------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "max_len": self.max_len,
            "chars": _ordered(self.chars),
            "bigrams": _ordered(self.bigrams),
            "bag": _ordered(self.bag),
            "idf": [round(float(v), 6) for v in self.idf[1:]],
            "lexicon": _ordered(self.lexicon),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Featurizer:
        if data.get("format") != FORMAT:
            raise ModelError(f"unsupported text feature format {data.get('format')!r} (expected {FORMAT})")
        bag = _ids(data["bag"], 1)
        idf = np.zeros(len(bag) + 1, np.float32)
        idf[1:] = np.asarray(data["idf"], np.float32)
        return cls(
            int(data["max_len"]), _ids(data["chars"], 2), _ids(data["bigrams"], 2), bag, idf, _ids(data["lexicon"], 1)
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Featurizer:
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{path}: not a valid feature file ({exc})") from exc


def _ordered(ids: dict[str, int]) -> list[str]:
    return sorted(ids, key=ids.__getitem__)


def _ids(entries: Iterable[str], first: int) -> dict[str, int]:
    return {e: i + first for i, e in enumerate(entries)}
