"""Prometheus metrics in the service's own registry (never the global default one), ``luodi_`` prefix.

With ``luodi serve --workers N`` every worker is its own process: each would count only the requests
it answered, and a scrape would read whichever worker took it. So for N > 1 the CLI sets
``PROMETHEUS_MULTIPROC_DIR`` (a fresh folder) before uvicorn spawns the workers; prometheus-client
then keeps every value in a memory-mapped file there, and a scrape adds them up across the workers
(gauges per their ``multiprocess_mode``). Process metrics (``luodi_process_*``) stay those of the
worker that answers.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess() -> bool:
    """True in a worker of ``luodi serve --workers N`` (N > 1): metrics live in shared files."""
    return bool(os.environ.get(MULTIPROC_ENV))


_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0, 60.0)
_BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128, 256)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        ProcessCollector(namespace="luodi", registry=r)
        PlatformCollector(registry=r)
        count, gauge = functools.partial(Counter, registry=r), functools.partial(Gauge, registry=r)
        self.requests = count(
            "luodi_requests", "HTTP requests by route template, method and status", ("route", "method", "status")
        )
        latency = functools.partial(Histogram, buckets=_LATENCY_BUCKETS, registry=r)
        self.request_duration = latency(
            "luodi_request_duration_seconds", "HTTP request duration by route template", ("route",)
        )
        self.queue_wait = latency("luodi_queue_wait_seconds", "Time a request waited for an inference slot")
        self.stage_duration = latency(
            "luodi_stage_duration_seconds",
            "Pipeline stage duration per document (det, cls, rec, kie, decode)",
            ("stage",),
        )
        batch = "Crops per recognition call of the dynamic batcher"
        self.batch_size = Histogram("luodi_rec_batch_size", batch, buckets=_BATCH_BUCKETS, registry=r)
        # multiprocess_mode applies only with several workers: live* drops a worker that has gone
        live_sum = functools.partial(gauge, multiprocess_mode="livesum")
        self.in_flight = live_sum("luodi_in_flight_requests", "HTTP requests being handled")
        self.queue_depth = live_sum("luodi_queue_depth", "Requests waiting for an inference slot")
        self.inference_running = live_sum("luodi_inference_running", "Inference calls running now")
        self.rejected = count("luodi_rejected", "Requests refused before inference", ("reason",))
        self.jobs = count("luodi_jobs", "Job state transitions seen by this process", ("state",))
        self.jobs_current = gauge(
            "luodi_jobs_current",
            "Jobs on disk by state (sampled at scrape)",
            ("state",),
            multiprocess_mode="livemostrecent",  # every worker counts the same folder
        )
        # a gauge of 1 with the facts as labels: what an Info metric writes, but Info has no
        # multiprocess mode
        self.model_info = gauge(
            "luodi_model_info",
            "Loaded model bundle and runtime",
            ("batching", "model", "runtime"),
            multiprocess_mode="livemax",
        )
        # with several workers: 1 only when every live worker has loaded its models
        self.ready = gauge("luodi_ready", "1 once the models are loaded", multiprocess_mode="livemin")

    def observe_stages(self, stages: Mapping[str, float]) -> None:
        for stage, seconds in stages.items():
            self.stage_duration.labels(stage).observe(seconds)

    def render(self) -> bytes:
        if not multiprocess():
            return generate_latest(self.registry)
        from prometheus_client import multiprocess as mp

        merged = CollectorRegistry()
        mp.MultiProcessCollector(merged)
        ProcessCollector(namespace="luodi", registry=merged)  # this worker's own process
        return generate_latest(merged)

    @staticmethod
    def worker_exiting() -> None:
        """Drop this worker from the live* gauges (a no-op with one process)."""
        if multiprocess():
            from prometheus_client import multiprocess as mp

            mp.mark_process_dead(os.getpid())
