"""The work of one batch: read a few inputs, run them through the shared :class:`~luodi.Pipeline`.

:class:`BatchWorker` is what both engines call: Ray Data builds one per actor (the models load
once, in ``__init__``), the local engine builds one in its own process. A call takes a batch of
``{"index", "ref"}`` columns and returns ``{"index", "ok", "line"}``: ``line`` is the JSON record
(result or error) for the output, serialised on the worker so the driver only writes bytes.

A document that fails, for any reason, becomes an error record; it never stops the batch. Bad
input is a :class:`~luodi.errors.LuodiError` with its type; anything else (an odd image that trips
a library) is recorded as ``internal_error`` with the exception's class, so one document cannot
stop a run of millions. Only a failure to build the pipeline (a missing model) propagates.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from luodi.errors import LuodiError

log = logging.getLogger("luodi.batch")

#: tasks that run the pipeline's OCR engine (the others load only their own model, in their factory)
OCR_TASKS = frozenset({"ocr", "extract"})


@dataclass(frozen=True, slots=True)
class WorkSpec:
    """What every worker builds its pipeline from; plain data, so it travels to Ray actors."""

    task: str
    option: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    model: str | None = None
    runtime: str | None = None
    threads: int | None = None
    pdf_dpi: int | None = None
    #: extra tasks, ``name -> "module:factory"`` (as ``Pipeline(tasks=...)``): importable on every worker
    tasks: Mapping[str, str] = field(default_factory=dict)


class BatchWorker:
    """Loads the pipeline and the task's processor once; then processes batches of inputs."""

    def __init__(self, spec: WorkSpec) -> None:
        from luodi.config import load_settings
        from luodi.pipeline import Pipeline

        overrides = {
            k: v for k, v in (("model", spec.model), ("runtime", spec.runtime), ("threads", spec.threads)) if v
        }
        self.spec = spec
        self.pipeline = Pipeline(load_settings(**overrides), tasks=dict(spec.tasks) or None)
        self.processor = self.pipeline.processor(spec.task, spec.option, **_processor_params(spec))
        if spec.task in OCR_TASKS:
            self.pipeline.load(warm_up=False)  # the model loads here, once per worker, not on the first input
        self._s3: Any = None

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, np.ndarray]:
        indices = [int(i) for i in batch["index"]]
        refs = [str(r) for r in batch["ref"]]
        oks, lines = [], []
        for index, ref in zip(indices, refs, strict=True):
            ok, record = self.process(index, ref)
            oks.append(ok)
            lines.append(json.dumps(record, ensure_ascii=False))
        return {
            "index": np.asarray(indices, dtype=np.int64),
            "ok": np.asarray(oks, dtype=bool),
            "line": np.asarray(lines, dtype=object),
        }

    def process(self, index: int, ref: str) -> tuple[bool, dict[str, Any]]:
        """One input → ``(True, {"index", "source", "result"})`` or ``(False, {..., "error"})``."""
        from luodi.batch.inputs import read_input

        try:
            data = read_input(ref, self.pipeline.settings.limits, s3=self._s3_client(ref))
            outcome = self.pipeline.run(self.processor, data, name=ref, pdf_dpi=self.spec.pdf_dpi)
        except Exception as exc:  # one odd document must not stop the run (module docstring)
            from luodi.output import error_record

            if not isinstance(exc, LuodiError):
                log.warning("%s: %s: %s", ref, type(exc).__name__, exc)
            return False, {"index": index, **error_record(ref, exc)}
        return True, {"index": index, "source": ref, "result": outcome.to_dict()}

    def _s3_client(self, ref: str) -> Any:
        if not ref.startswith("s3://"):
            return None
        if self._s3 is None:  # one client per worker: building one costs more than a small GET
            from luodi.zoo.s3 import s3_client

            self._s3 = s3_client()
        return self._s3


def _processor_params(spec: WorkSpec) -> dict[str, Any]:
    params = dict(spec.params)
    if params.pop("no_locate", False):
        from luodi.ocr.options import OCROptions

        params["options"] = OCROptions(locate=False)
    return params
