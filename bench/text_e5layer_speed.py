"""What one e5 layer costs at inference: multilingual-e5-small's first layer as an ONNX graph, fp32 and INT8.

    PYTHONPATH=src:bench nice -n 10 .venv/bin/python bench/text_e5layer_speed.py [LAYERS [MODEL]]

bench/text_layers_cv.py measures what the token mean after e5's first layers adds to the bag; this measures
what it would cost per text. The first LAYERS (default 1) post-norm BERT layers of the zoo's pinned file are
written as a plain ONNX graph (MatMul, Softmax, LayerNormalization, tanh Gelu; weights from luodi's numpy
encoder, so the same numbers), then ONNX Runtime's dynamic INT8 of it; the graph's output is checked against
the numpy encoder. Timed on one thread, batches of 64 texts of similar length, on the first 1,024 of the
bench's THUCNews training titles (dev.txt lines i % 5 < 4; no test split is read): CPU ms per text for e5's
tokenizer (pure Python), the embedding rows (a precomputed float32 table) and the layers, fp32 and INT8.
The budget it must fit: >= 1,000 texts/s on 2 cores is 2 CPU ms per text. MODEL (a registered text model, e.g.
the bench's ``bench-text-thucnews``): its ``TextModel`` on the same titles, one thread, timed in the same run.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from text_static_cv import E5, _data

# the graph luodi.text.context ships (the same ops, in the same order, as this bench measured first)
from luodi.text.context import layer_graph


def onnx_vectors(enc: Any, texts: list[str], layers: int, int8: bool) -> np.ndarray:
    """[N, 384] L2-normalised token means after ``layers`` layers, through the ONNX graph (INT8 or fp32)."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from luodi.text.teacher import BOS, EOS, PAD, _layer_norm

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fp32.onnx"
        onnx.save(layer_graph(enc, layers), path)
        if int8:
            quantize_dynamic(str(path), str(Path(tmp) / "int8.onnx"), weight_type=QuantType.QInt8)
            path = Path(tmp) / "int8.onnx"
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    seqs = [[BOS, *enc.tokenize(t)[:126], EOS] for t in texts]
    out = np.zeros((len(texts), enc.hidden), np.float32)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    for s in range(0, len(order), 64):
        chosen = order[s : s + 64]
        t = max(len(seqs[i]) for i in chosen)
        ids = np.full((len(chosen), t), PAD, np.int64)
        mask = np.zeros((len(chosen), t), np.float32)
        for r, i in enumerate(chosen):
            ids[r, : len(seqs[i])], mask[r, : len(seqs[i])] = seqs[i], 1.0
        uniq, inverse = np.unique(ids, return_inverse=True)
        rows = enc._file.q4("emb.word", enc.vocab, enc.hidden, uniq)[inverse.reshape(ids.shape)]
        x = _layer_norm(rows + enc.pos[:t][None] + enc.type0, *enc.emb_ln, enc.eps)
        out[chosen] = sess.run(None, {"x": x, "mask": mask})[0]
    result: np.ndarray = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return result


# long: one measurement in order: tokenize the texts, build the cut layers, time each form, report
def main() -> None:
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from luodi.text.teacher import BOS, EOS, PAD, E5Encoder, _layer_norm

    layers = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    enc = E5Encoder.load(E5)
    texts = _data()[1][0][:1024]
    started = time.process_time()
    seqs = [[BOS, *enc.tokenize(t), EOS] for t in texts]
    tok_ms = (time.process_time() - started) * 1000 / len(texts)
    used = np.unique(np.concatenate([np.array(s) for s in seqs]))
    table = np.zeros((enc.vocab, enc.hidden), np.float32)  # only the used rows are filled: a stand-in for a full table
    table[used] = enc._file.q4("emb.word", enc.vocab, enc.hidden, used)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    batches = []
    for s in range(0, len(order), 64):
        chosen = [seqs[i] for i in order[s : s + 64]]
        t = max(len(q) for q in chosen)
        ids = np.full((len(chosen), t), PAD, np.int64)
        mask = np.zeros((len(chosen), t), np.float32)
        for r, q in enumerate(chosen):
            ids[r, : len(q)], mask[r, : len(q)] = q, 1.0
        batches.append((ids, mask))
    started = time.process_time()
    inputs = [
        (_layer_norm(table[ids] + enc.pos[: ids.shape[1]][None] + enc.type0, *enc.emb_ln, enc.eps), mask)
        for ids, mask in batches
    ]
    emb_ms = (time.process_time() - started) * 1000 / len(texts)
    print(
        f"{len(texts)} titles, {np.mean([len(s) for s in seqs]):.1f} pieces each: "
        f"tokenizer {tok_ms:.3f} CPU ms per text, "
        f"embedding rows + LayerNorm {emb_ms:.3f}",
        flush=True,
    )
    want = np.concatenate([enc.layer_means(texts[:64], layers)[:, -1]])
    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        onnx.save(layer_graph(enc, layers), fp32)
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        for name, path in (("fp32", fp32), ("int8", int8)):
            sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            first = [[BOS, *enc.tokenize(t), EOS] for t in texts[:64]]
            t = max(len(q) for q in first)
            ids = np.full((64, t), PAD, np.int64)
            mask = np.zeros((64, t), np.float32)
            for r, q in enumerate(first):
                ids[r, : len(q)], mask[r, : len(q)] = q, 1.0
            x = _layer_norm(table[ids] + enc.pos[:t][None] + enc.type0, *enc.emb_ln, enc.eps)
            got = sess.run(None, {"x": x, "mask": mask})[0]
            got /= np.linalg.norm(got, axis=1, keepdims=True)
            cos = float(np.min(np.sum(got * want, axis=1)))
            best = 1e9
            for _ in range(3):
                started = time.process_time()
                for x, mask in inputs:
                    sess.run(None, {"x": x, "mask": mask})
                best = min(best, (time.process_time() - started) * 1000 / len(texts))
            print(
                f"{layers} layer(s), {name}: {best:.3f} CPU ms per text (best of 3), "
                f"lowest cosine to the numpy encoder {cos:.4f}",
                flush=True,
            )

    if len(sys.argv) > 2:
        from luodi.text.model import TextModel

        model = TextModel(sys.argv[2], threads=1)
        best = 1e9
        for _ in range(3):
            started = time.process_time()
            model(texts)
            best = min(best, (time.process_time() - started) * 1000 / len(texts))
        print(f"{sys.argv[2]} (the whole text model, one thread): {best:.3f} CPU ms per text (best of 3)", flush=True)


if __name__ == "__main__":
    main()
