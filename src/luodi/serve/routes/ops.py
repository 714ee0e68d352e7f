"""Open endpoints for orchestrators: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from luodi.serve.deps import State, open_or_authorized

router = APIRouter(tags=["ops"])


@router.get("/healthz", summary="Liveness")
async def healthz(state: State) -> JSONResponse:
    if state.load_error is not None:
        return JSONResponse({"status": "failed", "error": state.load_error}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/readyz", summary="Readiness: 200 once the models are loaded")
async def readyz(state: State) -> JSONResponse:
    if state.pipeline is None:
        body: dict[str, Any] = {"status": "failed" if state.load_error else "loading"}
        if state.load_error:
            body["error"] = state.load_error
        return JSONResponse(body, status_code=503, headers={"Retry-After": str(state.settings.retry_after_s)})
    return JSONResponse({"status": "ready", "model": state.pipeline.model_name, "ready_after_s": state.ready_after_s})


@router.get("/metrics", summary="Prometheus metrics", dependencies=[Depends(open_or_authorized)])
async def metrics_endpoint(state: State) -> Response:
    if state.jobs is not None:
        counts = await asyncio.to_thread(state.jobs.store.counts)
        for name, count in counts.items():
            state.metrics.jobs_current.labels(name).set(count)
    if state.review is not None:
        await asyncio.to_thread(state.review.refresh_gauge)
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
