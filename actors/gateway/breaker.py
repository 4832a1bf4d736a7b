"""A resilience4j-style circuit breaker per agent: CLOSED → OPEN → HALF_OPEN → CLOSED.

* A count- or time-based sliding window of call outcomes; the breaker opens when at least
  ``minimum_calls`` are in the window and the failure rate or the slow-call rate reaches
  its threshold.
* OPEN rejects calls for a wait that doubles on every re-trip (capped) and resets once the
  circuit closes again, so a flapping agent is probed less and less often (Envoy-style
  ejection, and the fix for LiteLLM #40130 where a re-trip kept the old, shorter deadline).
* HALF_OPEN lets exactly ``half_open_calls`` probes through and decides on their outcome.
* Credentials or configuration failures open the circuit at once: retrying cannot help.
* :meth:`CircuitBreaker.restore` adopts a state rebuilt from the log after a restart.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from actors.agent_stream import FailureKind
from actors.gateway.clock import Clock
from events.errors import ActorError

__all__ = [
    "BreakerConfig",
    "BreakerSnapshot",
    "BreakerState",
    "BreakerTransition",
    "CircuitBreaker",
]


class BreakerState(StrEnum):
    """The three circuit states."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerConfig:
    """Breaker thresholds (defaults tuned for LLM agents, see agents.md §6.3)."""

    window: Literal["count", "time"] = "count"
    window_size: int = 20  # calls (count window) or seconds (time window)
    minimum_calls: int = 5
    failure_rate_threshold: float = 0.5
    slow_call_duration_s: float = 120.0
    slow_call_rate_threshold: float = 1.0
    half_open_calls: int = 3
    wait_open_s: float = 5.0
    wait_multiplier: float = 2.0
    max_wait_open_s: float = 300.0
    immediate_open: frozenset[FailureKind] = frozenset({FailureKind.AUTH, FailureKind.CONFIG})
    # Outcomes that say nothing about the agent's health.
    ignored: frozenset[FailureKind] = frozenset({FailureKind.CANCELLED, FailureKind.REFUSED})


@dataclass(frozen=True)
class BreakerTransition:
    """One state change, reported through ``on_event`` (becomes a domain event and a metric)."""

    name: str
    seq: int
    previous: BreakerState
    state: BreakerState
    reason: str
    open_for_s: float
    at: float


@dataclass(frozen=True)
class BreakerSnapshot:
    """The breaker as the API and the metrics see it."""

    name: str
    state: BreakerState
    calls: int
    failure_rate: float
    slow_call_rate: float
    times_opened: int
    open_for_s: float
    retry_in_s: float


@dataclass(frozen=True)
class _Outcome:
    at: float
    failed: bool
    slow: bool


@dataclass
class _HalfOpen:
    permits: int = 0
    outcomes: list[_Outcome] = field(default_factory=list)


class CircuitBreaker:
    """One agent's circuit breaker.

    Args:
        name: the agent the breaker guards.
        clock: source of time.
        config: thresholds and waits.
        on_event: called with every :class:`BreakerTransition`.
    """

    def __init__(
        self,
        name: str,
        clock: Clock,
        config: BreakerConfig | None = None,
        on_event: Callable[[BreakerTransition], None] | None = None,
    ) -> None:
        self.name = name
        self.config = config or BreakerConfig()
        self._clock = clock
        self._on_event = on_event
        self._state = BreakerState.CLOSED
        maxlen = self.config.window_size if self.config.window == "count" else None
        self._window: deque[_Outcome] = deque(maxlen=maxlen)
        self._half = _HalfOpen()
        self._times_opened = 0
        self._open_for = 0.0
        self._open_until = 0.0
        self._seq = 0

    # -- queries --------------------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        """The current state; an OPEN circuit whose wait elapsed turns HALF_OPEN here."""
        if self._state is BreakerState.OPEN and self._clock.now() >= self._open_until:
            self._move(BreakerState.HALF_OPEN, "open wait elapsed")
        return self._state

    def is_available(self) -> bool:
        """Return True when :meth:`allow` would admit a call, without using a permit."""
        state = self.state
        if state is BreakerState.HALF_OPEN:
            return self._half.permits < self.config.half_open_calls
        return state is BreakerState.CLOSED

    def snapshot(self) -> BreakerSnapshot:
        """Return the state, rates and waits for the API and metrics."""
        state = self.state
        outcomes = self._outcomes()
        calls = len(outcomes)
        return BreakerSnapshot(
            name=self.name,
            state=state,
            calls=calls,
            failure_rate=_rate(outcomes, slow=False),
            slow_call_rate=_rate(outcomes, slow=True),
            times_opened=self._times_opened,
            open_for_s=self._open_for if state is BreakerState.OPEN else 0.0,
            # Clamped: (now + d) - now can exceed d by a rounding error.
            retry_in_s=min(self._open_for, max(0.0, self._open_until - self._clock.now()))
            if state is BreakerState.OPEN
            else 0.0,
        )

    # -- commands -------------------------------------------------------------------------

    def allow(self) -> bool:
        """Admit one call, using a probe permit when HALF_OPEN."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and self._half.permits < self.config.half_open_calls:
            self._half.permits += 1
            return True
        return False

    def record_success(self, duration_s: float) -> None:
        """Record a call that finished well after ``duration_s``."""
        self._record(failed=False, duration_s=duration_s)

    def record_failure(self, kind: FailureKind, duration_s: float) -> None:
        """Record a failed call; auth and config failures open the circuit at once."""
        if kind in self.config.ignored:
            return
        if kind in self.config.immediate_open and self.state is not BreakerState.OPEN:
            self._open(f"{kind.value} failure")
            return
        self._record(failed=True, duration_s=duration_s)

    def trip(self, reason: str, open_for_s: float | None = None) -> None:
        """Open the circuit now, e.g. on a provider-wide ``Retry-After`` longer than the wait."""
        self._open(reason, open_for_s)

    def restore(self, snapshot: BreakerSnapshot) -> None:
        """Adopt a state rebuilt from the event log after a restart, reporting no transition.

        Taken from ``snapshot``: the state, the escalation level (``times_opened``), the
        open wait (``open_for_s``) and what is left of it (``retry_in_s``, measured from
        now on this breaker's clock). A HALF_OPEN circuit comes back HALF_OPEN with fresh
        probe permits. The sliding window starts empty: call outcomes are not in the log,
        so ``calls`` and the rates of ``snapshot`` are ignored.

        Args:
            snapshot: the breaker as it stood, e.g. from
                :func:`actors.gateway.restore.breaker_snapshot`.

        Raises:
            ActorError: the snapshot belongs to another agent.
        """
        if snapshot.name != self.name:
            msg = f"breaker {self.name!r} cannot restore the state of {snapshot.name!r}"
            raise ActorError(msg)
        self._state = snapshot.state
        self._times_opened = max(0, snapshot.times_opened)
        self._open_for = max(0.0, snapshot.open_for_s)
        remaining = min(self._open_for, max(0.0, snapshot.retry_in_s))
        self._open_until = self._clock.now() + remaining
        self._window.clear()
        self._half = _HalfOpen()

    # -- internals ------------------------------------------------------------------------

    def _record(self, *, failed: bool, duration_s: float) -> None:
        state = self.state
        outcome = _Outcome(
            self._clock.now(), failed, duration_s >= self.config.slow_call_duration_s
        )
        if state is BreakerState.CLOSED:
            self._window.append(outcome)
            self._evaluate_closed()
        elif state is BreakerState.HALF_OPEN:
            self._half.outcomes.append(outcome)
            self._evaluate_half_open()
        # OPEN: late results of calls admitted before the trip carry no new information.

    def _outcomes(self) -> list[_Outcome]:
        if self.config.window == "time":
            horizon = self._clock.now() - self.config.window_size
            while self._window and self._window[0].at < horizon:
                self._window.popleft()
        return list(self._window)

    def _evaluate_closed(self) -> None:
        outcomes = self._outcomes()
        if len(outcomes) < self.config.minimum_calls:
            return
        reason = self._trip_reason(outcomes)
        if reason:
            self._open(reason)

    def _evaluate_half_open(self) -> None:
        outcomes = self._half.outcomes
        failed = sum(1 for o in outcomes if o.failed)
        # Decide early once the pending probes can no longer pull the rate under the threshold.
        if failed / self.config.half_open_calls >= self.config.failure_rate_threshold:
            self._open(f"probes: {failed} of {self.config.half_open_calls} failed")
            return
        if len(outcomes) < self.config.half_open_calls:
            return
        reason = self._trip_reason(outcomes)
        if reason:
            self._open(f"probes: {reason}")
        else:
            self._times_opened = 0
            self._window.clear()
            self._move(BreakerState.CLOSED, "probes succeeded")

    def _trip_reason(self, outcomes: list[_Outcome]) -> str:
        failure_rate = _rate(outcomes, slow=False)
        if failure_rate >= self.config.failure_rate_threshold:
            return f"failure rate {failure_rate:.0%} over {len(outcomes)} calls"
        slow_rate = _rate(outcomes, slow=True)
        if slow_rate >= self.config.slow_call_rate_threshold:
            return f"slow-call rate {slow_rate:.0%} over {len(outcomes)} calls"
        return ""

    def _open(self, reason: str, open_for_s: float | None = None) -> None:
        self._times_opened += 1
        escalated = self.config.wait_open_s * self.config.wait_multiplier ** (
            self._times_opened - 1
        )
        wait = min(self.config.max_wait_open_s, escalated)
        if open_for_s is not None:
            wait = min(self.config.max_wait_open_s, max(wait, open_for_s))
        self._open_for = wait
        # A re-trip always extends the deadline from now, never keeps an older, shorter one.
        self._open_until = self._clock.now() + wait
        self._window.clear()
        self._move(BreakerState.OPEN, reason)

    def _move(self, state: BreakerState, reason: str) -> None:
        previous = self._state
        self._state = state
        self._half = _HalfOpen()
        self._seq += 1
        if self._on_event is not None:
            self._on_event(
                BreakerTransition(
                    name=self.name,
                    seq=self._seq,
                    previous=previous,
                    state=state,
                    reason=reason,
                    open_for_s=self._open_for if state is BreakerState.OPEN else 0.0,
                    at=self._clock.now(),
                )
            )


def _rate(outcomes: list[_Outcome], *, slow: bool) -> float:
    if not outcomes:
        return 0.0
    hits = sum(1 for o in outcomes if (o.slow if slow else o.failed))
    return hits / len(outcomes)
