"""Hedged requests in the router, on a virtual clock with in-memory agents."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from actors.agent_stream import (
    AgentBackend,
    AgentRequest,
    Capability,
    FailureKind,
    StreamEvent,
    StreamKind,
)
from actors.gateway import (
    AgentEntry,
    Gateway,
    GatewayConfig,
    GatewayEvent,
    GatewayEventKind,
    HedgeConfig,
    HedgePolicy,
    RtoConfig,
    RtoTable,
    VirtualClock,
)

TEXT = "hedged answers arrive exactly once"
P95 = 1.0


@dataclass
class TimedAgent(AgentBackend):
    """Answers after ``ttft_s`` (or fails after ``fail_after_s``); records calls and cancels."""

    name: str
    clock: VirtualClock
    ttft_s: float = 0.1
    fail_after_s: float | None = None
    started_at: list[float] = field(default_factory=list)
    cancelled_at: list[float] = field(default_factory=list)

    async def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
        """Start, wait, then stream the text word by word (or fail)."""
        self.started_at.append(self.clock.now())
        try:
            yield StreamEvent(seq=1, kind=StreamKind.START, session_id=f"{self.name}-s")
            if self.fail_after_s is not None:
                await self.clock.sleep(self.fail_after_s)
                yield StreamEvent(seq=2, kind=StreamKind.ERROR, failure=FailureKind.OVERLOADED)
                return
            await self.clock.sleep(self.ttft_s)
            for i, word in enumerate(TEXT.split(" ")):
                text = word if i == 0 else " " + word
                yield StreamEvent(seq=2 + i, kind=StreamKind.DELTA, text=text)
                await self.clock.sleep(0.01)
            yield StreamEvent(seq=99, kind=StreamKind.FINAL)
        except asyncio.CancelledError:
            self.cancelled_at.append(self.clock.now())
            raise


def _policy(
    *, tokens: float = 10.0, ratio: float = 0.1, caps: tuple[Capability, ...] = ()
) -> HedgePolicy:
    policy = HedgePolicy(HedgeConfig(budget_ratio=ratio, max_tokens=10.0))
    for cap in caps or (Capability.ANALYZE, Capability.REVIEW, Capability.CODE):
        for _ in range(100):  # a deep window: a few slow answers do not move the p95
            policy.record_ttft(cap, P95)
    policy.tokens = tokens
    return policy


def _gateway(
    *agents: TimedAgent,
    clock: VirtualClock,
    hedge: HedgePolicy | None,
    events: list[GatewayEvent] | None = None,
) -> Gateway:
    return Gateway(
        [AgentEntry(a, frozenset(Capability)) for a in agents],
        clock=clock,
        rng=random.Random(1),
        config=GatewayConfig(),
        rto=RtoTable(ttft=RtoConfig(initial_s=30.0), idle_s=10.0),
        on_event=events.append if events is not None else None,
        hedge=hedge,
    )


async def _collect(gw: Gateway, capability: Capability, rid: str = "r1") -> list[StreamEvent]:
    return [e async for e in gw.stream(rid, capability, "look")]


def test_slow_primary_is_hedged_after_p95_and_the_faster_answer_wins() -> None:
    """The hedge starts at exactly p95; its answer is delivered once and the primary cancelled."""
    clock = VirtualClock()
    slow, fast = TimedAgent("a", clock, ttft_s=5.0), TimedAgent("b", clock, ttft_s=0.1)
    policy = _policy()
    gw = _gateway(slow, fast, clock=clock, hedge=policy)
    events = asyncio.run(_collect(gw, Capability.ANALYZE))
    kinds = [e.kind for e in events]
    assert "".join(e.text for e in events if e.kind is StreamKind.DELTA) == TEXT
    assert kinds.count(StreamKind.START) == 1
    assert kinds.count(StreamKind.FINAL) == 1
    assert [e.seq for e in events] == sorted({e.seq for e in events})
    assert events[-1].data["agent"] == "b"
    assert events[-1].data["attempts"] == 2
    assert fast.started_at == [P95]
    assert slow.cancelled_at == [P95 + 0.1]  # cancelled when the hedge's first token arrived
    assert policy.hedges == 1
    assert gw.slots["a"].in_flight == gw.slots["b"].in_flight == 0
    assert gw.breakers["a"].snapshot().failure_rate == 0.0  # losing is not failing


def test_no_hedge_when_the_primary_answers_before_p95() -> None:
    """A primary whose first token comes before p95 runs alone."""
    clock = VirtualClock()
    a, b = TimedAgent("a", clock, ttft_s=0.5), TimedAgent("b", clock)
    policy = _policy()
    gw = _gateway(a, b, clock=clock, hedge=policy)
    text, summary = asyncio.run(gw.run("r1", Capability.REVIEW, "look"))
    assert (text, summary.agent, summary.attempts) == (TEXT, "a", 1)
    assert b.started_at == []
    assert policy.hedges == 0


def test_code_and_execute_are_never_hedged() -> None:
    """Non-idempotent capabilities wait for the slow primary, even with budget and samples."""
    for capability in (Capability.CODE, Capability.EXECUTE):
        clock = VirtualClock()
        a, b = TimedAgent("a", clock, ttft_s=5.0), TimedAgent("b", clock)
        policy = _policy()
        gw = _gateway(a, b, clock=clock, hedge=policy)
        text, summary = asyncio.run(gw.run("r1", capability, "do it"))
        assert (text, summary.agent, summary.attempts) == (TEXT, "a", 1)
        assert b.started_at == []
        assert policy.hedges == 0


def test_no_hedge_without_enough_samples() -> None:
    """Below the minimum sample count there is no p95 and so no hedge."""
    clock = VirtualClock()
    a, b = TimedAgent("a", clock, ttft_s=5.0), TimedAgent("b", clock)
    policy = HedgePolicy()
    policy.tokens = 10.0
    gw = _gateway(a, b, clock=clock, hedge=policy)
    _, summary = asyncio.run(gw.run("r1", Capability.ANALYZE, "look"))
    assert summary.attempts == 1
    assert b.started_at == []


def test_hedges_stay_within_the_budget() -> None:
    """With 0.5 tokens earned per request and none at the start, 6 slow requests hedge 3 times."""
    clock = VirtualClock()
    a, b = TimedAgent("a", clock, ttft_s=5.0), TimedAgent("b", clock, ttft_s=5.0)
    policy = _policy(tokens=0.0, ratio=0.5)
    gw = _gateway(a, b, clock=clock, hedge=policy)

    async def many() -> None:
        for i in range(6):
            await gw.run(f"r{i}", Capability.ANALYZE, "look")

    asyncio.run(many())
    assert policy.hedges == 3
    assert gw.metrics.attempts == 6 + 3
    assert gw.metrics.successes == 6


def test_a_primary_failing_during_the_race_is_charged_and_the_hedge_wins() -> None:
    """The primary fails after the hedge started: its failure is recorded, the hedge answers."""
    clock = VirtualClock()
    a = TimedAgent("a", clock, fail_after_s=1.5)
    b = TimedAgent("b", clock, ttft_s=2.0)
    seen: list[GatewayEvent] = []
    gw = _gateway(a, b, clock=clock, hedge=_policy(), events=seen)
    text, summary = asyncio.run(gw.run("r1", Capability.ANALYZE, "look"))
    assert (text, summary.agent, summary.attempts, summary.ok) == (TEXT, "b", 2, True)
    failed = [e for e in seen if e.kind is GatewayEventKind.ATTEMPT_FAILED]
    assert [(e.agent, e.failure) for e in failed] == [("a", "overloaded")]
    assert a.cancelled_at == []


def test_a_single_agent_is_never_hedged_against_itself() -> None:
    """With no other capable agent the slow primary simply runs to the end."""
    clock = VirtualClock()
    a = TimedAgent("a", clock, ttft_s=5.0)
    policy = _policy()
    gw = _gateway(a, clock=clock, hedge=policy)
    text, summary = asyncio.run(gw.run("r1", Capability.ANALYZE, "look"))
    assert (text, summary.attempts) == (TEXT, 1)
    assert policy.hedges == 0
    assert policy.tokens == 10.0
