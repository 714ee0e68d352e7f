"""The network (PaddlePaddle dynamic graph): a TF-IDF-weighted n-gram bag beside a convolutional
character encoder fed with pretrained lexicon vectors; a class (intent) head and a slot head.

    bag ─ weighted sum of n-gram vectors ─────────────────────────┐
    chars + bigrams + lexicon ─ conv ×layers ─ max/mean pool ─────┴─ class logits
                                          └── per character ── slot emissions (+ CRF, decoded outside)

Everything in ``forward`` is plain tensor algebra, so ``paddle.jit.save`` traces it and
paddle2onnx converts it. Padding positions are zeroed after every layer: with zero padding at the
edges of a convolution, a text's outputs are then the same whatever else is in its batch.
The CRF's transition scores are parameters here and are read out into the bundle for decoding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from luodi.text.features import LEX_SLOTS

WORD_PLACE_DIM = 16  # a character's place in its word: 4 values, a small vector
NEG = -1.0e4  # forbidden transitions: large but finite, so 0 * NEG stays 0 in products
TINY = 1.0e-30  # added before a log of a sum that can be exactly 0 (all ways into a tag forbidden)


def tag_constraints(tags: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Additive masks (transition [K, K], start [K], end [K]) keeping a path well-formed: ``I-X`` (and ``E-X``)
    only after ``B-X``/``I-X``; with E-/S- tags (BIOES) also nothing but ``I-X``/``E-X`` after ``B-X``/``I-X``,
    and no path ending on an open ``B-X``/``I-X``. BIO tags: the end mask is all zeros."""
    k = len(tags)
    trans = np.zeros((k, k), np.float32)
    start = np.zeros(k, np.float32)
    end = np.zeros(k, np.float32)
    bioes = any(t[:2] in ("E-", "S-") for t in tags)
    for j, tag in enumerate(tags):
        head, typ = tag[:2], tag[2:]
        if head in ("I-", "E-"):
            start[j] = NEG
            for i, prev in enumerate(tags):
                if prev not in (f"B-{typ}", f"I-{typ}"):
                    trans[i, j] = NEG
        if bioes and head in ("B-", "I-"):
            end[j] = NEG
            for i, nxt in enumerate(tags):
                if nxt not in (f"I-{typ}", f"E-{typ}"):
                    trans[j, i] = NEG
    return trans, start, end


def _shift(paddle: Any, x: Any, d: int) -> Any:
    """``x`` [B, L, C] moved ``d`` positions later (``d`` < 0: earlier) along L, zeros shifted in."""
    # min(L, |d|) zeros and the other max(0, L - |d|) rows: L rows for any L; made by arithmetic, as
    # the static export has no zeros_like of a slice with a dynamic length
    pad = x[:, : abs(d)] * 0.0
    if d > 0:
        return paddle.concat([pad, x[:, :-d]], axis=1)
    return paddle.concat([x[:, -d:], pad], axis=1)


# long: the network's class is defined inside, so paddle is imported only when a net is built
def build_net(
    paddle: Any,
    *,
    sizes: dict[str, int],
    lexicon: np.ndarray | None,
    spec: Any,
    n_classes: int,
    tags: list[str] | None,
    distill_dim: int = 0,
) -> Any:
    """The network for these vocabulary sizes; ``lexicon`` ([rows, dim], row 0 zeros) is frozen.
    ``distill_dim``: the size of a teacher's sentence vectors the utterance vector learns to predict
    (a training-time head; the exported graph does not use it)."""
    nn = paddle.nn

    class TextNet(nn.Layer):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.bag = nn.Embedding(sizes["bag"], spec.bag_dim, sparse=True)
            self.char = nn.Embedding(sizes["chars"], spec.char_dim, padding_idx=0, sparse=True)
            width = spec.char_dim
            self.use_bigram = spec.bigram_dim > 0
            if self.use_bigram:
                self.bigram = nn.Embedding(sizes["bigrams"], spec.bigram_dim, padding_idx=0, sparse=True)
                width += spec.bigram_dim
            self.use_lex = lexicon is not None
            if lexicon is not None:
                self.lex = nn.Embedding(lexicon.shape[0], lexicon.shape[1])
                self.lex.weight.set_value(lexicon.astype(np.float32))
                self.lex.weight.stop_gradient = True  # pretrained: kept as is, so unseen words stay meaningful
                self.lex_proj = nn.Linear(LEX_SLOTS * lexicon.shape[1], spec.char_dim)
                width += spec.char_dim
            self.use_gaz = sizes.get("gaz", 0) > 0
            if self.use_gaz:
                self.gaz_proj = nn.Linear(sizes["gaz"], spec.char_dim)  # slot values seen in training
                width += spec.char_dim
            self.use_words = sizes.get("words", 0) > 0
            if self.use_words:
                width += self._add_word_input()
            self.inp = nn.Linear(width, spec.channels)
            # a width-3 convolution as one matmul over [x(t-d), x(t), x(t+d)]: Paddle's CPU Conv1D was
            # 5x slower than the same arithmetic as a matmul; dilations 1, 2, 4... widen the view to
            # 2^(layers+1)-1 characters, enough for the slot head to see most of a short utterance
            self.dilations = [2**i for i in range(spec.layers)]
            self.convs = nn.LayerList([nn.Linear(3 * spec.channels, spec.channels) for _ in range(spec.layers)])
            self.norms = nn.LayerList([nn.LayerNorm(spec.channels) for _ in range(spec.layers)])
            self.drop = nn.Dropout(spec.dropout)
            self.hidden = nn.Linear(spec.bag_dim + 2 * spec.channels, spec.channels)
            self.cls = nn.Linear(spec.channels, n_classes)
            # a linear model on the TF-IDF bag straight to the classes, beside the deep path: what
            # the strong TF-IDF + linear SVM baseline is, learned jointly
            self.bag_linear = spec.bag_linear
            if spec.bag_linear:
                self._add_bag_linear()
            self.slot_context = spec.slot_context
            if distill_dim:
                self.distill = nn.Linear(spec.channels, distill_dim)
            self.has_slots = tags is not None
            if tags is not None:
                self._add_slot_head(tags)

        def _add_word_input(self) -> int:
            """Per character: its place in its word (single/begin/middle/end) and the word's vector; the
            width they add. The place costs little and marks word boundaries, where slots start and end."""
            self.seg_place = nn.Embedding(5, WORD_PLACE_DIM, padding_idx=0)
            if spec.word_dim == 0:
                return WORD_PLACE_DIM
            self.word = nn.Embedding(sizes["words"], spec.word_dim, padding_idx=0, sparse=True)
            return WORD_PLACE_DIM + int(spec.word_dim)

        def _add_bag_linear(self) -> None:
            """The path's scores are bag_gain * (bag . bag_cls + bag_bias). Stacked on a linear SVM, table
            and bias are the SVM's, frozen, and only the gain learns; started from one (or from random),
            the table learns and gain, bias stay 1, 0 (so checkpoints written before them load)."""
            self.bag_cls = nn.Embedding(sizes["bag"], n_classes, sparse=True)
            stacked = spec.bag_svm == "stacked" and spec.bag_svm_gain > 0
            self.bag_gain = self.create_parameter([1], default_initializer=nn.initializer.Constant(1.0))
            self.bag_bias = self.create_parameter([n_classes], is_bias=True)
            self.bag_cls.weight.stop_gradient = stacked
            self.bag_bias.stop_gradient = True
            self.bag_gain.stop_gradient = not stacked

        def _add_slot_head(self, tags: list[str]) -> None:
            k = len(tags)
            # intent-aware slots: every position also sees the utterance's vector (what the intent head reads)
            self.slot_ctx = nn.Linear(spec.channels, spec.channels)
            width = spec.channels
            self.slot_rnn = spec.slot_rnn > 0
            if self.slot_rnn:
                # two one-way GRUs, the second over each text reversed within its length (see _birnn)
                self.gru_fw = nn.GRU(spec.channels, spec.slot_rnn)
                self.gru_bw = nn.GRU(spec.channels, spec.slot_rnn)
                width += 2 * spec.slot_rnn
            self.slot = nn.Linear(width, k)
            init = nn.initializer.Uniform(-0.05, 0.05)
            self.trans = self.create_parameter([k, k], default_initializer=init)
            self.start = self.create_parameter([k], default_initializer=init)
            self.end = self.create_parameter([k], default_initializer=init)
            mask_trans, mask_start, mask_end = tag_constraints(tags)
            self.register_buffer("mask_trans", paddle.to_tensor(mask_trans), persistable=False)
            self.register_buffer("mask_start", paddle.to_tensor(mask_start), persistable=False)
            self.register_buffer("mask_end", paddle.to_tensor(mask_end), persistable=False)

        def forward(
            self,
            char_ids: Any,
            bigram_ids: Any,
            lex_ids: Any,
            bag_ids: Any,
            bag_weights: Any,
            extra1: Any = None,
            extra2: Any = None,
        ) -> tuple[Any, Any]:
            """``extra1``, ``extra2``: the optional inputs in :meth:`Encoded.inputs`'s order, ``gaz`` (a
            model with a gazetteer) then ``seg_ids`` (a model with words): the exported graph's inputs
            are positional."""
            logits, emissions, _ = self.encode(char_ids, bigram_ids, lex_ids, bag_ids, bag_weights, extra1, extra2)
            return logits, emissions

        def encode(
            self,
            char_ids: Any,
            bigram_ids: Any,
            lex_ids: Any,
            bag_ids: Any,
            bag_weights: Any,
            extra1: Any = None,
            extra2: Any = None,
            bag_scores: Any = None,
        ) -> tuple[Any, Any, Any]:
            """Class logits, slot emissions and the utterance vector (what distillation matches).

            ``extra1``, ``extra2``: ``gaz`` if the model has a gazetteer (``sizes["gaz"]`` > 0), then
            ``seg_ids`` if it has words (``sizes["words"]`` > 0), as :meth:`forward` takes them.
            ``bag_scores``: the linear bag path's scores given from outside (training a stacked model:
            the SVM's out-of-fold scores of the batch's texts) instead of computed from its table."""
            mask = (char_ids > 0).astype("float32").unsqueeze(-1)  # [B, L, 1]
            x = self._characters(char_ids, bigram_ids, lex_ids, extra1, extra2) * mask
            for conv, norm, d in zip(self.convs, self.norms, self.dilations):  # noqa: B905 - no zip(strict=) in dy2static
                y = conv(paddle.concat([_shift(paddle, x, d), x, _shift(paddle, x, -d)], axis=-1))
                x = norm(x + nn.functional.gelu(y)) * mask
            count = paddle.clip(mask.sum(axis=1), min=1.0)
            mean = x.sum(axis=1) / count
            peak = (x + (mask - 1.0) * 1.0e4).max(axis=1)
            bag = (self.bag(bag_ids) * bag_weights.unsqueeze(-1)).sum(axis=1)
            h = nn.functional.gelu(self.hidden(self.drop(paddle.concat([bag, peak, mean], axis=-1))))
            logits = self.cls(self.drop(h))
            if self.bag_linear:
                if bag_scores is None:
                    bag_scores = (self.bag_cls(bag_ids) * bag_weights.unsqueeze(-1)).sum(axis=1) + self.bag_bias
                logits = logits + self.bag_gain * bag_scores
            if self.has_slots:
                if self.slot_context:
                    x = nn.functional.gelu(x + self.slot_ctx(h).unsqueeze(1))
                if self.slot_rnn:
                    x = paddle.concat([x, self._birnn(self.drop(x), char_ids) * mask], axis=-1)
                emissions = self.slot(self.drop(x))
            else:
                emissions = logits.unsqueeze(1)
            return logits, emissions, h

        def _birnn(self, x: Any, char_ids: Any) -> Any:
            """A bidirectional GRU over ``x`` [B, L, C] whose outputs at a text's characters do not depend on
            its padding: the forward GRU reads the characters before the padding; the backward one reads
            each text reversed within its own length (position t of n <-> n-1-t, padding stays put), and
            its outputs are put back the same way. Paddle's ``sequence_length`` would do the same, but
            only as an op the ONNX export cannot be trusted with; this is a gather and two plain GRUs."""
            steps = paddle.shape(char_ids)[1]
            pos = paddle.arange(steps, dtype="int64").unsqueeze(0)  # [1, L]
            n = (char_ids > 0).astype("int64").sum(axis=1, keepdim=True)  # [B, 1]
            rev = paddle.where(pos < n, n - 1 - pos, pos + 0 * n).unsqueeze(-1)  # [B, L, 1]
            fw, _ = self.gru_fw(x)
            bw, _ = self.gru_bw(paddle.take_along_axis(x, rev, axis=1))
            return paddle.concat([fw, paddle.take_along_axis(bw, rev, axis=1)], axis=-1)

        def _characters(self, char_ids: Any, bigram_ids: Any, lex_ids: Any, extra1: Any, extra2: Any) -> Any:
            """Per character, its inputs joined and projected to the encoder's width ``[B, L, channels]``."""
            parts = [self.char(char_ids)]
            if self.use_bigram:
                parts.append(self.bigram(bigram_ids))
            if self.use_lex:
                lex = self.lex(lex_ids)  # [B, L, S, D]
                shape = paddle.shape(lex)
                parts.append(self.lex_proj(lex.reshape([shape[0], shape[1], -1])))
            gaz: Any = extra1 if self.use_gaz else None
            seg: Any = (extra2 if self.use_gaz else extra1) if self.use_words else None
            if self.use_gaz:
                parts.append(self.gaz_proj(gaz))
            if self.use_words:
                parts.append(self.seg_place(seg[:, :, 0]))
                if spec.word_dim > 0:
                    parts.append(self.word(seg[:, :, 1]))
            x = nn.functional.gelu(self.inp(self.drop(paddle.concat(parts, axis=-1))))
            if self.use_words and spec.word_dim == 0:
                x = x + 0.0 * seg[:, :, 1].astype("float32").sum()  # the word ids, unused, still reach the graph
            if not (self.use_lex and self.use_bigram):
                # every model has the same five inputs; an unused one still has to reach the graph's
                # outputs, or the static export refuses it
                unused = lex_ids.astype("float32").sum() + bigram_ids.astype("float32").sum()
                x = x + 0.0 * unused
            return x

        def crf_nll(self, emit: Any, tags: Any, lengths: Any) -> Any:
            """Mean negative log-likelihood of the gold tag paths under the linear-chain CRF.

            The partition function's forward recursion runs over the whole batch per position as a
            log-space matrix product, ``log(exp(alpha - max) @ exp(trans)) + max``: one small matmul
            instead of a logsumexp over a [batch, K, K] tensor (111 tags: 25x less time per step).
            Forbidden transitions are exact zeros in ``exp(trans)``; ``TINY`` keeps their log finite.
            """
            k = emit.shape[-1]
            batch, steps = tags.shape
            trans = self.trans + self.mask_trans
            start = self.start + self.mask_start
            end = self.end + self.mask_end
            mask = (paddle.arange(steps).unsqueeze(0) < lengths.unsqueeze(1)).astype("float32")
            gold = paddle.take_along_axis(emit, tags.unsqueeze(-1), axis=2).squeeze(-1)
            score = (gold * mask).sum(axis=1) + paddle.gather(start, tags[:, 0])
            if steps > 1:
                pair = tags[:, :-1] * k + tags[:, 1:]
                step_scores = paddle.gather(trans.reshape([-1]), pair.reshape([-1])).reshape([batch, steps - 1])
                score = score + (step_scores * mask[:, 1:]).sum(axis=1)
            last = paddle.take_along_axis(tags, (lengths - 1).unsqueeze(1), axis=1).squeeze(1)
            score = score + paddle.gather(end, last)
            exp_trans = paddle.exp(trans)
            alpha = start.unsqueeze(0) + emit[:, 0]
            for t in range(1, steps):
                top = alpha.max(axis=1, keepdim=True)
                nxt = paddle.log(paddle.matmul(paddle.exp(alpha - top), exp_trans) + TINY) + top + emit[:, t]
                m = mask[:, t : t + 1]
                alpha = m * nxt + (1.0 - m) * alpha
            log_z = paddle.logsumexp(alpha + end.unsqueeze(0), axis=1)
            return (log_z - score).mean()

        def crf_params(self) -> dict[str, np.ndarray]:
            return {
                "trans": (self.trans + self.mask_trans).numpy(),
                "start": (self.start + self.mask_start).numpy(),
                "end": (self.end + self.mask_end).numpy(),
            }

    return TextNet()


def pca(vectors: np.ndarray, dim: int) -> np.ndarray:
    """Centred vectors projected on their top ``dim`` principal axes, scaled to unit mean norm.

    The lexicon's 384 dimensions cost 3x the compute of 128 in every character's projection; the
    leading axes keep most of the variance. Signs are fixed (largest component positive) so the
    result does not depend on the SVD routine's sign choice.
    """
    x = vectors - vectors.mean(axis=0, keepdims=True)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    axes = vt[:dim]
    signs = np.sign(axes[np.arange(axes.shape[0]), np.abs(axes).argmax(axis=1)])
    out = x @ (axes * signs[:, None]).T
    scale = float(np.linalg.norm(out, axis=1).mean()) or 1.0
    result: np.ndarray = (out / scale).astype(np.float32)
    return result
