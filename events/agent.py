"""Agent and Task aggregates: what the gateway did, as domain events.

``Agent`` records registration, health and every circuit-breaker transition, so the breaker
history of an agent can be replayed and projected. ``Task`` records one logical gateway
request: submission, each attempt and failure, retries, fallbacks, stream checkpoints and the
outcome. Prompts never enter an event in full: a task keeps a sha256 digest and a short
preview with anything that looks like a secret redacted.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from events.domain import Aggregate
from events.secrets import mask
from events.store import aggregate_id

__all__ = ["PREVIEW_CHARS", "Agent", "Task", "agent_id", "preview", "redact", "task_id"]

#: Longest prompt preview stored in ``Task.Submitted``.
PREVIEW_CHARS = 200


def redact(text: str) -> str:
    """Replace secrets in ``text`` with ``***`` (the one rule set of :mod:`events.secrets`)."""
    return mask(text)


def preview(prompt: str, limit: int = PREVIEW_CHARS) -> str:
    """Return a redacted, single-line preview of at most ``limit`` characters."""
    # Only the head is shown, so only the head is screened (a long prompt costs no more); a
    # margin keeps a secret that straddles the cut whole while it is masked.
    flat = " ".join(redact(prompt[: limit * 4]).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def agent_id(name: str) -> UUID:
    """Return the aggregate id of the agent called ``name``."""
    return aggregate_id("agent", name)


def task_id(request_id: str) -> UUID:
    """Return the aggregate id of the task for gateway request ``request_id``."""
    return aggregate_id("task", request_id)


class Agent(Aggregate):
    """One configured agent behind the gateway."""

    def __init__(self, name: str, backend: str, capabilities: tuple[str, ...], weight: int) -> None:
        self.name = name
        self.backend = backend
        self.capabilities = tuple(capabilities)
        self.weight = weight
        self.healthy = True
        self.circuit = "closed"
        self.times_opened = 0

    class Registered(Aggregate.Created):
        """The agent was added to the gateway."""

        name: str
        backend: str
        capabilities: tuple[str, ...]
        weight: int

    class HealthChanged(Aggregate.Event):
        """A health probe changed its verdict."""

        healthy: bool
        detail: str = ""

        def apply(self, aggregate: Any) -> None:
            """Record the verdict."""
            aggregate.healthy = self.healthy

    class CircuitOpened(Aggregate.Event):
        """The breaker opened; calls are rejected for ``open_for_s``."""

        reason: str
        open_for_s: float

        def apply(self, aggregate: Any) -> None:
            """Mark the circuit open."""
            aggregate.circuit = "open"
            aggregate.times_opened += 1

    class CircuitHalfOpened(Aggregate.Event):
        """The open wait elapsed; probes are let through."""

        reason: str
        open_for_s: float = 0.0

        def apply(self, aggregate: Any) -> None:
            """Mark the circuit half-open."""
            aggregate.circuit = "half_open"

    class CircuitClosed(Aggregate.Event):
        """The probes passed; normal traffic resumes."""

        reason: str
        open_for_s: float = 0.0

        def apply(self, aggregate: Any) -> None:
            """Mark the circuit closed."""
            aggregate.circuit = "closed"

    @classmethod
    def register(
        cls,
        name: str,
        backend: str,
        capabilities: tuple[str, ...],
        weight: int = 1,
        *,
        command_id: str = "",
    ) -> Agent:
        """Create the agent (command: register)."""
        return cls._create(
            cls.Registered,
            id=agent_id(name),
            command_id=command_id,
            name=name,
            backend=backend,
            capabilities=tuple(capabilities),
            weight=weight,
        )

    def change_health(self, healthy: bool, detail: str = "") -> None:
        """Record a health verdict when it differs from the current one."""
        if healthy != self.healthy:
            self.trigger_event(self.HealthChanged, healthy=healthy, detail=detail)

    def open_circuit(self, reason: str, open_for_s: float) -> None:
        """Record that the breaker opened."""
        self.trigger_event(self.CircuitOpened, reason=reason, open_for_s=open_for_s)

    def half_open_circuit(self, reason: str) -> None:
        """Record that the breaker went half-open."""
        self.trigger_event(self.CircuitHalfOpened, reason=reason)

    def close_circuit(self, reason: str) -> None:
        """Record that the breaker closed."""
        self.trigger_event(self.CircuitClosed, reason=reason)


class Task(Aggregate):
    """One logical gateway request and everything that happened to it."""

    def __init__(
        self, capability: str, agent_hint: str | None, prompt_digest: str, prompt_preview: str
    ) -> None:
        self.capability = capability
        self.agent_hint = agent_hint
        self.prompt_digest = prompt_digest
        self.prompt_preview = prompt_preview
        self.status = "submitted"
        self.attempts = 0
        self.agent: str | None = None
        self.degraded = False
        self.fallbacks: list[str] = []
        self.last_seq = 0

    class Submitted(Aggregate.Created):
        """The gateway accepted a request (from ``actor``: None before users existed, or for
        a request no person made)."""

        capability: str
        agent_hint: str | None = None
        prompt_digest: str
        prompt_preview: str
        actor: str | None = None

    class AttemptStarted(Aggregate.Event):
        """An attempt was sent to an agent."""

        attempt: int
        agent: str

        def apply(self, aggregate: Any) -> None:
            """Count the attempt."""
            aggregate.attempts = max(aggregate.attempts, self.attempt)
            aggregate.agent = self.agent
            aggregate.status = "running"

    class AttemptFailed(Aggregate.Event):
        """An attempt failed, classified by ``failure``."""

        attempt: int
        agent: str
        failure: str
        detail: str = ""

    class RetryScheduled(Aggregate.Event):
        """The same agent will be retried after ``delay_s``."""

        attempt: int
        delay_s: float

    class FallbackUsed(Aggregate.Event):
        """The chain moved on: another agent, the cache or the degraded default."""

        kind: str
        agent: str | None = None

        def apply(self, aggregate: Any) -> None:
            """Remember the rung used."""
            aggregate.fallbacks = [*aggregate.fallbacks, self.kind]

    class StreamCheckpointed(Aggregate.Event):
        """The stream reached ``seq`` with the emitted text hashing to ``text_sha256``."""

        seq: int
        session_id: str | None = None
        text_sha256: str

        def apply(self, aggregate: Any) -> None:
            """Remember the position."""
            aggregate.last_seq = self.seq

    class Completed(Aggregate.Event):
        """The request finished with an answer (possibly degraded)."""

        agent: str | None
        attempts: int
        degraded: bool
        duration_ms: int

        def apply(self, aggregate: Any) -> None:
            """Mark the task done."""
            aggregate.status = "degraded" if self.degraded else "completed"
            aggregate.agent = self.agent
            aggregate.degraded = self.degraded
            aggregate.attempts = self.attempts

    class Failed(Aggregate.Event):
        """The request ended without an answer."""

        reason: str

        def apply(self, aggregate: Any) -> None:
            """Mark the task failed."""
            aggregate.status = "failed"

    @classmethod
    def submit(
        cls,
        request_id: str,
        capability: str,
        prompt: str,
        agent_hint: str | None = None,
        *,
        command_id: str = "",
        actor: str | None = None,
    ) -> Task:
        """Create the task (command: submit); only a digest and a redacted preview are kept."""
        return cls._create(
            cls.Submitted,
            id=task_id(request_id),
            command_id=command_id,
            actor=actor,
            capability=capability,
            agent_hint=agent_hint,
            prompt_digest=hashlib.sha256(prompt.encode()).hexdigest(),
            prompt_preview=preview(prompt),
        )

    def start_attempt(self, attempt: int, agent: str) -> None:
        """Record an attempt sent to ``agent``."""
        self.trigger_event(self.AttemptStarted, attempt=attempt, agent=agent)

    def fail_attempt(self, attempt: int, agent: str, failure: str, detail: str = "") -> None:
        """Record a failed attempt (``detail`` is redacted and truncated)."""
        self.trigger_event(
            self.AttemptFailed,
            attempt=attempt,
            agent=agent,
            failure=failure,
            detail=preview(detail),
        )

    def schedule_retry(self, attempt: int, delay_s: float) -> None:
        """Record a scheduled retry."""
        self.trigger_event(self.RetryScheduled, attempt=attempt, delay_s=delay_s)

    def use_fallback(self, kind: str, agent: str | None = None) -> None:
        """Record a step down the fallback chain."""
        self.trigger_event(self.FallbackUsed, kind=kind, agent=agent)

    def checkpoint(self, seq: int, session_id: str | None, text_sha256: str) -> None:
        """Record a stream checkpoint."""
        self.trigger_event(
            self.StreamCheckpointed, seq=seq, session_id=session_id, text_sha256=text_sha256
        )

    def complete(self, agent: str | None, attempts: int, degraded: bool, duration_ms: int) -> None:
        """Record the answer."""
        self.trigger_event(
            self.Completed,
            agent=agent,
            attempts=attempts,
            degraded=degraded,
            duration_ms=duration_ms,
        )

    def fail(self, reason: str) -> None:
        """Record that no answer could be given."""
        self.trigger_event(self.Failed, reason=preview(reason))
