"""The outermost ASGI layer: request id, in-flight gauge, per-route metrics, body-size cap, access log."""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from luodi.errors import TooManyBytesError
from luodi.serve.logs import request_id_var
from luodi.serve.state import ServiceState

log = logging.getLogger("luodi.serve")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_NOT_GATED = ("/v1/jobs",)


def internal_error(rid: str | None) -> JSONResponse:
    """The 500 of an unexpected error: a generic message that names the request id to look up."""
    message = f"internal error (request id {rid}); see the server log"
    return JSONResponse({"error": {"type": "internal_error", "message": message}}, status_code=500)


class ObserveMiddleware:
    """Request id, in-flight gauge, per-route metrics, body-size cap and one JSON access-log line."""

    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state
        limits = state.settings.core.limits
        # a batch may carry max_files files; a single upload may arrive base64-encoded in JSON
        self.batch_cap = limits.max_bytes * limits.max_files + (1 << 20)
        self.single_cap = limits.max_bytes * 4 // 3 + (1 << 16)

    def _early_answer(self, scope: Scope, path: str, length: str, cap: int) -> JSONResponse | None:
        """What to answer before reading a byte of the body: 503 for an inference request while the
        gate is full, 413 for a declared length over the cap; ``None`` to go on.

        The routes take their place in the gate before reading too; the 503 here also covers routes
        whose body FastAPI reads before the route runs (JSON models). Jobs are queued, not run here."""
        gated = scope["method"] == "POST" and path.startswith("/v1/") and not path.startswith(_NOT_GATED)
        gate = self.state.gate
        if gated and gate.full:
            busy = gate.refusal()
            retry = {"Retry-After": str(self.state.settings.retry_after_s)}
            return JSONResponse(busy.to_dict(), status_code=busy.http_status, headers=retry)
        if length.isdigit() and int(length) > cap:
            error = TooManyBytesError(f"request body of {int(length)} bytes is larger than {cap} bytes")
            return JSONResponse(error.to_dict(), status_code=error.http_status)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        path: str = scope["path"]
        cap = self.batch_cap if path.startswith(("/v1/batch/", "/v1/jobs")) else self.single_cap
        status = 500
        started = time.perf_counter()
        self.state.metrics.in_flight.inc()
        status_sent = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status, status_sent = message["status"], True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            early = self._early_answer(scope, path, headers.get("content-length", ""), cap)
            if early is not None:
                await early(scope, receive, send_wrapper)
            else:
                await self.app(scope, _capped(receive, cap), send_wrapper)
        except Exception:
            # Answered here rather than by Starlette's outermost error middleware, so the body and the
            # X-Request-ID header carry this request's id; the traceback goes to the log with it.
            log.exception("unhandled error")
            if status_sent:
                raise  # the response has begun: nothing to do but drop the connection
            await internal_error(rid)(scope, receive, send_wrapper)
        finally:
            self._observe(scope, status, time.perf_counter() - started)
            request_id_var.reset(token)

    def _observe(self, scope: Scope, status: int, elapsed: float) -> None:
        """A finished request: out of the in-flight gauge, into the per-route metrics, one access-log line."""
        metrics = self.state.metrics
        metrics.in_flight.dec()
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        metrics.requests.labels(template, scope["method"], str(status)).inc()
        metrics.request_duration.labels(template).observe(elapsed)
        log.info(
            "request",
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "route": template,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )


def _capped(receive: Receive, cap: int) -> Receive:
    """``receive`` that raises :class:`TooManyBytesError` once the body read passes ``cap`` bytes
    (a chunked upload declares no length to refuse it by)."""
    received = 0

    async def capped() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > cap:
                raise TooManyBytesError(f"request body larger than {cap} bytes")
        return message

    return capped
