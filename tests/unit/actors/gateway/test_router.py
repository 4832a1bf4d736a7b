"""The gateway router over scripted in-memory backends on a virtual clock."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

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
    BreakerConfig,
    FallbackChain,
    Gateway,
    GatewayConfig,
    GatewayEvent,
    GatewayEventKind,
    Phase,
    ResponseCache,
    RetryPolicy,
    RtoConfig,
    RtoTable,
    VirtualClock,
)

ALL = frozenset(Capability)
TEXT = "The quick brown fox jumps over the lazy dog."


def _tokens(text: str, size: int = 5) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@dataclass
class Step:
    """What one call of a scripted backend does."""

    fail: FailureKind | None = None  # fail before any token with this kind
    cut_after: int | None = None  # emit this many tokens, then end without a final
    hang: bool = False  # never answer
    retry_after_s: float | None = None
    nested_retries: int = 0  # in-band retry events the "CLI" reports first


@dataclass
class ScriptedBackend(AgentBackend):
    """A fake agent: plays one :class:`Step` per call, then answers normally."""

    name: str
    clock: VirtualClock
    steps: list[Step] = field(default_factory=list)
    text: str = TEXT
    latency_s: float = 0.5
    replay_on_resume: bool = False  # restart the answer instead of continuing it
    requests: list[AgentRequest] = field(default_factory=list)

    async def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
        """Play the next step of the script."""
        self.requests.append(request)
        step = self.steps.pop(0) if self.steps else Step()
        seq = 0

        def ev(kind: StreamKind, **kw: object) -> StreamEvent:
            nonlocal seq
            seq += 1
            return StreamEvent(seq=seq, kind=kind, **kw)  # type: ignore[arg-type]

        yield ev(StreamKind.START, session_id=f"{self.name}-s{len(self.requests)}")
        for _ in range(step.nested_retries):
            yield ev(StreamKind.RETRY, text="api_retry")
        if step.hang:
            await asyncio.Event().wait()
        await self.clock.sleep(self.latency_s)
        if step.fail is not None:
            yield ev(StreamKind.ERROR, failure=step.fail, retry_after_s=step.retry_after_s)
            return
        already = request.continuation_of
        rest = self.text if self.replay_on_resume else self.text[len(already) :]
        for i, token in enumerate(_tokens(rest)):
            if step.cut_after is not None and i >= step.cut_after:
                return
            yield ev(StreamKind.DELTA, text=token)
            await self.clock.sleep(0.01)
        yield ev(StreamKind.FINAL)


def _gateway(
    *backends: ScriptedBackend,
    clock: VirtualClock,
    config: GatewayConfig | None = None,
    fallback: FallbackChain | None = None,
    caps: frozenset[Capability] = ALL,
    on_event: Callable[[GatewayEvent], None] | None = None,
) -> Gateway:
    return Gateway(
        [AgentEntry(b, caps) for b in backends],
        clock=clock,
        rng=random.Random(7),
        config=config or GatewayConfig(),
        rto=RtoTable(ttft=RtoConfig(initial_s=30.0), idle_s=10.0),
        fallback=fallback,
        on_event=on_event,
    )


def test_healthy_agent_streams_the_text_once() -> None:
    """A healthy backend's deltas reach the caller unchanged, with one final summary."""
    clock = VirtualClock()
    gw = _gateway(ScriptedBackend("a", clock), clock=clock)
    text, summary = asyncio.run(gw.run("r1", Capability.PLAN, "plan it"))
    assert text == TEXT
    assert summary.ok
    assert summary.agent == "a"
    assert summary.attempts == 1


def test_stream_events_are_strictly_increasing() -> None:
    """The caller sees one start, strictly increasing seq and exactly one final."""
    clock = VirtualClock()
    gw = _gateway(ScriptedBackend("a", clock, steps=[Step(cut_after=2)]), clock=clock)

    async def collect() -> list[StreamEvent]:
        return [e async for e in gw.stream("r1", Capability.CODE, "x")]

    events = asyncio.run(collect())
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs))
    assert [e.kind for e in events].count(StreamKind.FINAL) == 1
    assert [e.kind for e in events].count(StreamKind.START) == 1
    assert events[-1].kind is StreamKind.FINAL


def test_transient_failure_is_retried_on_the_same_agent() -> None:
    """One overload is retried after backoff and then succeeds."""
    clock = VirtualClock()
    a = ScriptedBackend("a", clock, steps=[Step(fail=FailureKind.OVERLOADED)])
    gw = _gateway(a, clock=clock)
    text, summary = asyncio.run(gw.run("r1", Capability.PLAN, "x"))
    assert text == TEXT
    assert summary.attempts == 2
    assert summary.agent == "a"
    assert gw.metrics.retries == 1


def test_retries_stop_when_the_budget_is_drained() -> None:
    """Retries stop as soon as a failure drops the budget to half full."""
    clock = VirtualClock()
    a = ScriptedBackend("a", clock, steps=[Step(fail=FailureKind.OVERLOADED)] * 50)
    config = GatewayConfig(retry=RetryPolicy(max_attempts=5), max_agents=1)
    gw = _gateway(a, clock=clock, config=config)
    gw.budgets["a"].tokens = 6.5  # 5.5 after one failure (retry), 4.5 after two (stop)

    _, summary = asyncio.run(gw.run("r1", Capability.PLAN, "x"))
    assert summary.attempts == 2
    assert summary.degraded


def test_nested_cli_retries_are_charged_to_the_budget() -> None:
    """Retry events reported by a CLI drain the budget so the router adds no retries."""
    clock = VirtualClock()
    steps = [Step(fail=FailureKind.OVERLOADED, nested_retries=5)] * 3
    a = ScriptedBackend("a", clock, steps=steps)
    gw = _gateway(a, clock=clock, config=GatewayConfig(max_agents=1))
    _, summary = asyncio.run(gw.run("r1", Capability.PLAN, "x"))
    assert summary.attempts == 1
    assert summary.nested_retries == 5
    assert gw.budgets["a"].tokens == 4.0


def test_execute_is_never_retried_nor_rerouted() -> None:
    """A failed execute makes exactly one attempt, even with other agents available."""
    clock = VirtualClock()
    a = ScriptedBackend("a", clock, steps=[Step(fail=FailureKind.OVERLOADED)])
    b = ScriptedBackend("b", clock)
    gw = _gateway(a, b, clock=clock)
    _, summary = asyncio.run(gw.run("r1", Capability.EXECUTE, "rm -rf build"))
    assert summary.attempts == 1
    assert not summary.ok
    assert b.requests == []


def test_auth_failure_opens_the_circuit_and_falls_back() -> None:
    """An auth failure is not retried, opens the breaker and moves to another agent."""
    clock = VirtualClock()
    a = ScriptedBackend("a", clock, steps=[Step(fail=FailureKind.AUTH)])
    b = ScriptedBackend("b", clock)
    seen: list[GatewayEvent] = []
    gw = _gateway(a, b, clock=clock, on_event=seen.append)
    text, summary = asyncio.run(gw.run("r1", Capability.REVIEW, "x"))
    assert text == TEXT
    assert summary.agent == "b"
    assert summary.attempts == 2
    assert len(a.requests) == 1
    assert gw.breakers["a"].state.value == "open"
    kinds = [e.kind for e in seen]
    assert GatewayEventKind.CIRCUIT_OPENED in kinds
    assert GatewayEventKind.FALLBACK_USED in kinds


def test_hung_backend_times_out_on_the_virtual_clock() -> None:
    """A backend that never answers hits the TTFT timeout and the next agent answers."""
    clock = VirtualClock()
    a = ScriptedBackend("a", clock, steps=[Step(hang=True)])
    b = ScriptedBackend("b", clock)
    config = GatewayConfig(retry=RetryPolicy(max_attempts=1))
    gw = _gateway(a, b, clock=clock, config=config)
    text, summary = asyncio.run(gw.run("r1", Capability.ANALYZE, "x"))
    assert text == TEXT
    assert summary.agent == "b"
    assert gw.metrics.timeouts == 1
    assert gw.rto.estimator("a", "analyze", Phase.TTFT).rto == 60.0  # 30 s doubled


def test_cache_answers_when_every_agent_fails() -> None:
    """A cached answer from an earlier success is served when all agents fail."""
    clock = VirtualClock()
    a = ScriptedBackend("a", clock)
    chain = FallbackChain(cache=ResponseCache(clock, ttl_s=600))
    gw = _gateway(a, clock=clock, fallback=chain)
    asyncio.run(gw.run("r1", Capability.REVIEW, "same prompt"))
    a.steps = [Step(fail=FailureKind.AUTH)]
    text, summary = asyncio.run(gw.run("r2", Capability.REVIEW, "same prompt"))
    assert text == TEXT
    assert summary.fallback == "cache"
    assert summary.ok
    assert not summary.degraded


def test_degraded_default_when_nothing_else_helps() -> None:
    """With every agent failing and no cache, a rule-based answer marked degraded is sent."""
    clock = VirtualClock()
    a = ScriptedBackend("a", clock, steps=[Step(fail=FailureKind.CONFIG)])
    gw = _gateway(a, clock=clock)
    text, summary = asyncio.run(gw.run("r1", Capability.PLAN, "x"))
    assert text.startswith("[degraded]")
    assert summary.degraded
    assert summary.fallback == "degraded"
    assert not summary.ok


@pytest.mark.parametrize("replay", [False, True])
def test_mid_stream_cut_resumes_without_duplicating_text(replay: bool) -> None:
    """A cut after the first tokens continues the answer; the client gets every char once."""
    clock = VirtualClock()
    a = ScriptedBackend("a", clock, steps=[Step(cut_after=3)], replay_on_resume=replay)
    gw = _gateway(a, clock=clock)
    text, summary = asyncio.run(gw.run("r1", Capability.CODE, "x"))
    assert text == TEXT
    assert summary.attempts == 2
    assert a.requests[1].continuation_of == TEXT[:15]
    assert gw.metrics.resumes == 1


def test_mid_stream_cut_resumes_the_session_when_supported() -> None:
    """A backend that supports resume gets its own session id back."""
    clock = VirtualClock()
    a = ScriptedBackend("a", clock, steps=[Step(cut_after=2)])
    gw = Gateway([AgentEntry(a, ALL, supports_resume=True)], clock=clock, rng=random.Random(1))
    text, _ = asyncio.run(gw.run("r1", Capability.CODE, "x"))
    assert text == TEXT
    assert a.requests[1].resume_session_id == "a-s1"


def test_mid_stream_cut_falls_back_to_another_agent_without_restarting() -> None:
    """When the first agent keeps cutting, another agent continues the visible text."""
    clock = VirtualClock()
    a = ScriptedBackend("a", clock, steps=[Step(cut_after=2), Step(fail=FailureKind.AUTH)])
    b = ScriptedBackend("b", clock, replay_on_resume=True)
    gw = _gateway(a, b, clock=clock)
    text, summary = asyncio.run(gw.run("r1", Capability.CODE, "x"))
    assert text == TEXT
    assert summary.agent == "b"


def test_open_circuit_is_skipped_by_the_balancer() -> None:
    """After the breaker opens, requests go to the other agent without touching it."""
    clock = VirtualClock()
    a = ScriptedBackend("a", clock, steps=[Step(fail=FailureKind.OVERLOADED)] * 100)
    b = ScriptedBackend("b", clock)
    config = GatewayConfig(
        breaker=BreakerConfig(minimum_calls=2, window_size=4, wait_open_s=1000),
        retry=RetryPolicy(max_attempts=1),
    )
    gw = _gateway(a, b, clock=clock, config=config)

    async def many() -> None:
        for i in range(10):
            await gw.run(f"r{i}", Capability.PLAN, "x")

    asyncio.run(many())
    assert len(a.requests) == 2
    assert gw.metrics.successes == 10


def test_faults_at_five_percent_keep_success_high_and_amplification_low() -> None:
    """2,000 requests with 5 % injected faults: ≥ 99.5 % succeed, ≤ 1.2 attempts each."""
    clock = VirtualClock()
    rng = random.Random(2024)
    kinds = [FailureKind.OVERLOADED, FailureKind.RATE_LIMIT, FailureKind.TIMEOUT, FailureKind.CUT]

    class Faulty(ScriptedBackend):
        async def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
            if rng.random() < 0.05:
                kind = rng.choice(kinds)
                if kind is FailureKind.TIMEOUT:
                    self.steps.insert(0, Step(hang=True))
                elif kind is FailureKind.CUT:
                    self.steps.insert(0, Step(cut_after=rng.randrange(0, 8)))
                else:
                    self.steps.insert(0, Step(fail=kind, retry_after_s=0.5))
            async for event in super().stream(request):
                yield event

    agents = [Faulty(n, clock, latency_s=0.2) for n in ("a", "b", "c")]
    gw = _gateway(*agents, clock=clock)
    ok = 0

    async def drive() -> None:
        nonlocal ok
        for i in range(2000):
            text, summary = await gw.run(f"r{i}", Capability.CODE, f"prompt {i}")
            ok += summary.ok and text == TEXT

    asyncio.run(drive())
    rate = ok / 2000
    amplification = gw.metrics.attempts_per_request
    print(f"success={rate:.4f} attempts/request={amplification:.3f} {gw.metrics}")
    assert rate >= 0.995
    assert amplification <= 1.2


def test_route_restricts_agents_and_balancer_per_capability() -> None:
    """A review route over [b] sends every review to b; plan still round-robins over all."""
    clock = VirtualClock()
    config = GatewayConfig(
        route_balancers={"review": "least_connections"}, route_agents={"review": ("b",)}
    )
    backends = [ScriptedBackend(n, clock) for n in ("a", "b", "c")]
    gw = _gateway(*backends, clock=clock, config=config)

    async def run_all() -> tuple[list[str], list[str]]:
        reviews = [(await gw.run(f"r{i}", Capability.REVIEW, "check"))[1].agent for i in range(4)]
        plans = [(await gw.run(f"p{i}", Capability.PLAN, "plan"))[1].agent for i in range(3)]
        return reviews, plans

    reviews, plans = asyncio.run(run_all())
    assert reviews == ["b", "b", "b", "b"]
    assert sorted(plans) == ["a", "b", "c"]
