"""Retry decisions: gRPC backoff, ``Retry-After``, and the gRPC retry-throttling budget.

The router is the **only** retry owner. Agent CLIs retry internally too (Claude Code up to 10
times, Gemini 10, Codex 5); each such internal retry surfaces as a ``retry``
:class:`~actors.agent_stream.StreamEvent`, and the router charges it to the same
:class:`RetryBudget` as its own retries (:meth:`RetryBudget.record_nested_retry`). A CLI that
is busy retrying therefore drains the budget and the router stops adding attempts on top,
which avoids the 3 × 3 × 5 = 45 amplification seen in LiteLLM #7130 and code_puppy #317.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from actors.agent_stream import Capability, FailureKind

__all__ = [
    "GRPC_INITIAL_BACKOFF_S",
    "GRPC_JITTER",
    "GRPC_MAX_BACKOFF_S",
    "GRPC_MULTIPLIER",
    "NEVER_RETRIED",
    "Backoff",
    "RetryBudget",
    "RetryPolicy",
]

GRPC_INITIAL_BACKOFF_S = 1.0
GRPC_MULTIPLIER = 1.6
GRPC_JITTER = 0.2
GRPC_MAX_BACKOFF_S = 120.0

#: Failures another attempt cannot fix.
NEVER_RETRIED = frozenset(
    {FailureKind.AUTH, FailureKind.CONFIG, FailureKind.REFUSED, FailureKind.CANCELLED}
)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with gRPC defaults (1 s, ×1.6, ±20 %, ≤120 s).

    Attributes:
        initial_s: delay before the first retry, before jitter.
        multiplier: growth per retry.
        jitter: relative spread, ``0.2`` = ±20 % (ignored with ``full_jitter``).
        max_s: cap on any delay.
        full_jitter: draw uniformly from ``[0, nominal]`` instead (gRFC A6 request retries).
        retry_after_cap_s: the longest server-requested wait honoured (LiteLLM uses 60 s).
    """

    initial_s: float = GRPC_INITIAL_BACKOFF_S
    multiplier: float = GRPC_MULTIPLIER
    jitter: float = GRPC_JITTER
    max_s: float = GRPC_MAX_BACKOFF_S
    full_jitter: bool = False
    retry_after_cap_s: float = 60.0

    def nominal(self, retry: int) -> float:
        """Return the un-jittered delay before retry number ``retry`` (0-based), capped."""
        # Compare exponents before multiplying so huge retry counts cannot overflow.
        if retry * math.log(self.multiplier) > math.log(self.max_s / self.initial_s):
            return self.max_s
        return min(self.max_s, self.initial_s * self.multiplier**retry)

    def delay(self, retry: int, rng: random.Random, retry_after_s: float | None = None) -> float:
        """Return the wait before retry number ``retry`` (0-based).

        Args:
            retry: how many retries already happened.
            rng: source of jitter.
            retry_after_s: a server's ``Retry-After``; honoured up to ``retry_after_cap_s``.

        Returns:
            Seconds to wait, always within ``[0, max(max_s, retry_after_cap_s)]``.
        """
        if retry_after_s is not None and retry_after_s >= 0:
            return min(retry_after_s, self.retry_after_cap_s)
        nominal = self.nominal(retry)
        if self.full_jitter:
            return rng.uniform(0.0, nominal)
        spread = rng.uniform(-self.jitter, self.jitter)
        return min(self.max_s, max(0.0, nominal * (1.0 + spread)))


class RetryBudget:
    """gRPC retry throttling: a token bucket that stops retries during real outages.

    Tokens start at ``max_tokens``; a failure costs one, a success earns ``token_ratio``.
    Retries (and hedges) are allowed only while ``tokens > max_tokens / 2``.

    Args:
        max_tokens: bucket size (gRPC example: 10).
        token_ratio: tokens earned per success (gRPC example: 0.1).
    """

    def __init__(self, max_tokens: float = 10.0, token_ratio: float = 0.1) -> None:
        self.max_tokens = max_tokens
        self.token_ratio = token_ratio
        self.tokens = max_tokens
        self.nested_retries = 0

    def allows_retry(self) -> bool:
        """Return True while the bucket is more than half full."""
        return self.tokens > self.max_tokens / 2

    def record_failure(self) -> None:
        """Charge one token for a failed attempt."""
        self.tokens = max(0.0, self.tokens - 1.0)

    def record_success(self) -> None:
        """Earn ``token_ratio`` tokens for a successful attempt."""
        self.tokens = min(self.max_tokens, self.tokens + self.token_ratio)

    def record_nested_retry(self) -> None:
        """Charge a retry the agent CLI did by itself (a ``retry`` stream event)."""
        self.nested_retries += 1
        self.record_failure()


@dataclass(frozen=True)
class RetryPolicy:
    """Whether and when the router retries the same agent.

    Attributes:
        max_attempts: attempts per agent, the first one included.
        backoff: delay schedule.
    """

    max_attempts: int = 2
    backoff: Backoff = Backoff()

    def should_retry(
        self,
        kind: FailureKind,
        attempt: int,
        capability: Capability,
        budget: RetryBudget | None = None,
        retry_after_s: float | None = None,
    ) -> bool:
        """Decide whether attempt number ``attempt`` (1-based) may be followed by another.

        ``execute`` is never retried (it has side effects); auth, config, refusal and
        cancellation never are; a negative ``retry_after_s`` is server pushback meaning stop.
        """
        if capability is Capability.EXECUTE or kind in NEVER_RETRIED:
            return False
        if retry_after_s is not None and retry_after_s < 0:
            return False
        if attempt >= self.max_attempts:
            return False
        return budget is None or budget.allows_retry()
