"""Adaptive timeouts from RFC 6298 (Jacobson/Karels), per agent and operation.

``SRTT``/``RTTVAR`` smooth the observed times (α = 1/8, β = 1/4); the timeout is
``RTO = SRTT + max(G, 4·RTTVAR)`` clamped to ``[min_s, max_s]``. A timeout doubles the RTO
(capped) until the next valid sample. Karn's rule: a sample from a retried attempt is
ambiguous (which attempt does it time?) and is dropped. The gateway keeps one estimator for
time-to-first-token and one for total time per (agent, capability); the inter-chunk idle
timeout is fixed, because tool calls make agents legitimately silent for minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Phase", "RtoConfig", "RtoEstimator", "RtoTable", "Timeouts", "total_rto_config"]


class Phase(StrEnum):
    """Which duration an estimator tracks."""

    TTFT = "ttft"
    TOTAL = "total"


@dataclass(frozen=True)
class RtoConfig:
    """Bounds and gains of one estimator (RFC 6298 constants by default)."""

    initial_s: float = 60.0
    min_s: float = 1.0
    max_s: float = 600.0
    granularity_s: float = 0.01
    alpha: float = 1 / 8
    beta: float = 1 / 4
    k: float = 4.0


def total_rto_config() -> RtoConfig:
    """The default bounds of a whole-request timeout (10 min initially, 5 s to 30 min)."""
    return RtoConfig(initial_s=600.0, min_s=5.0, max_s=1800.0)


class RtoEstimator:
    """One RFC 6298 retransmission-timeout estimator.

    Args:
        config: bounds and gains.
    """

    def __init__(self, config: RtoConfig | None = None) -> None:
        self.config = config or RtoConfig()
        self.srtt: float | None = None
        self.rttvar = 0.0
        self._rto = self._clamp(self.config.initial_s)

    @property
    def rto(self) -> float:
        """The current timeout in seconds, always within ``[min_s, max_s]``."""
        return self._rto

    def observe(self, sample_s: float, *, retried: bool = False) -> bool:
        """Feed one measured duration; return False when Karn's rule dropped it."""
        if retried or sample_s < 0:
            return False
        c = self.config
        if self.srtt is None:
            self.srtt = sample_s
            self.rttvar = sample_s / 2
        else:
            self.rttvar = (1 - c.beta) * self.rttvar + c.beta * abs(self.srtt - sample_s)
            self.srtt = (1 - c.alpha) * self.srtt + c.alpha * sample_s
        self._rto = self._clamp(self.srtt + max(c.granularity_s, c.k * self.rttvar))
        return True

    def on_timeout(self) -> None:
        """Back the timeout off ×2 (capped) after it fired."""
        self._rto = self._clamp(self._rto * 2)

    def _clamp(self, value: float) -> float:
        return min(self.config.max_s, max(self.config.min_s, value))


@dataclass(frozen=True)
class Timeouts:
    """The deadlines of one attempt."""

    ttft_s: float
    idle_s: float
    total_s: float


class RtoTable:
    """Estimators keyed by (agent, operation, phase) plus the fixed idle timeout.

    Args:
        ttft: configuration of time-to-first-token estimators.
        total: configuration of total-duration estimators.
        idle_s: the fixed inter-event idle timeout.

    :meth:`configure` gives one agent its own configurations and idle timeout.
    """

    def __init__(
        self,
        ttft: RtoConfig | None = None,
        total: RtoConfig | None = None,
        idle_s: float = 300.0,
    ) -> None:
        self._configs = {
            Phase.TTFT: ttft or RtoConfig(),
            Phase.TOTAL: total or total_rto_config(),
        }
        self.idle_s = idle_s
        self._agents: dict[str, tuple[dict[Phase, RtoConfig], float]] = {}
        self._estimators: dict[tuple[str, str, Phase], RtoEstimator] = {}

    def configure(self, agent: str, ttft: RtoConfig, total: RtoConfig, idle_s: float) -> None:
        """Use these configurations and idle timeout for ``agent``'s estimators from now on."""
        self._agents[agent] = ({Phase.TTFT: ttft, Phase.TOTAL: total}, idle_s)
        for key in [k for k in self._estimators if k[0] == agent]:
            del self._estimators[key]

    def estimator(self, agent: str, operation: str, phase: Phase) -> RtoEstimator:
        """Return (creating on first use) the estimator for one key."""
        key = (agent, operation, phase)
        if key not in self._estimators:
            configs = self._agents[agent][0] if agent in self._agents else self._configs
            self._estimators[key] = RtoEstimator(configs[phase])
        return self._estimators[key]

    def timeouts(self, agent: str, operation: str) -> Timeouts:
        """Return the current TTFT, idle and total timeouts for one attempt."""
        return Timeouts(
            ttft_s=self.estimator(agent, operation, Phase.TTFT).rto,
            idle_s=self._agents[agent][1] if agent in self._agents else self.idle_s,
            total_s=self.estimator(agent, operation, Phase.TOTAL).rto,
        )
