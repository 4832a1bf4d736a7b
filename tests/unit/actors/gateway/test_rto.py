"""RFC 6298 adaptive timeouts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.gateway import Phase, RtoConfig, RtoEstimator, RtoTable


def test_first_sample_sets_srtt_and_half_rttvar() -> None:
    """R=4: SRTT=4, RTTVAR=2, RTO=4+4·2=12."""
    est = RtoEstimator(RtoConfig(initial_s=60, min_s=1, max_s=600))
    est.observe(4.0)
    assert (est.srtt, est.rttvar, est.rto) == (4.0, 2.0, 12.0)


def test_second_sample_uses_alpha_and_beta() -> None:
    """RTTVAR = 3/4·2 + 1/4·|4−8| = 2.5; SRTT = 7/8·4 + 1/8·8 = 4.5; RTO = 14.5."""
    est = RtoEstimator()
    est.observe(4.0)
    est.observe(8.0)
    assert est.rttvar == pytest.approx(2.5)
    assert est.srtt == pytest.approx(4.5)
    assert est.rto == pytest.approx(14.5)


def test_karns_rule_drops_retried_samples() -> None:
    """A sample from a retried attempt changes nothing."""
    est = RtoEstimator()
    assert not est.observe(3.0, retried=True)
    assert est.srtt is None
    assert est.rto == 60.0


def test_timeout_doubles_until_the_cap() -> None:
    """Each timeout doubles the RTO, never beyond max_s."""
    est = RtoEstimator(RtoConfig(initial_s=100, max_s=300))
    est.on_timeout()
    assert est.rto == 200
    est.on_timeout()
    assert est.rto == 300


@given(
    samples=st.lists(
        st.tuples(st.floats(0, 1e5, allow_nan=False), st.booleans(), st.booleans()), max_size=60
    )
)
def test_rto_always_within_bounds_and_karn_respected(
    samples: list[tuple[float, bool, bool]],
) -> None:
    """Whatever is observed, RTO ∈ [min, max]; retried samples never move SRTT."""
    est = RtoEstimator(RtoConfig(initial_s=30, min_s=1, max_s=600))
    for value, retried, timeout in samples:
        before = est.srtt
        est.observe(value, retried=retried)
        if retried:
            assert est.srtt == before
        if timeout:
            est.on_timeout()
        assert 1 <= est.rto <= 600


def test_table_keys_by_agent_operation_and_phase() -> None:
    """Each (agent, operation, phase) learns separately; idle stays fixed."""
    table = RtoTable(idle_s=42)
    table.estimator("claude", "plan", Phase.TTFT).observe(2.0)
    assert table.timeouts("claude", "plan").ttft_s == 6.0  # 2 + 4·1
    assert table.timeouts("claude", "code").ttft_s == 60.0
    assert table.timeouts("gemini", "plan").idle_s == 42
