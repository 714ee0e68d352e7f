"""Job webhooks: which URLs a job may call back, and signed delivery off the job threads.

Who may be called. The operator allow-lists ``host`` (that host on its scheme's default port only)
or ``host:port``; a URL with control characters, spaces, credentials or a port not listed is
refused when the job is submitted (400). At delivery the host is resolved once and every address
it resolves to is checked: link-local (cloud metadata, 169.254.169.254), unspecified, multicast and
reserved addresses are always refused, loopback and private ones unless ``webhook_allow_private``
is set; the request then goes to the checked address (Host header and TLS SNI keep the name), so a
DNS answer that changes between check and connect cannot redirect it. Redirects are not followed.

Delivery. Each finished job's webhook is one POST of the job's public view, signed the way the
Standard Webhooks specification (standardwebhooks.com) says, so its libraries can verify it::

    webhook-id: <job id>          the same on every retry: receivers deduplicate on it
    webhook-timestamp: <unix s>
    webhook-signature: v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>

A secret written ``whsec_<base64>`` is used as the bytes it encodes (the specification's form);
any other string as its UTF-8 bytes. Each attempt has a total deadline (``webhook_timeout_s``,
headers and body together: a receiver trickling bytes cannot hold it longer), and a failed attempt
(no answer, 408, 429 or 5xx) is retried after 1, 4, 16... seconds up to ``webhook_attempts``.
Deliveries run on one event-loop thread of their own, never on a job thread.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from luodi.errors import InputError

if TYPE_CHECKING:
    from luodi.serve.settings import JobSettings

log = logging.getLogger("luodi.serve.webhooks")

_MAX_URL = 2048
_RETRY_STATUS = frozenset({408, 425, 429})
_IN_FLIGHT = 16  # deliveries at once; more wait their turn


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def parse_allow_entry(entry: str) -> tuple[str, int | None]:
    """``host`` -> (host, None: the scheme's default port); ``host:port`` / ``[v6]:port`` -> (host, port)."""
    parts = urlsplit("//" + entry.strip())
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad webhook host {entry!r}: {exc}") from exc
    if not parts.hostname or parts.path or parts.username or parts.password or parts.query:
        raise ValueError(f"bad webhook host {entry!r}: write host or host:port")
    return parts.hostname.lower(), port


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool) -> str | None:
    """Why a webhook may not be sent to ``address`` (None: it may)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_link_local or address.is_unspecified or address.is_multicast or address.is_reserved:
        return "a link-local, unspecified, multicast or reserved address"
    if not allow_private and (address.is_loopback or address.is_private or not address.is_global):
        return "a loopback or private address (set webhook_allow_private to call hosts on private networks)"
    return None


def check_webhook(url: str | None, allow_hosts: Sequence[str], *, allow_private: bool = False) -> str | None:
    """The webhook URL if its host and port are allow-listed; raises InputError otherwise."""
    if not url:
        return None
    if len(url) > _MAX_URL or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise InputError("webhook URL must not hold spaces or control characters (CR, LF...), nor pass 2048 characters")
    parts = urlsplit(url)
    try:
        port = parts.port or _default_port(parts.scheme)
    except ValueError as exc:
        raise InputError(f"webhook URL has a bad port: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("webhook must be an http(s) URL")
    if parts.username or parts.password:
        raise InputError("webhook URL must not carry credentials")
    host = parts.hostname.lower()
    allowed = {parse_allow_entry(entry) for entry in allow_hosts}
    if (host, port) not in allowed and not (port == _default_port(parts.scheme) and (host, None) in allowed):
        raise InputError(f"webhook host {host!r} with port {port} is not allow-listed on this server")
    with contextlib.suppress(ValueError):  # an address written in the URL is checked now, a name when sent
        why = _refused(ipaddress.ip_address(host), allow_private)
        if why is not None:
            raise InputError(f"webhook host {host!r} is {why}")
    return url


def secret_bytes(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def sign(secret: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value (Standard Webhooks, v1: HMAC-SHA256, base64)."""
    mac = hmac.new(secret, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify(secret: bytes, headers: dict[str, str], body: bytes, *, tolerance_s: float = 300) -> bool:
    """A receiver's check: the signature matches and the timestamp is within ``tolerance_s`` of now."""
    try:
        msg_id, timestamp = headers["webhook-id"], int(headers["webhook-timestamp"])
        presented = headers["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    expected = sign(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, p) for p in presented)


class WebhookSender:
    """Delivers signed webhooks from a thread of its own, as the ``webhook_*`` job settings say;
    ``record(job_id, outcome)`` is called with each delivery's outcome (``attempts``, and
    ``status_code`` or ``error``)."""

    def __init__(
        self, settings: JobSettings, *, record: Callable[[str, dict[str, Any]], None], backoff_s: float = 1.0
    ) -> None:
        self._settings = settings
        secret = settings.webhook_secret
        self._secret = secret_bytes(secret.get_secret_value() if secret is not None else "")
        self._record = record
        self._backoff_s = backoff_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pending: set[Any] = set()
        self._in_flight = asyncio.Semaphore(_IN_FLIGHT)  # bound to the loop that first waits on it

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, name="luodi-webhooks", daemon=True)
                self._thread.start()
                self._loop = loop
                self._in_flight = asyncio.Semaphore(_IN_FLIGHT)
            return self._loop

    def send(self, job_id: str, url: str, body: bytes) -> None:
        """Queue a delivery and return at once."""
        future = asyncio.run_coroutine_threadsafe(self._deliver(job_id, url, body), self._ensure_loop())
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Any) -> None:
        with self._lock:
            self._pending.discard(future)

    def stop(self, grace_s: float | None = None) -> None:
        """Let deliveries in flight finish for up to ``grace_s`` (one attempt's deadline), then stop."""
        with self._lock:
            loop, thread, pending = self._loop, self._thread, list(self._pending)
        if loop is None or thread is None:
            return
        deadline = time.monotonic() + (self._settings.webhook_timeout_s if grace_s is None else grace_s)
        for future in pending:
            with contextlib.suppress(Exception):
                future.result(timeout=max(0.0, deadline - time.monotonic()))
            future.cancel()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        if not thread.is_alive():
            loop.close()
        with self._lock:
            self._loop = self._thread = None

    async def _deliver(self, job_id: str, url: str, body: bytes) -> None:
        outcome: dict[str, Any] = {}
        timeout_s, attempts = self._settings.webhook_timeout_s, self._settings.webhook_attempts
        async with self._in_flight:
            for attempt in range(1, attempts + 1):
                outcome = {"attempts": attempt}
                retry = True
                try:
                    async with asyncio.timeout(timeout_s):
                        status = await self._post(job_id, url, body)
                    outcome["status_code"] = status
                    retry = status in _RETRY_STATUS or status >= 500
                except InputError as exc:  # refused (address): no retry will change that
                    outcome["error"] = exc.message
                    retry = False
                except TimeoutError:
                    outcome["error"] = f"no answer within {timeout_s:g} s"
                except Exception as exc:  # network errors of every kind; the job is done either way
                    outcome["error"] = f"{type(exc).__name__}: {exc}"
                if not retry or attempt == attempts:
                    break
                await asyncio.sleep(self._backoff_s * 4 ** (attempt - 1))
        if "error" in outcome or outcome.get("status_code", 500) >= 300:
            log.warning("webhook failed", extra={"job_id": job_id, **outcome})
        outcome["at"] = time.time()
        await asyncio.to_thread(self._record, job_id, outcome)

    async def _post(self, job_id: str, url: str, body: bytes) -> int:
        import httpx

        settings = self._settings
        check_webhook(url, settings.webhook_allow_hosts, allow_private=settings.webhook_allow_private)
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or _default_port(parts.scheme)
        address = await self._resolve(host, port)
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "host": parts.netloc,
            "webhook-id": job_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self._secret, job_id, timestamp, body),
            "user-agent": "luodi-webhooks",
        }
        target = httpx.URL(url).copy_with(host=address)
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        async with httpx.AsyncClient(
            follow_redirects=False, timeout=settings.webhook_timeout_s, trust_env=False
        ) as client:
            response = await client.post(target, content=body, headers=headers, extensions=extensions)
        return response.status_code

    async def _resolve(self, host: str, port: int) -> str:
        """The address to connect to: every address ``host`` resolves to must pass the check."""
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise InputError(f"webhook host {host!r} does not resolve")
        for raw in addresses:
            why = _refused(ipaddress.ip_address(raw.split("%")[0]), self._settings.webhook_allow_private)
            if why is not None:
                raise InputError(f"webhook host {host!r} resolves to {raw}, {why}")
        return addresses[0]
