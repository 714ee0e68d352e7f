"""The bounded queue in front of inference.

At most ``concurrency`` calls run (each in a dedicated thread pool, never on the event loop) and at
most ``queue_size`` more wait for a slot (counted from admission, before the body is read); past
that a request is refused at once with
:class:`QueueFullError` (503 + Retry-After) instead of piling up. With a ``latency_target_s`` the
queue is also full as soon as a request admitted now would, by the recent calls' run time (a moving
average), wait so long that it could not finish inside the target: under overload the server sheds
what it cannot serve in time, at once, instead of queueing it into a 20 s answer
(bench/results/service_overload.md). Every call has a deadline: waiting
or running past it answers :class:`DeadlineExceededError` (504). A thread cannot be cancelled, so a
call that overran keeps its slot until it really finishes; that keeps the admitted load honest.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from luodi.errors import DeadlineExceededError, QueueFullError
from luodi.serve.metrics import Metrics

T = TypeVar("T")


class Ticket:
    """A request's place in the gate, taken before its body is read (:meth:`InferenceGate.admit`);
    :meth:`run` hands its one call to the pool."""

    def __init__(self, gate: InferenceGate) -> None:
        self._gate = gate
        self.handed_over = False

    async def run(self, fn: Callable[[], T], *, deadline: float) -> T:
        """Run ``fn`` in the pool once a slot is free; ``deadline`` is a ``time.monotonic()`` instant."""
        if self.handed_over:
            raise RuntimeError("a ticket runs one call")
        gate = self._gate
        metrics = gate.metrics
        slots = gate.slots()
        started_wait = time.monotonic()
        gate.waiting += 1
        metrics.queue_depth.set(gate.waiting)
        try:
            await asyncio.wait_for(slots.acquire(), timeout=max(deadline - started_wait, 0.0))
        except TimeoutError:
            metrics.rejected.labels("deadline_in_queue").inc()
            raise DeadlineExceededError("deadline exceeded while waiting in the queue") from None
        finally:
            gate.waiting -= 1
            metrics.queue_depth.set(gate.waiting)
        metrics.queue_wait.observe(time.monotonic() - started_wait)
        loop = asyncio.get_running_loop()
        metrics.inference_running.inc()
        future: Future[T] = gate.pool.submit(fn)
        self.handed_over = True
        started = time.monotonic()

        def release(_: Future[T]) -> None:
            loop.call_soon_threadsafe(gate.release, slots, time.monotonic() - started)

        future.add_done_callback(release)
        wrapped = asyncio.wrap_future(future)
        # after a timeout nobody awaits the result; fetch it anyway so asyncio does not log it as lost
        wrapped.add_done_callback(lambda f: None if f.cancelled() else f.exception())
        try:
            return await asyncio.wait_for(asyncio.shield(wrapped), deadline - time.monotonic())
        except TimeoutError:
            metrics.rejected.labels("deadline_running").inc()
            raise DeadlineExceededError("deadline exceeded while running inference") from None


_EWMA_WEIGHT = 0.2  # of the newest call in the moving average of run times (about the last 10 calls)


class InferenceGate:
    def __init__(
        self, concurrency: int, queue_size: int, metrics: Metrics, *, latency_target_s: float | None = None
    ) -> None:
        self.concurrency = concurrency
        self.capacity = concurrency + queue_size
        self.metrics = metrics
        self.latency_target_s = latency_target_s
        self.run_s: float | None = None  # moving average of a call's run time; None before the first
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="luodi-infer")
        # created lazily so the gate binds to the loop that serves requests
        self._slots: asyncio.Semaphore | None = None
        self._admitted = 0
        self.waiting = 0

    @property
    def full(self) -> bool:
        return self._admitted >= self.capacity or self.too_slow()

    def expected_wait_s(self) -> float:
        """How long a request admitted now would wait for a slot, by the recent run times."""
        ahead = self._admitted - self.concurrency + 1  # calls that must finish before it starts
        if ahead <= 0 or self.run_s is None:
            return 0.0
        return ahead / self.concurrency * self.run_s

    def too_slow(self) -> bool:
        """A request admitted now would not finish inside the latency target. One request waiting
        per slot is always let in, so that no slot idles between one answer and the next client's
        retry, even where a single call takes longer than the target."""
        if self.latency_target_s is None or self.run_s is None:
            return False
        if self._admitted - self.concurrency + 1 <= self.concurrency:
            return False
        return self.expected_wait_s() + self.run_s > self.latency_target_s

    def refusal(self) -> QueueFullError:
        """The 503 for a request that finds the gate :attr:`full`, counted by its reason."""
        self.metrics.rejected.labels("queue_full" if self._admitted >= self.capacity else "latency_target").inc()
        return QueueFullError(self.busy_message())

    def busy_message(self) -> str:
        if self._admitted >= self.capacity:
            return f"server busy: {self._admitted} requests admitted, queue full; retry later"
        return (
            f"server busy: a request admitted now would wait about {self.expected_wait_s():.1f} s, past the "
            f"{self.latency_target_s:g} s latency target; retry later"
        )

    def slots(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        return self._slots

    @contextlib.asynccontextmanager
    async def admit(self) -> AsyncIterator[Ticket]:
        """A place in the gate, or :class:`QueueFullError` at once. Take it before reading a request's
        body, so a full server refuses without reading (or storing) what it would not process. The
        place is held until the call it runs finishes, or until this context exits without one."""
        if self.full:
            raise self.refusal()
        self._admitted += 1
        ticket = Ticket(self)
        try:
            yield ticket
        finally:
            if not ticket.handed_over:
                self._admitted -= 1

    async def run(self, fn: Callable[[], T], *, deadline: float) -> T:
        """Admit and run ``fn`` in the pool; ``deadline`` is a ``time.monotonic()`` instant."""
        async with self.admit() as ticket:
            return await ticket.run(fn, deadline=deadline)

    def release(self, slots: asyncio.Semaphore, run_s: float = 0.0) -> None:
        self.run_s = run_s if self.run_s is None else (1 - _EWMA_WEIGHT) * self.run_s + _EWMA_WEIGHT * run_s
        slots.release()
        self._admitted -= 1
        self.metrics.inference_running.dec()

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
