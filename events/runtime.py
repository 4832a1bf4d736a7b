"""Runtime facts: actor lifecycles under supervision, and alerts.

``ActorLifecycle`` (one per named actor, id ``aggregate_id("actor", name)``) records every
start, restart, stop and the moment its restart budget ran out. ``Alert`` (one per alert,
id ``aggregate_id("alert", alert_id)``) records alerts raised by the supervisor or any other
component, and their acknowledgement.
"""

from __future__ import annotations

from eventsourcing.domain import event

from events.domain import Aggregate

__all__ = ["ActorLifecycle", "Alert"]


class ActorLifecycle(Aggregate):
    """The supervised life of one named actor."""

    class Registered(Aggregate.Created):
        """The supervisor learned of the actor (first start ever)."""

        actor: str

    @event(Registered)
    def __init__(self, actor: str) -> None:
        self.actor = actor
        self.status = "registered"
        self.restarts = 0
        self.pid = 0
        self.node = ""

    class Started(Aggregate.Event):
        """The actor's constructor ran for a fresh (not reconstructed) incarnation."""

        actor: str
        node: str
        pid: int

    @event(Started)
    def start(self, actor: str, node: str, pid: int) -> None:
        """Record a fresh start."""
        self.status, self.node, self.pid = "running", node, pid

    class Restarted(Aggregate.Event):
        """Ray reconstructed the actor after a crash; its constructor replayed the log."""

        actor: str
        restarts: int
        reason: str
        node: str
        pid: int

    @event(Restarted)
    def restart(self, actor: str, restarts: int, reason: str, node: str, pid: int) -> None:
        """Record a restart."""
        self.status, self.restarts, self.node, self.pid = "running", restarts, node, pid

    class Stopped(Aggregate.Event):
        """The actor was stopped on purpose (``synapse down``)."""

        actor: str
        reason: str

    @event(Stopped)
    def stop(self, actor: str, reason: str) -> None:
        """Record a deliberate stop."""
        self.status = "stopped"

    class RestartsExhausted(Aggregate.Event):
        """The actor died and its restart policy allows no further restart."""

        actor: str
        restarts: int

    @event(RestartsExhausted)
    def exhaust(self, actor: str, restarts: int) -> None:
        """Record that the actor is permanently dead."""
        self.status = "dead"


class Alert(Aggregate):
    """An alert for a human: raised once, acknowledged once."""

    class Raised(Aggregate.Created):
        """Something needs attention."""

        alert_id: str
        severity: str
        source: str
        message: str

    @event(Raised)
    def __init__(self, alert_id: str, severity: str, source: str, message: str) -> None:
        self.alert_id, self.severity, self.source, self.message = (
            alert_id,
            severity,
            source,
            message,
        )
        self.acknowledged = False

    class Acknowledged(Aggregate.Event):
        """A human saw the alert."""

        by: str

    @event(Acknowledged)
    def acknowledge(self, by: str) -> None:
        """Mark the alert acknowledged."""
        self.acknowledged = True
