"""Breaker, retry and timeout settings from the agents config reach the gateway's router."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from actors.agent_stream import Capability, FailureKind
from actors.agents.config import AgentConfig, AgentsConfig
from actors.agents.resilience import (
    BreakerSettings,
    ResilienceSettings,
    RetrySettings,
    TimeoutSettings,
)
from actors.gateway.breaker import BreakerState
from actors.gateway.clock import VirtualClock
from actors.gateway_service import GatewayService
from events.store import StoreConfig
from tests.unit.actors._switch_backend import SwitchBackend

DEFAULTS = ResilienceSettings(
    timeouts=TimeoutSettings(ttft_s=7, idle_s=9, total_s=70),
    retry=RetrySettings(initial_backoff_s=0.01),
)


def sync(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body on a fresh event loop (no async pytest plugin is installed)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper


def _service(tmp_path: Path, agent: AgentConfig) -> tuple[GatewayService, SwitchBackend]:
    config = AgentsConfig(agents=(agent,), defaults=DEFAULTS)
    backend = SwitchBackend(agent.name, "an answer")
    backend.failure = FailureKind.OVERLOADED
    store = StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.db")
    service = GatewayService(store, config, {agent.name: backend}, clock=VirtualClock(), seed=1)
    return service, backend


def _agent(**settings: Any) -> AgentConfig:
    return AgentConfig(name="a", backend="scripted", capabilities=(Capability.PLAN,), **settings)


@sync
async def test_retry_and_timeouts_come_from_the_config(tmp_path: Path) -> None:
    """The agent's max_attempts decides the attempts; [defaults.timeouts] each deadline."""
    service, backend = _service(tmp_path, _agent(retry=RetrySettings(max_attempts=3)))
    answer = await service.run_task("r1", "plan", "x")
    assert answer["attempts"] == 3  # built-in default: 2
    first = backend.requests[0]
    assert (first.ttft_timeout_s, first.idle_timeout_s, first.total_timeout_s) == (7, 9, 70)


@sync
async def test_breaker_thresholds_and_open_wait_come_from_the_config(tmp_path: Path) -> None:
    """One failure trips a breaker set to minimum_calls = 1, for the configured open wait."""
    breaker = BreakerSettings(minimum_calls=1, wait_open_s=30, max_wait_open_s=30)
    service, _ = _service(tmp_path, _agent(breaker=breaker, retry=RetrySettings(max_attempts=1)))
    await service.run_task("r1", "plan", "x")
    snap = service.gateway.breakers["a"].snapshot()
    assert snap.state is BreakerState.OPEN  # built-in minimum_calls: 5
    assert snap.open_for_s == 30


def test_each_agent_lists_its_settings(tmp_path: Path) -> None:
    """The agents listing shows the merged settings the router uses."""
    service, _ = _service(tmp_path, _agent(retry=RetrySettings(max_attempts=3)))
    row = service.agents()[0]
    assert row["resilience"]["retry"]["max_attempts"] == 3
    assert row["resilience"]["retry"]["initial_backoff_s"] == 0.01
    assert row["resilience"]["timeouts"]["idle_s"] == 9
    assert row["resilience"]["breaker"]["wait_open_s"] == 5.0
    assert row["needs_login"] is False
