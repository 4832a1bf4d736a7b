"""The agents, tasks/attempts and workflows/steps read models on a real store and projector."""

from __future__ import annotations

import asyncio
from pathlib import Path

from actors._gateway_port import LocalGatewayPort
from actors.agent_stream import Capability
from actors.agents.config import AgentConfig, AgentsConfig
from actors.agents.scripted import ScriptedBackend
from actors.gateway.config import GatewayConfig
from actors.gateway.retry import Backoff, RetryPolicy
from actors.gateway_service import GatewayService
from actors.workflow_service import WorkflowService
from events.store import EventStore, StoreConfig
from projections.agents import AgentsReadModel
from projections.projector import Projector, default_read_models
from projections.tasks import TasksReadModel, request_id_of
from projections.workflows import WorkflowsReadModel

CAPS = (Capability.PLAN, Capability.CODE, Capability.REVIEW, Capability.ANALYZE)


def _gateway(store: StoreConfig) -> GatewayService:
    config = AgentsConfig(
        agents=(
            AgentConfig(name="flaky", backend="scripted", capabilities=CAPS),
            AgentConfig(name="steady", backend="scripted", capabilities=CAPS),
        )
    )
    backends = {
        "flaky": ScriptedBackend("flaky", fail_first=1),
        "steady": ScriptedBackend("steady"),
    }
    retry = RetryPolicy(max_attempts=2, backoff=Backoff(initial_s=0.001))
    return GatewayService(store, config, backends, gateway_config=GatewayConfig(retry=retry))


def _project(store_config: StoreConfig, batch: int | None = None) -> Projector:
    projector = Projector(":memory:")
    store = EventStore(store_config)
    try:
        if batch is None:
            projector.catch_up(store)
        else:
            projector.catch_up(store, batch_size=batch)
    finally:
        store.close_quietly()
    return projector


def _store(tmp_path: Path) -> StoreConfig:
    return StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.db")


def test_models_are_registered_by_default() -> None:
    """default_read_models() includes agents, tasks and workflows."""
    kinds = {type(m) for m in default_read_models()}
    assert {AgentsReadModel, TasksReadModel, WorkflowsReadModel} <= kinds


def test_request_id_of_keeps_colons_inside_the_id() -> None:
    """A request id with colons survives the command-id split."""
    assert request_id_of("wf-w1:code:0:3:attempt_started") == "wf-w1:code:0"


def test_tasks_and_attempts_show_a_retried_request(tmp_path: Path) -> None:
    """A request that failed once and then succeeded has two attempt rows and one task row."""
    config = _store(tmp_path)
    gateway = _gateway(config)
    answer = asyncio.run(gateway.run_task("r1", "plan", "p", agent="flaky"))
    assert answer["attempts"] == 2
    assert gateway.flush_events()
    projector = _project(config)
    tasks = projector.query("SELECT request_id, status, attempts, agent FROM tasks")
    assert tasks == [("r1", "completed", 2, "flaky")]
    attempts = projector.query(
        "SELECT attempt, agent, outcome, failure FROM attempts ORDER BY attempt"
    )
    assert attempts == [(1, "flaky", "failed", "overloaded"), (2, "flaky", "ok", None)]
    agents = dict(projector.query("SELECT name, attempts FROM agents"))
    assert agents == {"flaky": 2, "steady": 0}
    row = projector.query(
        "SELECT failures, error_rate, breaker_state FROM agents WHERE name='flaky'"
    )
    assert row == [(1, 0.5, "closed")]


def test_folding_is_the_same_in_small_batches(tmp_path: Path) -> None:
    """Projecting one event per batch gives the same tables as one big batch."""
    config = _store(tmp_path)
    gateway = _gateway(config)
    for i in range(3):
        asyncio.run(gateway.run_task(f"r{i}", "code", "p", agent="flaky"))
    assert gateway.flush_events()
    whole, pieces = _project(config), _project(config, batch=1)
    for table in ("tasks", "attempts", "agents"):
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        assert whole.query(sql) == pieces.query(sql)


def test_workflow_and_steps_rows(tmp_path: Path) -> None:
    """A gated workflow then approved shows completed, each step done once."""
    config = _store(tmp_path)
    gateway = _gateway(config)
    workflows = WorkflowService(config, LocalGatewayPort(gateway))

    async def scenario() -> None:
        await workflows.start_workflow("w1", "add numbers")
        await workflows.wait("w1")
        await workflows.approve("w1", "execute", "me")
        await workflows.wait("w1")

    asyncio.run(scenario())
    assert gateway.flush_events()
    for batch in (None, 1):
        projector = _project(config, batch)
        assert projector.query("SELECT status, review_loops FROM workflows") == [("completed", 0)]
        steps = projector.query("SELECT step, status, attempts, degraded FROM steps ORDER BY step")
        assert steps == [
            ("code", "done", 1, False),
            ("execute", "done", 1, True),
            ("plan", "done", 1, False),
            ("review", "done", 1, False),
        ]
