"""e5 cut short: the mean of multilingual-e5-small's token vectors after its first L layers, beside the bag.

    PYTHONPATH=src:bench nice -n 10 .venv/bin/python bench/text_layers_cv.py [--speed]

The whole e5 sentence vector stacked with the TF-IDF bag is the one measured source of a large gain
(docs/text.md: +3.9 pt on THUCNews), at 40-80 ms per title. Its cost is per layer, so the question is how
much of the gain the first one to four layers keep. Every text is run once through luodi's numpy e5 (the zoo's
pinned file, ``query: `` prefix as the teacher), the L2-normalised token mean kept after each layer; a linear
SVM (scikit-learn) reads the default's bag (char 1-3-grams + words, bench/text_ngram_cv.py) with the layer-L
vector x ALPHA appended. Validation data only, as bench/text_static_cv.py: SMP2019 train.json -> dev.json and
3-fold cross-validation on the bench's 8,000 THUCNews training titles; no test split is read. The vectors are
cached in bench/out/textlayers/. ``--speed``: CPU ms per title of the numpy encoder cut at 1, 2, 4 and 12 layers.
``--onnx``: layer 1 as it would be served (bench/text_e5layer_speed.py's ONNX graph, fp32 and INT8), with and
without e5's ``query: `` prefix (3 pieces fewer per text), x1 beside the bag.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from text_static_cv import E5, OUT, _data, say_cv

CACHE = OUT.parent / "textlayers" / "layers.npz"
LAYERS = 12
VARIANTS = [(0, 0.0)] + [(n, a) for n in (1, 2, 3, 4, 6, 12) for a in (1.0, 2.0)] + [(n, -1.0) for n in (1, 2, 4, 12)]


def _vectors(texts: list[str]) -> np.ndarray:
    from luodi.text.teacher import E5Encoder

    if CACHE.is_file():
        got = np.load(CACHE, allow_pickle=False)
        if list(got["texts"]) == texts:
            return np.asarray(got["vecs"])
    enc = E5Encoder.load(E5)
    started = time.process_time()
    vecs = enc.layer_means(texts, LAYERS)
    print(f"{len(texts)} texts through {LAYERS} layers: {time.process_time() - started:.1f} CPU s", flush=True)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(CACHE, texts=np.array(texts), vecs=vecs)
    return vecs


def _speed(texts: list[str]) -> None:
    from luodi.text.teacher import E5Encoder

    enc = E5Encoder.load(E5)
    for n in (1, 2, 4, 12):
        enc.layer_means(texts[:64], n)  # warm the word-table reads
        started = time.process_time()
        enc.layer_means(texts, n)
        ms = (time.process_time() - started) * 1000 / len(texts)
        print(f"{n} layers: {ms:.2f} CPU ms per text ({len(texts)} texts, batch 32)", flush=True)


def main() -> None:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.svm import LinearSVC
    from text_ngram_cv import _features

    splits = _data()
    if "--speed" in sys.argv:
        _speed(splits[1][2][:512])
        return
    every = sorted({t for s in splits for part in (s[0], s[2]) for t in part})
    row = {t: k for k, t in enumerate(every)}
    bags = [_features(a, b, (1, 3), True, False) for a, _, b, _ in splits]
    if "--onnx" in sys.argv:
        from text_e5layer_speed import onnx_vectors

        from luodi.text.teacher import E5Encoder

        enc = E5Encoder.load(E5)
        got = {}
        for prefix in ("query: ", ""):
            enc.prefix = prefix
            for int8 in (False, True):
                got[f"layer 1 {'int8' if int8 else 'fp32'}, prefix {prefix!r}"] = onnx_vectors(enc, every, 1, int8)[
                    :, None
                ]
        variants = [(1, 1.0, name, vecs) for name, vecs in got.items()]
    else:
        vecs = _vectors(every)
        variants = [(n, a, "", vecs) for n, a in VARIANTS]
    for n, alpha, label, vecs in variants:
        acc = []
        for (a_texts, a_y, b_texts, b_y), (bag_a, bag_b) in zip(splits, bags, strict=True):
            xa, xb = bag_a, bag_b
            if n:
                va = vecs[[row[t] for t in a_texts], n - 1]
                vb = vecs[[row[t] for t in b_texts], n - 1]
                if alpha < 0:  # the vector alone
                    xa, xb = va, vb
                else:
                    xa = hstack([xa, csr_matrix(alpha * va)]).tocsr()
                    xb = hstack([xb, csr_matrix(alpha * vb)]).tocsr()
            acc.append(float(np.mean(LinearSVC().fit(xa, a_y).predict(xb) == np.array(b_y))))
        say_cv(label or ("bag" if not n else f"layer {n} " + ("alone" if alpha < 0 else f"x{alpha:g} + bag")), acc)


if __name__ == "__main__":
    main()
