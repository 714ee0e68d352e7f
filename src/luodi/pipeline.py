"""One processing pipeline: decode → task (OCR, extraction, …) → a result with its timings, or an error record.

The CLI (``luodi ocr``, ``luodi extract``), the service (single and batch endpoints) and the job
workers all run inputs through a :class:`Pipeline`, built once from :class:`~luodi.config.Settings`.
What runs after decoding is a *processor*, chosen by task name:

======== ================================== ===========================================
task     option                             result
======== ================================== ===========================================
ocr      (none)                             :class:`~luodi.ocr.result.Document`
extract  schema name or YAML path           :class:`~luodi.locate.extract.Extractions` (one per document)
text     text model name                    :class:`~luodi.text.service.TextBatch` (one per line of the input)
inspect  vision model name                  :class:`~luodi.vision.service.InspectResult` (one per page)
======== ================================== ===========================================

A processor is any object with a ``takes`` attribute (``"pages"``: the pipeline decodes images and
PDFs into RGB pages; ``"text"``: it hands over a ``str``) that is called with the decoded value and
a :class:`Call`, and returns ``(result, stages)``: a result with ``to_dict()`` and the seconds spent
per stage. A task is registered as a factory ``factory(pipeline, option, **params) -> Processor`` in
:data:`TASKS` (``"module:attribute"``, imported on first use) or passed to ``Pipeline(tasks=...)``.
Factories take the shared pieces from the pipeline (``pipeline.ocr``, ``pipeline.settings``), so
one model load serves every task. Processors are built once per (task, option, params) and cached
on the pipeline; they must be immutable and thread-safe, like the engines.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic_core import to_jsonable_python

from luodi.config import Settings, load_settings
from luodi.errors import ConfigError, DeadlineExceededError, InputError, LuodiError, UnknownTaskError

if TYPE_CHECKING:
    import numpy as np

    from luodi.kie.extractor import Extractor
    from luodi.kie.gazetteer import Gazetteer
    from luodi.kie.parties import PartyParser
    from luodi.ocr.options import OCROptions
    from luodi.ocr.pipeline import OCR, RecognizeFn
    from luodi.ocr.result import Document, RecResult

__all__ = [
    "TASKS",
    "Call",
    "Item",
    "ItemResult",
    "Outcome",
    "PageStream",
    "Pipeline",
    "Processor",
    "ProcessorFactory",
    "Result",
]

log = logging.getLogger("luodi.pipeline")

Takes = Literal["pages", "text"]


class Result(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Call:
    """What a processor is told about the input besides its decoded value."""

    source: str | None
    decode_s: float = 0.0
    #: replaces the OCR recognition stage (the service's cross-request batcher); ``None``: the engine's own
    recognizer: RecognizeFn | None = None


class Processor(Protocol):
    """One task of the pipeline (see the module docstring)."""

    @property
    def takes(self) -> Takes: ...

    def __call__(self, value: Any, call: Call) -> tuple[Result, dict[str, float]]: ...


ProcessorFactory = Callable[..., Processor]

#: Built-in tasks: name → ``"module:factory"``, imported when the task is first used.
TASKS: Mapping[str, str] = MappingProxyType(
    {
        "ocr": "luodi.pipeline:ocr_processor",
        "extract": "luodi.pipeline:extract_processor",
        "text": "luodi.text.service:text_processor",
        "inspect": "luodi.vision.service:inspect_processor",
    }
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One processed input: the result, seconds per stage (``decode`` first), and the decoded pages."""

    source: str | None
    result: Result
    stages: Mapping[str, float]
    pages: tuple[np.ndarray, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return self.result.to_dict()


@dataclass(frozen=True, slots=True)
class Item:
    """One input of a batch: a path, the bytes of a file, an array, or (for text tasks) a ``str``."""

    source: Any
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ItemResult:
    """A batch item's outcome, or the error that stopped it (bad input never stops the batch)."""

    index: int
    source: str | None
    outcome: Outcome | None = None
    error: LuodiError | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"index", "source", "result"}`` or ``{"index", "source", "error": {"type", "message"}}``."""
        entry: dict[str, Any] = {"index": self.index, "source": self.source}
        if self.error is not None:
            entry["error"] = self.error.to_dict()["error"]
        elif self.outcome is not None:
            entry["result"] = self.outcome.to_dict()
        return entry


class Pipeline:
    """Decode → processor → :class:`Outcome`, for every task, with one set of models.

    >>> pipe = Pipeline(load_settings(model="pp-ocrv6-small"))   # doctest: +SKIP
    >>> pipe.run("extract", "waybill.jpg", option="waybill").to_dict()   # doctest: +SKIP

    ``settings`` give the model store, the OCR model, runtime, threads, device and input limits;
    ``ocr`` is an engine to use instead of loading one from the settings (tests, custom sessions).
    The OCR engine is loaded on first use (``load()`` forces it), so tasks that need no OCR cost no
    model load. A pipeline is immutable apart from its caches and safe to share between threads.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        ocr: OCR | None = None,
        tasks: Mapping[str, ProcessorFactory | str] | None = None,
    ) -> None:
        self.settings: Settings = settings if settings is not None else load_settings()
        self._tasks: Mapping[str, ProcessorFactory | str] = MappingProxyType({**TASKS, **(tasks or {})})
        self._ocr = ocr
        self._lock = threading.RLock()
        self._processors: dict[tuple[Any, ...], Processor] = {}
        self._shared: dict[str, Any] = {}  # pieces built once on first use (gazetteer, contact parser)

    # --- shared pieces ------------------------------------------------------------------------
    @property
    def ocr(self) -> OCR:
        """The OCR engine, loaded once from the settings on first use."""
        if self._ocr is None:
            with self._lock:
                if self._ocr is None:
                    from luodi.ocr.pipeline import OCR

                    s = self.settings
                    self._ocr = OCR(s.model, runtime=None, threads=s.threads, device=s.device, settings=s)
        return self._ocr

    @property
    def gazetteer(self) -> Gazetteer | None:
        """The division table (from the installed package), built once; None where it is missing."""
        with self._lock:
            if "gazetteer" not in self._shared:
                from luodi.errors import ModelNotPulledError
                from luodi.kie.gazetteer import Gazetteer

                try:
                    self._shared["gazetteer"] = Gazetteer.from_package()
                except ModelNotPulledError as exc:  # optional data: without it no division is checked
                    log.warning("no division gazetteer: %s", exc.message)
                    self._shared["gazetteer"] = None
            table: Gazetteer | None = self._shared["gazetteer"]
            return table

    @property
    def contact_parser(self) -> PartyParser:
        """The contact model from *this* pipeline's store (``settings.home``), rules where it is not
        trained; built once and shared by every schema (it loads on first use)."""
        with self._lock:
            if "contact_parser" not in self._shared:
                from luodi.kie.ner.store import default_model_dir
                from luodi.kie.parties import ModelContactParser

                self._shared["contact_parser"] = ModelContactParser(
                    default_model_dir(self.settings.home), gazetteer=self.gazetteer
                )
            parser: PartyParser = self._shared["contact_parser"]
            return parser

    @property
    def model_name(self) -> str:
        return self.ocr.model_name

    def load(self, *, warm_up: bool = True) -> int:
        """Load the OCR models now; with ``warm_up`` compile the shapes a static-shape backend
        (OpenVINO) would otherwise compile on first requests. Returns how many shapes were run."""
        from luodi.ocr.options import OCROptions

        engine = self.ocr
        return engine.warm_up(OCROptions().replace(rec_batch_size=1)) if warm_up else 0

    def describe(self) -> dict[str, Any]:
        """The loaded OCR model and its runtime per stage, the model store, and whether the contact
        model loaded from it (this loads it), JSON-ready."""
        from luodi.kie.ner.store import default_model_dir

        runtime = to_jsonable_python(dict(self.ocr.runtime_info), fallback=str)  # RuntimeInfo per stage
        parser = self.contact_parser
        contact = {
            "path": str(default_model_dir(self.settings.home)),
            "loaded": bool(getattr(parser, "available", True)),
        }
        return {"name": self.model_name, "runtime": runtime, "store": str(self.settings.home), "contact_model": contact}

    def recognize(self, crops: Sequence[np.ndarray], *, batch_size: int = 1) -> list[RecResult]:
        """Recognise upright line crops in batches of ``batch_size`` (the service's batcher calls this)."""
        from luodi.ocr.options import OCROptions

        return list(self.ocr.recognize(crops, OCROptions(rec_batch_size=batch_size)))

    # --- tasks ---------------------------------------------------------------------------------
    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(self._tasks)

    def processor(self, task: str, option: str | None = None, **params: Any) -> Processor:
        """The processor for ``task`` (built once per task, option and params; raises for a bad option)."""
        key = (task, option, *sorted(params.items()))
        with self._lock:
            cached = self._processors.get(key)
            if cached is None:
                cached = self._factory(task)(self, option, **params)
                self._processors[key] = cached
            return cached

    def check(self, task: str, option: str | None = None) -> None:
        """Raise the error a run of ``task`` with ``option`` would raise for them (unknown task or schema)."""
        self.processor(task, option)

    def _factory(self, task: str) -> ProcessorFactory:
        entry = self._tasks.get(task)
        if entry is None:
            raise UnknownTaskError(f"unknown task {task!r}; known: {', '.join(self._tasks)}")
        if isinstance(entry, str):
            module, _, attr = entry.partition(":")
            factory: ProcessorFactory = getattr(importlib.import_module(module), attr)
            return factory
        return entry

    # --- running -------------------------------------------------------------------------------
    def run(
        self,
        task: str | Processor,
        source: Any,
        *,
        option: str | None = None,
        name: str | None = None,
        recognizer: RecognizeFn | None = None,
        pdf_dpi: int | None = None,
        stream: bool = False,
        deadline: float | None = None,
    ) -> Outcome:
        """Decode ``source`` and run the task on it; raises a :class:`LuodiError` for bad input.

        ``name`` is reported as the result's ``source`` (default: the path, for a path).
        ``stream=True`` decodes one page at a time while the task runs, so a long PDF never sits in
        memory whole (the service and the job workers do this); ``Outcome.pages`` is then empty.
        ``deadline`` (``time.monotonic()``): a page not started by then fails the input with
        ``deadline_exceeded``, so an abandoned request stops at the next page instead of running on.
        """
        proc = self.processor(task, option) if isinstance(task, str) else task
        if name is None and isinstance(source, os.PathLike | str) and proc.takes == "pages":
            name = os.fspath(source)
        t0 = time.perf_counter()
        value, pages = self._decode(source, proc.takes, pdf_dpi, stream=stream, deadline=deadline)
        decode_s = time.perf_counter() - t0
        result, stages = proc(value, Call(source=name, decode_s=decode_s, recognizer=recognizer))
        if isinstance(value, PageStream):
            decode_s += value.seconds  # decoded inside the task's own timing, page by page
        return Outcome(name, result, {"decode": decode_s, **stages}, pages)

    def run_many(
        self,
        task: str | Processor,
        items: Iterable[Item],
        *,
        option: str | None = None,
        deadline: float | None = None,
        recognizer: RecognizeFn | None = None,
        pdf_dpi: int | None = None,
        stream: bool = False,
    ) -> Iterator[ItemResult]:
        """Run every item in order; an item with bad input (any :class:`LuodiError`) becomes an error
        record and the rest go on. Items not started by ``deadline`` (``time.monotonic()``) fail with
        ``deadline_exceeded`` (with ``stream``, so does an item whose next page is not started by
        then). Anything else (a bug, a broken model) propagates."""
        proc = self.processor(task, option) if isinstance(task, str) else task
        for index, item in enumerate(items):
            name = item.name
            if name is None and isinstance(item.source, os.PathLike | str) and proc.takes == "pages":
                name = os.fspath(item.source)
            if deadline is not None and time.monotonic() > deadline:
                late = DeadlineExceededError("deadline exceeded before this item ran")
                yield ItemResult(index, name, error=late)
                continue
            try:
                outcome = self.run(
                    proc,
                    item.source,
                    name=name,
                    recognizer=recognizer,
                    pdf_dpi=pdf_dpi,
                    stream=stream,
                    deadline=deadline if stream else None,
                )
            except LuodiError as exc:
                yield ItemResult(index, name, error=exc)
            else:
                yield ItemResult(index, name, outcome=outcome)

    def _decode(
        self, source: Any, takes: Takes, pdf_dpi: int | None, *, stream: bool, deadline: float | None
    ) -> tuple[Any, tuple[np.ndarray, ...]]:
        if takes == "text":
            return _as_text(source), ()
        from luodi.io import iter_pages, load_pages

        if stream:
            return PageStream(iter_pages(source, self.settings.limits, pdf_dpi=pdf_dpi), deadline), ()
        pages = tuple(load_pages(source, self.settings.limits, pdf_dpi=pdf_dpi))
        return pages, pages


class PageStream:
    """Pages decoded one at a time as a task asks for them (``Pipeline.run(stream=True)``).

    It keeps no page: once the task lets go of one, its memory is free before the next is decoded.
    It adds up the seconds spent decoding (the ``decode`` stage) and, past ``deadline``, refuses to
    decode another page.
    """

    def __init__(self, pages: Iterator[np.ndarray], deadline: float | None = None) -> None:
        self._pages = pages
        self._deadline = deadline
        self.seconds = 0.0
        self.count = 0

    def __iter__(self) -> PageStream:
        return self

    def __next__(self) -> np.ndarray:
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise DeadlineExceededError(f"deadline exceeded after {self.count} page(s)")
        t0 = time.perf_counter()
        try:
            page = next(self._pages)
        finally:
            self.seconds += time.perf_counter() - t0
        self.count += 1
        return page


def _as_text(source: Any) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, bytes | bytearray | memoryview):
        try:
            return bytes(source).decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("the input is not UTF-8 text") from None
    raise InputError(f"a text task takes a str or UTF-8 bytes, not {type(source).__name__}")


# --- built-in processors ---------------------------------------------------------------------------
def _ocr_stages(doc: Document) -> dict[str, float]:
    t = doc.timings
    return {"locate": t.locate / 1000.0, "det": t.det / 1000.0, "cls": t.cls / 1000.0, "rec": t.rec / 1000.0}


@dataclass(frozen=True, slots=True)
class OcrProcessor:
    """Pages → :class:`~luodi.ocr.result.Document`; its ``total`` time includes decoding."""

    ocr: OCR
    options: OCROptions
    takes: Takes = field(default="pages", init=False)

    def __call__(self, value: Iterable[np.ndarray], call: Call) -> tuple[Result, dict[str, float]]:
        doc = self.ocr.run_pages(value, self.options, source=call.source, recognizer=call.recognizer)
        doc = replace(doc, timings=replace(doc.timings, total=doc.timings.total + call.decode_s * 1000.0))
        return doc, _ocr_stages(doc)


def ocr_processor(pipeline: Pipeline, option: str | None, *, options: OCROptions | None = None) -> OcrProcessor:
    from luodi.ocr.options import OCROptions

    if option is not None:
        raise ConfigError(f"the ocr task takes no option (got {option!r})")
    return OcrProcessor(pipeline.ocr, options if options is not None else OCROptions())


@dataclass(frozen=True, slots=True)
class ExtractProcessor:
    """Pages → OCR on the pipeline's engine → one extraction of one schema per document
    (:class:`~luodi.locate.extract.Extractions`: a flat input is one document and keeps the usual
    JSON; every document located on a photo is extracted on its own)."""

    pipeline: Pipeline
    extractor: Extractor
    options: OCROptions | None = None
    takes: Takes = field(default="pages", init=False)

    def __call__(self, value: Iterable[np.ndarray], call: Call) -> tuple[Result, dict[str, float]]:
        from luodi.locate.extract import extract_documents

        options = self.extractor.ocr_options(self.options)
        # a second reading crops the pages again: keep them (one input's pages) past the OCR
        pages = list(value) if self.extractor.second_reading is not None else None
        doc = self.pipeline.ocr.run_pages(
            pages if pages is not None else value, options, source=call.source, recognizer=call.recognizer
        )
        t0 = time.perf_counter()
        extraction = extract_documents(self.extractor, doc, pages)
        return extraction, {**_ocr_stages(doc), "kie": time.perf_counter() - t0}


def extract_processor(
    pipeline: Pipeline,
    option: str | None,
    *,
    review_threshold: float | None = None,
    options: OCROptions | None = None,
    second_reading: str | None = None,
    second_reading_doubted: bool = False,
) -> ExtractProcessor:
    """``option`` is the schema: a built-in name or a YAML path (default ``waybill``); ``options``
    the OCR options (``OCROptions(locate=False)``: read photos whole); ``second_reading`` a model
    bundle whose recogniser reads the accepted values' lines again (:mod:`luodi.kie.second_reading`);
    ``second_reading_doubted`` has it read only the values the first reading was unsure of
    (:data:`~luodi.kie.second_reading.DOUBT_BELOW`): a few per cent of OCR time instead of a quarter."""
    from luodi.kie.extractor import Extractor
    from luodi.kie.second_reading import DOUBT_BELOW, SecondReading

    if second_reading_doubted and not second_reading:
        raise ConfigError("a second reading of the doubted values needs a second reading model (--second-reading)")
    doubt_below = DOUBT_BELOW if second_reading_doubted else None
    second = (
        SecondReading.from_model(second_reading, threads=pipeline.settings.threads, doubt_below=doubt_below)
        if second_reading
        else None
    )

    # no ocr= here: the processor runs OCR on the pipeline's engine, and text-only use
    # (Extractor.extract_text) must not load OCR models
    extractor = Extractor(
        option or "waybill",
        settings=pipeline.settings,
        review_threshold=review_threshold,
        contact_parser=pipeline.contact_parser,
        gazetteer=pipeline.gazetteer,
        learned=_learned_beside(option),
        second_reading=second,
    )
    return ExtractProcessor(pipeline, extractor, options)


def _learned_beside(schema: str | None) -> Any:
    """The layout `luodi train kie` learned for a schema file (NAME.learned.json beside it), if any."""
    if schema is None or not schema.lower().endswith((".yaml", ".yml")):
        return None
    from luodi.kie.learned import LearnedLayout, learned_path

    path = learned_path(schema)
    return LearnedLayout.load(path) if path.is_file() else None
