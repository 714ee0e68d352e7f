"""Every failure answers ``{"error": {"type", "message"}}``: luodi errors with their own status, request
validation 422, routing 404/405, anything unexpected 500 with the request id (details in the log)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from luodi.errors import DeadlineExceededError, LuodiError, NotReadyError, QueueFullError
from luodi.serve.logs import request_id_var
from luodi.serve.middleware import internal_error
from luodi.serve.state import ServiceState

log = logging.getLogger("luodi.serve")


async def on_luodi_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LuodiError)
    state: ServiceState = request.app.state.luodi
    headers = {}
    if exc.http_status in (429, 503):  # busy, down, or over a quota: when to try again
        headers["Retry-After"] = str(state.settings.retry_after_s)
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
    # normally ObserveMiddleware answers first (with the id in a header too); this is the fallback
    log.exception("unhandled error", exc_info=exc)
    return internal_error(request_id_var.get())


def install(app: FastAPI) -> None:
    app.add_exception_handler(LuodiError, on_luodi_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
