"""What one service process holds: its settings, metrics, inference gate, keys and, once loaded,
the processing pipeline, the batcher and the job queue."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from luodi.errors import NotReadyError
from luodi.pipeline import Item, ItemResult, Outcome, Pipeline
from luodi.serve.auth import KeyChecker
from luodi.serve.batcher import DynamicBatcher
from luodi.serve.gate import InferenceGate, Ticket
from luodi.serve.inputs import Spool, check_pixel_budget
from luodi.serve.jobs import JobQueue
from luodi.serve.metrics import Metrics
from luodi.serve.settings import ServeSettings

PipelineFactory = Callable[[ServeSettings], Pipeline]
T = TypeVar("T")


@dataclass(frozen=True)
class Admission:
    """One admitted request: its place in the gate and its spool (see :meth:`ServiceState.admit`)."""

    ticket: Ticket
    spool: Spool

    async def run(self, fn: Callable[[], T], *, deadline: float) -> T:
        """Run ``fn`` in an inference slot; the spool goes when ``fn`` ends (even after a 504)."""

        def work() -> T:
            try:
                return fn()
            finally:
                self.spool.close()

        return await self.ticket.run(work, deadline=deadline)


def default_pipeline_factory(settings: ServeSettings) -> Pipeline:
    """The service's pipeline: its models loaded (and warmed up) before ``/readyz`` says ready."""
    pipeline = Pipeline(settings.pipeline_settings())
    pipeline.load(warm_up=True)
    return pipeline


@dataclass
class ServiceState:
    settings: ServeSettings
    metrics: Metrics
    gate: InferenceGate
    keys: KeyChecker
    pipeline: Pipeline | None = None
    batcher: DynamicBatcher | None = None
    jobs: JobQueue | None = None
    load_error: str | None = None
    review: Any = None  # luodi.review.service.ReviewService: the review queue, when it is on
    started_at: float = field(default_factory=time.monotonic)
    ready_after_s: float | None = None

    def require_pipeline(self) -> Pipeline:
        if self.pipeline is None:
            if self.load_error is not None:
                raise NotReadyError(f"models failed to load: {self.load_error}")
            raise NotReadyError("models are still loading; retry shortly")
        return self.pipeline

    def require_jobs(self) -> JobQueue:
        self.require_pipeline()
        assert self.jobs is not None  # set together with the pipeline
        return self.jobs

    @contextlib.asynccontextmanager
    async def admit(self) -> AsyncIterator[Admission]:
        """A place in the inference gate (503 at once when it is full), taken before the body is read,
        and the spool the request's uploads go to; the spool is removed when the work is done."""
        async with self.gate.admit() as ticket:
            admission = Admission(ticket, Spool(self.settings.spool_dir))
            try:
                yield admission
            finally:
                if not ticket.handed_over:
                    admission.spool.close()

    def check_budget(self, items: Iterable[Item], *, strict: bool) -> None:
        """422 past the per-request budget of decoded pixels (all pages of all files together)."""
        check_pixel_budget(items, self.settings.core.limits, self.settings.request_pixels, strict=strict)

    def process(self, task: str, item: Item, option: str | None = None, deadline: float | None = None) -> Outcome:
        """One input through the pipeline (in an inference thread), page by page, its stages observed."""
        if self.require_pipeline().processor(task, option).takes == "pages":
            self.check_budget([item], strict=True)
        outcome = self.require_pipeline().run(
            task, item.source, option=option, name=item.name, recognizer=self.batcher, stream=True, deadline=deadline
        )
        self.metrics.observe_stages(outcome.stages)
        self.keep_for_review(task, item, outcome, origin="service")
        return outcome

    def process_many(self, task: str, items: Sequence[Item], option: str | None, deadline: float) -> list[ItemResult]:
        """Many inputs in order (each read, decoded and processed in turn; one page in memory at a time)."""
        pipeline = self.require_pipeline()
        if pipeline.processor(task, option).takes == "pages":
            self.check_budget(items, strict=False)
        results = list(
            pipeline.run_many(task, items, option=option, deadline=deadline, recognizer=self.batcher, stream=True)
        )
        for r in results:
            if r.outcome is not None:
                self.metrics.observe_stages(r.outcome.stages)
                self.keep_for_review(task, items[r.index], r.outcome, origin="batch")
        return results

    def keep_for_review(self, task: str, item: Item, outcome: Outcome, *, origin: str) -> None:
        """An extraction that needs review goes to the review queue (when it is on)."""
        if self.review is not None:
            self.review.keep_outcome(task, item, outcome, origin=origin)
