"""Texts → the integer arrays the network reads. Pure numpy and Python; saved as JSON in the bundle.

Three views of a text (characters normalised one to one, so positions stay those of the input):

- **bag**: every character 1-, 2- and 3-gram known from training, and the text's words of two or
  more characters (cut by the segmenter learned in training, :mod:`luodi.text.segment`), weighted
  TF-IDF style (sublinear term frequency × idf, L2-normalised) — what the strong linear baselines see;
- **characters**: per position the character and the bigram starting there (ids learned in training);
- **lexicon**: per position the pretrained lexicon entries touching it: the character itself, the
  words of 2..4 characters starting there and those ending there (rows of the lexicon table);
- **words** (with a segmenter and ``word_chars``): per position where it stands in its word (single, begin, middle,
  end: 1-4) and that word's id (the bag's words, 1: a word outside them or a single character), a
  ``[L, 2]`` array — word boundaries for the slot head, word meaning for both heads;
- **context** (``model.context``): e5's first layer's sentence vector (:mod:`luodi.text.context`), appended to
  the bag as ``CONTEXT_DIM`` dense entries (ids after the n-grams) x ``CONTEXT_WEIGHT``: the bag SVM and the
  network's bag path read it as they read the n-grams;
- **gazetteer** (intent + slot models): per position and slot type, whether a slot value seen in
  training starts there or covers it (a multi-hot ``[L, 2 x types]``). Encoding a training text, a
  value counts only if another training text carries it (leave-one-out), so the network learns how
  far to trust a match from matches it would also have seen on new texts.

A text longer than ``max_len`` characters is cut to its first ``max_len``: the result says so.
"""

from __future__ import annotations

import dataclasses
import json
import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from luodi.errors import ModelError
from luodi.text.segment import Segmenter

if TYPE_CHECKING:
    from luodi.text.context import E5Context

PAD, UNK = 0, 1
NGRAMS = (1, 2, 3)
WORD_LENGTHS = (2, 3, 4)
LEX_SLOTS = 1 + 2 * len(WORD_LENGTHS)  # the character, words starting at it, words ending at it
GAZ_LENGTHS = range(2, 13)  # slot values of 2..12 characters are matched (one character is too ambiguous)
FORMAT = "luodi-text-features/1"
SINGLE, BEGIN, MIDDLE, END = 1, 2, 3, 4  # a character's place in its word (seg_ids[..., 0]; 0: padding)
# the context vector beside the L2-normalised n-gram bag: 1/sqrt(2) keeps the ratio of the cross-validation that
# chose it (bag and vector x1 each, the bag there in two normalised blocks, chars and words)
CONTEXT_WEIGHT = 1.0 / math.sqrt(2.0)
WORD = "\ue000"  # a private-use mark before a word in the bag: the word 银行 is not the character bigram 银行


def normalize(text: str) -> str:
    """Full-width forms to half-width, letters lower-cased; one character in, one out."""
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch).lower()
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


def _grams(text: str, segmenter: Segmenter | None = None) -> list[str]:
    grams = [text[i : i + n] for n in NGRAMS for i in range(len(text) - n + 1)]
    if segmenter is not None:
        grams += [WORD + w for w in segmenter.words(text)]
    return grams


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
    gaz: np.ndarray | None = None  # [B, L, 2 x slot types] float32; None: the model has no gazetteer
    seg_ids: np.ndarray | None = None  # [B, L, 2] int64: position in the word (1-4), word id; None: no words

    def inputs(self) -> dict[str, np.ndarray]:
        out = {
            "char_ids": self.char_ids,
            "bigram_ids": self.bigram_ids,
            "lex_ids": self.lex_ids,
            "bag_ids": self.bag_ids,
            "bag_weights": self.bag_weights,
        }
        if self.gaz is not None:
            out["gaz"] = self.gaz
        if self.seg_ids is not None:
            out["seg_ids"] = self.seg_ids
        return out


@dataclass(frozen=True)
class Featurizer:
    max_len: int
    chars: dict[str, int]
    bigrams: dict[str, int]
    bag: dict[str, int]
    idf: np.ndarray  # [len(bag) + 1] float32, index 0 unused
    lexicon: dict[str, int]  # entry -> row of the lexicon table (row 0 is the zero vector)
    slot_types: tuple[str, ...] = ()
    # normalised slot value -> {slot type index: training texts carrying that value as that type}
    gazetteer: dict[str, dict[int, int]] = field(default_factory=dict)
    segmenter: Segmenter | None = None  # words in the bag; None: character n-grams only (files before it)
    word_chars: bool = False  # with a segmenter: the seg_ids input (each character's word) too
    context_dim: int = 0  # dense context entries after the bag's n-grams (0: none; files before it have none)
    # the encoder of those entries, attached after loading (:meth:`with_context`); not saved with the features
    context: E5Context | None = field(default=None, compare=False, repr=False)
    _word_ids: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # the word ids of the seg_ids input: the bag's words, in the bag's order (so nothing more is saved)
        words = {g[1:]: i + 2 for i, g in enumerate(sorted(g for g in self.bag if g.startswith(WORD)))}
        object.__setattr__(self, "_word_ids", words)

    @property
    def sizes(self) -> dict[str, int]:
        return {
            "words": len(self._word_ids) + 2 if self.segmenter is not None and self.word_chars else 0,
            "chars": len(self.chars) + 2,
            "bigrams": len(self.bigrams) + 2,
            "bag": len(self.bag) + 1 + self.context_dim,
            "lexicon": len(self.lexicon) + 1,
            "gaz": 2 * len(self.slot_types) if self.gazetteer else 0,
        }

    def with_context(self, context: E5Context | None) -> Featurizer:
        """The same features with ``context`` computing the bag's dense entries (None: without them)."""
        from luodi.text.context import CONTEXT_DIM

        return dataclasses.replace(self, context=context, context_dim=CONTEXT_DIM if context is not None else 0)

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        lexicon_words: Sequence[str],
        *,
        max_len: int,
        min_count: int = 2,
        slots: Sequence[Sequence[tuple[str, str]]] | None = None,
        segmenter: Segmenter | None = None,
        word_chars: bool = False,
    ) -> Featurizer:
        """Vocabularies from the training texts: characters seen once, bigrams and bag n-grams seen
        ``min_count`` times (rarer ones are noise a linear model memorises), idf over the texts.
        ``slots``: per text its ``(value, type)`` pairs, for the gazetteer (None: no gazetteer).
        ``segmenter``: adds the texts' words to the bag (:meth:`Segmenter.learn` on the normalised texts);
        ``word_chars``: and each character's word as the ``seg_ids`` input."""
        norm = [normalize(t)[:max_len] for t in texts]
        char_counts = Counter(c for t in norm for c in t)
        bigram_counts = Counter(t[i : i + 2] for t in norm for i in range(len(t) - 1))
        doc_freq: Counter[str] = Counter()
        for t in norm:
            doc_freq.update(set(_grams(t, segmenter)))
        chars = {c: i + 2 for i, c in enumerate(sorted(char_counts))}
        bigrams = {b: i + 2 for i, b in enumerate(sorted(b for b, n in bigram_counts.items() if n >= min_count))}
        kept = sorted(g for g, n in doc_freq.items() if len(g) == 1 or n >= min_count)
        bag = {g: i + 1 for i, g in enumerate(kept)}
        n_docs = max(1, len(norm))
        idf = np.zeros(len(bag) + 1, dtype=np.float32)
        for g, i in bag.items():
            idf[i] = math.log((1 + n_docs) / (1 + doc_freq[g])) + 1.0  # scikit-learn's smooth idf
        lexicon = {w: i + 1 for i, w in enumerate(lexicon_words)}
        if not slots:
            return cls(max_len, chars, bigrams, bag, idf, lexicon, segmenter=segmenter, word_chars=word_chars)
        types = tuple(sorted({t for pairs in slots for _, t in pairs}))
        index = {t: i for i, t in enumerate(types)}
        gazetteer: dict[str, dict[int, int]] = {}
        for pairs in slots:
            for value, t in set(_gaz_pairs(pairs)):
                per_type = gazetteer.setdefault(value, {})
                per_type[index[t]] = per_type.get(index[t], 0) + 1
        return cls(max_len, chars, bigrams, bag, idf, lexicon, types, gazetteer, segmenter, word_chars)

    def encode(self, texts: Sequence[str], *, own_slots: Sequence[Sequence[tuple[str, str]]] | None = None) -> Encoded:
        """``own_slots``: training texts' own ``(value, type)`` pairs, left out of their gazetteer matches."""
        norm = [normalize(t) for t in texts]
        truncated = tuple(len(t) > self.max_len for t in norm)
        norm = [t[: self.max_len] for t in norm]
        b = len(norm)
        width = max([1, *(len(t) for t in norm)])
        char_ids = np.zeros((b, width), np.int64)
        bigram_ids = np.zeros((b, width), np.int64)
        lex_ids = np.zeros((b, width, LEX_SLOTS), np.int64)
        bags = [self._bag(t) for t in norm]
        sparse = max([0, *(len(x) for x in bags)])
        n = max(1, sparse + self.context_dim)
        bag_ids = np.zeros((b, n), np.int64)
        bag_weights = np.zeros((b, n), np.float32)
        if self.context_dim:  # the dense entries after every text's n-grams, written as one block
            bag_ids[:, sparse:] = np.arange(len(self.bag) + 1, len(self.bag) + 1 + self.context_dim)
            bag_weights[:, sparse:] = CONTEXT_WEIGHT * self._context_vectors(texts)
        # each row built as Python lists and written at once: numpy's one-element writes cost ~0.1 us each
        for row, t in enumerate(norm):
            if t:
                char_ids[row, : len(t)] = [self.chars.get(ch, UNK) for ch in t]
                bigram_ids[row, : len(t) - 1] = [self.bigrams.get(t[i : i + 2], UNK) for i in range(len(t) - 1)]
                lex_ids[row, : len(t)] = self._lex_row(t)
            if bags[row]:
                bag_ids[row, : len(bags[row])], bag_weights[row, : len(bags[row])] = zip(*bags[row], strict=True)
        lengths = np.array([len(t) for t in norm], np.int64)
        gaz = None
        if self.gazetteer:
            gaz = np.zeros((b, width, 2 * len(self.slot_types)), np.float32)
            for row, t in enumerate(norm):
                self._gaz_row(t, gaz[row], own_slots[row] if own_slots is not None else ())
        seg_ids = None
        if self.sizes["words"]:
            seg_ids = np.zeros((b, width, 2), np.int64)
            for row, t in enumerate(norm):
                self._seg_row(t, seg_ids[row])
        return Encoded(char_ids, bigram_ids, lex_ids, bag_ids, bag_weights, lengths, truncated, gaz, seg_ids)

    def _seg_row(self, text: str, out: np.ndarray) -> None:
        assert self.segmenter is not None
        i = 0
        for word in self.segmenter.cut(text):
            n = len(word)
            out[i : i + n, 1] = self._word_ids.get(word, UNK) if n > 1 else UNK
            if n == 1:
                out[i, 0] = SINGLE
            else:
                out[i, 0], out[i + 1 : i + n - 1, 0], out[i + n - 1, 0] = BEGIN, MIDDLE, END
            i += n

    def _gaz_row(self, text: str, out: np.ndarray, own: Sequence[tuple[str, str]]) -> None:
        mine = Counter(set(_gaz_pairs(own)))  # the text's own contribution to the counts (one per value)
        for i in range(len(text)):
            for n in GAZ_LENGTHS:
                if i + n > len(text):
                    break
                value = text[i : i + n]
                for t, count in self.gazetteer.get(value, {}).items():
                    if count > mine[(value, self.slot_types[t])]:
                        out[i, 2 * t] = 1.0  # a value of type t starts here
                        out[i + 1 : i + n, 2 * t + 1] = 1.0  # and goes on here

    def _context_vectors(self, texts: Sequence[str]) -> np.ndarray:
        if self.context is None:
            raise ModelError("these text features need their context encoder (context.npz and context.onnx)")
        return self.context([t[: self.max_len] for t in texts])  # the raw text, cut as the bag's is

    def _bag(self, text: str) -> list[tuple[int, float]]:
        counts = Counter(self.bag[g] for g in _grams(text, self.segmenter) if g in self.bag)
        weighted = [(gid, (1.0 + math.log(c)) * float(self.idf[gid])) for gid, c in counts.items()]
        norm = math.sqrt(sum(w * w for _, w in weighted)) or 1.0
        return [(gid, w / norm) for gid, w in weighted]

    def _lex_row(self, text: str) -> list[list[int]]:
        """Per character: its lexicon id, then the words of WORD_LENGTHS starting there, then those ending there."""
        lex, n_text = self.lexicon, len(text)
        return [
            [
                lex.get(ch, 0),
                *(lex.get(text[i : i + n], 0) if i + n <= n_text else 0 for n in WORD_LENGTHS),
                *(lex.get(text[i - n + 1 : i + 1], 0) if i - n + 1 >= 0 else 0 for n in WORD_LENGTHS),
            ]
            for i, ch in enumerate(text)
        ]

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
            "slot_types": list(self.slot_types),
            "gazetteer": {v: {str(t): c for t, c in per.items()} for v, per in sorted(self.gazetteer.items())},
            "segmenter": None if self.segmenter is None else self.segmenter.to_json(),
            "word_chars": self.word_chars,
            "context_dim": self.context_dim,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Featurizer:
        if data.get("format") != FORMAT:
            raise ModelError(f"unsupported text feature format {data.get('format')!r} (expected {FORMAT})")
        bag = _ids(data["bag"], 1)
        idf = np.zeros(len(bag) + 1, np.float32)
        idf[1:] = np.asarray(data["idf"], np.float32)
        gazetteer = {v: {int(t): int(c) for t, c in per.items()} for v, per in data.get("gazetteer", {}).items()}
        seg = data.get("segmenter")  # files written before it have none
        return cls(
            int(data["max_len"]),
            _ids(data["chars"], 2),
            _ids(data["bigrams"], 2),
            bag,
            idf,
            _ids(data["lexicon"], 1),
            tuple(data.get("slot_types", ())),  # files written before the gazetteer have neither
            gazetteer,
            None if seg is None else Segmenter.from_json(seg),
            bool(data.get("word_chars", False)),
            int(data.get("context_dim", 0)),
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Featurizer:
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{path}: not a valid feature file ({exc})") from exc


def _gaz_pairs(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``(value, type)`` pairs as the gazetteer keys them: normalised, of a length it matches."""
    out = []
    for value, t in pairs:
        v = normalize(value)
        if len(v) in GAZ_LENGTHS:
            out.append((v, t))
    return out


def _ordered(ids: dict[str, int]) -> list[str]:
    return sorted(ids, key=ids.__getitem__)


def _ids(entries: Iterable[str], first: int) -> dict[str, int]:
    return {e: i + first for i, e in enumerate(entries)}
