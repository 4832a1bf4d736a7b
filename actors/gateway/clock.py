"""Injectable time: the real monotonic clock and a virtual clock for deterministic tests.

Every resilience component reads time through :class:`Clock` so that breakers, backoff,
timeouts and hedging can be exercised over thousands of simulated requests without ever
sleeping on the wall clock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from types import TracebackType
from typing import Protocol

__all__ = ["Clock", "Deadline", "MonotonicClock", "VirtualClock"]


class Deadline(Protocol):
    """What :meth:`Clock.timeout` returns: ``async with`` it; ``expired()`` afterwards."""

    async def __aenter__(self) -> Deadline: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None: ...

    def expired(self) -> bool:
        """True when the deadline passed and interrupted the block."""
        ...


class Clock(Protocol):
    """A source of monotonic time in seconds plus a matching sleep."""

    def now(self) -> float:
        """Return the current time in seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the caller for ``seconds``."""
        ...

    def timeout(self, seconds: float) -> Deadline:
        """Interrupt the ``async with`` block after ``seconds`` with :class:`TimeoutError`."""
        ...


class MonotonicClock:
    """The real clock: ``time.monotonic`` and ``asyncio.sleep``."""

    def now(self) -> float:
        """Return ``time.monotonic()``."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Sleep with asyncio."""
        await asyncio.sleep(max(0.0, seconds))

    def timeout(self, seconds: float) -> Deadline:
        """``asyncio.timeout``: a timer handle, no task (the gateway sets one per event)."""
        return asyncio.timeout(max(0.0, seconds))


class VirtualClock:
    """A clock whose time advances only when every task on the event loop is waiting.

    Sleepers are kept in a heap of deadlines. A driver task, started by the first sleep,
    waits until the loop has nothing ready to run and then jumps to the earliest deadline.
    A coroutine that awaits something that never happens (a hung backend) therefore still
    meets its timeout, instantly in wall time and exactly in virtual time.

    Args:
        start: the initial virtual time in seconds.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._ids = itertools.count()
        self._driver: asyncio.Task[None] | None = None

    def now(self) -> float:
        """Return the virtual time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` without waking sleepers (for synchronous tests)."""
        self._now += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of virtual time."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._heap, (self._now + max(0.0, seconds), next(self._ids), future))
        if self._driver is None or self._driver.done():
            self._driver = loop.create_task(self._drive())
        await future

    def timeout(self, seconds: float) -> Deadline:
        """A deadline in virtual time (an alarm task sleeping on this clock)."""
        return _VirtualDeadline(self, seconds)

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        while self._heap:
            await asyncio.sleep(0)
            # Only jump when nothing else can run: other tasks get to react at this instant.
            if loop._ready:  # type: ignore[attr-defined]
                continue
            deadline, _, future = heapq.heappop(self._heap)
            if future.done():  # cancelled sleeper: do not let it move time
                continue
            self._now = max(self._now, deadline)
            future.set_result(None)


class _VirtualDeadline:
    """``asyncio.timeout`` semantics on a :class:`VirtualClock`: cancel, then TimeoutError."""

    def __init__(self, clock: VirtualClock, seconds: float) -> None:
        self._clock = clock
        self._seconds = seconds
        self._fired = False
        self._task: asyncio.Task[object] | None = None
        self._alarm: asyncio.Task[None] | None = None
        self._cancelling = 0

    async def __aenter__(self) -> _VirtualDeadline:
        self._task = asyncio.current_task()
        assert self._task is not None  # only ever used inside a task
        self._cancelling = self._task.cancelling()
        self._alarm = asyncio.get_running_loop().create_task(self._ring())
        return self

    async def _ring(self) -> None:
        await self._clock.sleep(self._seconds)
        self._fired = True
        assert self._task is not None
        self._task.cancel()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._alarm is not None
        assert self._task is not None
        self._alarm.cancel()
        # As asyncio.timeout: take back our cancel; a cancel from elsewhere still propagates.
        fired = self._fired and self._task.uncancel() <= self._cancelling
        if fired and exc_type is asyncio.CancelledError:
            raise TimeoutError from exc
        return None

    def expired(self) -> bool:
        """True when the deadline passed and interrupted the block."""
        return self._fired
