"""What the gateway routes to and how: agent entries and routing/resilience settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from actors.agent_stream import AgentBackend, Capability
from actors.gateway.breaker import BreakerConfig
from actors.gateway.retry import RetryPolicy
from actors.gateway.rto import RtoConfig, total_rto_config

__all__ = ["AgentEntry", "GatewayConfig", "Resilience"]


@dataclass(frozen=True)
class AgentEntry:
    """One agent the gateway may route to.

    Attributes:
        backend: the stream source.
        capabilities: what the agent may be asked.
        weight: share for weighted balancing.
        supports_resume: the backend honours ``AgentRequest.resume_session_id``.
        backend_kind: a label for events (``claude-cli``, ``openai-http``, ``scripted``).
    """

    backend: AgentBackend
    capabilities: frozenset[Capability]
    weight: int = 1
    supports_resume: bool = False
    backend_kind: str = "cli"

    @property
    def name(self) -> str:
        """The backend's name."""
        return self.backend.name


@dataclass(frozen=True)
class Resilience:
    """One agent's breaker, retry and timeout settings.

    Attributes:
        breaker: circuit-breaker thresholds and open waits.
        retry: attempts per agent and the backoff between them.
        budget_max_tokens: retry-budget bucket size (gRPC retry throttling).
        budget_token_ratio: tokens a success earns back.
        ttft: the adaptive time-to-first-token timeout (initial value and bounds).
        total: the adaptive whole-request timeout (initial value and bounds).
        idle_s: the fixed inter-event idle timeout.
    """

    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    budget_max_tokens: float = 10.0
    budget_token_ratio: float = 0.1
    ttft: RtoConfig = field(default_factory=RtoConfig)
    total: RtoConfig = field(default_factory=total_rto_config)
    idle_s: float = 300.0


@dataclass(frozen=True)
class GatewayConfig:
    """Routing and resilience settings.

    ``retry``, ``breaker`` and the ``budget_*`` fields apply to every agent without an entry
    in ``agents``; an entry there replaces all of them for that agent.
    """

    balancer: str = "round_robin"
    #: Per-capability routes (capability value → balancer name / allowed agent names).
    route_balancers: Mapping[str, str] = field(default_factory=dict)
    route_agents: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    max_agents: int = 3  # distinct agents tried per request before the cache/default rungs
    budget_max_tokens: float = 10.0
    budget_token_ratio: float = 0.1
    checkpoint_every_events: int = 20
    checkpoint_every_s: float = 1.0
    #: ``AgentRequest.batch_window_s`` for requests served by :meth:`Gateway.run` (nobody
    #: streams them): fewer Ray objects per attempt, at most this much later in the router.
    batch_window_s: float = 0.05
    #: Per-agent resilience settings (agent name → settings), e.g. from ``agents.toml``.
    agents: Mapping[str, Resilience] = field(default_factory=dict)

    def resilience(self, agent: str) -> Resilience | None:
        """The agent's own settings, or None when the shared fields apply."""
        return self.agents.get(agent)
