"""The trainer with e5's first layer in the bag, on validation data only: does the network keep the SVM's gain?

    PYTHONPATH=src:bench nice -n 10 .venv/bin/python bench/text_e5bag_dev.py --set thucnews --seed 0 --label e5bag

bench/text_layers_cv.py found that the token mean after multilingual-e5-small's first layer, appended to the
bag, lifts a linear SVM by ~2.3 pt (THUCNews 3-fold). This runs bench/text_dev.py (same arguments, same
validation slices: the trainer's held-out 801 of the 8,000 training titles, or SMP2019 dev.json) with the
Featurizer patched *in this process only* so that every text's bag also holds 384 dense entries, the layer-1
vector (from bench/text_layers_cv.py's cache, luodi's numpy e5) x WEIGHT. Both the stacked SVM and the network's
bag path read them; nothing else changes. WEIGHT 1/sqrt(2): luodi's bag is one L2-normalised block, the CV's
two (chars, words), so this keeps the CV's ratio of e5 to bag. A prototype for measurement: the run's
features.json does not know about e5, so its checkpoint cannot be exported or served.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import text_dev
from text_layers_cv import CACHE
from text_static_cv import E5

from luodi.text.features import Featurizer
from luodi.text.teacher import E5Encoder

WEIGHT = 1.0 / math.sqrt(2.0)
DIM = 384


def _patch() -> None:
    got = np.load(CACHE, allow_pickle=False)
    row = {str(t): k for k, t in enumerate(got["texts"])}
    layer1 = np.asarray(got["vecs"][:, 0])
    encoder: list[E5Encoder] = []
    missed = [0]

    def vectors(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), np.float32)
        for i, t in enumerate(texts):
            k = row.get(t)
            if k is None:
                if not encoder:
                    encoder.append(E5Encoder.load(E5))
                missed[0] += 1
                out[i] = encoder[0].layer_means([t], 1)[0, 0]
            else:
                out[i] = layer1[k]
        return out

    plain_encode, plain_sizes = Featurizer.encode, Featurizer.sizes

    def encode(self: Featurizer, texts: Any, *, own_slots: Any = None) -> Any:
        enc = plain_encode(self, texts, own_slots=own_slots)
        b, first = len(texts), len(self.bag) + 1
        ids = np.broadcast_to(np.arange(first, first + DIM, dtype=np.int64), (b, DIM))
        return dataclasses.replace(
            enc,
            bag_ids=np.concatenate([enc.bag_ids, ids], 1),
            bag_weights=np.concatenate([enc.bag_weights, WEIGHT * vectors(list(texts))], 1),
        )

    def sizes(self: Featurizer) -> dict[str, int]:
        out = dict(plain_sizes.fget(self))  # type: ignore[attr-defined]
        out["bag"] += DIM
        return out

    Featurizer.encode = encode  # type: ignore[method-assign]
    Featurizer.sizes = property(sizes)  # type: ignore[assignment,method-assign]


if __name__ == "__main__":
    _patch()
    text_dev.main()
