"""Numpy-only inference for the BiGRU-CRF express-NER model.

Training happens in Paddle (:mod:`luodi.kie.ner.train`); the weights are exported to ``weights.npz``
and run here with a plain numpy GRU + CRF, so parsing a contact never imports Paddle (about 1 s of
import time and several hundred MB of memory saved per process). ``tests/unit/kie/test_ner_model.py``
checks that this forward pass equals Paddle's.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import ModelIntegrityError
from luodi.kie.gazetteer import Gazetteer, get_gazetteer
from luodi.kie.ner import crf
from luodi.kie.ner.data import EntitySpan, tags_to_spans
from luodi.kie.ner.features import CharVocab, gazetteer_features
from luodi.kie.ner.store import default_model_dir, train_command, verify_model_dir

__all__ = ["NerModel", "Prediction", "load_ner_model"]


@dataclass(frozen=True)
class Prediction:
    text: str
    tags: tuple[str, ...]
    confidence: tuple[float, ...]  # posterior probability of each chosen tag
    emissions: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def spans(self) -> list[EntitySpan]:
        return tags_to_spans(self.tags)

    def span_score(self, span: EntitySpan) -> float:
        # The weakest character bounds how sure we are of the whole span.
        return min(self.confidence[span.start : span.end], default=0.0)


_controller_lock = threading.Lock()
_controller: Any = None


def _one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """Run BLAS single-threaded for our small matrix products.

    The products here are tiny; OpenBLAS still splits the larger ones over threads, and on a busy
    machine its spinning threads made a parse 10x slower (measured: 134 ms vs 14 ms per text at load
    average 30 on 2 cores). threadpoolctl switches the thread count of the BLAS library numpy
    loaded; the switch is process-wide while it lasts, which costs other threads at most speed.
    """
    global _controller  # noqa: PLW0603 - built once, on first use
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return contextlib.nullcontext()
    with _controller_lock:
        if _controller is None:
            _controller = ThreadpoolController()
    limiter: contextlib.AbstractContextManager[Any] = _controller.limit(limits=1, user_api="blas")
    return limiter


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free
    return out


@dataclass(frozen=True)
class _BiGruLayer:
    """Both directions of one layer, stepped together: one matmul per step instead of two."""

    w_ih_t: np.ndarray  # [In, 6H]: forward gates then backward gates
    b_ih: np.ndarray  # [6H]
    w_hh_t: np.ndarray  # [2, H, 3H]
    b_hh: np.ndarray  # [2, 1, 3H]

    def run(self, x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        batch, steps, _ = x.shape
        hidden = self.w_hh_t.shape[1]
        gx = (x @ self.w_ih_t + self.b_ih).reshape(batch, steps, 2, 3 * hidden)
        # [steps, 2, batch, 3H]; the backward half reversed in time so step t feeds both directions.
        gx = np.ascontiguousarray(gx.transpose(1, 2, 0, 3))
        gx[:, 1] = gx[::-1, 1]
        positions = np.arange(steps)
        # A padded step keeps h: the backward pass then starts from zeros at each sequence's real end,
        # exactly as Paddle's GRU does with sequence_length.
        valid = np.stack([positions[:, None] < lengths, positions[::-1, None] < lengths], axis=1)[..., None]
        h = np.zeros((2, batch, hidden), dtype=np.float32)
        out = np.zeros((steps, 2, batch, hidden), dtype=np.float32)
        h2 = 2 * hidden
        for t in range(steps):
            gh = np.matmul(h, self.w_hh_t) + self.b_hh
            g = gx[t]
            rz = _sigmoid(g[..., :h2] + gh[..., :h2])
            c = np.tanh(g[..., h2:] + rz[..., :hidden] * gh[..., h2:])
            z = rz[..., hidden:]
            h = np.where(valid[t], c + z * (h - c), h)
            out[t] = h
        out[:, 1] = out[::-1, 1]
        return np.ascontiguousarray(out.transpose(2, 0, 1, 3).reshape(batch, steps, 2 * hidden))


class NerModel:
    """An immutable, thread-safe character tagger; build it with :func:`load_ner_model`."""

    def __init__(
        self,
        weights: dict[str, np.ndarray],
        vocab: CharVocab,
        config: dict[str, Any],
        gazetteer: Gazetteer | None = None,
        *,
        path: Path | None = None,
    ) -> None:
        self.path = path
        self.config = dict(config)
        self.tags: tuple[str, ...] = tuple(config["tags"])
        self.vocab = vocab
        self._use_gaz = bool(config.get("gazetteer_features", True))
        self._gaz = gazetteer if gazetteer is not None or not self._use_gaz else get_gazetteer()
        if self._use_gaz and self._gaz is not None and config.get("gazetteer_digest") not in (None, self._gaz.digest):
            raise ModelIntegrityError(
                "the NER model was trained with another administrative-division table than the one installed; "
                f"re-train it with `{train_command(path or default_model_dir())} --force`"
            )
        f32 = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}
        self._emb = f32["emb"]
        layers = int(config["layers"])
        self._layers = [
            _BiGruLayer(
                np.concatenate([f32[f"gru.{layer}.fw.w_ih"].T, f32[f"gru.{layer}.bw.w_ih"].T], axis=1),
                np.concatenate([f32[f"gru.{layer}.fw.b_ih"], f32[f"gru.{layer}.bw.b_ih"]]),
                np.stack([f32[f"gru.{layer}.fw.w_hh"].T, f32[f"gru.{layer}.bw.w_hh"].T]),
                np.stack([f32[f"gru.{layer}.fw.b_hh"], f32[f"gru.{layer}.bw.b_hh"]])[:, None, :],
            )
            for layer in range(layers)
        ]
        self._fc_w = f32["fc.w"]
        self._fc_b = f32["fc.b"]
        self._trans = f32["crf.trans"].astype(np.float64)
        self._start = f32["crf.start"].astype(np.float64)
        self._end = f32["crf.end"].astype(np.float64)

    # -- forward ---------------------------------------------------------------------------------
    def _inputs(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        lengths = np.array([len(t) for t in texts], dtype=np.int64)
        steps = int(lengths.max()) if len(texts) else 0
        dim = self._emb.shape[1] + (9 if self._use_gaz else 0)
        x = np.zeros((len(texts), steps, dim), dtype=np.float32)
        for i, text in enumerate(texts):
            x[i, : len(text), : self._emb.shape[1]] = self._emb[self.vocab.encode(text)]
            if self._use_gaz and self._gaz is not None:
                x[i, : len(text), self._emb.shape[1] :] = gazetteer_features(text, self._gaz)
        return x, lengths

    def emissions(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Per-text emission scores [len, K] (the CRF's unary potentials)."""
        texts = list(texts)
        if not texts:
            return []
        x, lengths = self._inputs(texts)
        with _one_blas_thread():
            for layer in self._layers:
                x = layer.run(x, lengths)
            logits = x @ self._fc_w + self._fc_b
        return [logits[i, : lengths[i]].astype(np.float64) for i in range(len(texts))]

    def predict(self, texts: Sequence[str], *, batch_size: int = 16) -> list[Prediction]:
        """Tags and per-character confidence for each text (empty texts give empty predictions).

        Batches of 16 keep each step's matrix product below the size where OpenBLAS starts threads,
        which on a busy 2-core machine cost more than they give.
        """
        texts = list(texts)
        out: list[Prediction | None] = [None] * len(texts)
        # Sort by length so each batch pads little.
        order = sorted((i for i, t in enumerate(texts) if t), key=lambda i: len(texts[i]))
        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            for i, emit in zip(idx, self.emissions([texts[i] for i in idx]), strict=True):
                out[i] = self.decode(texts[i], emit)
        return [p if p is not None else Prediction(texts[i], (), ()) for i, p in enumerate(out)]

    def decode(self, text: str, emit: np.ndarray, *, require: str | None = None) -> Prediction:
        """CRF decoding of one text's emissions; ``require="P"`` returns the best path that has a P entity."""
        if require is None:
            path = crf.viterbi(emit, self._trans, self._start, self._end)
        else:
            path = crf.viterbi_requiring(emit, self._trans, self._start, self._end, self.tags.index(f"{require}-B"))
        marg = crf.marginals(emit, self._trans, self._start, self._end)
        conf = tuple(float(marg[t, y]) for t, y in enumerate(path))
        return Prediction(text, tuple(self.tags[y] for y in path), conf, emit)

    # -- persistence -----------------------------------------------------------------------------
    @classmethod
    def load(cls, folder: Path, gazetteer: Gazetteer | None = None) -> NerModel:
        verify_model_dir(folder)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        with np.load(folder / "weights.npz") as npz:
            weights = {k: npz[k] for k in npz.files}
        return cls(weights, CharVocab.load(folder / "vocab.txt"), config, gazetteer, path=folder)


_cache: dict[Path, NerModel] = {}
_cache_lock = threading.Lock()


def load_ner_model(path: str | Path | None = None) -> NerModel:
    """The model in ``path`` (default ``$LUODI_HOME/models/express-ner``), loaded once per process.

    Raises ModelNotPulledError naming the training command when it is not there.
    """
    folder = Path(path) if path is not None else default_model_dir()
    folder = folder.expanduser().resolve()
    with _cache_lock:
        model = _cache.get(folder)
        if model is None:
            model = NerModel.load(folder)
            _cache[folder] = model
        return model
