"""Hedging policy: p95 delay for idempotent capabilities, bounded by a budget."""

from __future__ import annotations

from actors.agent_stream import Capability
from actors.gateway import HedgeConfig, HedgePolicy, LatencyWindow


def test_p95_of_a_window() -> None:
    """Nearest-rank p95 of 1..100 is 95."""
    window = LatencyWindow(size=100)
    for i in range(1, 101):
        window.add(float(i))
    assert window.quantile(0.95) == 95.0
    assert LatencyWindow().quantile(0.95) is None


def test_only_idempotent_capabilities_with_enough_samples_hedge() -> None:
    """Analyze/review hedge after p95 once 20 samples exist; execute never does."""
    policy = HedgePolicy()
    for i in range(19):
        policy.record_ttft(Capability.ANALYZE, float(i))
    assert policy.hedge_delay(Capability.ANALYZE) is None
    policy.record_ttft(Capability.ANALYZE, 19.0)
    assert policy.hedge_delay(Capability.ANALYZE) == 18.0
    assert policy.hedge_delay(Capability.EXECUTE) is None
    assert policy.hedge_delay(Capability.REVIEW) is None


def test_hedge_budget_caps_extra_requests_at_ten_percent() -> None:
    """Over 1,000 primaries at most 100 hedges are granted."""
    policy = HedgePolicy(HedgeConfig(budget_ratio=0.1))
    granted = 0
    for _ in range(1000):
        policy.on_primary()
        granted += policy.try_hedge()
    assert granted <= 100
    assert granted >= 99
