"""Response cache and the degraded default."""

from __future__ import annotations

from actors.agent_stream import Capability
from actors.gateway import FallbackChain, ResponseCache, VirtualClock, cache_key


def test_cache_key_separates_capability_prompt_and_context() -> None:
    """Different capability, prompt or context give different keys; equal inputs equal keys."""
    base = cache_key(Capability.REVIEW, "p", "ctx")
    assert base == cache_key(Capability.REVIEW, "p", "ctx")
    assert base != cache_key(Capability.ANALYZE, "p", "ctx")
    assert base != cache_key(Capability.REVIEW, "p2", "ctx")
    assert base != cache_key(Capability.REVIEW, "p", "ctx2")
    assert cache_key(Capability.REVIEW, "ab", "c") != cache_key(Capability.REVIEW, "a", "bc")


def test_entries_expire_after_ttl() -> None:
    """An answer older than the TTL is a miss and is dropped."""
    clock = VirtualClock()
    cache = ResponseCache(clock, ttl_s=10)
    cache.put("k", "answer", "a")
    clock.advance(10)
    assert cache.get("k") is not None
    clock.advance(0.1)
    assert cache.get("k") is None
    assert len(cache) == 0


def test_lru_evicts_the_least_recently_used() -> None:
    """Beyond max_entries the least recently read entry goes first."""
    cache = ResponseCache(VirtualClock(), max_entries=2)
    cache.put("a", "1", "x")
    cache.put("b", "2", "x")
    cache.get("a")
    cache.put("c", "3", "x")
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None


def test_execute_is_never_cached() -> None:
    """Execute answers are neither stored nor served from the cache."""
    chain = FallbackChain(cache=ResponseCache(VirtualClock()))
    chain.remember(Capability.EXECUTE, "p", "", "done", "a")
    assert chain.cached(Capability.EXECUTE, "p", "") is None
    chain.remember(Capability.REVIEW, "p", "", "ok", "a")
    cached = chain.cached(Capability.REVIEW, "p", "")
    assert cached is not None
    assert cached.text == "ok"


def test_degraded_answer_is_marked() -> None:
    """The rule-based default says it is degraded; it can be switched off."""
    text = FallbackChain().degraded(Capability.PLAN, "x")
    assert text is not None
    assert text.startswith("[degraded]")
    assert FallbackChain(default=None).degraded(Capability.PLAN, "x") is None
