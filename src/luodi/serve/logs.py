"""Structured JSON logs with the request id. Installed only by ``luodi serve`` / ``luodi worker``."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import threading
import time
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("luodi_request_id", default=None)

# LogRecord attributes that are not user-supplied ``extra`` fields (uvicorn adds an ANSI ``color_message``)
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid is not None:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RepeatFilter())  # an error storm (accept() out of descriptors...) logs a few lines
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own handlers would print plain text; route everything through the JSON handler,
    # and drop its access log since the app logs one structured line per request.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "huey", "huey.consumer"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    logging.getLogger("uvicorn.access").disabled = True


class RepeatFilter(logging.Filter):
    """Lets through at most ``burst`` records of one (logger, message) per ``window_s``; the next
    one after a quiet spell says how many were dropped."""

    def __init__(self, burst: int = 5, window_s: float = 10.0) -> None:
        super().__init__()
        self._burst = burst
        self._window = window_s
        self._seen: dict[tuple[str, str], tuple[float, int, int]] = {}  # key -> (window start, passed, dropped)
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, str(record.msg)[:200])
        now = time.monotonic()
        with self._lock:
            start, passed, dropped = self._seen.get(key, (now, 0, 0))
            if now - start > self._window:
                if dropped:
                    record.msg = f"{record.msg} (and {dropped} more like it in the last {now - start:.0f} s)"
                start, passed, dropped = now, 0, 0
            if passed < self._burst:
                self._seen[key] = (start, passed + 1, dropped)
                return True
            self._seen[key] = (start, passed, dropped + 1)
            if len(self._seen) > 10_000:  # bounded: messages with ids in them never repeat
                self._seen.clear()
            return False
