"""The text task of the processing pipeline: ``task="text"``, option = the text model's name.

A processor holds one loaded :class:`~luodi.text.model.TextModel` (immutable, thread-safe). Called
by the pipeline on one decoded input (a job's uploaded file: UTF-8, one text per line, blank lines
skipped), it returns every line's result; the ``/v1/text/{model}`` route hands it a list of texts
through :meth:`TextProcessor.batch` instead.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from luodi.errors import EmptyInputError, InputError
from luodi.text.model import TextModel, TextResult

MAX_TEXTS = 1000  # per request or uploaded file: larger inputs go through a job in several files


@dataclass(frozen=True, slots=True)
class TextBatch:
    model: str
    task: str
    results: tuple[TextResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "task": self.task, "results": [r.to_dict() for r in self.results]}


class TextProcessor:
    takes = "text"

    def __init__(self, model: TextModel) -> None:
        self.model = model

    def batch(self, texts: Sequence[Any], *, top_k: int = 3) -> TextBatch:
        if not texts:
            raise EmptyInputError("no texts given")
        if len(texts) > MAX_TEXTS:
            raise InputError(f"{len(texts)} texts in one request; at most {MAX_TEXTS} (use a job for more)")
        results = self.model(list(texts), top_k=top_k)
        return TextBatch(self.model.name, self.model.task, tuple(results))

    def __call__(self, value: str, call: Any) -> tuple[TextBatch, dict[str, float]]:
        started = time.perf_counter()
        lines = [line for line in value.splitlines() if line.strip()]
        return self.batch(lines), {"text": time.perf_counter() - started}


def text_processor(pipeline: Any, option: str | None, **_params: Any) -> TextProcessor:
    if not option:
        raise InputError("the text task needs a model name")
    # one thread per session: the service's inference gate runs requests side by side
    return TextProcessor(TextModel(option, home=pipeline.settings.home, threads=1))
