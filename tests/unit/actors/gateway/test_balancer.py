"""Load-balancing strategies."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from actors.gateway import Slot, make_balancer
from events.errors import ActorError


def _names(strategy: str, slots: list[Slot], n: int, seed: int = 0) -> list[str]:
    balancer = make_balancer(strategy)
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        slot = balancer.pick(slots, rng)
        assert slot is not None
        out.append(slot.name)
    return out


def test_smooth_weighted_sequence_for_5_1_1() -> None:
    """nginx SWRR with weights 5,1,1 yields a a b a c a a, repeating."""
    slots = [Slot("a", 5), Slot("b", 1), Slot("c", 1)]
    assert "".join(_names("smooth_weighted", slots, 14)) == "aabacaa" * 2


def test_round_robin_cycles() -> None:
    """Round robin visits each agent in turn."""
    slots = [Slot("a"), Slot("b"), Slot("c")]
    assert _names("round_robin", slots, 6) == ["a", "b", "c", "a", "b", "c"]


def test_least_connections_picks_the_idle_agent() -> None:
    """The agent with fewest in-flight calls wins."""
    slots = [Slot("a", in_flight=3), Slot("b", in_flight=0), Slot("c", in_flight=1)]
    assert set(_names("least_connections", slots, 20)) == {"b"}


def test_least_response_time_weighs_latency_by_load() -> None:
    """EWMA × (in-flight+1): a fast busy agent can lose to a slower idle one."""
    fast = Slot("fast", in_flight=4)
    fast.observe(1.0)
    slow = Slot("slow", in_flight=0)
    slow.observe(3.0)
    assert _names("least_response_time", [fast, slow], 1) == ["slow"]
    fast.in_flight = 1
    assert _names("least_response_time", [fast, slow], 1) == ["fast"]


def test_power_of_two_prefers_the_less_loaded() -> None:
    """P2C sends nearly all traffic away from the loaded agent and never to it if avoidable."""
    slots = [Slot("busy", in_flight=10), Slot("x", in_flight=1), Slot("y", in_flight=1)]
    counts = Counter(_names("power_of_two_choices", slots, 3000, seed=3))
    assert counts["busy"] == 0
    assert counts["x"] > 1000
    assert counts["y"] > 1000


def test_empty_candidates_give_none() -> None:
    """With every circuit open there is nothing to pick."""
    for name in (
        "round_robin",
        "smooth_weighted",
        "least_connections",
        "least_response_time",
        "power_of_two_choices",
    ):
        assert make_balancer(name).pick([], random.Random(0)) is None


def test_unknown_strategy_is_rejected() -> None:
    """make_balancer names the valid strategies on a typo."""
    with pytest.raises(ActorError, match="round_robin"):
        make_balancer("fastest")
