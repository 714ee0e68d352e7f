"""The bounded queue in front of inference.

At most ``concurrency`` calls run (each in a dedicated thread pool, never on the event loop) and at
most ``queue_size`` more wait for a slot; past that a request is refused at once with
:class:`QueueFullError` (503 + Retry-After) instead of piling up. Every call has a deadline: waiting
or running past it answers :class:`DeadlineExceededError` (504). A thread cannot be cancelled, so a
call that overran keeps its slot until it really finishes; that keeps the admitted load honest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from luodi.errors import DeadlineExceededError, QueueFullError
from luodi.serve.metrics import Metrics

T = TypeVar("T")


class InferenceGate:
    def __init__(self, concurrency: int, queue_size: int, metrics: Metrics) -> None:
        self.concurrency = concurrency
        self.capacity = concurrency + queue_size
        self._metrics = metrics
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="luodi-infer")
        # created lazily so the gate binds to the loop that serves requests
        self._slots: asyncio.Semaphore | None = None
        self._admitted = 0
        self._waiting = 0

    @property
    def admitted(self) -> int:
        return self._admitted

    async def run(self, fn: Callable[[], T], *, deadline: float) -> T:
        """Run ``fn`` in the pool; ``deadline`` is a ``time.monotonic()`` instant."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        if self._admitted >= self.capacity:
            self._metrics.rejected.labels("queue_full").inc()
            raise QueueFullError(f"server busy: {self._admitted} requests admitted, queue full; retry later")
        self._admitted += 1
        handed_over = False
        try:
            slots = self._slots
            started_wait = time.monotonic()
            self._waiting += 1
            self._metrics.queue_depth.set(self._waiting)
            try:
                await asyncio.wait_for(slots.acquire(), timeout=max(deadline - started_wait, 0.0))
            except TimeoutError:
                self._metrics.rejected.labels("deadline_in_queue").inc()
                raise DeadlineExceededError("deadline exceeded while waiting in the queue") from None
            finally:
                self._waiting -= 1
                self._metrics.queue_depth.set(self._waiting)
            self._metrics.queue_wait.observe(time.monotonic() - started_wait)
            loop = asyncio.get_running_loop()
            self._metrics.inference_running.inc()
            future: Future[T] = self._pool.submit(fn)
            handed_over = True

            def release(_: Future[T]) -> None:
                loop.call_soon_threadsafe(self._release, slots)

            future.add_done_callback(release)
            wrapped = asyncio.wrap_future(future)
            # after a timeout nobody awaits the result; fetch it anyway so asyncio does not log it as lost
            wrapped.add_done_callback(lambda f: None if f.cancelled() else f.exception())
            try:
                return await asyncio.wait_for(asyncio.shield(wrapped), deadline - time.monotonic())
            except TimeoutError:
                self._metrics.rejected.labels("deadline_running").inc()
                raise DeadlineExceededError("deadline exceeded while running inference") from None
        finally:
            if not handed_over:
                self._admitted -= 1

    def _release(self, slots: asyncio.Semaphore) -> None:
        slots.release()
        self._admitted -= 1
        self._metrics.inference_running.dec()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
