"""Prometheus metrics in the service's own registry (never the global default one), ``luodi_`` prefix."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0, 60.0)
_BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128, 256)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        ProcessCollector(namespace="luodi", registry=r)
        PlatformCollector(registry=r)
        self.requests = Counter(
            "luodi_requests",
            "HTTP requests by route template, method and status",
            ("route", "method", "status"),
            registry=r,
        )
        self.request_duration = Histogram(
            "luodi_request_duration_seconds",
            "HTTP request duration by route template",
            ("route",),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_wait = Histogram(
            "luodi_queue_wait_seconds",
            "Time a request waited for an inference slot",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.stage_duration = Histogram(
            "luodi_stage_duration_seconds",
            "Pipeline stage duration per document (det, cls, rec, kie, decode)",
            ("stage",),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "luodi_rec_batch_size",
            "Crops per recognition call of the dynamic batcher",
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge("luodi_in_flight_requests", "HTTP requests being handled", registry=r)
        self.queue_depth = Gauge("luodi_queue_depth", "Requests waiting for an inference slot", registry=r)
        self.inference_running = Gauge("luodi_inference_running", "Inference calls running now", registry=r)
        self.rejected = Counter("luodi_rejected", "Requests refused before inference", ("reason",), registry=r)
        self.jobs = Counter("luodi_jobs", "Job state transitions seen by this process", ("state",), registry=r)
        self.jobs_current = Gauge(
            "luodi_jobs_current", "Jobs on disk by state (sampled at scrape)", ("state",), registry=r
        )
        self.model_info = Info("luodi_model", "Loaded model bundle and runtime", registry=r)
        self.ready = Gauge("luodi_ready", "1 once the models are loaded", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
