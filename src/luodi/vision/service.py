"""The inspect task of the processing pipeline: ``task="inspect"``, option = the vision model's name.

The pipeline decodes the input (with the service's limits) into pages; every page is inspected (a
photo has one, a TIFF or PDF several). The result is ``luodi inspect``'s JSON for each page.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from luodi.errors import InputError
from luodi.vision.inspector import Inspection, Inspector


@dataclass(frozen=True, slots=True)
class InspectResult:
    source: str | None
    model: str
    pages: tuple[Inspection, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "model": self.model,
            "pages": [{k: v for k, v in p.to_dict().items() if k not in ("source", "model")} for p in self.pages],
        }


class InspectProcessor:
    takes = "pages"

    def __init__(self, inspector: Inspector) -> None:
        self.inspector = inspector

    def __call__(self, value: Iterable[np.ndarray], call: Any) -> tuple[InspectResult, dict[str, float]]:
        started = time.perf_counter()
        # page by page: the service streams pages (Pipeline.run(stream=True)), one decoded at a time
        results = [result for page in value for result in self.inspector.inspect_arrays([page], [call.source])]
        return InspectResult(call.source, self.inspector.name, tuple(results)), {
            "inspect": time.perf_counter() - started
        }


def inspect_processor(pipeline: Any, option: str | None, **_params: Any) -> InspectProcessor:
    if not option:
        raise InputError("the inspect task needs a vision model name")
    # one thread per session: the service's inference gate runs requests side by side
    inspector = Inspector(option, home=pipeline.settings.home, threads=1, limits=pipeline.settings.limits)
    return InspectProcessor(inspector)
