"""The agents config's resilience and cache settings, as the gateway router takes them."""

from __future__ import annotations

import dataclasses

from actors.agents.config import AgentsConfig
from actors.agents.resilience import CacheSettings, ResilienceSettings
from actors.gateway.breaker import BreakerConfig
from actors.gateway.clock import Clock
from actors.gateway.config import GatewayConfig, Resilience
from actors.gateway.fallback import FallbackChain, ResponseCache
from actors.gateway.retry import Backoff, RetryPolicy
from actors.gateway.rto import RtoConfig

__all__ = ["fallback_chain", "resilience", "with_resilience"]


def resilience(settings: ResilienceSettings) -> Resilience:
    """The router's settings for one agent from its validated config settings."""
    b, r, t = settings.breaker, settings.retry, settings.timeouts
    return Resilience(
        breaker=BreakerConfig(
            window=b.window,
            window_size=b.window_size,
            minimum_calls=b.minimum_calls,
            failure_rate_threshold=b.failure_rate_threshold,
            slow_call_duration_s=b.slow_call_duration_s,
            slow_call_rate_threshold=b.slow_call_rate_threshold,
            half_open_calls=b.half_open_calls,
            wait_open_s=b.wait_open_s,
            wait_multiplier=b.wait_multiplier,
            max_wait_open_s=b.max_wait_open_s,
        ),
        retry=RetryPolicy(
            max_attempts=r.max_attempts,
            backoff=Backoff(
                initial_s=r.initial_backoff_s,
                multiplier=r.backoff_multiplier,
                jitter=r.jitter,
                max_s=r.max_backoff_s,
                retry_after_cap_s=r.retry_after_cap_s,
            ),
        ),
        budget_max_tokens=r.budget_max_tokens,
        budget_token_ratio=r.budget_token_ratio,
        ttft=RtoConfig(initial_s=t.ttft_s, min_s=t.ttft_min_s, max_s=t.ttft_max_s),
        total=RtoConfig(initial_s=t.total_s, min_s=t.total_min_s, max_s=t.total_max_s),
        idle_s=t.idle_s,
    )


def with_resilience(config: GatewayConfig, agents: AgentsConfig) -> GatewayConfig:
    """``config`` with each enabled agent's settings from ``[defaults]`` and its own tables."""
    own = {a.name: resilience(agents.resilience(a.name)) for a in agents.enabled_agents()}
    return dataclasses.replace(config, agents=own)


def fallback_chain(settings: CacheSettings, clock: Clock) -> FallbackChain:
    """The fallback chain with the answer cache ``settings`` ask for (none when disabled)."""
    if not settings.enabled:
        return FallbackChain()
    cache = ResponseCache(
        clock, ttl_s=settings.ttl_s, max_entries=settings.max_entries, max_chars=settings.max_chars
    )
    return FallbackChain(cache=cache)
