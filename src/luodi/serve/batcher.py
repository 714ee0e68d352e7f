"""Dynamic batcher: groups recognition crops from concurrent requests into one ``recognize`` call.

Each request's pipeline thread hands its crops to :meth:`DynamicBatcher.recognize` (the OCR
engine's ``recognizer=`` hook) and blocks; one batcher thread takes the first waiting request, keeps
collecting more for up to ``max_wait_ms`` or until ``max_batch_size`` crops are gathered, runs them
together and hands each request its own slice of the results. A request with more crops than
``max_batch_size`` is never split, it simply forms a batch of its own.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from luodi.errors import ServiceError
from luodi.serve.metrics import Metrics

Recognize = Callable[[Sequence[Any]], list[Any]]


@dataclass
class _Pending:
    crops: Sequence[Any]
    done: threading.Event = field(default_factory=threading.Event)
    results: list[Any] | None = None
    error: BaseException | None = None


class DynamicBatcher:
    def __init__(
        self, recognize: Recognize, *, max_batch_size: int, max_wait_ms: float, metrics: Metrics | None
    ) -> None:
        self._recognize = recognize
        self._max_batch = max_batch_size
        self._max_wait = max_wait_ms / 1000.0
        self._metrics = metrics
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="luodi-batcher", daemon=True)
        self._thread.start()

    def recognize(self, crops: Sequence[Any]) -> list[Any]:
        if not crops:
            return []
        if self._closed:
            raise ServiceError("the recognition batcher is shut down")
        pending = _Pending(crops)
        self._queue.put(pending)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        assert pending.results is not None
        return pending.results

    __call__ = recognize

    def close(self) -> None:
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        carry: _Pending | None = None
        while True:
            first = carry if carry is not None else self._queue.get()
            carry = None
            if first is None:
                return
            group = [first]
            size = len(first.crops)
            until = time.monotonic() + self._max_wait
            stop = False
            while size < self._max_batch:
                left = until - time.monotonic()
                try:
                    item = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                if size + len(item.crops) > self._max_batch:
                    carry = item  # starts the next batch, so this one stays within the limit
                    break
                group.append(item)
                size += len(item.crops)
            self._run(group, size)
            if stop:
                for p in self._drain():
                    p.error = ServiceError("the recognition batcher is shut down")
                    p.done.set()
                return

    def _drain(self) -> list[_Pending]:
        items: list[_Pending] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return items
            if item is not None:
                items.append(item)

    def _run(self, group: list[_Pending], size: int) -> None:
        crops = [c for p in group for c in p.crops]
        if self._metrics is not None:
            self._metrics.batch_size.observe(size)
        try:
            results = self._recognize(crops)
        except BaseException as exc:  # handed to every waiting request, which re-raises it
            for p in group:
                p.error = exc
                p.done.set()
            return
        offset = 0
        for p in group:
            p.results = list(results[offset : offset + len(p.crops)])
            offset += len(p.crops)
            p.done.set()
