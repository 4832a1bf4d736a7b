"""Backoff, Retry-After, the retry budget and the retry decision."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.agent_stream import Capability, FailureKind
from actors.gateway import Backoff, RetryBudget, RetryPolicy


def test_nominal_sequence_is_grpc() -> None:
    """Without jitter the delays are 1, 1.6, 2.56, 4.096 … capped at 120 s."""
    backoff = Backoff()
    got = [round(backoff.nominal(n), 3) for n in range(13)]
    assert got[:4] == [1.0, 1.6, 2.56, 4.096]
    assert got[-2:] == [120.0, 120.0]
    assert backoff.nominal(10_000) == 120.0


@given(retry=st.integers(0, 400), seed=st.integers(0, 2**32))
def test_jittered_delay_stays_within_cap_and_twenty_percent(retry: int, seed: int) -> None:
    """Every delay is in [0, cap] and within ±20 % of the nominal exponential."""
    backoff = Backoff()
    delay = backoff.delay(retry, random.Random(seed))
    nominal = backoff.nominal(retry)
    assert 0 <= delay <= backoff.max_s
    assert nominal * 0.8 - 1e-9 <= delay <= nominal * 1.2 + 1e-9


@given(retry=st.integers(0, 400), seed=st.integers(0, 2**32))
def test_full_jitter_stays_within_zero_and_nominal(retry: int, seed: int) -> None:
    """Full jitter draws from [0, nominal]."""
    backoff = Backoff(full_jitter=True)
    assert 0 <= backoff.delay(retry, random.Random(seed)) <= backoff.nominal(retry)


@given(retry_after=st.floats(0, 1e6))
def test_retry_after_is_honoured_up_to_its_cap(retry_after: float) -> None:
    """A server's Retry-After wins over backoff but never exceeds the cap."""
    backoff = Backoff(retry_after_cap_s=60)
    assert backoff.delay(3, random.Random(0), retry_after) == min(retry_after, 60)


def test_budget_allows_retries_only_above_half() -> None:
    """gRPC throttling: 10 tokens, −1 per failure, +0.1 per success, retry while > 5."""
    budget = RetryBudget()
    for _ in range(4):
        budget.record_failure()
    assert budget.allows_retry()
    budget.record_failure()
    assert not budget.allows_retry()
    for _ in range(10):
        budget.record_success()
    assert budget.allows_retry()
    assert budget.tokens == pytest.approx(6.0)


def test_nested_retries_cost_tokens() -> None:
    """A retry a CLI did by itself costs the same as one the router did."""
    budget = RetryBudget()
    budget.record_nested_retry()
    assert budget.tokens == 9.0
    assert budget.nested_retries == 1


@pytest.mark.parametrize(
    "kind", [FailureKind.AUTH, FailureKind.CONFIG, FailureKind.REFUSED, FailureKind.CANCELLED]
)
def test_non_retryable_failures_are_never_retried(kind: FailureKind) -> None:
    """Credentials, configuration, refusals and cancellations are final."""
    assert not RetryPolicy(max_attempts=9).should_retry(kind, 1, Capability.PLAN)


@given(kind=st.sampled_from(FailureKind), attempt=st.integers(0, 10))
def test_execute_is_never_retried(kind: FailureKind, attempt: int) -> None:
    """Execute has side effects: no failure kind or attempt number allows a retry."""
    assert not RetryPolicy(max_attempts=99).should_retry(kind, attempt, Capability.EXECUTE)


def test_retry_respects_attempts_budget_and_pushback() -> None:
    """Retries stop at max_attempts, an exhausted budget or negative pushback."""
    policy = RetryPolicy(max_attempts=2)
    assert policy.should_retry(FailureKind.OVERLOADED, 1, Capability.CODE)
    assert not policy.should_retry(FailureKind.OVERLOADED, 2, Capability.CODE)
    drained = RetryBudget()
    drained.tokens = 5.0
    assert not policy.should_retry(FailureKind.OVERLOADED, 1, Capability.CODE, drained)
    assert not policy.should_retry(FailureKind.RATE_LIMIT, 1, Capability.CODE, None, -1.0)
