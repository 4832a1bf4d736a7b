"""The race behind a hedged request: a primary attempt, and after a delay a second one.

The first attempt to produce a token (or to finish well without one) wins; the other is
cancelled, which closes its backend stream. Events an attempt produces before it wins (its
``start``, in-band ``retry`` notices) are held back, so the client sees exactly one
attempt's events. An attempt that fails before any winner is set aside for the router to
account for, and the race goes on with the other.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from actors.agent_stream import Capability, FailureKind, StreamEvent, StreamKind
from actors.gateway._attempt import AttemptResult, RequestState
from actors.gateway.breaker import BreakerState
from actors.gateway.clock import Clock
from actors.gateway.config import AgentEntry

if TYPE_CHECKING:
    from actors.gateway.router import Gateway

__all__ = ["HedgedRace", "Lane", "hedge_delay", "hedged_attempt", "pick_closed"]

_TOKENS = frozenset({StreamKind.DELTA, StreamKind.TOOL_CALL, StreamKind.TOOL_RESULT})

#: Opens one attempt of ``entry`` that fills ``result``; yields the backend's raw events.
Opener = Callable[[AgentEntry, AttemptResult], AsyncIterator[StreamEvent]]


@dataclass(eq=False)
class Lane:
    """One attempt in the race."""

    entry: AgentEntry
    result: AttemptResult
    held: list[StreamEvent] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    finished: bool = False


class HedgedRace:
    """Runs the race; afterwards ``winner``, ``failed`` and ``cancelled`` tell what happened.

    Args:
        clock: time source (the hedge delay is slept on it).
        delay_s: how long the primary may go without a token before the hedge starts.
        opener: starts one attempt.
        pick_hedge: chooses the hedge's agent when the delay passes (and spends the hedge
            budget); None = no hedge this time.
    """

    def __init__(
        self,
        clock: Clock,
        delay_s: float,
        opener: Opener,
        pick_hedge: Callable[[], AgentEntry | None],
    ) -> None:
        self._clock = clock
        self._delay_s = delay_s
        self._opener = opener
        self._pick_hedge = pick_hedge
        self.winner: Lane | None = None
        self.failed: list[Lane] = []
        self.cancelled: list[Lane] = []
        self.hedged = False

    async def run(self, primary: AgentEntry, result: AttemptResult) -> AsyncIterator[StreamEvent]:
        """Yield the winning attempt's raw events (held ones first), then stop."""
        queue: asyncio.Queue[tuple[Lane, StreamEvent | None]] = asyncio.Queue()
        lanes = [self._start(Lane(primary, result), queue)]
        timer: asyncio.Future[Any] | None = asyncio.ensure_future(self._clock.sleep(self._delay_s))
        try:
            while not all(lane.finished for lane in lanes):
                if timer is None:  # nothing else to wait for: no task, no asyncio.wait
                    lane, event = await queue.get()
                else:
                    getter = asyncio.ensure_future(queue.get())
                    done, _ = await asyncio.wait(
                        {getter, timer}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if getter not in done:
                        getter.cancel()
                        timer = None
                        if self.winner is None:
                            self._maybe_hedge(lanes, queue)
                        continue
                    lane, event = getter.result()
                for out in self._on_event(lane, event, lanes):
                    yield out
                if self.winner is not None and timer is not None:
                    timer.cancel()
                    timer = None
        finally:
            _cancel(timer)
            await self._stop_losers(lanes)

    def _maybe_hedge(self, lanes: list[Lane], queue: asyncio.Queue[Any]) -> None:
        entry = self._pick_hedge()
        if entry is not None:
            self.hedged = True
            lanes.append(self._start(Lane(entry, AttemptResult()), queue))

    def _on_event(self, lane: Lane, event: StreamEvent | None, lanes: list[Lane]) -> list[Any]:
        """Fold one lane event into the race; return the events to deliver now."""
        if lane in self.cancelled:
            return []  # a loser's late events and its end marker
        if event is None:
            lane.finished = True
            if self.winner is lane:
                return []
            if self.winner is None and lane.result.ok:
                return self._crown(lane, lanes)
            self.failed.append(lane)
            return []
        if self.winner is lane:
            return [event]
        if self.winner is None and event.kind in _TOKENS:
            return [*self._crown(lane, lanes), event]
        lane.held.append(event)
        return []

    def _crown(self, lane: Lane, lanes: list[Lane]) -> list[StreamEvent]:
        self.winner = lane
        for other in lanes:
            if other is not lane and not other.finished:
                self.cancelled.append(other)
                other.finished = True
                if other.task is not None:
                    other.task.cancel()
        held, lane.held = lane.held, []
        return held

    def _start(self, lane: Lane, queue: asyncio.Queue[tuple[Lane, StreamEvent | None]]) -> Lane:
        async def pump() -> None:
            try:
                async for event in self._opener(lane.entry, lane.result):
                    await queue.put((lane, event))
            finally:
                queue.put_nowait((lane, None))

        lane.task = asyncio.ensure_future(pump())
        return lane

    async def _stop_losers(self, lanes: list[Lane]) -> None:
        for lane in lanes:
            if lane.task is not None and not lane.task.done():
                lane.task.cancel()
            if lane.task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await lane.task


def _cancel(future: asyncio.Future[Any] | None) -> None:
    if future is not None:
        future.cancel()


# -- the router's side: when to hedge, whom to hedge to, and the bookkeeping -------------------


def hedge_delay(gw: Gateway, ctx: RequestState, entry: AgentEntry) -> float | None:
    """The hedge delay for this request's first attempt on ``entry``, or None for no hedge."""
    if gw.hedge is None or ctx.attempts or ctx.checkpointer.text:
        return None
    if gw.breakers[entry.name].state is not BreakerState.CLOSED:
        return None  # a half-open probe must report back, never be cancelled
    return gw.hedge.hedge_delay(ctx.capability)


def pick_closed(gw: Gateway, capability: Capability, exclude: set[str]) -> AgentEntry | None:
    """An agent with a CLOSED breaker for a hedge (never a half-open probe's slot)."""
    slots = [
        gw.slots[name]
        for name, entry in gw.agents.items()
        if capability in entry.capabilities
        and name not in exclude
        and gw.breakers[name].state is BreakerState.CLOSED
    ]
    slot = gw._balancer.pick(slots, gw.rng) if slots else None
    return gw.agents[slot.name] if slot is not None else None


async def hedged_attempt(
    gw: Gateway,
    ctx: RequestState,
    primary: AgentEntry,
    result: AttemptResult,
    delay_s: float,
    owner: list[AgentEntry],
) -> AsyncIterator[StreamEvent]:
    """Race ``primary`` against a hedge on another agent; relay the winner's events only.

    Afterwards ``result`` holds the winner's outcome (the primary's when nobody won) and
    ``owner[0]`` the agent it belongs to; failures of the other lanes are already recorded.
    """

    def opener(entry: AgentEntry, lane_result: AttemptResult) -> AsyncIterator[StreamEvent]:
        ctx.attempts += 1
        gw.metrics.attempts += 1
        request, _ = gw._request(ctx, entry)  # a first attempt: nothing to de-duplicate
        return gw._raw(entry, request, lane_result)

    def pick_hedge() -> AgentEntry | None:
        assert gw.hedge is not None  # only racing when hedging is on
        other = pick_closed(gw, ctx.capability, exclude={primary.name})
        return other if other is not None and gw.hedge.try_hedge() else None

    race = HedgedRace(gw.clock, delay_s, opener, pick_hedge)
    async for raw in race.run(primary, result):
        owner[0] = race.winner.entry if race.winner is not None else primary
        out = gw._relay(ctx, owner[0], raw, None)
        if out is not None:
            yield out
    for lane in race.failed:
        if race.winner is None and lane.result is result:
            continue  # nobody won: the router's retry logic accounts for the primary
        if lane is not race.winner:
            gw._on_failure(ctx, lane.entry, lane.result, lane.result.failure or FailureKind.UNKNOWN)
    if race.winner is not None:
        owner[0] = race.winner.entry
        if race.winner.result is not result:
            for f in fields(AttemptResult):
                setattr(result, f.name, getattr(race.winner.result, f.name))
