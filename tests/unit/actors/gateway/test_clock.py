"""The virtual clock advances only when every task waits."""

from __future__ import annotations

import asyncio

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


def _clocks() -> list[Clock]:
    return [MonotonicClock(), VirtualClock(start=5)]


@pytest.mark.parametrize("clock", _clocks(), ids=["monotonic", "virtual"])
def test_timeout_interrupts_a_hung_await(clock: Clock) -> None:
    """A block waiting on something that never happens ends in TimeoutError, expired."""

    async def main() -> bool:
        deadline = clock.timeout(0.02)
        with pytest.raises(TimeoutError):
            async with deadline:
                await asyncio.Event().wait()
        return deadline.expired()

    assert asyncio.run(main())


@pytest.mark.parametrize("clock", _clocks(), ids=["monotonic", "virtual"])
def test_timeout_lets_a_prompt_block_finish(clock: Clock) -> None:
    """A block that finishes in time keeps its result; the deadline never fires later."""

    async def main() -> tuple[int, bool]:
        deadline = clock.timeout(0.05)
        async with deadline:
            await asyncio.sleep(0)
            value = 7
        await clock.sleep(0.1)  # past the deadline: nothing may cancel us now
        return value, deadline.expired()

    assert asyncio.run(main()) == (7, False)


@pytest.mark.parametrize("clock", _clocks(), ids=["monotonic", "virtual"])
def test_timeout_error_from_the_block_is_not_the_deadline(clock: Clock) -> None:
    """A TimeoutError the awaited code raises itself is told apart (expired() stays False)."""

    async def main() -> bool:
        deadline = clock.timeout(60)
        with pytest.raises(TimeoutError):
            async with deadline:
                raise TimeoutError("the backend's own")
        return deadline.expired()

    assert asyncio.run(main()) is False


@pytest.mark.parametrize("clock", _clocks(), ids=["monotonic", "virtual"])
def test_outside_cancel_is_not_turned_into_a_timeout(clock: Clock) -> None:
    """Cancelling the task (a hedge's loser) inside the block stays a cancellation."""

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
