"""Circuit breaker: resilience4j state machine, escalating open wait, immediate opens."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from actors.agent_stream import FailureKind
from actors.gateway import BreakerConfig, BreakerState, BreakerTransition, CircuitBreaker
from actors.gateway.clock import VirtualClock

CONFIG = BreakerConfig(
    window_size=10,
    minimum_calls=4,
    failure_rate_threshold=0.5,
    slow_call_duration_s=10.0,
    slow_call_rate_threshold=0.8,
    half_open_calls=3,
    wait_open_s=5.0,
    max_wait_open_s=40.0,
)


def _breaker(
    config: BreakerConfig = CONFIG,
) -> tuple[CircuitBreaker, VirtualClock, list[BreakerTransition]]:
    clock = VirtualClock()
    seen: list[BreakerTransition] = []
    return CircuitBreaker("a", clock, config, seen.append), clock, seen


def test_opens_when_failure_rate_reaches_threshold_with_minimum_calls() -> None:
    """Two failures in four calls (50 %) open the circuit; three calls never do."""
    breaker, _, seen = _breaker()
    breaker.record_success(1)
    breaker.record_failure(FailureKind.OVERLOADED, 1)
    breaker.record_failure(FailureKind.OVERLOADED, 1)
    assert breaker.state is BreakerState.CLOSED
    breaker.record_success(1)
    assert breaker.state is BreakerState.OPEN
    assert seen[-1].open_for_s == 5.0


def test_slow_calls_open_the_circuit() -> None:
    """Successful but slow calls trip the slow-call-rate threshold."""
    breaker, _, _ = _breaker()
    for _ in range(4):
        breaker.record_success(30.0)
    assert breaker.state is BreakerState.OPEN


def test_auth_and_config_failures_open_at_once() -> None:
    """A single auth or config failure opens the circuit regardless of volume."""
    for kind in (FailureKind.AUTH, FailureKind.CONFIG):
        breaker, _, _ = _breaker()
        breaker.record_failure(kind, 0.1)
        assert breaker.state is BreakerState.OPEN
        assert not breaker.allow()


def test_refusals_and_cancellations_are_ignored() -> None:
    """Outcomes that say nothing about agent health never count."""
    breaker, _, _ = _breaker()
    for _ in range(10):
        breaker.record_failure(FailureKind.REFUSED, 1)
        breaker.record_failure(FailureKind.CANCELLED, 1)
    assert breaker.snapshot().calls == 0


def test_half_open_admits_exactly_the_probe_count_and_closes_on_success() -> None:
    """After the wait, three probes pass; their success closes the circuit."""
    breaker, clock, seen = _breaker()
    breaker.trip("test")
    clock.advance(5.0)
    assert [breaker.allow() for _ in range(5)] == [True, True, True, False, False]
    for _ in range(3):
        breaker.record_success(1)
    assert breaker.state is BreakerState.CLOSED
    assert [t.state for t in seen] == [
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.CLOSED,
    ]


def test_re_trips_double_the_wait_up_to_the_cap_and_reset_on_close() -> None:
    """Each failed probe round doubles the open wait (5, 10, 20, 40, 40); closing resets it."""
    breaker, clock, seen = _breaker()
    breaker.trip("test")
    for _ in range(4):
        clock.advance(seen[-1].open_for_s)
        assert breaker.allow()
        breaker.record_failure(FailureKind.TIMEOUT, 1)
        breaker.record_failure(FailureKind.TIMEOUT, 1)
    waits = [t.open_for_s for t in seen if t.state is BreakerState.OPEN]
    assert waits == [5.0, 10.0, 20.0, 40.0, 40.0]
    clock.advance(40.0)
    for _ in range(3):
        breaker.allow()
        breaker.record_success(1)
    breaker.trip("again")
    assert seen[-1].open_for_s == 5.0


def test_re_trip_extends_the_deadline_from_now() -> None:
    """A Retry-After trip longer than the current wait extends it (LiteLLM #40130)."""
    breaker, clock, _ = _breaker()
    breaker.trip("first")
    clock.advance(4.0)
    breaker.trip("retry-after", open_for_s=30.0)
    clock.advance(20.0)
    assert breaker.state is BreakerState.OPEN
    assert breaker.snapshot().retry_in_s == 10.0


def test_time_window_forgets_old_outcomes() -> None:
    """A time-based window drops outcomes older than its size in seconds."""
    breaker, clock, _ = _breaker(BreakerConfig(window="time", window_size=60, minimum_calls=4))
    for _ in range(3):
        breaker.record_failure(FailureKind.OVERLOADED, 1)
    clock.advance(61)
    breaker.record_failure(FailureKind.OVERLOADED, 1)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.snapshot().calls == 1


class BreakerMachine(RuleBasedStateMachine):
    """Random call sequences against a model of the count-based window."""

    def __init__(self) -> None:
        super().__init__()
        self.breaker, self.clock, self.seen = _breaker()
        self.window: list[tuple[bool, bool]] = []
        self.half_open_allows = 0
        self.transitions = 0

    def _expect_after_record(self, failed: bool, slow: bool, before: BreakerState) -> None:
        if before is not BreakerState.CLOSED:
            return
        self.window = [*self.window, (failed, slow)][-CONFIG.window_size :]
        n = len(self.window)
        should_open = n >= CONFIG.minimum_calls and (
            sum(f for f, _ in self.window) / n >= CONFIG.failure_rate_threshold
            or sum(s for _, s in self.window) / n >= CONFIG.slow_call_rate_threshold
        )
        assert (self.breaker.state is BreakerState.OPEN) == should_open
        if should_open:
            self.window = []

    def _state(self) -> BreakerState:
        state = self.breaker.state
        if state is not BreakerState.HALF_OPEN:
            self.half_open_allows = 0
        for t in self.seen[self.transitions :]:
            if t.state is not BreakerState.CLOSED or t.previous is BreakerState.HALF_OPEN:
                self.window = []  # every open and every close after probing resets the window
        self.transitions = len(self.seen)
        return state

    @rule()
    def allow(self) -> None:
        state = self._state()
        if self.breaker.allow() and state is BreakerState.HALF_OPEN:
            self.half_open_allows += 1

    @rule(failed=st.booleans(), duration=st.sampled_from([1.0, 20.0]))
    def record(self, failed: bool, duration: float) -> None:
        before = self._state()
        if failed:
            self.breaker.record_failure(FailureKind.OVERLOADED, duration)
        else:
            self.breaker.record_success(duration)
        self._expect_after_record(failed, duration >= CONFIG.slow_call_duration_s, before)
        self._state()

    @rule(seconds=st.floats(min_value=0, max_value=50))
    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @precondition(lambda self: self.breaker.state is BreakerState.CLOSED)
    @rule()
    def auth_failure(self) -> None:
        self.breaker.record_failure(FailureKind.AUTH, 0.1)
        assert self.breaker.state is BreakerState.OPEN
        self.window = []

    @invariant()
    def probes_never_exceed_the_permitted_count(self) -> None:
        assert self.half_open_allows <= CONFIG.half_open_calls

    @invariant()
    def open_time_never_exceeds_the_cap(self) -> None:
        assert all(t.open_for_s <= CONFIG.max_wait_open_s for t in self.seen)
        assert self.breaker.snapshot().retry_in_s <= CONFIG.max_wait_open_s


BreakerMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=40, deadline=None)
TestBreakerMachine = BreakerMachine.TestCase
