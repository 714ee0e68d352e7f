"""Start-up and shut-down of a service process.

Models are loaded once per process by the lifespan, in a background thread, so ``/healthz`` answers
at once and ``/readyz`` turns 200 when the pipeline is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from luodi.serve.batcher import DynamicBatcher
from luodi.serve.jobs import JobQueue
from luodi.serve.state import PipelineFactory, ServiceState

log = logging.getLogger("luodi.serve")


def load(state: ServiceState, factory: PipelineFactory) -> None:
    """Build the pipeline, the batcher and the job queue (with its consumer), then mark ready."""
    settings, metrics = state.settings, state.metrics
    pipeline = factory(settings)
    batching = settings.batching
    if batching.enabled:
        state.batcher = DynamicBatcher(
            lambda crops: pipeline.recognize(crops, batch_size=batching.max_batch_size),
            max_batch_size=batching.max_batch_size,
            max_wait_ms=batching.max_wait_ms,
            metrics=metrics,
        )
    jobs = JobQueue(
        settings.jobs,
        settings.jobs_dir(),
        pipeline=pipeline,
        metrics=metrics,
        on_outcome=lambda task, item, outcome: state.keep_for_review(task, item, outcome, origin="job"),
        pixel_budget=settings.request_pixels,
    )
    if settings.jobs.embedded_worker:
        jobs.start_consumer()
    described = pipeline.describe()
    metrics.model_info.labels(
        batching=str(batching.enabled).lower(),
        model=str(described["name"]),
        runtime=json.dumps(described["runtime"], sort_keys=True)[:500],
    ).set(1)
    state.jobs = jobs
    state.pipeline = pipeline
    state.ready_after_s = time.monotonic() - state.started_at
    metrics.ready.set(1)
    log.info("ready", extra={"model": pipeline.model_name, "ready_after_s": round(state.ready_after_s, 3)})


def lifespan(state: ServiceState, factory: PipelineFactory) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        async def load_in_background() -> None:
            try:
                await asyncio.to_thread(load, state, factory)
            except Exception as exc:  # surfaced on /readyz and /healthz, and in the log
                state.load_error = f"{type(exc).__name__}: {exc}"
                log.exception("loading models failed")

        task = asyncio.create_task(load_in_background())
        try:
            yield
        finally:
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if state.jobs is not None:
                await asyncio.to_thread(state.jobs.stop)
            if state.batcher is not None:
                state.batcher.close()
            if state.review is not None:
                state.review.close()
            state.gate.shutdown()
            state.metrics.worker_exiting()

    return run
