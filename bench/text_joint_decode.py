"""Joint intent + slot decoding, measured on finished runs' SMP2019 dev emissions (no training, no test split).

    PYTHONPATH=src nice -n 10 .venv/bin/python bench/text_joint_decode.py RUN_DIR [RUN_DIR ...]

Per run and dev text: ``argmax`` is what the served model does (the most probable intent, then Viterbi over the
slot types seen with it); ``jointK`` picks among the top K intents the one maximising log p(intent) + w * (best
slot path under that intent's slot types - best unconstrained path), and decodes its slots.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEV = Path(os.environ.get("LUODI_SHARED", ROOT.parent / "shared")) / "data" / "text" / "smp2019" / "dev.json"
VARIANTS = {"argmax": (1, 1.0), "joint2": (2, 1.0), "joint3": (3, 1.0), "joint2 w=0.5": (2, 0.5)}


def _viterbi(emissions: np.ndarray, crf: dict[str, np.ndarray]) -> tuple[list[int], float]:
    from luodi.kie.ner.crf import viterbi

    path = viterbi(emissions, crf["trans"], crf["start"], crf["end"])
    score = crf["start"][path[0]] + emissions[0, path[0]] + crf["end"][path[-1]]
    score += sum(crf["trans"][path[i - 1], path[i]] + emissions[i, path[i]] for i in range(1, len(path)))
    return path, float(score)


def main() -> None:
    from luodi.text.data import read_examples
    from luodi.text.decode import bio_to_spans, class_slot_mask
    from luodi.text.export import load_run_net
    from luodi.text.metrics import text_metrics
    from luodi.text.train import predict_arrays
    from luodi.train.trainer import import_paddle

    paddle = import_paddle()
    dev = read_examples(DEV)
    for run in sys.argv[1:]:
        net, feats, labels = load_run_net(Path(run))
        classes, tags = labels["classes"], labels["tags"]
        mask, crf = class_slot_mask(classes, tags, labels["class_slots"]), net.crf_params()
        probs, emissions = predict_arrays(net, paddle, feats, [e.text for e in dev])
        out = {}
        for variant, (k, w) in VARIANTS.items():
            preds, spans = [], []
            for p, em in zip(probs, emissions, strict=True):
                free = _viterbi(em, crf)[1]
                best = max(
                    (
                        (np.log(p[c] + 1e-9) + w * (_viterbi(em + mask[c][None], crf)[1] - free), int(c))
                        for c in np.argsort(-p)[:k]
                    ),
                )
                c = best[1]
                preds.append(classes[c])
                spans.append(bio_to_spans([tags[i] for i in _viterbi(em + mask[c][None], crf)[0]]))
            m = text_metrics(dev, preds, spans, classes)
            out[variant] = f"{m.accuracy:.4f} / {m.slot_f1:.4f}"
        print(Path(run).name, out, flush=True)


if __name__ == "__main__":
    main()
