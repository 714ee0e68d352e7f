"""The network's dynamic INT8 (`luodi train text --int8`, export's ``int8``) against its FP32, on a bench run.

    PYTHONPATH=src OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/text_int8_net.py RUN_DIR TEXTS_FILE [N]

Exports RUN_DIR twice into a scratch zoo (FP32 and INT8), then, on the first N texts of TEXTS_FILE (use training
texts: this measures agreement, not accuracy): CPU ms per text on one thread in two turns each (batches of 64),
how often the label and the slots agree, and the largest change of a text's score between alone and in a batch
of 256 (dynamic INT8 quantizes activations with one scale per call, so a text's scores depend on its batch).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from luodi.text.data import read_examples
from luodi.text.export import export_text_run
from luodi.text.model import TextModel


def main() -> None:
    run, path = Path(sys.argv[1]), sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    texts = [e.text for e in read_examples(path)][:n]
    home = Path(tempfile.mkdtemp(prefix="textint8-"))
    models = {}
    for int8 in (False, True):
        name = f"net-{'int8' if int8 else 'fp32'}"
        export_text_run(run, name, home=home, int8=int8, out_dir=home / "export" / name)
        models[name] = TextModel(name, home=home, threads=1)
    outs = {}
    for _turn in range(2):
        for name, m in models.items():
            m(texts[:64])
            started = time.process_time()
            outs[name] = [r for k in range(0, len(texts), 64) for r in m(texts[k : k + 64])]
            print(f"{name}: {(time.process_time() - started) * 1000 / len(texts):.3f} CPU ms per text", flush=True)
    a, b = outs["net-fp32"], outs["net-int8"]
    labels = np.mean([x.label == y.label for x, y in zip(a, b, strict=True)])
    slots = np.mean([x.slots == y.slots for x, y in zip(a, b, strict=True)])
    print(f"agreement over {len(texts)} texts: labels {labels:.4f}, slots {slots:.4f}", flush=True)
    for name, m in models.items():
        alone = [m([t])[0].score for t in texts[:256]]
        batch = [r.score for r in m(texts[:256])]
        worst = max(abs(x - y) for x, y in zip(alone, batch, strict=True))
        print(f"{name}: largest |score alone - in a batch of 256| {worst:.2e}", flush=True)


if __name__ == "__main__":
    main()
