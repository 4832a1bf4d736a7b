"""What the gateway reports: per-request notices, request summaries and counters.

Every decision the router takes (attempt, failure, retry, fallback, checkpoint, outcome,
breaker transition) is handed to an ``on_event`` callback as a :class:`GatewayEvent`; the
:class:`~actors.gateway.sink.GatewayEventSink` turns them into ``Agent``/``Task`` domain
events and the metrics layer into counters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from events.audit import current_actor

__all__ = ["GatewayEvent", "GatewayEventKind", "GatewayMetrics", "RequestSummary"]


class GatewayEventKind(StrEnum):
    """Kinds of gateway notices."""

    AGENT_REGISTERED = "agent_registered"
    CIRCUIT_OPENED = "circuit_opened"
    CIRCUIT_HALF_OPENED = "circuit_half_opened"
    CIRCUIT_CLOSED = "circuit_closed"
    SUBMITTED = "submitted"
    ATTEMPT_STARTED = "attempt_started"
    ATTEMPT_FAILED = "attempt_failed"
    RETRY_SCHEDULED = "retry_scheduled"
    FALLBACK_USED = "fallback_used"
    CHECKPOINTED = "checkpointed"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class GatewayEvent:
    """One gateway notice; only the fields relevant to ``kind`` are set."""

    kind: GatewayEventKind
    request_id: str = ""
    agent: str | None = None
    attempt: int = 0
    capability: str = ""
    prompt: str = ""  # in memory only; the sink stores a digest and a redacted preview
    agent_hint: str | None = None
    failure: str = ""
    detail: str = ""
    delay_s: float = 0.0
    fallback: str = ""
    seq: int = 0
    session_id: str | None = None
    text_sha256: str = ""
    degraded: bool = False
    duration_ms: int = 0
    reason: str = ""
    open_for_s: float = 0.0
    backend: str = ""
    capabilities: tuple[str, ...] = ()
    weight: int = 1
    #: The user the request is served for (events/audit.py), taken where the notice is made:
    #: the sink may write it later, from another thread, where that context is gone.
    actor: str | None = field(default_factory=current_actor)


@dataclass(frozen=True)
class RequestSummary:
    """The outcome of one logical request, sent in the data of the final stream event."""

    request_id: str
    agent: str | None
    attempts: int
    fallback: str | None
    degraded: bool
    ok: bool
    nested_retries: int = 0
    #: Agent → kind of its last failure in this request (``auth``: it needs a login).
    failures: dict[str, str] = field(default_factory=dict)
    #: Age of a cached answer (``fallback == "cache"``), in seconds.
    cache_age_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the summary as a JSON-ready dict."""
        return asdict(self)


@dataclass
class GatewayMetrics:
    """Counters for Prometheus (``agent_gateway_*``)."""

    requests: int = 0
    attempts: int = 0
    successes: int = 0
    failures: int = 0
    degraded: int = 0
    cache_hits: int = 0
    retries: int = 0
    fallbacks: int = 0
    nested_retries: int = 0
    timeouts: int = 0
    resumes: int = 0

    @property
    def attempts_per_request(self) -> float:
        """Upstream attempts per logical request (the amplification factor)."""
        return self.attempts / self.requests if self.requests else 0.0
