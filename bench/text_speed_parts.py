"""Where a registered text model's CPU goes, per text on one thread: the whole call, the featurizer (with the
context layer, when the model has one) and the context layer alone. Timing only: nothing is scored.

    PYTHONPATH=src nice -n 10 .venv/bin/python bench/text_speed_parts.py MODEL TEXTS_FILE
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from luodi.text.data import read_examples
from luodi.text.model import TextModel


def main() -> None:
    name, path = sys.argv[1], sys.argv[2]
    texts = [e.text for e in read_examples(path)][:512]
    model = TextModel(name, threads=1)
    model(texts[:64])
    feats = model.features

    def cpu_ms(fn: Callable[[], object], reps: int = 3) -> float:
        best = 1e9
        for _ in range(reps):
            started = time.process_time()
            fn()
            best = min(best, time.process_time() - started)
        return best * 1000 / len(texts)

    whole = cpu_ms(lambda: model(texts))
    encode = cpu_ms(lambda: [feats.encode(texts[s : s + 64]) for s in range(0, len(texts), 64)])
    ctx = feats.context
    context = cpu_ms(lambda: ctx(texts)) if ctx is not None else 0.0
    print(f"{name}: CPU ms per text, one thread: whole {whole:.3f}, featurizer {encode:.3f}, context {context:.3f}")


if __name__ == "__main__":
    main()
