"""How e5's layer-1 token states are pooled for the bag, by a linear SVM on validation data only.

    LUODI_SHARED=/work/shared PYTHONPATH=src:bench OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/text_pool_cv.py

The default's context vector is the L2-normalised masked mean of e5's tokens after its first layer (``<s> query:
TEXT </s>``, luodi.text.context). The same served cut (INT8 layer, pruned tokenizer; built here over the texts read)
with its graph's last hidden states exposed gives each text's token states, pooled as: the mean (the default), the
max, the mean and max side by side, the mean over the text's own tokens (the prefix and the specials left out),
and the embeddings' mean (layer 0) beside the layer-1 mean. Each block is L2-normalised and the blocks together
scaled to unit length, appended to the default's bag (char 1-3-grams + words; bench/text_ngram_cv.py) for a
LinearSVC. Data: SMP2019 train.json -> dev.json and the 3-fold CV of the bench's 8,000 THUCNews training titles
(bench/text_static_cv.py's folds); no test split is read.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from text_static_cv import E5, _data, say_cv


def _unit(v: np.ndarray) -> np.ndarray:
    out: np.ndarray = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    return out


def _pooled(texts: list[str]) -> dict[str, np.ndarray]:
    """Per pooling, [N, D] vectors for the texts (blocks each unit, the whole unit)."""
    import onnx

    from luodi.runtime import create_session
    from luodi.text.context import E5Context, build_context
    from luodi.text.teacher import _layer_norm

    tmp = Path(tempfile.mkdtemp(prefix="textpool-"))
    npz, graph = build_context(E5, texts, tmp)
    ctx = E5Context.load(npz, graph)
    model = onnx.load(graph)
    model.graph.output.append(onnx.helper.make_tensor_value_info("l0.x2", onnx.TensorProto.FLOAT, None))
    onnx.save(model, tmp / "states.onnx")
    sess = create_session(tmp / "states.onnx", "onnxruntime", 1)
    skip = len(ctx.tokens("")) - 1  # <s> and the prefix's pieces (its "▁" stands alone before Chinese)
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("mean", "max", "mean+max", "own mean", "l0 mean + mean")}
    started = time.process_time()
    for text in texts:
        ids = ctx.tokens(text)
        x = _layer_norm(ctx.table[ids] + ctx.pos[: len(ids)] + ctx.type0, *ctx.ln, ctx.eps)
        pooled, states = sess.run({"x": x[None], "mask": np.ones((1, len(ids)), np.float32)})
        h = states[0]
        mean, mx = pooled[0], h.max(axis=0)
        own = h[skip:-1].mean(axis=0) if len(ids) > skip + 1 else mean
        u = [_unit(v[None])[0] for v in (mean, mx, own, x.mean(axis=0))]
        out["mean"].append(u[0])
        out["max"].append(u[1])
        out["mean+max"].append(np.concatenate([u[0], u[1]]) / np.sqrt(2))
        out["own mean"].append(u[2])
        out["l0 mean + mean"].append(np.concatenate([u[3], u[0]]) / np.sqrt(2))
    print(f"{len(texts)} texts: {time.process_time() - started:.1f} CPU s", flush=True)
    return {k: np.array(v, np.float32) for k, v in out.items()}


def main() -> None:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.svm import LinearSVC
    from text_ngram_cv import _features

    splits = _data()
    every = sorted({t for s in splits for part in (s[0], s[2]) for t in part})
    row = {t: k for k, t in enumerate(every)}
    pooled = _pooled(every)
    results: dict[str, list[float]] = {}
    for a_texts, a_y, b_texts, b_y in splits:
        bag_a, bag_b = _features(a_texts, b_texts, (1, 3), True, False)
        ia, ib = [row[t] for t in a_texts], [row[t] for t in b_texts]
        for name, vecs in pooled.items():
            xa = hstack([bag_a, csr_matrix(vecs[ia])]).tocsr()
            xb = hstack([bag_b, csr_matrix(vecs[ib])]).tocsr()
            acc = float(np.mean(LinearSVC().fit(xa, a_y).predict(xb) == np.array(b_y)))
            results.setdefault(name, []).append(acc)
    for name, acc in results.items():
        say_cv(name, acc)


if __name__ == "__main__":
    main()
