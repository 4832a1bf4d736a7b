"""Breakers rebuilt from the Agent events a real SQLite store holds, on injected clocks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors.agent_stream import Capability, FailureKind
from actors.agents.config import AgentConfig, AgentsConfig
from actors.agents.scripted import ScriptedBackend
from actors.gateway import (
    AgentEntry,
    BreakerConfig,
    BreakerSnapshot,
    BreakerState,
    CircuitBreaker,
    Gateway,
    GatewayConfig,
    GatewayEventSink,
    VirtualClock,
    breaker_snapshot,
    load_breaker_snapshots,
    restore_breakers,
)
from actors.gateway_service import GatewayService
from events.agent import Agent, agent_id
from events.errors import ActorError
from events.store import EventStore, StoreConfig

CONFIG = BreakerConfig(minimum_calls=2, half_open_calls=2, wait_open_s=10.0, max_wait_open_s=80.0)


def _store_config(tmp_path: Path) -> StoreConfig:
    return StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.db")


def _live(store: EventStore, clock: VirtualClock, *names: str) -> Gateway:
    """A router whose breaker transitions are recorded in ``store``."""
    entries = [AgentEntry(ScriptedBackend(n), frozenset({Capability.PLAN})) for n in names]
    return Gateway(
        entries,
        clock=clock,
        config=GatewayConfig(breaker=CONFIG),
        on_event=GatewayEventSink(store, epoch="e1"),
    )


def _fresh(name: str = "a") -> tuple[CircuitBreaker, VirtualClock]:
    clock = VirtualClock(start=1000.0)
    return CircuitBreaker(name, clock, CONFIG), clock


def _last_open_at(store: EventStore, name: str) -> datetime:
    opened = [e for e in store.events_of(agent_id(name)) if isinstance(e, Agent.CircuitOpened)]
    return opened[-1].timestamp  # type: ignore[no-any-return]


def _fail_probes(breaker: CircuitBreaker, clock: VirtualClock) -> None:
    """Let the open wait pass and fail the probes, so the circuit re-trips."""
    clock.advance(breaker.snapshot().retry_in_s)
    assert breaker.allow()
    breaker.record_failure(FailureKind.OVERLOADED, 1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    opened = EventStore(_store_config(tmp_path))
    try:
        yield opened
    finally:
        opened.close()


def test_agent_without_history_restores_closed(store: EventStore) -> None:
    """An agent that never tripped comes back CLOSED at escalation level 0."""
    _live(store, VirtualClock(), "a")
    snap = load_breaker_snapshots(store, ["a", "never-registered"])
    assert snap["a"].state is BreakerState.CLOSED
    assert snap["a"].times_opened == 0
    assert snap["never-registered"].state is BreakerState.CLOSED


def test_open_circuit_keeps_the_rest_of_its_wait(store: EventStore) -> None:
    """Tripped for 60 s, restored 15 s later: OPEN, rejecting, 45 s left, then HALF_OPEN."""
    _live(store, VirtualClock(), "a").breakers["a"].trip("provider down", open_for_s=60.0)
    now = _last_open_at(store, "a") + timedelta(seconds=15)
    breaker, clock = _fresh()
    restore_breakers({"a": breaker}, store, now)
    snap = breaker.snapshot()
    assert snap.state is BreakerState.OPEN
    assert snap.times_opened == 1
    assert snap.open_for_s == 60.0
    assert snap.retry_in_s == pytest.approx(45.0)
    assert not breaker.allow()
    clock.advance(45.0)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()


def test_wait_that_ran_out_during_the_restart_allows_probes(store: EventStore) -> None:
    """An open wait that elapsed while the gateway was down lets half-open probes through."""
    _live(store, VirtualClock(), "a").breakers["a"].trip("down")
    now = _last_open_at(store, "a") + timedelta(minutes=5)
    breaker, _ = _fresh()
    restore_breakers({"a": breaker}, store, now)
    assert breaker.snapshot().retry_in_s == 0.0
    assert breaker.is_available()
    assert [breaker.allow() for _ in range(3)] == [True, True, False]


def test_half_open_circuit_restores_with_fresh_probe_permits(store: EventStore) -> None:
    """A circuit that was HALF_OPEN comes back HALF_OPEN: exactly ``half_open_calls`` probes."""
    clock = VirtualClock()
    live = _live(store, clock, "a").breakers["a"]
    live.trip("down")
    clock.advance(10.0)
    assert live.state is BreakerState.HALF_OPEN
    breaker, _ = _fresh()
    restore_breakers({"a": breaker}, store)
    assert breaker.state is BreakerState.HALF_OPEN
    assert [breaker.allow() for _ in range(3)] == [True, True, False]


def test_escalation_level_survives_and_next_trip_waits_longer(store: EventStore) -> None:
    """Two trips before the restart: the next re-trip waits 10 s x 2^2 = 40 s, not 10 s."""
    clock = VirtualClock()
    live = _live(store, clock, "a").breakers["a"]
    live.trip("down")
    _fail_probes(live, clock)
    assert live.snapshot().times_opened == 2
    now = _last_open_at(store, "a") + timedelta(hours=1)
    breaker, restored_clock = _fresh()
    restore_breakers({"a": breaker}, store, now)
    assert breaker.snapshot().times_opened == 2
    _fail_probes(breaker, restored_clock)
    snap = breaker.snapshot()
    assert (snap.state, snap.times_opened, snap.open_for_s) == (BreakerState.OPEN, 3, 40.0)


def test_closed_after_trips_resets_the_escalation(store: EventStore) -> None:
    """OPEN → HALF_OPEN → CLOSED in the log restores CLOSED at level 0."""
    clock = VirtualClock()
    live = _live(store, clock, "a").breakers["a"]
    live.trip("down")
    clock.advance(10.0)
    for _ in range(2):
        assert live.allow()
        live.record_success(1)
    assert live.state is BreakerState.CLOSED
    breaker, _ = _fresh()
    restore_breakers({"a": breaker}, store)
    assert (breaker.state, breaker.snapshot().times_opened) == (BreakerState.CLOSED, 0)


def test_restore_appends_no_event(store: EventStore) -> None:
    """Restoring is silent: the log already holds the transitions it replays."""
    _live(store, VirtualClock(), "a").breakers["a"].trip("down", open_for_s=60.0)
    head = store.head()
    seen: list[object] = []
    breaker = CircuitBreaker("a", VirtualClock(), CONFIG, seen.append)
    restore_breakers({"a": breaker}, store)
    assert store.head() == head
    assert seen == []


def test_restore_refuses_another_agents_snapshot() -> None:
    """A snapshot is applied only to the breaker of the agent it names."""
    breaker, _ = _fresh("a")
    other = BreakerSnapshot("b", BreakerState.OPEN, 0, 0.0, 0.0, 1, 5.0, 5.0)
    with pytest.raises(ActorError):
        breaker.restore(other)


def test_clock_stepped_back_never_lengthens_the_wait(store: EventStore) -> None:
    """A wall clock earlier than the trip restores at most the recorded wait."""
    _live(store, VirtualClock(), "a").breakers["a"].trip("down", open_for_s=30.0)
    now = _last_open_at(store, "a") - timedelta(minutes=10)
    snap = load_breaker_snapshots(store, ["a"], now)["a"]
    assert snap.retry_in_s == 30.0


def test_gateway_service_restart_keeps_an_open_breaker(tmp_path: Path) -> None:
    """A second GatewayService on the same log reports the agent's breaker still open."""
    config = AgentsConfig(
        agents=(AgentConfig(name="a", backend="scripted", capabilities=(Capability.PLAN,)),)
    )
    first = GatewayService(_store_config(tmp_path), config, {"a": ScriptedBackend("a")})
    first.gateway.breakers["a"].trip("provider down", open_for_s=300.0)
    first.close()
    second = GatewayService(_store_config(tmp_path), config, {"a": ScriptedBackend("a")})
    try:
        row = second.agents()[0]
        assert (row["breaker"], row["times_opened"]) == ("open", 1)
        assert not second.gateway.breakers["a"].is_available()
    finally:
        second.close()


_OPS = st.lists(
    st.one_of(
        st.just("fail"),
        st.just("ok"),
        st.just("trip"),
        st.floats(min_value=0.0, max_value=100.0),
    ),
    max_size=30,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_OPS)
def test_restored_state_matches_the_live_breaker(ops: list[object]) -> None:
    """For any run of calls, trips and waits, the log restores the live state and level."""
    store = EventStore(StoreConfig(backend="memory"))
    try:
        clock = VirtualClock()
        live = _live(store, clock, "a").breakers["a"]
        for op in ops:
            if isinstance(op, float):
                clock.advance(op)
            elif op == "trip":
                live.trip("forced")
            elif live.allow():
                if op == "fail":
                    live.record_failure(FailureKind.OVERLOADED, 1)
                else:
                    live.record_success(1)
        expected = live.snapshot()  # may move an elapsed OPEN to HALF_OPEN, and record it
        events = list(store.events_of(agent_id("a")))
        restored = breaker_snapshot("a", events, events[-1].timestamp)
        assert restored.state is expected.state
        assert restored.times_opened == expected.times_opened
        if expected.state is BreakerState.OPEN:
            assert restored.open_for_s == expected.open_for_s
    finally:
        store.close()
