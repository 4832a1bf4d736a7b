"""The resilient agent gateway: breakers, retries, adaptive timeouts, balancing, fallback.

Pure Python and asyncio (no Ray): time comes from an injected :class:`Clock` and randomness
from an injected ``random.Random``, so every component is deterministic under test.
"""

from actors.gateway.balancer import Balancer, Slot, make_balancer
from actors.gateway.breaker import (
    BreakerConfig,
    BreakerSnapshot,
    BreakerState,
    BreakerTransition,
    CircuitBreaker,
)
from actors.gateway.checkpoint import (
    PrefixDeduplicator,
    ResumeMode,
    ResumePlan,
    StreamCheckpoint,
    StreamCheckpointer,
    resume_plan,
)
from actors.gateway.clock import Clock, MonotonicClock, VirtualClock
from actors.gateway.config import AgentEntry, GatewayConfig
from actors.gateway.fallback import FallbackChain, FallbackKind, ResponseCache, cache_key
from actors.gateway.hedging import HedgeConfig, HedgePolicy, LatencyWindow
from actors.gateway.report import GatewayEvent, GatewayEventKind, GatewayMetrics, RequestSummary
from actors.gateway.restore import breaker_snapshot, load_breaker_snapshots, restore_breakers
from actors.gateway.retry import Backoff, RetryBudget, RetryPolicy
from actors.gateway.router import Gateway
from actors.gateway.rto import Phase, RtoConfig, RtoEstimator, RtoTable, Timeouts
from actors.gateway.sink import GatewayEventSink

__all__ = [
    "AgentEntry",
    "Backoff",
    "Balancer",
    "BreakerConfig",
    "BreakerSnapshot",
    "BreakerState",
    "BreakerTransition",
    "CircuitBreaker",
    "Clock",
    "FallbackChain",
    "FallbackKind",
    "Gateway",
    "GatewayConfig",
    "GatewayEvent",
    "GatewayEventKind",
    "GatewayEventSink",
    "GatewayMetrics",
    "HedgeConfig",
    "HedgePolicy",
    "LatencyWindow",
    "MonotonicClock",
    "Phase",
    "PrefixDeduplicator",
    "RequestSummary",
    "ResponseCache",
    "ResumeMode",
    "ResumePlan",
    "RetryBudget",
    "RetryPolicy",
    "RtoConfig",
    "RtoEstimator",
    "RtoTable",
    "Slot",
    "StreamCheckpoint",
    "StreamCheckpointer",
    "Timeouts",
    "VirtualClock",
    "breaker_snapshot",
    "cache_key",
    "load_breaker_snapshots",
    "make_balancer",
    "restore_breakers",
    "resume_plan",
]
