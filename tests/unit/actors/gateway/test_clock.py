"""The virtual clock advances only when every task waits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from actors.gateway import Clock, MonotonicClock, VirtualClock


def test_sleepers_wake_in_deadline_order_at_virtual_times() -> None:
    """Three sleepers wake at their own virtual deadlines, earliest first."""
    clock = VirtualClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    async def main() -> None:
        await asyncio.gather(sleeper("c", 30), sleeper("a", 1), sleeper("b", 2.5))

    asyncio.run(main())
    assert woke == [("a", 1), ("b", 2.5), ("c", 30)]


def test_a_hung_task_still_meets_its_timeout() -> None:
    """Waiting on an event that never fires ends at the virtual deadline."""
    clock = VirtualClock(start=100)

    async def main() -> bool:
        never = asyncio.ensure_future(asyncio.Event().wait())
        timer = asyncio.ensure_future(clock.sleep(60))
        done, _ = await asyncio.wait({never, timer}, return_when=asyncio.FIRST_COMPLETED)
        never.cancel()
        return timer in done

    assert asyncio.run(main())
    assert clock.now() == 160


def test_cancelled_sleep_does_not_move_time() -> None:
    """A cancelled sleeper's deadline is skipped."""
    clock = VirtualClock()

    async def main() -> None:
        long = asyncio.ensure_future(clock.sleep(1000))
        await asyncio.sleep(0)
        long.cancel()
        await clock.sleep(1)

    asyncio.run(main())
    assert clock.now() == 1


# -- Clock.timeout: one deadline per awaited event, on either clock ---------------------------


#: A fresh clock per test (a virtual clock keeps its sleepers between event loops).
CLOCKS = pytest.mark.parametrize(
    "make_clock", [MonotonicClock, lambda: VirtualClock(start=5)], ids=["monotonic", "virtual"]
)


async def _hang() -> None:
    await asyncio.Event().wait()


async def _raise_own_timeout() -> None:
    raise TimeoutError("the backend's own")


@CLOCKS
@pytest.mark.parametrize(
    ("seconds", "block", "expired"),
    [(0.02, _hang, True), (60, _raise_own_timeout, False)],
    ids=["hung-await", "own-timeout-error"],
)
def test_timeout_error_says_whether_the_deadline_fired(
    make_clock: Callable[[], Clock],
    seconds: float,
    block: Callable[[], Awaitable[None]],
    expired: bool,
) -> None:
    """A hung block ends in TimeoutError with the deadline expired; a TimeoutError the awaited
    code raises itself (a backend's socket timeout) is told apart: expired() stays False."""
    clock = make_clock()

    async def main() -> bool:
        deadline = clock.timeout(seconds)
        with pytest.raises(TimeoutError):
            async with deadline:
                await block()
        return deadline.expired()

    assert asyncio.run(main()) is expired


@CLOCKS
def test_timeout_lets_a_prompt_block_finish(make_clock: Callable[[], Clock]) -> None:
    """A block that finishes in time keeps its result; the deadline never fires later."""
    clock = make_clock()

    async def main() -> tuple[int, bool]:
        deadline = clock.timeout(0.05)
        async with deadline:
            await asyncio.sleep(0)
            value = 7
        await clock.sleep(0.1)  # past the deadline: nothing may cancel us now
        return value, deadline.expired()

    assert asyncio.run(main()) == (7, False)


@CLOCKS
def test_outside_cancel_is_not_turned_into_a_timeout(make_clock: Callable[[], Clock]) -> None:
    """Cancelling the task (a hedge's loser) inside the block stays a cancellation."""
    clock = make_clock()

    async def inner() -> None:
        async with clock.timeout(60):
            await asyncio.Event().wait()

    async def main() -> None:
        task = asyncio.ensure_future(inner())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
