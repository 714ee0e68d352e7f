"""FastAPI app factory: the HTTP layer over :mod:`luodi.serve.engine`.

Models are loaded once per process by the lifespan, in a background thread, so ``/healthz`` answers
at once and ``/readyz`` turns 200 when the engine is there. Every inference call goes through the
:class:`~luodi.serve.gate.InferenceGate` (thread pool, bounded queue, deadline); the event loop only
parses requests and writes responses.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import importlib.util
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from luodi.config import Limits
from luodi.errors import (
    DeadlineExceededError,
    EmptyInputError,
    InputError,
    LuodiError,
    NotReadyError,
    QueueFullError,
    TooManyBytesError,
    TooManyFilesError,
    UnsupportedFormatError,
)
from luodi.serve.auth import KeyChecker, load_key_hashes
from luodi.serve.batcher import DynamicBatcher
from luodi.serve.engine import Engine, Outcome, PipelineEngine
from luodi.serve.gate import InferenceGate
from luodi.serve.jobs import JobInput, JobQueue
from luodi.serve.logs import request_id_var
from luodi.serve.metrics import Metrics
from luodi.serve.settings import ServeSettings, settings_from_env

log = logging.getLogger("luodi.serve")

EngineFactory = Callable[[ServeSettings], Engine]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def default_engine_factory(settings: ServeSettings) -> Engine:
    return PipelineEngine(
        model=settings.resolved_model(),
        runtime=settings.runtime,
        device=settings.device,
        threads=settings.resolved_threads(),
        limits=settings.resolved_limits(),
        home=settings.home,
        rec_batch_size=settings.batching.max_batch_size if settings.batching.enabled else 1,
    )


# --- response models (OpenAPI) -------------------------------------------------------------------
class ErrorDetail(BaseModel):
    type: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class JobAccepted(BaseModel):
    id: str
    status: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": what}
    for code, what in {
        400: "bad input",
        401: "missing or invalid API key",
        404: "unknown schema or job",
        413: "too many bytes or files",
        415: "unsupported file type (sniffed by content)",
        422: "corrupt input, or too many pixels or pages",
        503: "queue full or models not loaded; see Retry-After",
        504: "deadline exceeded",
    }.items()
}

_SINGLE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image": {"type": "string", "format": "byte", "description": "base64 image or PDF"},
                        "name": {"type": "string", "description": "reported back as `source`"},
                    },
                    "required": ["image"],
                }
            },
        },
    }
}

_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                    "required": ["files"],
                }
            }
        },
    }
}

_JOB_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "task": {"type": "string", "enum": ["ocr", "extract"], "default": "ocr"},
                        "schema": {"type": "string", "description": "schema name, for task=extract"},
                        "webhook": {
                            "type": "string",
                            "description": "POSTed the job on completion; allow-listed hosts",
                        },
                    },
                }
            }
        },
    }
}


# --- state -----------------------------------------------------------------------------------------
@dataclass
class ServiceState:
    settings: ServeSettings
    limits: Limits
    metrics: Metrics
    gate: InferenceGate
    keys: KeyChecker
    engine: Engine | None = None
    batcher: DynamicBatcher | None = None
    jobs: JobQueue | None = None
    load_error: str | None = None
    started_at: float = field(default_factory=time.monotonic)
    ready_after_s: float | None = None

    def require_engine(self) -> Engine:
        if self.engine is None:
            if self.load_error is not None:
                raise NotReadyError(f"models failed to load: {self.load_error}")
            raise NotReadyError("models are still loading; retry shortly")
        return self.engine


def _state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.luodi
    return state


# --- middleware ------------------------------------------------------------------------------------
class _ObserveMiddleware:
    """Request id, in-flight gauge, per-route metrics, body-size cap and one JSON access-log line."""

    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state
        limits = state.limits
        # a batch may carry max_files files; a single upload may arrive base64-encoded in JSON
        self.batch_cap = limits.max_bytes * limits.max_files + (1 << 20)
        self.single_cap = limits.max_bytes * 4 // 3 + (1 << 16)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        metrics = self.state.metrics
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        path: str = scope["path"]
        cap = self.batch_cap if path.startswith(("/v1/batch/", "/v1/jobs")) else self.single_cap
        status = 500
        started = time.perf_counter()
        metrics.in_flight.inc()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        received = 0

        async def receive_wrapper() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise TooManyBytesError(f"request body larger than {cap} bytes")
            return message

        try:
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > cap:
                error = TooManyBytesError(f"request body of {int(length)} bytes is larger than {cap} bytes")
                await JSONResponse(error.to_dict(), status_code=error.http_status)(scope, receive, send_wrapper)
            else:
                await self.app(scope, receive_wrapper, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            metrics.in_flight.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            metrics.requests.labels(template, scope["method"], str(status)).inc()
            metrics.request_duration.labels(template).observe(elapsed)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": path,
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)


# --- request parsing -------------------------------------------------------------------------------
def _sniff(data: bytes) -> None:
    from luodi.io import sniff

    sniff(data)


async def _read_upload(upload: UploadFile, limits: Limits) -> bytes:
    data = await upload.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise TooManyBytesError(f"file {upload.filename!r} is larger than {limits.max_bytes} bytes")
    return data


async def _single_input(request: Request, limits: Limits) -> tuple[bytes, str | None]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        # the context manager closes the spooled temporary files however we leave
        async with request.form(max_files=1, max_fields=8) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InputError("multipart body needs a file in the field 'file'")
            data = await _read_upload(upload, limits)
            name = upload.filename or None
    elif ctype == "application/json":
        raw = await request.body()
        # JSON parsing and base64 decoding of a ~27 MB body take long enough to stall the event loop
        data, name = await asyncio.to_thread(_decode_json_image, raw, limits)
    else:
        raise UnsupportedFormatError("send multipart/form-data with a 'file' field, or application/json with 'image'")
    if not data:
        raise EmptyInputError("the uploaded file is empty")
    _sniff(data)
    return data, name


def _decode_json_image(raw: bytes, limits: Limits) -> tuple[bytes, str | None]:
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InputError("body is not valid JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("image"), str):
        raise InputError('JSON body must be an object {"image": "<base64>"}')
    name = payload.get("name")
    if name is not None and not isinstance(name, str):
        raise InputError("'name' must be a string")
    encoded = payload["image"]
    if len(encoded) > limits.max_bytes * 4 // 3 + 4:
        raise TooManyBytesError(f"image is larger than {limits.max_bytes} bytes")
    try:
        return base64.b64decode(encoded, validate=True), name
    except (binascii.Error, ValueError):
        raise InputError("'image' is not valid base64") from None


async def _many_inputs(
    request: Request, limits: Limits, *, field_names: tuple[str, ...] = ("files",)
) -> tuple[list[JobInput], dict[str, list[str]]]:
    """The uploaded files in order, and the plain (non-file) form fields."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data":
        raise UnsupportedFormatError("send multipart/form-data with one or more 'files' fields")
    async with request.form(max_files=limits.max_files + 1, max_fields=16) as form:
        uploads = [u for name in field_names for u in form.getlist(name)]
        if any(not isinstance(u, UploadFile) for u in uploads):
            raise InputError(f"fields {', '.join(field_names)} must be files")
        if not uploads:
            raise InputError(f"no files: send them in the multipart field {' or '.join(repr(n) for n in field_names)}")
        if len(uploads) > limits.max_files:
            raise TooManyFilesError(f"{len(uploads)} files in one request; the limit is {limits.max_files}")
        items = [
            JobInput(u.filename or None, await _read_upload(u, limits)) for u in uploads if isinstance(u, UploadFile)
        ]
        fields: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                fields.setdefault(key, []).append(value)
            elif key not in field_names:
                raise InputError(f"unexpected file in field {key!r}")
        fields["__files__"] = [str(len(form.getlist("files")))]
    return items, fields


def _deadline(request: Request, settings: ServeSettings) -> float:
    budget = settings.deadline_s
    asked = request.headers.get("x-deadline-ms", "")
    if asked.isdigit():
        budget = min(budget, int(asked) / 1000.0)
    return time.monotonic() + budget


def _observe_stages(metrics: Metrics, outcome: Outcome) -> None:
    for stage, seconds in outcome.stages.items():
        metrics.stage_duration.labels(stage).observe(seconds)


def _run_items(
    state: ServiceState, engine: Engine, items: list[JobInput], schema: str | None, deadline: float
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        entry: dict[str, Any] = {"index": index, "source": item.name}
        if time.monotonic() > deadline:
            entry["error"] = DeadlineExceededError("deadline exceeded before this item ran").to_dict()["error"]
            results.append(entry)
            continue
        try:
            if not item.data:
                raise EmptyInputError("the uploaded file is empty")
            _sniff(item.data)
            outcome = _call(state, engine, item.data, item.name, schema)
        except LuodiError as exc:
            entry["error"] = exc.to_dict()["error"]
        else:
            _observe_stages(state.metrics, outcome)
            entry["result"] = outcome.body
        results.append(entry)
    return results


def _call(state: ServiceState, engine: Engine, data: bytes, name: str | None, schema: str | None) -> Outcome:
    recognizer = state.batcher
    if schema is None:
        return engine.ocr(data, name=name, recognizer=recognizer)
    return engine.extract(data, schema=schema, name=name, recognizer=recognizer)


# --- the app ---------------------------------------------------------------------------------------
def create_app(settings: ServeSettings | None = None, *, engine_factory: EngineFactory | None = None) -> FastAPI:
    settings = settings or settings_from_env()
    factory = engine_factory or default_engine_factory
    metrics = Metrics()
    limits = settings.resolved_limits()
    state = ServiceState(
        settings=settings,
        limits=limits,
        metrics=metrics,
        gate=InferenceGate(settings.resolved_concurrency(), settings.queue_size, metrics),
        keys=KeyChecker(load_key_hashes(settings.keys_file)),
    )

    def load() -> None:
        engine = factory(settings)
        if settings.batching.enabled:
            state.batcher = DynamicBatcher(
                engine.recognize,
                max_batch_size=settings.batching.max_batch_size,
                max_wait_ms=settings.batching.max_wait_ms,
                metrics=metrics,
            )
        jobs = JobQueue(settings.jobs, settings.jobs_dir(), engine=engine, metrics=metrics)
        if settings.jobs.embedded_worker:
            jobs.start_consumer()
        described = engine.describe()
        metrics.model_info.labels(
            batching=str(settings.batching.enabled).lower(),
            model=str(described.get("name", engine.model_name)),
            runtime=json.dumps(described.get("runtime", {}), sort_keys=True)[:500],
        ).set(1)
        state.jobs = jobs
        state.engine = engine
        state.ready_after_s = time.monotonic() - state.started_at
        metrics.ready.set(1)
        log.info("ready", extra={"model": engine.model_name, "ready_after_s": round(state.ready_after_s, 3)})

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def load_in_background() -> None:
            try:
                await asyncio.to_thread(load)
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
            state.gate.shutdown()
            metrics.worker_exiting()

    app = FastAPI(
        title="luodi",
        summary="Offline Chinese OCR and key-information extraction",
        version=_version(),
        lifespan=lifespan,
        responses={},
        # FastAPI's own pages load Swagger UI / ReDoc from a CDN: blank offline; _add_local_docs serves them
        docs_url=None,
        redoc_url=None,
    )
    app.state.luodi = state
    _add_local_docs(app)
    app.add_middleware(_ObserveMiddleware, state=state)  # type: ignore[arg-type]

    async def on_luodi_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LuodiError)
        headers = {}
        if exc.http_status == 503:
            headers["Retry-After"] = str(settings.retry_after_s)
        if exc.http_status >= 500 and not isinstance(exc, QueueFullError | NotReadyError | DeadlineExceededError):
            log.error("request failed", extra={"error_type": exc.type, "error": exc.message})
        return JSONResponse(exc.to_dict(), status_code=exc.http_status, headers=headers)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else "invalid request"
        return JSONResponse({"error": {"type": "validation_error", "message": message}}, status_code=422)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse(
            {"error": {"type": "http_error", "message": str(exc.detail)}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        rid = request_id_var.get()
        return JSONResponse(
            {"error": {"type": "internal_error", "message": f"internal error (request id {rid}); see the server log"}},
            status_code=500,
        )

    app.add_exception_handler(LuodiError, on_luodi_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)

    bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer KEY")
    api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: KEY")

    async def authorize(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Security(bearer),  # noqa: B008
        key: str | None = Security(api_key),
    ) -> None:
        _state(request).keys.check(request.headers.get("authorization"), key)

    async def open_or_authorized(request: Request) -> None:
        if not settings.open_metrics:
            _state(request).keys.check(request.headers.get("authorization"), request.headers.get("x-api-key"))

    # --- open endpoints ---------------------------------------------------------------------------
    @app.get("/healthz", tags=["ops"], summary="Liveness")
    async def healthz() -> JSONResponse:
        if state.load_error is not None:
            return JSONResponse({"status": "failed", "error": state.load_error}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", tags=["ops"], summary="Readiness: 200 once the models are loaded")
    async def readyz() -> JSONResponse:
        if state.engine is None:
            body: dict[str, Any] = {"status": "failed" if state.load_error else "loading"}
            if state.load_error:
                body["error"] = state.load_error
            return JSONResponse(body, status_code=503, headers={"Retry-After": str(settings.retry_after_s)})
        return JSONResponse({"status": "ready", "model": state.engine.model_name, "ready_after_s": state.ready_after_s})

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", dependencies=[Depends(open_or_authorized)])
    async def metrics_endpoint() -> Response:
        if state.jobs is not None:
            counts = await asyncio.to_thread(state.jobs.store.counts)
            for name, count in counts.items():
                metrics.jobs_current.labels(name).set(count)
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    # --- API --------------------------------------------------------------------------------------
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(authorize)], responses=_ERRORS)

    @v1.post("/ocr", tags=["ocr"], summary="OCR one image or PDF", openapi_extra=_SINGLE_BODY)
    async def ocr(request: Request) -> dict[str, Any]:
        engine = state.require_engine()
        deadline = _deadline(request, settings)
        data, name = await _single_input(request, limits)
        outcome = await state.gate.run(lambda: _call(state, engine, data, name, None), deadline=deadline)
        _observe_stages(metrics, outcome)
        return outcome.body

    @v1.post("/extract/{schema}", tags=["extract"], summary="Extract fields with a schema", openapi_extra=_SINGLE_BODY)
    async def extract(schema: str, request: Request) -> dict[str, Any]:
        engine = state.require_engine()
        deadline = _deadline(request, settings)
        await asyncio.to_thread(engine.check_schema, schema)
        data, name = await _single_input(request, limits)
        outcome = await state.gate.run(lambda: _call(state, engine, data, name, schema), deadline=deadline)
        _observe_stages(metrics, outcome)
        return outcome.body

    @v1.post("/batch/ocr", tags=["ocr"], summary="OCR many files; results in order", openapi_extra=_BATCH_BODY)
    async def batch_ocr(request: Request) -> dict[str, Any]:
        engine = state.require_engine()
        deadline = _deadline(request, settings)
        items, _ = await _many_inputs(request, limits)
        results = await state.gate.run(lambda: _run_items(state, engine, items, None, deadline), deadline=deadline)
        return {"results": results}

    @v1.post("/batch/extract/{schema}", tags=["extract"], summary="Extract from many files", openapi_extra=_BATCH_BODY)
    async def batch_extract(schema: str, request: Request) -> dict[str, Any]:
        engine = state.require_engine()
        deadline = _deadline(request, settings)
        await asyncio.to_thread(engine.check_schema, schema)
        items, _ = await _many_inputs(request, limits)
        results = await state.gate.run(lambda: _run_items(state, engine, items, schema, deadline), deadline=deadline)
        return {"results": results}

    @v1.post(
        "/jobs",
        tags=["jobs"],
        summary="Queue an OCR or extraction job",
        status_code=202,
        response_model=JobAccepted,
        openapi_extra=_JOB_BODY,
    )
    async def submit_job(request: Request) -> JSONResponse:
        engine = state.require_engine()
        jobs = state.jobs
        assert jobs is not None
        items, fields = await _many_inputs(request, limits, field_names=("file", "files"))
        single = fields["__files__"] == ["0"] and len(items) == 1

        def field(name: str) -> str | None:
            values = fields.get(name) or [""]
            if len(values) > 1:
                raise InputError(f"field {name!r} given more than once")
            return values[0] or None

        task = field("task") or "ocr"
        schema = field("schema")
        webhook = field("webhook")
        if task not in ("ocr", "extract"):
            raise InputError(f"task must be 'ocr' or 'extract', not {task!r}")
        if task == "extract":
            if schema is None:
                raise InputError("task=extract needs a 'schema' field")
            await asyncio.to_thread(engine.check_schema, str(schema))
        elif schema is not None:
            raise InputError("'schema' only goes with task=extract")
        if single:
            if not items[0].data:
                raise EmptyInputError("the uploaded file is empty")
            _sniff(items[0].data)
        meta = await asyncio.to_thread(
            jobs.submit,
            task=str(task),
            schema=str(schema) if schema else None,
            inputs=items,
            single=single,
            webhook=str(webhook) if webhook else None,
        )
        return JSONResponse(
            {"id": meta["id"], "status": meta["status"]},
            status_code=202,
            headers={"Location": f"/v1/jobs/{meta['id']}"},
        )

    @v1.get("/jobs/{job_id}", tags=["jobs"], summary="Job status, and its result once done")
    async def get_job(job_id: str) -> dict[str, Any]:
        state.require_engine()
        jobs = state.jobs
        assert jobs is not None
        view: dict[str, Any] = await asyncio.to_thread(jobs.store.public_view, job_id)
        return view

    @v1.get("/models", tags=["models"], summary="The loaded model and the bundles known to this install")
    async def models() -> dict[str, Any]:
        engine = state.require_engine()
        return {"loaded": engine.describe(), "available": _available_bundles(settings)}

    app.include_router(v1)
    return app


# --- API docs pages --------------------------------------------------------------------------------
DOCS_ASSETS = "/docs/assets"
# the only files served under DOCS_ASSETS; content types fixed here, not guessed from the host's mime table
_DOCS_FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}


def _docs_assets_dir() -> Path | None:
    """Swagger UI 5 and ReDoc 2 files shipped in the pinned ``fastapi-offline`` wheel (its code is not used)."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def _add_local_docs(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` from local files, public like ``/openapi.json``: deployments have no internet.

    The assets come from one route over a fixed list of file names rather than a StaticFiles mount:
    a name outside the list is a 404, so no path can reach another file, and FastAPI's router sets
    ``scope["route"]`` for a route (not for a mount), so the metrics count every asset under the one
    label ``/docs/assets/{name}`` instead of "unmatched".
    """
    folder = _docs_assets_dir()
    if folder is None:
        log.warning("fastapi-offline is not installed: /docs and /redoc are off (pip install 'luodi[serve]')")
        return
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(DOCS_ASSETS + "/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> FileResponse:
        media_type = _DOCS_FILES.get(name)
        if media_type is None:
            raise StarletteHTTPException(404, f"no docs asset {name!r}")
        # an hour: the pages load ~2.8 MB of script, and FileResponse answers no If-None-Match with 304
        return FileResponse(folder / name, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            # the online validator badge would send the spec's address to validator.swagger.io
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )


def _available_bundles(settings: ServeSettings) -> list[dict[str, Any]]:
    from luodi.zoo import list_bundles

    try:
        rows = list_bundles(settings.resolved_home())
    except LuodiError:
        return []
    return [{"name": r.name, "task": r.task, "kind": r.kind, "pulled": r.pulled} for r in rows]


def _version() -> str:
    from luodi import __version__

    return __version__


def create_app_from_env() -> FastAPI:
    """uvicorn factory for ``luodi serve`` (each worker process reads ``LUODI_SERVE_SETTINGS``).

    With ``--workers N`` uvicorn spawns fresh interpreters, so each one installs the JSON log
    handler itself; this factory is only ever called by the service, never by library users.
    """
    from luodi.serve.logs import configure_logging

    settings = settings_from_env()
    configure_logging(settings.log_level)
    return create_app(settings)
