"""Words for the n-gram bag: a segmenter learned from the training texts and stored with the model.

jieba (MIT, the ``train`` extra) cuts the training texts once; the words it found, with how often,
become a dictionary saved in the bundle's ``features.json``. Serving, and the training features
themselves, cut with that dictionary alone: the most probable path through the word lattice
(jieba's own dictionary method, without its HMM for unknown words), in pure Python. So the served
model needs no jieba (its dictionary is 5 MB; the serving image has no room for it), and training
and serving cut a text the same way.

Why words at all: a character n-gram cannot tell 银行 the word from 银行 across a word boundary, and
the news-title bag gains from knowing (THUCNews 8,000 titles, 3-fold cross-validation of a linear
SVM: char 1-3-grams 0.8406, plus the dictionary's words 0.8462, plus jieba's own 0.8485; word
bigrams on top lost 0.2 pt).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from luodi.errors import ConfigError

__all__ = ["MAX_WORD", "Segmenter"]

MAX_WORD = 12  # longest dictionary word, in characters (jieba keeps Latin words and numbers whole)
_UNSEEN = 0.5  # count given to a character the training texts never had


class Segmenter:
    """``counts``: every token of the training texts' cuts (characters included) and how often.
    Immutable after construction; ``cut`` only reads, so one instance serves many threads."""

    __slots__ = ("_logp", "_longest", "_prefixes", "_unseen", "counts")

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = dict(counts)
        total = float(sum(self.counts.values())) or 1.0
        self._logp = {w: math.log(n / total) for w, n in self.counts.items()}
        self._unseen = math.log(_UNSEEN / total)
        self._longest = max([1, *(len(w) for w in self.counts)])
        # every beginning of a word: the lattice stops looking further right where none goes on (3x faster)
        self._prefixes = {w[:k] for w in self.counts for k in range(2, len(w) + 1)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Segmenter) and other.counts == self.counts

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def learn(cls, texts: Iterable[str]) -> Segmenter:
        """The dictionary from jieba's cuts of ``texts`` (already normalised: jieba sees what serving sees)."""
        try:
            import jieba
        except ImportError as exc:  # the train extra has it; a serving-only install cannot train anyway
            raise ConfigError(
                "model.words: jieba needs the jieba package (pip install 'luodi[train]'), or set model.words: none"
            ) from exc
        import logging

        logging.getLogger("jieba").setLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()  # its own instance: nothing process-wide is changed
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(w for w in tokenizer.lcut(text) if _keep(w))
        return cls(dict(counts))

    def cut(self, text: str) -> list[str]:
        """The most probable segmentation under the dictionary's unigram frequencies (DAG, right to left)."""
        logp, unseen, longest, prefixes = self._logp, self._unseen, self._longest, self._prefixes
        n = len(text)
        best = [0.0] * (n + 1)
        ends = [n] * (n + 1)
        for i in range(n - 1, -1, -1):
            score, end = logp.get(text[i], unseen) + best[i + 1], i + 1
            for j in range(i + 2, min(n, i + longest) + 1):
                piece = text[i:j]
                if piece not in prefixes:
                    break
                p = logp.get(piece)
                if p is not None and p + best[j] > score:
                    score, end = p + best[j], j
            best[i], ends[i] = score, end
        out, i = [], 0
        while i < n:
            out.append(text[i : ends[i]])
            i = ends[i]
        return out

    def words(self, text: str) -> list[str]:
        """The words of two or more characters in ``text`` (single characters are the bag's 1-grams already)."""
        return [w for w in self.cut(text) if len(w) > 1]

    def to_json(self) -> dict[str, Any]:
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return {"words": [w for w, _ in ranked], "counts": [n for _, n in ranked]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Segmenter:
        words: Sequence[str] = data["words"]
        counts: Sequence[int] = data["counts"]
        if len(words) != len(counts):
            raise ValueError("segmenter words and counts differ in length")
        return cls({str(w): int(n) for w, n in zip(words, counts, strict=True)})


def _keep(token: str) -> bool:
    return 0 < len(token) <= MAX_WORD and not any(c.isspace() for c in token)
