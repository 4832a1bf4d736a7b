"""Response cache and the degraded default."""

from __future__ import annotations

from actors.agent_stream import Capability
from actors.gateway import FallbackChain, ResponseCache, VirtualClock, cache_key
from actors.gateway.fallback import failure_note


def test_cache_key_separates_capability_prompt_and_context() -> None:
    """Different capability, prompt or context give different keys; equal inputs equal keys."""
    base = cache_key(Capability.REVIEW, "p", "ctx")
    assert base == cache_key(Capability.REVIEW, "p", "ctx")
    assert base != cache_key(Capability.ANALYZE, "p", "ctx")
    assert base != cache_key(Capability.REVIEW, "p2", "ctx")
    assert base != cache_key(Capability.REVIEW, "p", "ctx2")
    assert cache_key(Capability.REVIEW, "ab", "c") != cache_key(Capability.REVIEW, "a", "bc")


def test_cache_key_normalises_the_prompt_and_includes_the_agent_hint() -> None:
    """Line ends, trailing blanks and Unicode form do not change the key; the hint does."""
    base = cache_key(Capability.PLAN, "plan  it\nnow", "ctx")
    assert base == cache_key(Capability.PLAN, "plan  it \r\nnow\n", "ctx\n")
    assert base == cache_key(Capability.PLAN, "plan  it\nnow", "ctx")
    assert cache_key(Capability.PLAN, "caf\u00e9") == cache_key(Capability.PLAN, "cafe\u0301")
    assert base != cache_key(Capability.PLAN, "plan it\nnow", "ctx")  # inner spacing kept
    assert base != cache_key(Capability.PLAN, "plan  it\nnow", "ctx", agent_hint="claude")
    assert len(base) == 64
    assert "plan" not in base


def test_total_answer_length_is_bounded() -> None:
    """Beyond max_chars the oldest answers go; an answer longer than the bound is not kept."""
    cache = ResponseCache(VirtualClock(), max_chars=10)
    cache.put("a", "12345", "x")
    cache.put("b", "67890", "x")
    assert cache.chars == 10
    cache.put("c", "abc", "x")
    assert cache.get("a") is None
    assert cache.chars == 8
    cache.put("d", "x" * 11, "x")
    assert cache.get("d") is None
    assert cache.chars == 8
    cache.put("b", "z", "x")  # replacing an answer releases its characters
    assert cache.chars == 4


def test_failure_note_names_agents_that_need_a_login() -> None:
    """Auth failures read as "not logged in"; other failures are listed after them."""
    note = failure_note({"claude": "auth", "demo": "timeout"})
    assert note.startswith("not logged in: claude")
    assert "demo timeout" in note
    assert failure_note({}) == ""


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
    execute, review = cache_key(Capability.EXECUTE, "p"), cache_key(Capability.REVIEW, "p")
    chain.remember(execute, Capability.EXECUTE, "done", "a")
    assert chain.cached(execute, Capability.EXECUTE) is None
    chain.remember(review, Capability.REVIEW, "ok", "a")
    cached = chain.cached(review, Capability.REVIEW)
    assert cached is not None
    assert cached.text == "ok"


def test_degraded_answer_is_marked() -> None:
    """The rule-based default says it is degraded; it can be switched off."""
    text = FallbackChain().degraded(Capability.PLAN, "x")
    assert text is not None
    assert text.startswith("[degraded]")
    assert FallbackChain(default=None).degraded(Capability.PLAN, "x") is None
