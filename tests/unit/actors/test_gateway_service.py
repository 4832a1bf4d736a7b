"""GatewayService and WorkflowService over in-process scripted backends and a real store."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from actors._gateway_port import LocalGatewayPort
from actors.agent_stream import AgentBackend, Capability
from actors.agents.config import AgentConfig, AgentsConfig, ExecuteConfig
from actors.agents.scripted import ScriptedBackend
from actors.gateway.config import GatewayConfig
from actors.gateway.retry import Backoff, RetryPolicy
from actors.gateway_service import GatewayService
from actors.workflow_service import WorkflowService
from events.agent import Task, task_id
from events.store import EventStore, StoreConfig


def sync(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body on a fresh event loop (no async pytest plugin is installed)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper


FAST = GatewayConfig(retry=RetryPolicy(max_attempts=2, backoff=Backoff(initial_s=0.001)))


def _config(*names: str, execute: ExecuteConfig | None = None) -> AgentsConfig:
    caps = (Capability.PLAN, Capability.CODE, Capability.REVIEW, Capability.ANALYZE)
    agents = tuple(AgentConfig(name=n, backend="scripted", capabilities=caps) for n in names)
    return AgentsConfig(agents=agents, execute=execute or ExecuteConfig())


def _service(
    tmp_path: Path, backends: dict[str, AgentBackend], **kw: Any
) -> tuple[GatewayService, StoreConfig]:
    store = StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.db")
    service = GatewayService(
        store, kw.pop("config", _config(*backends)), backends, gateway_config=FAST, seed=1, **kw
    )
    return service, store


@sync
async def test_run_task_answers_from_a_scripted_agent(tmp_path: Path) -> None:
    """A plan task returns the scripted text, the agent and one attempt."""
    service, _ = _service(tmp_path, {"a": ScriptedBackend("a")})
    answer = await service.run_task("r1", "plan", "make a plan")
    assert answer["ok"] is True
    assert answer["agent"] == "a"
    assert answer["attempts"] == 1
    assert answer["text"].startswith("Plan:")


@sync
async def test_injected_failures_are_retried_and_recorded(tmp_path: Path) -> None:
    """An agent failing its first call still answers; the Task log shows two attempts."""
    service, store_config = _service(tmp_path, {"a": ScriptedBackend("a", fail_first=1)})
    answer = await service.run_task("r2", "code", "write add", agent="a")
    assert answer["ok"] is True
    assert answer["attempts"] == 2
    assert service.flush_events()  # Task events are written in batches, off the event loop
    store = EventStore(store_config)
    try:
        task: Task = store.repository.get(task_id("r2"))
        assert task.status == "completed"
        assert task.attempts == 2
    finally:
        store.close_quietly()


@sync
async def test_a_broken_agent_falls_back_to_another(tmp_path: Path) -> None:
    """When one agent fails every call, the other agent answers."""
    backends: dict[str, AgentBackend] = {
        "a": ScriptedBackend("a", fail_first=99),
        "b": ScriptedBackend("b"),
    }
    service, _ = _service(tmp_path, backends)
    answer = await service.run_task("r3", "review", "review it", agent="a")
    assert answer["ok"] is True
    assert answer["agent"] == "b"


@sync
async def test_repeated_request_id_returns_the_same_answer(tmp_path: Path) -> None:
    """A repeat of a request id is answered from memory without another attempt."""
    backend = ScriptedBackend("a")
    service, _ = _service(tmp_path, {"a": backend})
    first = await service.run_task("same", "plan", "p")
    second = await service.run_task("same", "plan", "p")
    assert first == second
    assert backend.calls == 1


@sync
async def test_refusals_are_answers_not_exceptions(tmp_path: Path) -> None:
    """Unknown agents, disabled execute and missing capabilities come back as refusals."""
    service, _ = _service(tmp_path, {"a": ScriptedBackend("a")})
    assert (await service.run_task("x1", "plan", "p", agent="nope"))["refused"]["status"] == 404
    refused = (await service.run_task("x2", "execute", "rm -rf /"))["refused"]
    assert refused["code"] == "execute_disabled"
    assert service.check_task("execute", argv=["ls"], cwd="/") is not None


@sync
async def test_execute_runs_once_when_enabled(tmp_path: Path) -> None:
    """With execute enabled, an allow-listed command runs once per request id."""
    execute = ExecuteConfig(enabled=True, commands=("echo",), roots=(str(tmp_path),))
    service, _ = _service(
        tmp_path,
        {"a": ScriptedBackend("a")},
        config=_config("a", execute=execute),
        execute_dir=str(tmp_path / "ledger"),
    )
    answer = await service.run_task("e1", "execute", "", argv=["echo", "hi"], cwd=str(tmp_path))
    assert answer["ok"] is True
    assert answer["text"].strip() == "hi"
    assert service.execute_outcome("e1") is not None
    outside = service.check_task("execute", argv=["echo", "x"], cwd="/etc")
    assert outside is not None
    assert outside["refused"]["code"] == "execute_refused"


@sync
async def test_stream_task_yields_increasing_seq_and_one_final(tmp_path: Path) -> None:
    """The stream starts, carries text deltas with increasing seq and ends with one final."""
    service, _ = _service(tmp_path, {"a": ScriptedBackend("a")})
    events = [e async for e in service.stream_task("s1", "analyze", "look")]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    assert [e["kind"] for e in events].count("final") == 1
    assert events[-1]["kind"] == "final"
    assert events[-1]["data"]["ok"] is True


@sync
async def test_agents_lists_breaker_and_load(tmp_path: Path) -> None:
    """agents() reports each agent with its breaker state and latency after a call."""
    service, _ = _service(tmp_path, {"a": ScriptedBackend("a")})
    await service.run_task("m1", "plan", "p")
    rows = {r["name"]: r for r in service.agents()}
    assert rows["a"]["breaker"] == "closed"
    assert rows["a"]["in_flight"] == 0
    assert service.metrics()["gateway"]["requests"] == 1
    assert service.agent_kinds() == {"a": "scripted"}
    assert 0 < rows["a"]["retry_budget_tokens"] <= 10
    assert service.gateway.hedge is not None  # production hedging is on (analyze/review only)


@sync
async def test_workflow_runs_to_the_gate_then_completes_after_approval(tmp_path: Path) -> None:
    """plan → code → review run in the background, execute waits, approval finishes it."""
    service, store = _service(tmp_path, {"a": ScriptedBackend("a")})
    workflows = WorkflowService(store, LocalGatewayPort(service))
    assert await workflows.start() == []
    started = await workflows.start_workflow("wf1", "build an adder")
    assert started["workflow_id"] == "wf1"
    gated = await workflows.wait("wf1")
    assert gated["state"] == "awaiting_approval"
    assert [s["status"] for s in gated["steps"]] == ["done", "done", "done", "awaiting_approval"]
    assert (await workflows.approve("wf1", "execute", "me"))["workflow_id"] == "wf1"
    done = await workflows.wait("wf1")
    assert done["state"] == "completed"
    execute = done["steps"][-1]
    assert execute["degraded"] is True
    assert "nothing was run" in execute["output"]
    assert (await workflows.status("missing"))["refused"]["status"] == 404
    assert (await workflows.approve("wf1", "execute", "me"))["workflow_id"] == "wf1"
    assert any(w["workflow_id"] == "wf1" for w in await workflows.workflows())


@pytest.mark.parametrize("approval", [False])
@sync
async def test_workflow_without_approval_completes_alone(tmp_path: Path, approval: bool) -> None:
    """A workflow started without approval runs every step to completion by itself."""
    service, store = _service(tmp_path, {"a": ScriptedBackend("a")})
    workflows = WorkflowService(store, LocalGatewayPort(service))
    await workflows.start_workflow("wf2", "p", approval_required=approval)
    assert (await workflows.wait("wf2"))["state"] == "completed"


@sync
async def test_metrics_report_the_adaptive_ttft_per_agent_and_capability(tmp_path: Path) -> None:
    """Before a call the TTFT timeout is the configured initial one with no estimate; after a
    streamed answer the smoothed TTFT is measured and the timeout follows the estimator."""
    service, _ = _service(tmp_path, {"a": ScriptedBackend("a", token_delay_s=0.01)})
    before = {(r["agent"], r["capability"]): r for r in service.metrics()["ttft"]}
    assert before[("a", "plan")]["srtt_s"] is None
    initial = before[("a", "plan")]["rto_s"]
    await service.run_task("t1", "plan", "p")
    after = {(r["agent"], r["capability"]): r for r in service.metrics()["ttft"]}
    assert after[("a", "plan")]["srtt_s"] is not None
    assert after[("a", "plan")]["srtt_s"] > 0
    assert after[("a", "plan")]["rto_s"] != initial  # the estimator moved off its start value
    assert after[("a", "analyze")]["srtt_s"] is None  # no call with that capability yet
