"""Hedged requests for idempotent capabilities (Dean & Barroso, "The Tail at Scale").

When an ``analyze`` or ``review`` attempt has produced no first token by the observed p95
time-to-first-token, a second attempt goes to another agent and the first to answer wins.
A token bucket keeps hedges to a fixed share of traffic (10 % by default) so that hedging
switches itself off during a real outage instead of doubling the load.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from actors.agent_stream import Capability

__all__ = ["HEDGEABLE", "HedgeConfig", "HedgePolicy", "LatencyWindow"]

#: Capabilities without side effects, safe to run twice.
HEDGEABLE = frozenset({Capability.ANALYZE, Capability.REVIEW})


class LatencyWindow:
    """The last ``size`` latency samples and their quantiles.

    Args:
        size: how many recent samples to keep.
    """

    def __init__(self, size: int = 200) -> None:
        self._samples: deque[float] = deque(maxlen=size)

    def __len__(self) -> int:
        return len(self._samples)

    def add(self, sample_s: float) -> None:
        """Record one sample."""
        self._samples.append(sample_s)

    def quantile(self, q: float) -> float | None:
        """Return the nearest-rank ``q`` quantile, or None without samples."""
        if not self._samples:
            return None
        ordered = sorted(self._samples)
        rank = max(1, math.ceil(q * len(ordered)))
        return ordered[rank - 1]


@dataclass(frozen=True)
class HedgeConfig:
    """When to hedge and how much extra traffic hedging may add."""

    quantile: float = 0.95
    min_samples: int = 20
    budget_ratio: float = 0.1  # at most this many hedges per primary request
    max_tokens: float = 10.0
    capabilities: frozenset[Capability] = HEDGEABLE


class HedgePolicy:
    """Decides the hedge delay per capability and enforces the hedge budget.

    Args:
        config: thresholds and budget.
    """

    def __init__(self, config: HedgeConfig | None = None) -> None:
        self.config = config or HedgeConfig()
        self._windows: dict[Capability, LatencyWindow] = {}
        self.tokens = 0.0
        self.hedges = 0
        self.primaries = 0

    def window(self, capability: Capability) -> LatencyWindow:
        """Return the TTFT window of one capability."""
        return self._windows.setdefault(capability, LatencyWindow())

    def record_ttft(self, capability: Capability, ttft_s: float) -> None:
        """Feed one observed time-to-first-token."""
        self.window(capability).add(ttft_s)

    def on_primary(self) -> None:
        """Count one primary request; it earns ``budget_ratio`` hedge tokens."""
        self.primaries += 1
        self.tokens = min(self.config.max_tokens, self.tokens + self.config.budget_ratio)

    def hedge_delay(self, capability: Capability) -> float | None:
        """Return how long to wait for a first token before hedging, or None for never."""
        if capability not in self.config.capabilities:
            return None
        window = self.window(capability)
        if len(window) < self.config.min_samples:
            return None
        return window.quantile(self.config.quantile)

    def try_hedge(self) -> bool:
        """Spend one hedge token; False when the budget is exhausted."""
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        self.hedges += 1
        return True
