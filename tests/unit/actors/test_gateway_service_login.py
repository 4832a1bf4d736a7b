"""A CLI agent that is not logged in: no leaked text, a clean fallback, a visible mark."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from actors.agent_stream import AgentBackend, Capability, FailureKind
from actors.agents.cli_backend import CliAgentSpec, CliBackend
from actors.agents.config import AgentConfig, AgentsConfig
from actors.agents.process import ProcessLimits
from actors.agents.scripted import ScriptedBackend
from actors.gateway.clock import VirtualClock
from actors.gateway_service import GatewayService
from events.agent import Agent, agent_id
from events.runtime import Alert
from events.store import EventStore, StoreConfig
from tests.unit.actors._switch_backend import SwitchBackend

FAKES = Path(__file__).resolve().parents[2] / "fakes"
CAPS = (Capability.PLAN, Capability.REVIEW)


def sync(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body on a fresh event loop (no async pytest plugin is installed)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper


def _logged_out_claude() -> CliBackend:
    """The fake ``claude`` printing the real not-logged-in stream (FAKE_MODE reaches it)."""
    spec = CliAgentSpec(
        name="claude",
        cli="claude",
        executable=str(FAKES / "fake_claude"),
        credential_env=("FAKE_MODE",),
        limits=ProcessLimits(kill_grace_s=0.5, final_grace_s=0.5),
    )
    return CliBackend(spec, base_env={**os.environ, "FAKE_MODE": "auth_failure"})


def _service(
    tmp_path: Path, backends: dict[str, AgentBackend], **kw: Any
) -> tuple[GatewayService, StoreConfig]:
    kinds = {"claude": "claude", "backup": "scripted"}
    config = AgentsConfig(
        agents=tuple(
            AgentConfig(name=name, backend=kinds[name], capabilities=CAPS)  # type: ignore[arg-type]
            for name in backends
        )
    )
    store = StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.db")
    return GatewayService(store, config, backends, seed=1, **kw), store


def _row(service: GatewayService, name: str) -> dict[str, Any]:
    return next(r for r in service.agents() if r["name"] == name)


@sync
async def test_not_logged_in_text_never_reaches_the_caller(tmp_path: Path) -> None:
    """The fallback agent's answer is all the caller sees; claude is tried once, marked."""
    backup = ScriptedBackend("backup")
    service, store_config = _service(tmp_path, {"claude": _logged_out_claude(), "backup": backup})
    events = [e async for e in service.stream_task("r1", "plan", "make a plan", agent="claude")]
    text = "".join(e["text"] for e in events if e["kind"] == "delta")
    assert "logged in" not in text.lower()
    assert "/login" not in text
    assert text.startswith("Plan:")
    final = events[-1]["data"]
    assert final["ok"] is True
    assert final["agent"] == "backup"
    assert final["attempts"] == 2  # one on claude (auth is never retried), one on backup
    assert final["failures"] == {"claude": "auth"}
    row = _row(service, "claude")
    assert row["needs_login"] is True
    assert "log in with `claude`" in row["alert"]
    assert _row(service, "backup")["needs_login"] is False
    assert service.flush_events()
    store = EventStore(store_config)
    try:
        health = [
            e for e in store.events.get(agent_id("claude")) if isinstance(e, Agent.HealthChanged)
        ]
        assert [h.healthy for h in health] == [False]
        alerts = [a for a in store.events.get(_alert_ids(store)) if isinstance(a, Alert.Raised)]
        assert [(a.severity, a.source) for a in alerts] == [("warning", "agent-claude")]
    finally:
        store.close_quietly()


def _alert_ids(store: EventStore) -> Any:
    """The one alert aggregate's id, found through the log (alert ids carry an epoch)."""
    ids = {
        n.originator_id
        for n in store.recorder.select_notifications(start=None, limit=10_000)
        if "Alert.Raised" in n.topic
    }
    assert len(ids) == 1
    return ids.pop()


@sync
async def test_only_agent_not_logged_in_gives_a_clear_answer(tmp_path: Path) -> None:
    """With nothing else to serve, the answer says which agent needs a login; no CLI text."""
    service, _ = _service(tmp_path, {"claude": _logged_out_claude()})
    answer = await service.run_task("r1", "plan", "make a plan")
    assert answer["ok"] is False
    assert answer["attempts"] == 1
    assert answer["failures"] == {"claude": "auth"}
    assert "not logged in: claude" in answer["text"]
    assert "Please run /login" not in answer["text"]


@sync
async def test_the_mark_survives_a_restart_and_clears_on_an_answer(tmp_path: Path) -> None:
    """A restarted gateway still shows the mark; the agent's next own answer clears it."""
    agent = SwitchBackend("claude", "a plan")
    agent.failure = FailureKind.AUTH
    service, store_config = _service(tmp_path, {"claude": agent}, clock=VirtualClock())
    await service.run_task("r1", "plan", "make a plan")
    assert _row(service, "claude")["needs_login"] is True
    service.close()
    clock = VirtualClock()
    restarted, _ = _service(tmp_path, {"claude": agent}, clock=clock)
    assert _row(restarted, "claude")["needs_login"] is True
    agent.failure = None  # the user logged in
    clock.advance(3600)  # past the breaker's open wait: probes go through
    answer = await restarted.run_task("r2", "plan", "make a plan")
    assert answer["ok"] is True
    assert _row(restarted, "claude")["needs_login"] is False
    assert restarted.flush_events()
    store = EventStore(store_config)
    try:
        health = [
            e.healthy
            for e in store.events.get(agent_id("claude"))
            if isinstance(e, Agent.HealthChanged)
        ]
        assert health == [False, True]
    finally:
        store.close_quietly()
