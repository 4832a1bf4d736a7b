"""The virtual clock advances only when every task waits."""

from __future__ import annotations

import asyncio

from actors.gateway import VirtualClock


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
