"""The stacked bag SVM alone vs the whole network, on finished classification runs' own evaluation texts.

    PYTHONPATH=src nice -n 10 .venv/bin/python bench/text_svm_alone.py RUN_DIR [RUN_DIR ...]

Per run: its evaluation texts (the config's eval files, or the trainer's seeded held-out share of train, as
training chose them), scored by the best checkpoint, then by the same weights with the deep path's output layer
zeroed — the SVM's scores x the learned gain, what the trainer's epoch 0 scores since 1f402bc. No test split.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main() -> None:
    from luodi.text.config import parse_text_config
    from luodi.text.export import load_run_net
    from luodi.text.train import evaluate_net, load_split
    from luodi.train.trainer import import_paddle

    paddle = import_paddle()
    for arg in sys.argv[1:]:
        run = Path(arg)
        cfg = parse_text_config(json.loads((run / "config.json").read_text(encoding="utf-8")))
        _, evals = load_split(cfg)
        net, feats, labels = load_run_net(run)
        whole = evaluate_net(net, paddle, feats, evals, classes=labels["classes"], tags=labels["tags"])
        for p in (net.cls.weight, net.cls.bias):
            p.set_value(np.zeros(p.shape, "float32"))
        alone = evaluate_net(net, paddle, feats, evals, classes=labels["classes"], tags=labels["tags"])
        print(
            f"{run.name}: {len(evals)} texts, network {whole.accuracy:.4f}, SVM alone {alone.accuracy:.4f}", flush=True
        )


if __name__ == "__main__":
    main()
