"""Resilience settings of the agents config: breakers, retries, timeouts and the answer cache.

``[defaults]`` holds what every agent starts from; an agent's own ``breaker``, ``retry`` or
``timeouts`` table changes only the keys it names::

    [defaults.breaker]
    failure_rate_threshold = 0.5
    wait_open_s = 5

    [defaults.timeouts]
    idle_s = 300

    [cache]
    ttl_s = 900

    [[agents]]
    name = "claude"
    backend = "claude"
    retry = { max_attempts = 1 }

Each key is checked on its own (type, range) when the file is read; relations between keys
(a minimum below its maximum) are checked on the merged settings of every agent, and the
error names the table and the keys.
"""

from __future__ import annotations

import itertools
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BreakerSettings",
    "CacheSettings",
    "ResilienceSettings",
    "RetrySettings",
    "TimeoutSettings",
]


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def problems(self) -> list[str]:
        """Relations between keys that do not hold (empty when consistent)."""
        return []


S = TypeVar("S", bound=_Settings)


def _order(model: BaseModel, *names: str) -> list[str]:
    """A problem for each neighbour pair of ``names`` whose values are not ascending."""
    found = []
    for low, high in itertools.pairwise(names):
        if getattr(model, low) > getattr(model, high):
            found.append(
                f"{low} ({getattr(model, low)}) must not exceed {high} ({getattr(model, high)})"
            )
    return found


class BreakerSettings(_Settings):
    """Circuit-breaker thresholds and open waits (see ``actors.gateway.breaker``)."""

    window: Literal["count", "time"] = "count"
    window_size: int = Field(default=20, ge=1, description="calls, or seconds for a time window")
    minimum_calls: int = Field(default=5, ge=1)
    failure_rate_threshold: float = Field(default=0.5, gt=0, le=1)
    slow_call_duration_s: float = Field(default=120.0, gt=0)
    slow_call_rate_threshold: float = Field(default=1.0, gt=0, le=1)
    half_open_calls: int = Field(default=3, ge=1)
    wait_open_s: float = Field(default=5.0, gt=0)
    wait_multiplier: float = Field(default=2.0, ge=1)
    max_wait_open_s: float = Field(default=300.0, gt=0)

    def problems(self) -> list[str]:
        """``wait_open_s`` must not exceed ``max_wait_open_s``."""
        return _order(self, "wait_open_s", "max_wait_open_s")


class RetrySettings(_Settings):
    """Attempts per agent, the backoff between them and the retry budget."""

    max_attempts: int = Field(default=2, ge=1, le=10, description="the first attempt included")
    initial_backoff_s: float = Field(default=1.0, ge=0)
    backoff_multiplier: float = Field(default=1.6, ge=1)
    jitter: float = Field(default=0.2, ge=0, le=1)
    max_backoff_s: float = Field(default=120.0, gt=0)
    retry_after_cap_s: float = Field(default=60.0, ge=0)
    budget_max_tokens: float = Field(default=10.0, gt=0)
    budget_token_ratio: float = Field(default=0.1, ge=0)

    def problems(self) -> list[str]:
        """``initial_backoff_s`` must not exceed ``max_backoff_s``."""
        return _order(self, "initial_backoff_s", "max_backoff_s")


class TimeoutSettings(_Settings):
    """Time-to-first-token and whole-request timeouts (adaptive within bounds), idle timeout."""

    ttft_s: float = Field(default=60.0, gt=0, description="initial time-to-first-token timeout")
    ttft_min_s: float = Field(default=1.0, gt=0)
    ttft_max_s: float = Field(default=600.0, gt=0)
    total_s: float = Field(default=600.0, gt=0, description="initial whole-request timeout")
    total_min_s: float = Field(default=5.0, gt=0)
    total_max_s: float = Field(default=1800.0, gt=0)
    idle_s: float = Field(default=300.0, gt=0, description="longest silence between events")

    def problems(self) -> list[str]:
        """Each timeout's minimum ≤ initial value ≤ maximum."""
        return _order(self, "ttft_min_s", "ttft_s", "ttft_max_s") + _order(
            self, "total_min_s", "total_s", "total_max_s"
        )


class ResilienceSettings(_Settings):
    """One agent's (or the defaults') breaker, retry and timeout settings."""

    breaker: BreakerSettings = BreakerSettings()
    retry: RetrySettings = RetrySettings()
    timeouts: TimeoutSettings = TimeoutSettings()

    def problems(self) -> list[str]:
        """Each table's problems, prefixed with the table's name."""
        return [
            f"{name}: {problem}"
            for name in ("breaker", "retry", "timeouts")
            for problem in getattr(self, name).problems()
        ]

    def merged(
        self,
        breaker: BreakerSettings | None = None,
        retry: RetrySettings | None = None,
        timeouts: TimeoutSettings | None = None,
    ) -> ResilienceSettings:
        """These settings with the keys an agent set in its own tables replaced.

        Only keys written in the agent's tables count (``model_fields_set``), so an agent
        that sets ``retry = { max_attempts = 1 }`` keeps the defaults' backoff.
        """
        return ResilienceSettings(
            breaker=_overlay(self.breaker, breaker),
            retry=_overlay(self.retry, retry),
            timeouts=_overlay(self.timeouts, timeouts),
        )


def _overlay(base: S, override: S | None) -> S:
    if override is None:
        return base
    return base.model_copy(update={k: getattr(override, k) for k in override.model_fields_set})


class CacheSettings(_Settings):
    """The answer cache: the fallback rung between the agents and the rule-based default."""

    enabled: bool = True
    ttl_s: float = Field(default=900.0, gt=0, description="how long an answer may be served")
    max_entries: int = Field(default=256, ge=1)
    max_chars: int = Field(default=8_000_000, ge=1, description="all cached answers together")
