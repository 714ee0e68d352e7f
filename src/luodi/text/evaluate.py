"""Score a registered text model on a labelled file (the ``luodi eval text`` report)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from luodi.errors import InputError
from luodi.text.data import read_examples
from luodi.text.metrics import confusion_png, text_metrics


def evaluate_model(
    model: str,
    data: str | Path,
    *,
    fmt: str | None = None,
    intent_file: str | Path | None = None,
    threads: int = 1,
    confusion: Path | None = None,
    errors_file: Path | None = None,
    home: str | Path | None = None,
) -> dict[str, Any]:
    from luodi.text.model import TextModel

    examples = read_examples(data, fmt, intent_file=intent_file)
    if not examples or any(ex.label is None for ex in examples):
        raise InputError(f"{data}: evaluation needs a label on every text")
    engine = TextModel(model, home=home, threads=threads)
    started = time.perf_counter()
    results = engine([ex.text for ex in examples])
    seconds = time.perf_counter() - started
    spans = None
    if engine.task == "nlu" and all(ex.spans is not None for ex in examples):
        spans = [[_span(s) for s in r.slots] for r in results]
    m = text_metrics(examples, [r.label for r in results], spans, engine.classes)
    notes = []
    if m.unknown_gold:
        notes.append(
            f"{len(m.unknown_gold)} gold label(s) are not classes of {model} and count as errors: "
            f"{', '.join(m.unknown_gold[:10])}"
        )
    if confusion is not None:
        confusion_png(m, confusion, title=f"{model} on {Path(data).name}: accuracy {m.accuracy:.4f}")
    if errors_file is not None:
        with errors_file.open("w", encoding="utf-8") as f:
            for ex, r in zip(examples, results, strict=True):
                if r.label != ex.label:
                    f.write(
                        json.dumps(
                            {
                                "where": ex.where,
                                "text": ex.text,
                                "gold": ex.label,
                                "predicted": r.label,
                                "score": round(r.score, 4),
                            },
                            ensure_ascii=False,
                        )
                        + "\n"
                    )
    return {
        "model": model,
        "data": str(data),
        **m.to_dict(),
        "ms_per_text": round(1000 * seconds / max(1, len(examples)), 3),
        "notes": notes,
    }


def _span(slot: Any) -> Any:
    from luodi.text.data import Span

    return Span(slot.start, slot.end, slot.type)
