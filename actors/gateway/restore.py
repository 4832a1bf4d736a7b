"""Rebuild each agent's circuit breaker from the event log after a gateway restart.

Ray re-runs the gateway's ``__init__`` on restart, so its breakers would start CLOSED and
a sick agent would get a full burst of traffic again. Every breaker transition is already an
``Agent`` event (see :mod:`actors.gateway.sink`), so the state is read back instead:

* the last transition decides the state (``CircuitOpened`` → OPEN, ``CircuitHalfOpened`` →
  HALF_OPEN, ``CircuitClosed`` or none → CLOSED);
* the escalation level is the number of ``CircuitOpened`` since the last ``CircuitClosed``
  (the breaker resets it when the circuit closes), so the next re-trip waits as long as it
  would have without the restart;
* an OPEN circuit keeps what is left of its wait, measured from the event's wall-clock
  timestamp; a wait that ran out while the gateway was down leaves the circuit OPEN with
  nothing left, so the next look at it turns it HALF_OPEN and lets probes through.

Not restored: the sliding window of call outcomes (outcomes are not in the log) and the
RFC 6298 timeout estimators (SRTT/RTTVAR are not recorded either); both start fresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from actors.gateway.breaker import BreakerSnapshot, BreakerState, CircuitBreaker
from events.agent import Agent, agent_id
from events.store import EventStore

__all__ = ["breaker_snapshot", "load_breaker_snapshots", "restore_breakers"]


def breaker_snapshot(name: str, events: Iterable[object], now: datetime) -> BreakerSnapshot:
    """Fold one agent's events (oldest first) into the breaker state they leave behind.

    Args:
        name: the agent.
        events: the ``Agent`` aggregate's domain events; other events are ignored, and a
            suffix of the history that starts at a ``CircuitClosed`` is enough.
        now: the current wall-clock time (timezone-aware, like the event timestamps).

    Returns:
        A snapshot for :meth:`CircuitBreaker.restore` with no calls in its window.
    """
    state, level, open_for, opened_at = BreakerState.CLOSED, 0, 0.0, now
    for event in events:
        if isinstance(event, Agent.CircuitOpened):
            state, level = BreakerState.OPEN, level + 1
            open_for, opened_at = event.open_for_s, event.timestamp
        elif isinstance(event, Agent.CircuitHalfOpened):
            state = BreakerState.HALF_OPEN
        elif isinstance(event, Agent.CircuitClosed):
            state, level = BreakerState.CLOSED, 0
    retry_in = 0.0
    if state is BreakerState.OPEN:
        elapsed = (now - opened_at).total_seconds()
        # A clock that stepped back must not lengthen the wait beyond what was recorded.
        retry_in = min(open_for, max(0.0, open_for - elapsed))
    return BreakerSnapshot(
        name=name,
        state=state,
        calls=0,
        failure_rate=0.0,
        slow_call_rate=0.0,
        times_opened=level,
        open_for_s=open_for if state is BreakerState.OPEN else 0.0,
        retry_in_s=retry_in,
    )


def load_breaker_snapshots(
    store: EventStore, names: Iterable[str], now: datetime | None = None
) -> dict[str, BreakerSnapshot]:
    """Read each agent's breaker state from the log.

    Only the events since the agent's last ``CircuitClosed`` are read (newest first, then
    put back in order), so the cost stays small however long the history is.

    Args:
        store: the event store.
        names: the agents.
        now: wall-clock time to measure open waits against (default: the current time).

    Returns:
        Agent name → snapshot (CLOSED for an agent with no breaker history).
    """
    at = now or datetime.now(UTC)
    snapshots = {}
    for name in names:
        recent: list[object] = []
        for event in store.events.get(agent_id(name), desc=True):
            recent.append(event)
            if isinstance(event, Agent.CircuitClosed | Agent.Registered):
                break
        snapshots[name] = breaker_snapshot(name, reversed(recent), at)
    return snapshots


def restore_breakers(
    breakers: Mapping[str, CircuitBreaker], store: EventStore, now: datetime | None = None
) -> dict[str, BreakerSnapshot]:
    """Restore every breaker in ``breakers`` from the log (the gateway's restart hook).

    Args:
        breakers: agent name → breaker (the router's ``breakers``).
        store: the event store.
        now: wall-clock time to measure open waits against (default: the current time).

    Returns:
        The snapshots applied, by agent name.
    """
    snapshots = load_breaker_snapshots(store, breakers, now)
    for name, snapshot in snapshots.items():
        breakers[name].restore(snapshot)
    return snapshots
