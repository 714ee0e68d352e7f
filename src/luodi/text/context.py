"""e5 cut to its first layer(s): a contextual sentence vector for the bag (``model.context``).

multilingual-e5-small's whole sentence vector beside the TF-IDF bag is the one measured large gain on
news titles, at 40-80 ms per title; its first layer alone keeps about three quarters of it (THUCNews,
3-fold cross-validation of the bag SVM on the bench's training titles: 0.8450 -> 0.8678, all 12 layers
0.8748; bench/results/text_dev.md) for well under a millisecond per text. The vector is the
L2-normalised mean of the tokens' outputs after the first ``layers`` layers of ``<s> query: TEXT </s>``.

A model carries its own cut of e5, two files, made at training time from the zoo's pinned file:

- ``context.npz``: the tokenizer (pieces, their unigram scores, the normalisation map) restricted to
  every piece the training texts use, every one-character piece, every piece holding a Chinese character
  and every Latin/digit piece of up to 3 (about 38k of 250k; a training text's pieces are all there, so it
  tokenizes exactly as with the full vocabulary; another text may be cut into shorter pieces), their
  embedding rows as e5's own 4-bit blocks (the same numbers, ~8 MB), the
  position and type embeddings and the embedding LayerNorm;
- ``context.onnx``: the layer(s) as a plain ONNX graph (MatMul, Softmax, LayerNormalization, tanh GELU),
  weights in INT8 (ONNX Runtime's dynamic quantisation: 0.40 vs 0.92 CPU ms per news title; the bag SVM's
  cross-validation is the same with either, 0.8689 vs 0.8678).

Each text runs through the graph alone (batch 1): dynamic INT8 quantises activations with one scale per
call, so in a padded batch a text's vector would depend on its neighbours. Immutable and thread-safe.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from luodi.errors import ModelError
from luodi.text.lexicon import dequant_q4, read_e5
from luodi.text.teacher import BOS, EOS, MAX_TOKENS, META, UNK, E5Encoder, _layer_norm, unigram_pieces

__all__ = ["CONTEXT_DIM", "CONTEXT_FORMAT", "E5Context", "build_context"]

CONTEXT_DIM = 384
CONTEXT_FORMAT = "luodi-text-context/1"
PREFIX = "query: "  # as e5 is trained to read queries (SMP2019 dev 0.9609 with it, 0.9531 without)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SHORT_LATIN = re.compile("\u2581?[A-Za-z0-9]{1,3}")  # app, ok, 5g, wifi's pieces: common beside Chinese


class E5Context:
    """Texts -> [N, 384] context vectors (float32, L2-normalised)."""

    def __init__(self, arrays: dict[str, np.ndarray], onnx_path: Path, *, threads: int | None = 1) -> None:
        from luodi.runtime import create_session

        if str(arrays["format"]) != CONTEXT_FORMAT:
            raise ModelError(f"unsupported context format {arrays['format']!s} (expected {CONTEXT_FORMAT})")
        pieces = [str(p) for p in arrays["pieces"]]
        self.pieces = {p: i for i, p in enumerate(pieces) if i != UNK}
        self.scores = np.asarray(arrays["scores"], np.float32)
        self.prefixes = frozenset(p[:k] for p in self.pieces for k in range(1, len(p) + 1))
        self.norm = dict(zip((str(k) for k in arrays["norm_from"]), (str(v) for v in arrays["norm_to"]), strict=True))
        self.unk_score = float(arrays["unk_score"])
        self.longest = max(len(p) for p in pieces)
        self.table = dequant_q4(np.asarray(arrays["rows"], np.uint8))  # [pieces, 384]
        self.pos = np.asarray(arrays["pos"], np.float32)
        self.type0 = np.asarray(arrays["type0"], np.float32)
        self.ln = (np.asarray(arrays["ln_w"], np.float32), np.asarray(arrays["ln_b"], np.float32))
        self.eps = float(arrays["eps"])
        self.layers = int(arrays["layers"])
        # one intra-op thread: a text's graph is too small to split (2 threads: 0.64 vs 0.47 CPU ms per SMP2019
        # query); with more threads the texts are split between them instead (ONNX Runtime's run is thread-safe)
        self.session = create_session(onnx_path, "onnxruntime", 1)
        self.workers = max(1, threads or os.cpu_count() or 1)

    @classmethod
    def load(cls, npz_path: Path, onnx_path: Path, *, threads: int | None = 1) -> E5Context:
        try:
            with np.load(npz_path, allow_pickle=False) as got:
                arrays = {k: got[k] for k in got.files}
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{npz_path}: not a valid context file ({exc})") from exc
        return cls(arrays, onnx_path, threads=threads)

    def tokens(self, text: str) -> list[int]:
        ids = unigram_pieces(
            PREFIX + text, self.pieces, self.scores, self.norm, self.unk_score, self.longest, self.prefixes
        )
        return [BOS, *ids[: MAX_TOKENS - 2], EOS]

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), CONTEXT_DIM), np.float32)
        if self.workers > 1 and len(texts) > 1:
            parts = [range(k, len(texts), self.workers) for k in range(self.workers)]
            with ThreadPoolExecutor(self.workers) as pool:
                for rows, got in zip(
                    parts, pool.map(lambda r: self._vectors([texts[i] for i in r]), parts), strict=True
                ):
                    out[list(rows)] = got
        else:
            out[:] = self._vectors(texts)
        unit: np.ndarray = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return unit

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), CONTEXT_DIM), np.float32)
        for i, text in enumerate(texts):
            ids = self.tokens(text)
            x = _layer_norm(self.table[ids] + self.pos[: len(ids)] + self.type0, *self.ln, self.eps)
            out[i] = self.session.run({"x": x[None], "mask": np.ones((1, len(ids)), np.float32)})[0][0]
        return out


def _kept(piece: str) -> bool:
    """A piece the cut keeps whether or not the training texts use it."""
    return len(piece.lstrip(META)) <= 1 or _CJK.search(piece) is not None or _SHORT_LATIN.fullmatch(piece) is not None


def build_context(e5_path: Path, texts: Sequence[str], out_dir: Path, *, layers: int = 1) -> tuple[Path, Path]:
    """Write ``context.npz`` and ``context.onnx`` into ``out_dir`` from the zoo's e5 file; returns their paths.

    ``texts``: the training texts (as the model will cut them): every piece they use is kept."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    enc = E5Encoder(read_e5(e5_path), prefix=PREFIX)  # the encoder is immutable: its prefix is given, not set
    f = enc._file
    used = {i for t in texts for i in enc.tokenize(t)} | {BOS, EOS, UNK, 1}
    keep = sorted(i for i, p in enumerate(f.pieces) if i in used or _kept(p))
    table = f.q4_blocks("emb.word", enc.vocab, enc.hidden)
    # the kept ids renumbered 0..R-1, the four specials first (BOS 0, PAD 1, EOS 2, UNK 3 as in e5)
    order = np.array(keep, np.int64)
    out_dir.mkdir(parents=True, exist_ok=True)
    npz_path, onnx_path = out_dir / "context.npz", out_dir / "context.onnx"
    np.savez_compressed(
        npz_path,
        format=np.array(CONTEXT_FORMAT),
        pieces=np.array([f.pieces[i] for i in order]),
        scores=f.scores[order],
        norm_from=np.array(list(f.norm)),
        norm_to=np.array(list(f.norm.values())),
        unk_score=np.array(enc.unk_score, np.float64),
        rows=np.ascontiguousarray(table[order]),
        pos=enc.pos[:MAX_TOKENS],
        type0=enc.type0,
        ln_w=enc.emb_ln[0],
        ln_b=enc.emb_ln[1],
        eps=np.array(enc.eps, np.float32),
        layers=np.array(layers, np.int64),
    )
    fp32 = out_dir / "context.fp32.onnx"
    onnx.save(layer_graph(enc, layers), fp32)
    try:
        quantize_dynamic(str(fp32), str(onnx_path), weight_type=QuantType.QInt8)
    except Exception as exc:  # the quantizer raises bare exceptions from graph rewriting
        raise ModelError(f"INT8 quantization of {fp32} failed: {exc}") from exc
    finally:
        fp32.unlink(missing_ok=True)
    return npz_path, onnx_path


# Over 60 lines: one graph written node by node, in the order it runs; the helpers inside share its
# node and initializer lists, so cutting it up would pass those around for nothing.
def layer_graph(enc: E5Encoder, layers: int) -> Any:
    """e5's first ``layers`` post-norm BERT layers and the masked token mean as an ONNX model:
    inputs ``x`` [B, T, 384] (embeddings after their LayerNorm) and ``mask`` [B, T]; output ``pooled``."""
    from onnx import TensorProto, helper, numpy_helper

    hid, heads = enc.hidden, enc.heads
    nodes: list[Any] = []
    inits: list[Any] = []

    def const(name: str, value: Any) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def dense(x: str, w: np.ndarray, b: np.ndarray, name: str) -> str:
        return node("Add", [node("MatMul", [x, const(name, w)], name + "_mm"), const(name + "_b", b)], name + "_out")

    def norm(x: str, res: str, w: np.ndarray, b: np.ndarray, name: str) -> str:
        added = node("Add", [x, res], name + "_res")
        return node(
            "LayerNormalization", [added, const(name + "_w", w), const(name + "_b", b)], name, axis=-1, epsilon=enc.eps
        )

    split_shape = const("split_shape", np.array([0, 0, heads, hid // heads], np.int64))
    merge_shape = const("merge_shape", np.array([0, 0, hid], np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(hid // heads), np.float32))
    inv = node("Sub", [const("one", np.array(1.0, np.float32)), "mask"], "inv")
    blocked = node("Mul", [inv, const("neg", np.array(-1e9, np.float32))], "blocked")
    blocked = node("Unsqueeze", [blocked, const("ax12", np.array([1, 2], np.int64))], "blocked4")
    x = "x"
    for n, ly in enumerate(enc.layers[:layers]):
        p = f"l{n}."
        parts = [p + "q", p + "k", p + "v"]
        nodes.append(
            helper.make_node("Split", [dense(x, ly["qkv"], ly["qkv_b"], p + "qkv")], parts, axis=-1, num_outputs=3)
        )
        q, k, v = (node("Reshape", [t, split_shape], t + "4") for t in parts)
        q = node("Transpose", [q], p + "qt", perm=[0, 2, 1, 3])
        k = node("Transpose", [k], p + "kt", perm=[0, 2, 3, 1])
        v = node("Transpose", [v], p + "vt", perm=[0, 2, 1, 3])
        att = node("Add", [node("Mul", [node("MatMul", [q, k], p + "qk"), scale], p + "qks"), blocked], p + "att")
        ctx = node("MatMul", [node("Softmax", [att], p + "sm", axis=-1), v], p + "ctx")
        ctx = node("Reshape", [node("Transpose", [ctx], p + "ctxt", perm=[0, 2, 1, 3]), merge_shape], p + "ctx3")
        x = norm(x, dense(ctx, ly["ao"], ly["ao_b"], p + "ao"), ly["aln_w"], ly["aln_b"], p + "x1")
        mid = node("Gelu", [dense(x, ly["fi"], ly["fi_b"], p + "fi")], p + "gelu", approximate="tanh")
        x = norm(x, dense(mid, ly["fo"], ly["fo_b"], p + "fo"), ly["oln_w"], ly["oln_b"], p + "x2")
    m3 = node("Unsqueeze", ["mask", const("ax2", np.array([2], np.int64))], "mask3")
    masked = node("Mul", [x, m3], "masked")
    total = node("ReduceSum", [masked, const("ax1", np.array([1], np.int64))], "total", keepdims=0)
    count = node("ReduceSum", ["mask", const("ax1b", np.array([1], np.int64))], "count", keepdims=1)
    node("Div", [total, count], "pooled")
    graph = helper.make_graph(
        nodes,
        "e5_context",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "T", hid]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["B", "T"]),
        ],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["B", hid])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
