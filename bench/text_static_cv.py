"""Static e5 vectors (model2vec style) beside the TF-IDF bag, by a linear SVM (scikit-learn) on validation data only.

    PYTHONPATH=src nice -n 10 .venv/bin/python bench/text_static_cv.py [VARIANT ...]

The idea: run multilingual-e5-small's encoder (luodi's numpy one, the zoo's pinned file) once per vocabulary
piece — ``<s> PIECE </s>``, the mean of the outputs, as model2vec distils a sentence encoder — reduce the table by
PCA, weight each piece by SIF (``a / (a + p)``, ``p`` the piece's unigram probability from e5's own tokenizer
scores), and describe a text by the weighted mean of its pieces' vectors (e5's tokenizer): a lookup at inference.
The same with e5's *input* embeddings of the pieces (no forward pass) is the comparison.

Data: SMP2019 train.json -> dev.json, and 3-fold cross-validation on the bench's 8,000 THUCNews training titles
(dev.txt lines i % 5 < 4, as text_bench.py splits them); the test splits are not read. The bag is the default's
(char 1-3-grams + luodi's words, bench/text_ngram_cv.py); the static vector (L2-normalised, x ALPHA) is
appended to it. The piece table is cached in bench/out/textstatic/pieces.npz (only the pieces these texts use).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LUODI_SHARED", ROOT.parent / "shared")) / "data" / "text"
OUT = ROOT / "bench" / "out" / "textstatic"
E5 = Path.home() / ".local" / "share" / "luodi" / "models" / "multilingual-e5-small" / "e5-small-q4.bin"
# name: (vectors: out (encoder outputs) / inp (input embeddings) / both, PCA size, SIF a, ALPHA; None: alone)
VARIANTS: dict[str, tuple[str, int, float, float | None]] = {
    "base": ("", 0, 0.0, 0.0),
    "out256sif_alone": ("out", 256, 1e-3, None),
    "inp256sif_alone": ("inp", 256, 1e-3, None),
    "out256sif_a1": ("out", 256, 1e-3, 1.0),
    "inp256sif_a1": ("inp", 256, 1e-3, 1.0),
    "out256sif_a2": ("out", 256, 1e-3, 2.0),
    "inp256sif_a2": ("inp", 256, 1e-3, 2.0),
    "inp256sif_a3": ("inp", 256, 1e-3, 3.0),
    "both128sif_a2": ("both", 128, 1e-3, 2.0),
}


def say_cv(name: str, acc: list[float]) -> None:
    """One fit's line: its accuracy on SMP2019 dev (``_data``'s first split), then the THUCNews folds' mean and each."""
    folds = " ".join(f"{v:.4f}" for v in acc[1:])
    print(f"{name}: SMP2019 dev {acc[0]:.4f}, THUCNews 3-fold {np.mean(acc[1:]):.4f} ({folds})", flush=True)


def _data() -> list[tuple[list[str], list[str], list[str], list[str]]]:
    from sklearn.model_selection import StratifiedKFold

    from luodi.text.data import read_examples

    tr, dv = read_examples(SHARED / "smp2019" / "train.json"), read_examples(SHARED / "smp2019" / "dev.json")
    d = SHARED / "thucnews"
    classes = [c.strip() for c in (d / "class.txt").read_text(encoding="utf-8").splitlines() if c.strip()]
    thuc = []
    for i, line in enumerate((d / "dev.txt").read_text(encoding="utf-8").splitlines()):
        if i % 5 < 4:
            text, label = line.rsplit("\t", 1)
            thuc.append((text, classes[int(label)]))
    splits = [([e.text for e in tr], [str(e.label) for e in tr], [e.text for e in dv], [str(e.label) for e in dv])]
    texts, y = np.array([t for t, _ in thuc]), np.array([lab for _, lab in thuc])
    for a, b in StratifiedKFold(3, shuffle=True, random_state=0).split(texts, y):
        splits.append((list(texts[a]), list(y[a]), list(texts[b]), list(y[b])))
    return splits


def _pieces(enc: Any, texts: list[str]) -> tuple[dict[str, list[int]], np.ndarray, np.ndarray, np.ndarray]:
    """Each text's piece ids, and the used pieces' ids, encoder-output vectors and input embeddings."""
    from luodi.text.features import normalize
    from luodi.text.teacher import BOS, EOS

    toks = {t: enc.tokenize(normalize(t)) for t in texts}
    ids = np.array(sorted({i for v in toks.values() for i in v}))
    cache = OUT / "pieces.npz"
    if cache.is_file() and np.array_equal(np.load(cache)["ids"], ids):
        out = np.load(cache)["out"]
    else:
        started = time.process_time()
        out = np.zeros((len(ids), enc.hidden), np.float32)
        for s in range(0, len(ids), 512):
            out[s : s + 512] = enc._encode([[BOS, int(i), EOS] for i in ids[s : s + 512]])
        print(f"{len(ids)} pieces through the encoder: {time.process_time() - started:.1f} CPU s", flush=True)
        OUT.mkdir(parents=True, exist_ok=True)
        np.savez(cache, ids=ids, out=out)
    inp = enc._file.q4("emb.word", enc.vocab, enc.hidden, ids)
    return toks, ids, out, inp


def _table(vectors: np.ndarray, dim: int, sif: float, probs: np.ndarray) -> np.ndarray:
    x = vectors - vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    weights = sif / (sif + probs)
    result: np.ndarray = (x @ vt[:dim].T) * weights[:, None]
    return result


def main() -> None:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.svm import LinearSVC
    from text_ngram_cv import _features

    from luodi.text.teacher import E5Encoder

    enc = E5Encoder.load(E5)
    enc.prefix = ""  # pieces of the text itself (e5's "query: " prefix is for its sentence vectors)
    splits = _data()
    every = sorted({t for s in splits for part in (s[0], s[2]) for t in part})
    toks, ids, out, inp = _pieces(enc, every)
    row = {int(i): k for k, i in enumerate(ids)}
    blank = enc.pieces.get("\u2581")  # the bare word-start mark before a CJK run: no meaning of its own
    probs = np.exp(enc.scores[ids])

    def text_vectors(texts: list[str], table: np.ndarray) -> np.ndarray:
        vecs = np.zeros((len(texts), table.shape[1]), np.float32)
        for k, t in enumerate(texts):
            rows = [row[i] for i in toks[t] if i != blank]
            if rows:
                vecs[k] = table[rows].mean(axis=0)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)

    for name in sys.argv[1:] or list(VARIANTS):
        kind, dim, sif, alpha = VARIANTS[name]
        tables = {"out": [out], "inp": [inp], "both": [inp, out], "": []}[kind]
        table = np.concatenate([_table(v, dim, sif, probs) for v in tables], axis=1) if tables else None
        acc = []
        for a_texts, a_y, b_texts, b_y in splits:
            xa, xb = _features(a_texts, b_texts, (1, 3), True, False)
            if table is not None:
                va, vb = text_vectors(a_texts, table), text_vectors(b_texts, table)
                if alpha is None:
                    xa, xb = va, vb
                else:
                    xa = hstack([xa, csr_matrix(alpha * va)]).tocsr()
                    xb = hstack([xb, csr_matrix(alpha * vb)]).tocsr()
            acc.append(float(np.mean(LinearSVC().fit(xa, a_y).predict(xb) == np.array(b_y))))
        say_cv(name, acc)


if __name__ == "__main__":
    main()
