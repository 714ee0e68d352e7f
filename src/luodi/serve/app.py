"""FastAPI app factory: assembles the service from its parts, nothing more.

Routes live in :mod:`luodi.serve.routes` (one module per area) with their dependencies in
:mod:`luodi.serve.deps`; every inference call goes through the
:class:`~luodi.serve.gate.InferenceGate` (thread pool, bounded queue, deadline) into the
:class:`~luodi.Pipeline`, so the event loop only parses requests and writes responses.
"""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI

from luodi.serve import handlers
from luodi.serve.auth import KeyChecker
from luodi.serve.deps import authorize
from luodi.serve.gate import InferenceGate
from luodi.serve.lifecycle import lifespan
from luodi.serve.metrics import Metrics
from luodi.serve.middleware import ObserveMiddleware
from luodi.serve.routes import docs, jobs, models, ops, tasks, text
from luodi.serve.settings import ServeSettings, settings_from_env
from luodi.serve.state import PipelineFactory, ServiceState, default_pipeline_factory

log = logging.getLogger("luodi.serve")


def create_app(settings: ServeSettings | None = None, *, pipeline_factory: PipelineFactory | None = None) -> FastAPI:
    """The service for ``settings``; ``pipeline_factory`` builds its :class:`~luodi.Pipeline` at start-up."""
    from luodi import __version__

    settings = settings or settings_from_env()
    metrics = Metrics()
    state = ServiceState(
        settings=settings,
        metrics=metrics,
        gate=InferenceGate(
            settings.resolved_concurrency(),
            settings.queue_size,
            metrics,
            latency_target_s=settings.latency_target_s or None,
        ),
        keys=KeyChecker(settings.key_hashes()),
    )
    app = FastAPI(
        title="luodi",
        summary="Offline Chinese OCR and key-information extraction",
        version=__version__,
        lifespan=lifespan(state, pipeline_factory or default_pipeline_factory),
        # FastAPI's own pages load Swagger UI / ReDoc from a CDN: blank offline; routes.docs serves them
        docs_url=None,
        redoc_url=None,
    )
    app.state.luodi = state
    if settings.insecure:
        _warn_insecure(settings, keys_enabled=state.keys.enabled)
    app.add_middleware(ObserveMiddleware, state=state)  # type: ignore[arg-type]
    handlers.install(app)
    app.include_router(ops.router)
    assets = docs.docs_assets_dir()
    if assets is not None:
        app.include_router(docs.docs_router(assets))
    else:
        log.warning("fastapi-offline is not installed: /docs and /redoc are off (pip install 'luodi[serve]')")
    for router in (tasks.ocr, tasks.extract, jobs.router, models.router, text.router, tasks.inspect):
        app.include_router(router)  # the /v1 API (deps.v1_router)
    if settings.review.enabled:
        _mount_review(app, state)
    return app


def _warn_insecure(settings: ServeSettings, *, keys_enabled: bool) -> None:
    """``--insecure`` is said out loud at every start (each worker process), never only once."""
    if keys_enabled:
        log.warning("--insecure is set but API keys are configured: keys are still required")
    else:
        log.warning(
            "--insecure: serving without API keys on %s:%s; anyone who can reach it can use it",
            settings.host,
            settings.port,
            extra={"insecure": True},
        )


def _mount_review(app: FastAPI, state: ServiceState) -> None:
    """The review queue: ``/ui`` (public page, no data) and ``/ui/api`` (the service's API keys)."""
    try:
        from luodi.review.service import ReviewService, api_router, ui_router
    except ImportError as exc:
        log.warning("the review queue (/ui) is off: %s (pip install 'luodi[review]')", exc)
        return
    settings = state.settings
    state.review = ReviewService(settings.review, home=settings.core.home, registry=state.metrics.registry)
    app.include_router(ui_router())
    app.include_router(api_router(lambda: state.review, [Depends(authorize)]))


def create_app_from_env() -> FastAPI:
    """uvicorn factory for ``luodi serve`` (each worker process reads ``LUODI_SERVE_SETTINGS``).

    With ``--workers N`` uvicorn spawns fresh interpreters, so each one installs the JSON log
    handler itself; this factory is only ever called by the service, never by library users.
    """
    from luodi.serve.logs import configure_logging

    settings = settings_from_env()
    configure_logging(settings.log_level)
    return create_app(settings)
