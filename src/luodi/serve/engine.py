"""What the service runs: bytes in, the CLI's JSON out. Shared by the HTTP app and the job workers.

The engine loads the OCR models once per process and is immutable afterwards; extractors for each
schema are built on first use around the same OCR engine (so a schema costs no second model load)
and cached. Schema names from the API are plain identifiers only: a path such as ``../x.yaml`` is
never handed to the extractor.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from luodi.config import Limits
from luodi.errors import UnknownSchemaError

if TYPE_CHECKING:
    from luodi.kie import Extractor  # type: ignore[attr-defined]
    from luodi.ocr.pipeline import OCR

_SCHEMA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

Recognizer = Callable[[Sequence[Any]], list[Any]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One processed input: the JSON body and the seconds spent per stage."""

    body: dict[str, Any]
    stages: dict[str, float]


class Engine(Protocol):
    model_name: str

    def describe(self) -> dict[str, Any]: ...

    def ocr(self, data: bytes, *, name: str | None, recognizer: Recognizer | None = None) -> Outcome: ...

    def extract(
        self, data: bytes, *, schema: str, name: str | None, recognizer: Recognizer | None = None
    ) -> Outcome: ...

    def check_schema(self, schema: str) -> None: ...

    def recognize(self, crops: Sequence[Any]) -> list[Any]: ...


def _stages_from_timings(timings: Any) -> dict[str, float]:
    return {k: float(getattr(timings, k)) / 1000.0 for k in ("det", "cls", "rec")}


class PipelineEngine:
    """The real engine: luodi.io decoding + luodi.OCR + luodi.kie.Extractor."""

    def __init__(
        self,
        *,
        model: str,
        runtime: str | None,
        threads: int | None,
        limits: Limits,
        device: str = "cpu",
        home: Path | None = None,
        rec_batch_size: int = 1,
    ) -> None:
        from luodi import OCR, OCROptions
        from luodi.config import load_settings

        base = load_settings(home=home) if home is not None else None
        self._ocr: OCR = OCR(model, runtime=runtime, threads=threads, device=device, settings=base)
        # before /readyz says ready: a runtime that compiles per input shape (OpenVINO, the INT8
        # bundles) would otherwise stall the first requests ~1 s per new shape; no-op for others
        self.warmed_shapes = self._ocr.warm_up(OCROptions().replace(rec_batch_size=1))
        self._options = OCROptions()
        # crops grouped by the dynamic batcher run as real batches of this size
        self._batch_options = self._options.replace(rec_batch_size=rec_batch_size)
        self._limits = limits
        self.model_name: str = self._ocr.model_name
        self._extractors: dict[str, Extractor] = {}
        self._lock = threading.Lock()

    def describe(self) -> dict[str, Any]:
        runtime: dict[str, Any] = {}
        for stage, info in dict(getattr(self._ocr, "runtime_info", {}) or {}).items():
            runtime[stage] = _jsonable(info)
        return {"name": self.model_name, "runtime": runtime}

    def _pages(self, data: bytes) -> tuple[list[Any], float]:
        from luodi.io import load_pages

        t0 = time.perf_counter()
        pages = load_pages(data, self._limits)
        return pages, time.perf_counter() - t0

    def ocr(self, data: bytes, *, name: str | None, recognizer: Recognizer | None = None) -> Outcome:
        pages, decode_s = self._pages(data)
        doc = self._ocr.run_pages(pages, self._options, source=name, recognizer=recognizer)
        return Outcome(doc.to_dict(), {"decode": decode_s, **_stages_from_timings(doc.timings)})

    def extract(self, data: bytes, *, schema: str, name: str | None, recognizer: Recognizer | None = None) -> Outcome:
        extractor = self._extractor(schema)
        pages, decode_s = self._pages(data)
        doc = self._ocr.run_pages(pages, self._options, source=name, recognizer=recognizer)
        t0 = time.perf_counter()
        extraction = extractor.extract_document(doc)
        kie_s = time.perf_counter() - t0
        return Outcome(extraction.to_dict(), {"decode": decode_s, **_stages_from_timings(doc.timings), "kie": kie_s})

    def check_schema(self, schema: str) -> None:
        self._extractor(schema)

    def recognize(self, crops: Sequence[Any]) -> list[Any]:
        return list(self._ocr.recognize(crops, self._batch_options))

    def _extractor(self, schema: str) -> Extractor:
        if not _SCHEMA_NAME.match(schema):
            raise UnknownSchemaError(f"unknown schema {schema!r}: the API takes built-in schema names only")
        with self._lock:
            cached = self._extractors.get(schema)
            if cached is None:
                from luodi.kie import Extractor  # type: ignore[attr-defined]

                cached = Extractor(schema, ocr=self._ocr)
                self._extractors[schema] = cached
            return cached


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if hasattr(value, "value") and hasattr(value, "name") and not hasattr(value, "__dataclass_fields__"):
        return _jsonable(value.value)  # enums
    if hasattr(value, "__dataclass_fields__"):
        return {k: _jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    return str(value)
