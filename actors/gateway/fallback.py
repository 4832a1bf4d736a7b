"""The fallback chain: same agent → another agent → cached answer → degraded default.

Retries on the same agent and the choice of another agent are driven by the router
(through :class:`~actors.gateway.retry.RetryPolicy` and the balancer, so open circuits are
skipped). This module holds the two last resorts: a bounded, expiring cache of successful
answers keyed by ``sha256(capability, prompt, context digest)``, and a rule-based default
that is always marked degraded so a client never mistakes it for a model's answer.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from actors.agent_stream import Capability
from actors.gateway.clock import Clock

__all__ = [
    "CachedAnswer",
    "FallbackChain",
    "FallbackKind",
    "ResponseCache",
    "cache_key",
    "default_answer",
]


class FallbackKind(StrEnum):
    """The rungs of the chain, in order."""

    SAME_AGENT = "same_agent"
    OTHER_AGENT = "other_agent"
    CACHE = "cache"
    DEGRADED = "degraded"


def cache_key(capability: Capability, prompt: str, context: str = "") -> str:
    """Return ``sha256(capability, prompt, sha256(context))`` as hex."""
    context_digest = hashlib.sha256(context.encode()).hexdigest()
    h = hashlib.sha256()
    for part in (capability.value, prompt, context_digest):
        h.update(len(part).to_bytes(8, "big"))  # length-prefix: no ambiguous concatenation
        h.update(part.encode())
    return h.hexdigest()


@dataclass(frozen=True)
class CachedAnswer:
    """One cached successful answer."""

    text: str
    agent: str
    stored_at: float


class ResponseCache:
    """A bounded LRU of answers that expire after ``ttl_s``.

    Args:
        clock: source of time for expiry.
        ttl_s: how long an answer stays usable.
        max_entries: LRU bound.
    """

    def __init__(self, clock: Clock, ttl_s: float = 3600.0, max_entries: int = 1024) -> None:
        self._clock = clock
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, CachedAnswer] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> CachedAnswer | None:
        """Return a fresh answer for ``key`` (and mark it recently used), else None."""
        entry = self._entries.get(key)
        if entry is None or self._clock.now() - entry.stored_at > self.ttl_s:
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: str, text: str, agent: str) -> None:
        """Store an answer, evicting the least recently used beyond ``max_entries``."""
        self._entries[key] = CachedAnswer(text, agent, self._clock.now())
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


def default_answer(capability: Capability, prompt: str) -> str:
    """Return the rule-based answer used when no agent and no cache can help."""
    return (
        f"[degraded] No agent could {capability.value} this request right now and no "
        "cached answer exists. Nothing was executed. Retry later or check the agents' "
        "circuit breakers (GET /api/v1/agents)."
    )


@dataclass
class FallbackChain:
    """The last two rungs of the chain and the switches for all four.

    Attributes:
        cache: answers of earlier successful requests, or None to skip the cache rung.
        default: builds the degraded answer, or None to fail instead.
        other_agents: whether to fall back to other agents with the capability.
    """

    cache: ResponseCache | None = None
    default: Callable[[Capability, str], str] | None = default_answer
    other_agents: bool = True

    def remember(
        self, capability: Capability, prompt: str, context: str, text: str, agent: str
    ) -> None:
        """Cache a successful answer (never for ``execute``: its effects cannot be replayed)."""
        if self.cache is not None and capability is not Capability.EXECUTE:
            self.cache.put(cache_key(capability, prompt, context), text, agent)

    def cached(self, capability: Capability, prompt: str, context: str) -> CachedAnswer | None:
        """Return a cached answer for the same request, if any."""
        if self.cache is None or capability is Capability.EXECUTE:
            return None
        return self.cache.get(cache_key(capability, prompt, context))

    def degraded(self, capability: Capability, prompt: str) -> str | None:
        """Return the rule-based default answer, or None when disabled."""
        return None if self.default is None else self.default(capability, prompt)
