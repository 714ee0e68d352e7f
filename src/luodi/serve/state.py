"""What one service process holds: its settings, metrics, inference gate, keys and, once loaded,
the processing pipeline, the batcher and the job queue."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from luodi.errors import NotReadyError
from luodi.pipeline import Item, ItemResult, Outcome, Pipeline
from luodi.serve.auth import KeyChecker
from luodi.serve.batcher import DynamicBatcher
from luodi.serve.gate import InferenceGate
from luodi.serve.jobs import JobQueue
from luodi.serve.metrics import Metrics
from luodi.serve.settings import ServeSettings

PipelineFactory = Callable[[ServeSettings], Pipeline]


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

    def process(self, task: str, item: Item, option: str | None = None) -> Outcome:
        """One input through the pipeline (in an inference thread), its stages observed."""
        outcome = self.require_pipeline().run(task, item.source, option=option, name=item.name, recognizer=self.batcher)
        self.metrics.observe_stages(outcome.stages)
        self.keep_for_review(task, item, outcome, origin="service")
        return outcome

    def process_many(self, task: str, items: list[Item], option: str | None, deadline: float) -> list[ItemResult]:
        pipeline = self.require_pipeline()
        results = list(pipeline.run_many(task, items, option=option, deadline=deadline, recognizer=self.batcher))
        for r in results:
            if r.outcome is not None:
                self.metrics.observe_stages(r.outcome.stages)
                self.keep_for_review(task, items[r.index], r.outcome, origin="batch")
        return results

    def keep_for_review(self, task: str, item: Item, outcome: Outcome, *, origin: str) -> None:
        """An extraction that needs review goes to the review queue (when it is on)."""
        if self.review is not None:
            self.review.keep_outcome(task, item, outcome, origin=origin)
