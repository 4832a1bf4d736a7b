"""The answer cache in the gateway service as production builds it (from the agents config)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from actors.agent_stream import Capability, FailureKind
from actors.agents.config import AgentConfig, AgentsConfig
from actors.agents.resilience import CacheSettings
from actors.gateway.clock import VirtualClock
from actors.gateway_service import GatewayService
from events.agent import Task, task_id
from events.store import EventStore, StoreConfig
from tests.unit.actors._switch_backend import SwitchBackend

ANSWER = "the plan is 7f3a9c-unique-answer in three steps"


def sync(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body on a fresh event loop (no async pytest plugin is installed)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper


def _service(
    tmp_path: Path, cache: CacheSettings | None = None
) -> tuple[GatewayService, SwitchBackend, VirtualClock, StoreConfig]:
    caps = (Capability.PLAN, Capability.REVIEW)
    config = AgentsConfig(
        agents=(AgentConfig(name="a", backend="scripted", capabilities=caps),),
        cache=cache or CacheSettings(ttl_s=60),
    )
    backend, clock = SwitchBackend("a", ANSWER), VirtualClock()
    store = StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.db")
    return GatewayService(store, config, {"a": backend}, clock=clock, seed=1), backend, clock, store


@sync
async def test_a_recent_answer_is_served_when_every_agent_is_down(tmp_path: Path) -> None:
    """Same request again with the only agent failing: the cached answer, marked, not degraded."""
    service, backend, _, store_config = _service(tmp_path)
    first = await service.run_task("r1", "plan", "Make a plan")
    assert first["ok"] is True
    backend.failure = FailureKind.OVERLOADED
    # Trailing blanks and CRLF do not make it another request.
    again = await service.run_task("r2", "plan", "Make a plan \r\n")
    assert again["text"] == first["text"]
    assert again["fallback"] == "cache"
    assert again["ok"] is True
    assert again["degraded"] is False
    assert again["agent"] == "a"
    assert again["cache_age_s"] is not None
    assert again["failures"] == {"a": "overloaded"}
    assert service.flush_events()
    store = EventStore(store_config)
    try:
        kinds = [
            e.kind for e in store.events.get(task_id("r2")) if isinstance(e, Task.FallbackUsed)
        ]
        assert kinds == ["cache"]
    finally:
        store.close_quietly()


@sync
async def test_a_streamed_request_is_served_from_the_cache_too(tmp_path: Path) -> None:
    """A streamed success is remembered; a streamed repeat gets the text and a cache final."""
    service, backend, _, _ = _service(tmp_path)
    events = [e async for e in service.stream_task("s1", "review", "review this")]
    text = "".join(e["text"] for e in events if e["kind"] == "delta")
    backend.failure = FailureKind.TIMEOUT
    again = [e async for e in service.stream_task("s2", "review", "review this")]
    assert "".join(e["text"] for e in again if e["kind"] == "delta") == text
    final = again[-1]
    assert final["kind"] == "final"
    assert final["data"]["fallback"] == "cache"
    assert final["data"]["ok"] is True


@sync
async def test_another_request_or_an_expired_answer_gets_the_default(tmp_path: Path) -> None:
    """Another capability, prompt or agent hint misses; so does an answer past the TTL."""
    service, backend, clock, _ = _service(tmp_path)
    await service.run_task("r1", "plan", "Make a plan")
    backend.failure = FailureKind.OVERLOADED
    assert (await service.run_task("r2", "review", "Make a plan"))["fallback"] == "degraded"
    assert (await service.run_task("r3", "plan", "Make a  plan"))["fallback"] == "degraded"
    hinted = await service.run_task("r4", "plan", "Make a plan", agent="a")
    assert hinted["fallback"] == "degraded"
    assert (await service.run_task("r5", "plan", "Make a plan"))["fallback"] == "cache"
    clock.advance(61)
    expired = await service.run_task("r6", "plan", "Make a plan")
    assert expired["fallback"] == "degraded"
    assert expired["degraded"] is True


@sync
async def test_cached_answers_stay_out_of_the_event_log(tmp_path: Path) -> None:
    """The log holds no answer text, so the cache is memory only (and empty after a restart)."""
    service, backend, _, _ = _service(tmp_path)
    await service.run_task("r1", "plan", "Make a plan")
    backend.failure = FailureKind.OVERLOADED
    assert (await service.run_task("r2", "plan", "Make a plan"))["fallback"] == "cache"
    assert service.flush_events()
    service.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("events.db*"))
    assert b"7f3a9c-unique-answer" not in stored
    restarted, _, _, _ = _service(tmp_path)
    assert restarted.gateway.fallback.cache is not None
    assert len(restarted.gateway.fallback.cache) == 0
    restarted.close()


@sync
async def test_the_cache_is_bounded_and_can_be_switched_off(tmp_path: Path) -> None:
    """max_entries bounds the LRU; enabled = false leaves only the rule-based default."""
    service, backend, _, _ = _service(tmp_path, CacheSettings(max_entries=1))
    await service.run_task("r1", "plan", "first")
    await service.run_task("r2", "plan", "second")
    cache = service.gateway.fallback.cache
    assert cache is not None
    assert len(cache) == 1
    backend.failure = FailureKind.OVERLOADED
    assert (await service.run_task("r3", "plan", "first"))["fallback"] == "degraded"
    assert (await service.run_task("r4", "plan", "second"))["fallback"] == "cache"
    off, backend_off, _, _ = _service(tmp_path / "off", CacheSettings(enabled=False))
    await off.run_task("r1", "plan", "first")
    backend_off.failure = FailureKind.OVERLOADED
    assert (await off.run_task("r2", "plan", "first"))["fallback"] == "degraded"
