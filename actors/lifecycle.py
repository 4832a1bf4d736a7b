"""Record actor starts and restarts in the event log (plain Python, no Ray).

Ray re-runs an actor's constructor on restart; the supervision wrapper calls
:func:`record_start` from there with Ray's "was this actor reconstructed?" flag, so the log
shows ``ActorLifecycle.Started`` for a fresh incarnation and ``ActorLifecycle.Restarted`` (with
the running restart count) for a reconstruction.
"""

from __future__ import annotations

import os
import socket

from eventsourcing.application import AggregateNotFoundError

from events.runtime import ActorLifecycle, Alert
from events.store import EventStore, aggregate_id

__all__ = ["acknowledge_alert", "raise_alert", "record_exhausted", "record_start", "record_stop"]


def _create(actor: str) -> object:
    def build(command_id: str) -> ActorLifecycle:
        return ActorLifecycle._create(  # type: ignore[no-any-return]
            ActorLifecycle.Registered,
            id=aggregate_id("actor", actor),
            command_id=command_id,
            actor=actor,
        )

    return build


def record_start(store: EventStore, actor: str, *, reconstructed: bool, incarnation: str) -> int:
    """Append ``Started`` or ``Restarted`` for this incarnation; return the restart count.

    Args:
        store: the event store.
        actor: the actor's name.
        reconstructed: True when Ray restarted the actor after a failure.
        incarnation: a unique id of this process incarnation (makes the command idempotent).
    """
    pid, node = os.getpid(), socket.gethostname()

    def act(agg: ActorLifecycle) -> None:
        if reconstructed:
            agg.restart(
                actor=actor, restarts=agg.restarts + 1, reason="crashed", node=node, pid=pid
            )
        else:
            agg.start(actor=actor, node=node, pid=pid)

    agg = store.execute(
        ActorLifecycle,
        aggregate_id("actor", actor),
        f"start:{actor}:{incarnation}",
        act,
        create=_create(actor),  # type: ignore[arg-type]
    )
    return int(agg.restarts)


def record_stop(store: EventStore, actor: str, *, reason: str, incarnation: str) -> None:
    """Append ``Stopped`` for a deliberate shutdown."""
    store.execute(
        ActorLifecycle,
        aggregate_id("actor", actor),
        f"stop:{actor}:{incarnation}",
        lambda agg: agg.stop(actor=actor, reason=reason),
        create=_create(actor),  # type: ignore[arg-type]
    )


def record_exhausted(store: EventStore, actor: str) -> bool:
    """Append ``RestartsExhausted`` and raise a critical alert, once per death.

    Returns:
        True when this call recorded the death (False when it was already recorded).
    """
    agg_id = aggregate_id("actor", actor)
    agg: ActorLifecycle = store.repository.get(agg_id)
    if agg.status == "dead":
        return False
    restarts = int(agg.restarts)
    store.execute(
        ActorLifecycle,
        agg_id,
        f"dead:{actor}:{agg.version}",
        lambda a: a.exhaust(actor=actor, restarts=restarts),
    )
    raise_alert(
        store,
        alert_id=f"actor-dead:{actor}:{agg.version}",
        severity="critical",
        source=actor,
        message=f"actor {actor} died and its restart policy is exhausted after {restarts} restarts",
    )
    return True


def raise_alert(
    store: EventStore, *, alert_id: str, severity: str, source: str, message: str
) -> None:
    """Raise an alert once (the alert id makes it idempotent)."""
    agg_id = aggregate_id("alert", alert_id)

    def build(command_id: str) -> Alert:
        return Alert._create(  # type: ignore[no-any-return]
            Alert.Raised,
            id=agg_id,
            command_id=command_id,
            alert_id=alert_id,
            severity=severity,
            source=source,
            message=message,
        )

    store.execute(Alert, agg_id, f"raise:{alert_id}", lambda a: None, create=build)


def acknowledge_alert(store: EventStore, alert_id: str, by: str) -> bool:
    """Acknowledge an alert once (a repeat, or an alert already acknowledged, changes nothing).

    Returns:
        False when no alert has that id.
    """

    def ack(alert: Alert) -> None:
        if not alert.acknowledged:
            alert.acknowledge(by)

    try:
        store.execute(Alert, aggregate_id("alert", alert_id), f"ack:{alert_id}", ack)
    except AggregateNotFoundError:
        return False
    return True
