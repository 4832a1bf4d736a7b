"""The fallback chain: same agent → another agent → cached answer → degraded default.

Retries on the same agent and the choice of another agent are driven by the router
(through :class:`~actors.gateway.retry.RetryPolicy` and the balancer, so open circuits are
skipped). This module holds the two last resorts: a bounded, expiring cache of successful
answers keyed by a hash of the request (:func:`cache_key`), and a rule-based default
that is always marked degraded so a client never mistakes it for a model's answer.

The cache lives in the gateway's memory only. Task events carry a digest of the streamed
text, never the text, so a restarted gateway starts with an empty cache.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Mapping
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
    "failure_note",
    "normalise_prompt",
]


class FallbackKind(StrEnum):
    """The rungs of the chain, in order."""

    SAME_AGENT = "same_agent"
    OTHER_AGENT = "other_agent"
    CACHE = "cache"
    DEGRADED = "degraded"


def normalise_prompt(text: str) -> str:
    """The prompt as the cache compares it: NFC, LF line ends, no trailing blanks per line.

    Inner whitespace is kept: in code, indentation and spacing carry meaning.
    """
    lines = unicodedata.normalize("NFC", text).replace("\r\n", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def cache_key(
    capability: Capability, prompt: str, context: str = "", *, agent_hint: str | None = None
) -> str:
    """Return the hex ``sha256`` of the request: capability, prompt, context, agent hint.

    Prompt and context are normalised (:func:`normalise_prompt`). The agent hint is part of
    the request: a per-CLI path (``/api/v1/claude/plan``) is not the same request as a plan
    task any agent may answer. Only the digest is kept, so the key reveals nothing.
    """
    h = hashlib.sha256()
    parts = (capability.value, normalise_prompt(prompt), normalise_prompt(context))
    for part in (*parts, agent_hint or ""):
        data = part.encode()
        h.update(len(data).to_bytes(8, "big"))  # length-prefix: no ambiguous concatenation
        h.update(data)
    return h.hexdigest()


@dataclass(frozen=True)
class CachedAnswer:
    """One cached successful answer."""

    text: str
    agent: str
    stored_at: float


class ResponseCache:
    """A bounded LRU of answers that expire after ``ttl_s``.

    Both the number of answers and their total length are bounded; an answer longer than
    ``max_chars`` alone is not kept at all.

    Args:
        clock: source of time for expiry.
        ttl_s: how long an answer stays usable.
        max_entries: LRU bound on the number of answers.
        max_chars: LRU bound on the characters of all answers together.
    """

    def __init__(
        self,
        clock: Clock,
        ttl_s: float = 3600.0,
        max_entries: int = 1024,
        max_chars: int = 16_000_000,
    ) -> None:
        self._clock = clock
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.max_chars = max_chars
        self._entries: OrderedDict[str, CachedAnswer] = OrderedDict()
        self._chars = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def chars(self) -> int:
        """Characters of all cached answers together."""
        return self._chars

    def get(self, key: str) -> CachedAnswer | None:
        """Return a fresh answer for ``key`` (and mark it recently used), else None."""
        entry = self._entries.get(key)
        if entry is None or self._clock.now() - entry.stored_at > self.ttl_s:
            if entry is not None:
                self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: str, text: str, agent: str) -> None:
        """Store an answer, evicting the least recently used beyond the bounds."""
        if key in self._entries:
            self._drop(key)
        if len(text) > self.max_chars or self.max_entries <= 0:
            return
        self._entries[key] = CachedAnswer(text, agent, self._clock.now())
        self._chars += len(text)
        while len(self._entries) > self.max_entries or self._chars > self.max_chars:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        self._chars -= len(self._entries.pop(key).text)


def failure_note(failures: Mapping[str, str]) -> str:
    """Why the agents tried could not answer, for the caller (empty when none was tried).

    Args:
        failures: agent → failure kind (``auth``, ``timeout``, …).

    Returns:
        E.g. ``"not logged in: claude (log in to its CLI or fix its credentials). Other
        failures: demo-a timeout."``
    """
    login = sorted(name for name, kind in failures.items() if kind == "auth")
    other = sorted(f"{name} {kind}" for name, kind in failures.items() if kind != "auth")
    parts = []
    if login:
        parts.append(
            f"not logged in: {', '.join(login)} (log in to its CLI or fix its credentials)."
        )
    if other:
        parts.append(f"{'Other failures' if login else 'Failures'}: {', '.join(other)}.")
    return " ".join(parts)


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

    def remember(self, key: str, capability: Capability, text: str, agent: str) -> None:
        """Cache a successful answer (never for ``execute``: its effects cannot be replayed).

        Args:
            key: the request's :func:`cache_key`.
            capability: what was asked.
            text: the answer as delivered.
            agent: who gave it.
        """
        if self.cache is not None and capability is not Capability.EXECUTE:
            self.cache.put(key, text, agent)

    def cached(self, key: str, capability: Capability) -> CachedAnswer | None:
        """Return a fresh cached answer for the request with :func:`cache_key` ``key``."""
        if self.cache is None or capability is Capability.EXECUTE:
            return None
        return self.cache.get(key)

    def degraded(self, capability: Capability, prompt: str) -> str | None:
        """Return the rule-based default answer, or None when disabled."""
        return None if self.default is None else self.default(capability, prompt)
