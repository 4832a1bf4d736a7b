"""Load-balancing strategies over the agents that can serve a capability.

Every strategy sees only the candidates the caller marks available (breaker closed, or
half-open with a probe permit left), so an open circuit is skipped without the strategy
knowing about breakers. Strategies: ``round_robin``, ``smooth_weighted`` (nginx SWRR),
``least_connections``, ``least_response_time`` (EWMA latency × (in-flight + 1), the
Finagle/Linkerd "peak EWMA" shape) and ``power_of_two_choices`` (the Ray Serve default).
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from events.errors import ActorError

__all__ = [
    "BALANCERS",
    "Balancer",
    "LeastConnections",
    "LeastResponseTime",
    "PowerOfTwoChoices",
    "RoundRobin",
    "Slot",
    "SmoothWeighted",
    "make_balancer",
]


@dataclass
class Slot:
    """One agent as the balancer sees it: weight, in-flight calls and EWMA latency."""

    name: str
    weight: int = 1
    in_flight: int = 0
    ewma_s: float = 0.0
    samples: int = 0
    alpha: float = 0.3
    _current: int = field(default=0, repr=False)

    def observe(self, latency_s: float) -> None:
        """Fold one latency sample into the EWMA (the first sample seeds it)."""
        self.ewma_s = (
            latency_s
            if self.samples == 0
            else self.alpha * latency_s + (1 - self.alpha) * self.ewma_s
        )
        self.samples += 1


class Balancer(ABC):
    """Picks one of the available slots."""

    name: str

    @abstractmethod
    def pick(self, slots: Sequence[Slot], rng: random.Random) -> Slot | None:
        """Return the chosen slot, or None when ``slots`` is empty.

        Args:
            slots: the available candidates, in a stable order.
            rng: source of randomness for sampling and tie-breaking.
        """


class RoundRobin(Balancer):
    """Each available agent in turn."""

    name = "round_robin"

    def __init__(self) -> None:
        self._next = 0

    def pick(self, slots: Sequence[Slot], rng: random.Random) -> Slot | None:
        """Return the next slot in rotation."""
        if not slots:
            return None
        slot = slots[self._next % len(slots)]
        self._next += 1
        return slot


class SmoothWeighted(Balancer):
    """nginx smooth weighted round robin: weights 5,1,1 give ``a a b a c a a``."""

    name = "smooth_weighted"

    def pick(self, slots: Sequence[Slot], rng: random.Random) -> Slot | None:
        """Raise every current weight by its weight, pick the largest, lower it by the total."""
        if not slots:
            return None
        total = 0
        best: Slot | None = None
        for slot in slots:
            slot._current += slot.weight
            total += slot.weight
            if best is None or slot._current > best._current:
                best = slot
        assert best is not None
        best._current -= total
        return best


class LeastConnections(Balancer):
    """Fewest calls in flight (LiteLLM least-busy); ties broken at random."""

    name = "least_connections"

    def pick(self, slots: Sequence[Slot], rng: random.Random) -> Slot | None:
        """Return a slot with the fewest in-flight calls."""
        if not slots:
            return None
        low = min(s.in_flight for s in slots)
        return rng.choice([s for s in slots if s.in_flight == low])


class LeastResponseTime(Balancer):
    """Lowest ``EWMA latency × (in-flight + 1)``; agents without samples are tried first."""

    name = "least_response_time"

    def pick(self, slots: Sequence[Slot], rng: random.Random) -> Slot | None:
        """Return the slot with the lowest expected wait."""
        if not slots:
            return None
        low = min(_score(s) for s in slots)
        return rng.choice([s for s in slots if _score(s) == low])


class PowerOfTwoChoices(Balancer):
    """Sample two agents, keep the less loaded (latency breaks ties)."""

    name = "power_of_two_choices"

    def pick(self, slots: Sequence[Slot], rng: random.Random) -> Slot | None:
        """Return the better of two random candidates."""
        if len(slots) <= 1:
            return slots[0] if slots else None
        first, second = rng.sample(list(slots), 2)
        return min((first, second), key=lambda s: (s.in_flight, _score(s)))


def _score(slot: Slot) -> float:
    return slot.ewma_s * (slot.in_flight + 1)


BALANCERS: dict[str, type[Balancer]] = {
    cls.name: cls
    for cls in (RoundRobin, SmoothWeighted, LeastConnections, LeastResponseTime, PowerOfTwoChoices)
}


def make_balancer(name: str) -> Balancer:
    """Build a balancer by strategy name.

    Raises:
        ActorError: ``name`` is not one of :data:`BALANCERS`.
    """
    try:
        return BALANCERS[name]()
    except KeyError as exc:
        msg = f"unknown balancer {name!r}; choose one of {sorted(BALANCERS)}"
        raise ActorError(msg, hint="set the gateway balancer to a known strategy") from exc
