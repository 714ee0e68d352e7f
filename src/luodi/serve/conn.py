"""Connections the bare server survives: read timeouts, a connection cap, quiet accept errors.

uvicorn closes a keep-alive connection idle after a response, but not one that never sends a
request, nor one that trickles its request head or body: each such connection holds a file
descriptor for as long as its client likes, and at the descriptor limit nothing, not /healthz,
is accepted any more. :class:`GuardedH11Protocol` (uvicorn's h11 protocol plus timers) closes:

* a connection whose request head (request line and headers) is not complete ``header_timeout_s``
  after it opened or after its previous response: idle and slow-header (slowloris) alike;
* a request whose body stalls ``body_idle_timeout_s`` between bytes, or is not all in
  ``body_timeout_s`` after its head (not counting time the app itself stopped reading);

and past ``max_connections`` open connections it closes the longest-idle ones (no request in
flight) to make room, and refuses the new one only when every connection is busy. The default
cap is half the process's descriptor limit, which :func:`raise_fd_limit` first raises to the hard
limit. (:class:`luodi.serve.logs.RepeatFilter` keeps a storm of one error from filling the log.)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from luodi.serve.settings import ConnectionSettings, ServeSettings

log = logging.getLogger("luodi.serve.conn")


def raise_fd_limit() -> int:
    """Raise this process's soft descriptor limit to its hard limit; returns the soft limit now."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def connection_cap(settings: ConnectionSettings, fd_limit: int) -> int:
    """Connections at once: the setting, or half the descriptors (the rest: models, spool, Redis...)."""
    return settings.max_connections if settings.max_connections is not None else max(64, min(fd_limit // 2, 20_000))


def uvicorn_options(settings: ServeSettings) -> dict[str, Any]:
    """What ``uvicorn.run`` / ``uvicorn.Config`` take to guard the service's connections (the
    descriptor limit raised first, so the cap is taken from the raised limit)."""
    limits = settings.connections
    cap = connection_cap(limits, raise_fd_limit())
    return {
        "http": functools.partial(GuardedH11Protocol, limits=limits, cap=cap),
        "timeout_keep_alive": limits.keep_alive_s,
    }


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the timers and the cap described in the module docstring.

    Built by uvicorn for each connection as ``http(config=..., server_state=..., app_state=...)``:
    pass ``functools.partial(GuardedH11Protocol, limits=settings, cap=n)`` as uvicorn's ``http``."""

    def __init__(self, *args: Any, limits: ConnectionSettings, cap: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = limits
        self._cap = cap
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_idle: asyncio.TimerHandle | None = None
        self._body_total: asyncio.TimerHandle | None = None
        self._idle_since = 0.0  # when this connection last had no request in flight

    # --- uvicorn's protocol interface ------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._idle_since = self.loop.time()
        self._head_timer = self.loop.call_later(self._limits.header_timeout_s, self._head_timeout)
        if len(self.connections) > self._cap:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_all()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._track()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._idle_since = self.loop.time()
            self._cancel(self._head_timer)
            self._head_timer = self.loop.call_later(self._limits.header_timeout_s, self._head_timeout)
        self._track()

    # --- timers ----------------------------------------------------------------------------------
    def _track(self) -> None:
        state = self.conn.their_state
        if state is not h11.IDLE:  # the head is in: what remains is the body, or nothing
            self._cancel(self._head_timer)
            self._head_timer = None
        if state is h11.SEND_BODY:
            self._cancel(self._body_idle)
            self._body_idle = self.loop.call_later(self._limits.body_idle_timeout_s, self._body_stalled)
            if self._body_total is None:
                self._body_total = self.loop.call_later(self._limits.body_timeout_s, self._body_too_slow)
        else:
            self._cancel(self._body_idle)
            self._cancel(self._body_total)
            self._body_idle = self._body_total = None

    @staticmethod
    def _cancel(timer: asyncio.TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()

    def _cancel_all(self) -> None:
        for timer in (self._head_timer, self._body_idle, self._body_total):
            self._cancel(timer)

    def _close(self, why: str) -> None:
        if self.transport.is_closing():
            return
        client = f"{self.client[0]}:{self.client[1]}" if self.client else None
        log.debug("connection closed", extra={"reason": why, "client": client})  # debug: a flood is not news
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the app sees the client gone, not a hung receive()
            self.cycle.message_event.set()
        self.transport.close()

    def _head_timeout(self) -> None:
        if self.conn.their_state is h11.IDLE and (self.cycle is None or self.cycle.response_complete):
            self._close("request head not complete in time")

    def _body_stalled(self) -> None:
        if self.flow.read_paused:  # the app is not reading: not the client's fault, look again later
            self._body_idle = self.loop.call_later(self._limits.body_idle_timeout_s, self._body_stalled)
            return
        self._close("request body stalled")

    def _body_too_slow(self) -> None:
        if self.conn.their_state is h11.SEND_BODY and not self.flow.read_paused:
            self._close("request body not complete in time")
        elif self.conn.their_state is h11.SEND_BODY:
            self._body_total = self.loop.call_later(1.0, self._body_too_slow)

    # --- the cap ---------------------------------------------------------------------------------
    def _busy(self) -> bool:
        return self.conn.their_state is not h11.IDLE or (self.cycle is not None and not self.cycle.response_complete)

    def _make_room(self) -> None:
        """Over the cap: close the longest-idle connections (this one is the newest); when every
        other connection is busy, close this one."""
        excess = len(self.connections) - self._cap
        idle = sorted(
            (c for c in self.connections if c is not self and isinstance(c, GuardedH11Protocol) and not c._busy()),
            key=lambda c: c._idle_since,
        )
        for victim in idle[:excess]:
            victim._close("connection cap: longest idle")
        if len(idle) < excess:
            self._close("connection cap: every connection busy")
