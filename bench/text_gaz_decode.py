"""A decode-time slot lexicon, measured on finished runs' SMP2019 dev emissions (no training, no test split).

    PYTHONPATH=src nice -n 10 .venv/bin/python bench/text_gaz_decode.py RUN_DIR [RUN_DIR ...]

Per dev text, before the served Viterbi (the predicted intent's slot types only): where a slot value of the
training texts (2+ characters, a type allowed for that intent) occurs in the text, its tags get a bonus of
``LAMBDA`` (``B-type`` at its first character, ``I-type`` on the rest). With overlapping matches each adds its own.
A prior from the training slots, as a gazetteer in the network (``model.gazetteer``, no gain on dev) is not.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SMP = Path(os.environ.get("LUODI_SHARED", ROOT.parent / "shared")) / "data" / "text" / "smp2019"
LAMBDAS = (0.0, 1.0, 2.0, 4.0, 8.0)


def main() -> None:
    from luodi.text.data import read_examples
    from luodi.text.decode import class_slot_mask, decode_slots
    from luodi.text.export import load_run_net
    from luodi.text.features import normalize
    from luodi.text.metrics import text_metrics
    from luodi.text.train import predict_arrays
    from luodi.train.trainer import import_paddle

    paddle = import_paddle()
    train, dev = read_examples(SMP / "train.json"), read_examples(SMP / "dev.json")
    values: dict[str, set[str]] = {}
    for ex in train:
        for sp in ex.spans or ():
            v = normalize(sp.value(ex.text))
            if len(v) >= 2:
                values.setdefault(v, set()).add(sp.type)
    for run in sys.argv[1:]:
        net, feats, labels = load_run_net(Path(run))
        classes, tags = labels["classes"], labels["tags"]
        index = {t: i for i, t in enumerate(tags)}
        mask, crf = class_slot_mask(classes, tags, labels["class_slots"]), net.crf_params()
        probs, emissions = predict_arrays(net, paddle, feats, [e.text for e in dev])
        rows = probs.argmax(axis=1)
        preds = [classes[int(r)] for r in rows]
        out = {}
        for lam in LAMBDAS:
            spans = []
            for ex, em, r in zip(dev, emissions, rows, strict=True):
                bonus = np.zeros_like(em)
                text = normalize(ex.text)[: em.shape[0]]
                allowed = set(labels["class_slots"].get(classes[int(r)], []))
                for i in range(len(text)):
                    for j in range(i + 2, len(text) + 1):
                        for t in values.get(text[i:j], ()):
                            if t in allowed:
                                bonus[i, index[f"B-{t}"]] += lam
                                bonus[i + 1 : j, index[f"I-{t}"]] += lam
                spans.append(decode_slots(em + bonus, tags, crf, mask[int(r)]))
            m = text_metrics(dev, preds, spans, classes)
            out[f"lambda {lam:g}"] = round(float(m.slot_f1 or 0.0), 4)
        print(Path(run).name, out, flush=True)


if __name__ == "__main__":
    main()
