"""``luodi serve`` (the HTTP service) and ``luodi worker`` (a job consumer for the Redis mode)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from luodi.cli import common
from luodi.errors import ConfigError

if TYPE_CHECKING:
    from luodi.serve.settings import ServeSettings


# options that set a nested group of ServeSettings: option -> (group, field); the rest are top-level fields
_NESTED = {
    "batching": ("batching", "enabled"),
    "max_batch_size": ("batching", "max_batch_size"),
    "max_wait_ms": ("batching", "max_wait_ms"),
    "jobs_backend": ("jobs", "backend"),
    "redis_url": ("jobs", "redis_url"),
    "jobs_dir": ("jobs", "dir"),
    "embedded_worker": ("jobs", "embedded_worker"),
    "worker_threads": ("jobs", "worker_threads"),
    "webhook_hosts": ("jobs", "webhook_allow_hosts"),
    "webhook_allow_private": ("jobs", "webhook_allow_private"),
}
# flags whose "off" is their absence: left to the environment, like an option not given
_UNSET_WHEN_OFF = frozenset({"insecure", "webhook_allow_private", "webhook_hosts"})


def _settings(options: dict[str, Any]) -> ServeSettings:
    """``luodi serve`` / ``luodi worker`` options over the environment (an option not given leaves it)."""
    from luodi.serve.settings import load_serve_settings

    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for name, value in options.items():
        if value is None or (name in _UNSET_WHEN_OFF and not value):
            continue
        if name in _NESTED:
            group, key = _NESTED[name]
            nested.setdefault(group, {})[key] = value
        else:
            top[name] = value
    return load_serve_settings(**top, **nested)


def _check_model(model: str, home: Path | None) -> None:
    """Fail before binding the port when the bundle is not pulled (a clear one-line error)."""
    from luodi.zoo import get_bundle

    get_bundle(model, home)


def _review_hook(settings: Any) -> Any:
    """A worker keeps extractions that need review in the same store as the service."""
    if not (settings.review.enabled and settings.review.keep):
        return None
    try:
        from luodi.review.service import ReviewService
    except ImportError:
        return None
    review = ReviewService(settings.review, home=settings.core.home)
    return lambda task, item, outcome: review.keep_outcome(task, item, outcome, origin="job")


# the model options both the server and a worker take
_model_options = common.options(
    click.option("--model", default=None, help="Model bundle [pp-ocrv6-small]."),
    click.option("--runtime", default=None, help="onnxruntime | openvino | paddle."),
    click.option("--device", default=None, help="cpu | cuda[:N] (needs onnxruntime-gpu) [cpu]."),
)
# the webhook options both the server and a worker take (either may deliver a job's webhook)
_webhook_options = common.options(
    click.option(
        "--webhook-host",
        "webhook_hosts",
        multiple=True,
        help="host or host:port a job webhook may call (repeatable; needs LUODI_SERVE_JOBS__WEBHOOK_SECRET).",
    ),
    click.option(
        "--webhook-allow-private",
        is_flag=True,
        default=False,
        help="Let webhooks call loopback and private addresses (receivers on the local network).",
    ),
)


@click.command()
@click.option("--host", default=None, help="Address to listen on [127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [8000].")
@click.option("--workers", type=int, default=None, help="Server processes, each loading the models once [1].")
@_model_options
@click.option("--threads", type=int, default=None, help="Intra-op threads per session [cores // inference slots].")
@click.option("--concurrency", type=int, default=None, help="Inference calls running at once per process [cores].")
@click.option("--queue-size", type=int, default=None, help="Requests that may wait for a slot before 503 [16].")
@click.option("--deadline", "deadline_s", type=float, default=None, help="Per-request deadline in seconds (504) [60].")
@click.option(
    "--batching/--no-batching", default=None, help="Cross-request rec batching [off: 1.8x CPU per request on CPU]."
)
@click.option("--max-batch-size", type=int, default=None, help="Crops per batched recognition call [16].")
@click.option("--max-wait-ms", type=float, default=None, help="How long the batcher waits for more crops [5].")
@click.option(
    "--jobs-backend", type=click.Choice(["sqlite", "redis"]), default=None, help="Job queue storage [sqlite]."
)
@click.option("--redis-url", default=None, help="Redis URL for --jobs-backend redis.")
@click.option(
    "--jobs-dir", type=click.Path(path_type=Path), default=None, help="Job inputs/results [$LUODI_HOME/jobs]."
)
@click.option("--embedded-worker/--no-embedded-worker", default=None, help="Run jobs inside the server [on].")
@_webhook_options
@click.option(
    "--keys-file", type=click.Path(path_type=Path, dir_okay=False), default=None, help="sha256 API key hashes."
)
@click.option("--insecure", is_flag=True, default=False, help="Allow a non-loopback address without API keys.")
@click.option("--log-level", default=None, type=click.Choice(["debug", "info", "warning", "error"]))
def serve(**options: Any) -> None:
    """Run the HTTP service (FastAPI on uvicorn): /v1/ocr, /v1/extract/{schema}, batches, jobs, /metrics."""
    import uvicorn

    from luodi.serve.conn import uvicorn_options
    from luodi.serve.logs import configure_logging
    from luodi.serve.metrics import MULTIPROC_ENV
    from luodi.serve.settings import SETTINGS_ENV, is_loopback

    settings = _settings(options)
    keys = settings.key_hashes()
    if not keys and not is_loopback(settings.host) and not settings.insecure:
        raise ConfigError(
            f"refusing to listen on {settings.host} without API keys: set LUODI_API_KEYS or --keys-file, "
            "or pass --insecure to serve it open"
        )
    _check_model(settings.core.model, settings.core.home)
    configure_logging(settings.log_level)
    os.environ[SETTINGS_ENV] = settings.model_dump_json()
    metrics_dir = None
    if settings.workers > 1 and not os.environ.get(MULTIPROC_ENV):
        # several worker processes: one /metrics sums them all (luodi.serve.metrics); the folder
        # must start empty, so each run gets its own, removed when the server stops
        metrics_dir = tempfile.mkdtemp(prefix="luodi-metrics-")
        os.environ[MULTIPROC_ENV] = metrics_dir
    try:
        uvicorn.run(
            "luodi.serve.app:create_app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
            **uvicorn_options(settings),  # read timeouts and a connection cap (luodi.serve.conn)
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


@click.command()
@_model_options
@click.option("--threads", type=int, default=None, help="Intra-op threads per session [cores // worker threads].")
@click.option("--jobs-backend", type=click.Choice(["sqlite", "redis"]), default="redis", show_default=True)
@click.option("--redis-url", default=None, help="Redis URL [redis://127.0.0.1:6379/0].")
@click.option(
    "--jobs-dir", type=click.Path(path_type=Path), default=None, help="Job inputs/results [$LUODI_HOME/jobs]."
)
@click.option("--worker-threads", type=int, default=None, help="Jobs run at once by this worker [1].")
@_webhook_options
@click.option("--log-level", default="info", type=click.Choice(["debug", "info", "warning", "error"]))
def worker(threads: int | None, **options: Any) -> None:
    """Consume queued jobs (the same code path as the server's embedded worker), until SIGINT/SIGTERM."""
    import logging

    from luodi.config import usable_cores
    from luodi.serve.jobs import JobQueue
    from luodi.serve.logs import configure_logging
    from luodi.serve.state import default_pipeline_factory

    # one job at a time per consumer thread: split the cores between them
    per_job = threads if threads is not None else max(1, usable_cores() // (options["worker_threads"] or 1))
    settings = _settings({**options, "threads": per_job})
    _check_model(settings.core.model, settings.core.home)
    configure_logging(settings.log_level)
    log = logging.getLogger("luodi.worker")
    t0 = time.monotonic()
    pipeline = default_pipeline_factory(settings)
    queue = JobQueue(
        settings.jobs,
        settings.jobs_dir(),
        pipeline=pipeline,
        on_outcome=_review_hook(settings),
        pixel_budget=settings.request_pixels,
    )
    log.info(
        "worker ready",
        extra={
            "model": pipeline.model_name,
            "backend": settings.jobs.backend,
            "load_s": round(time.monotonic() - t0, 3),
        },
    )
    queue.run_consumer_forever()
