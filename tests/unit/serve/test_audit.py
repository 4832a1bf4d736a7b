"""Who did it: events a person causes over HTTP name that person (audit).

A real orchestrator, event store and DuckDB projector behind the in-process app; alice logs
in with the password grant, resolves a conflict, applies a plan and reverts a write, and each
of those events carries ``actor: alice`` in the log and in the ``events`` projection's body.
A task through a real in-process gateway records its submitter the same way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from actors.agent_stream import Capability
from actors.agents.config import AgentConfig, AgentsConfig
from actors.agents.scripted import ScriptedBackend
from actors.gateway_service import GatewayService
from events.audit import acting_as
from events.store import EventStore, StoreConfig
from events.sync import SyncLedger
from projections.projector import Projector
from serve._sessions import SessionSigner
from serve._task_streams import TaskStreams
from serve.agent_services import AgentServices, TaskRequest, raise_if_refused
from serve.agents_api import agents_router
from serve.sync_api import sync_router
from serve.sync_services import InProcessSyncServices
from serve.users import Role, UserStore
from synapse._demo_sync import seed_sandbox
from tests.unit.actors._sync_service import apply_service

OWN = "http://127.0.0.1:8765"
HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PAGE = {"Origin": OWN, "X-Synapse-CSRF": "1"}


@pytest.fixture
def logged_in(tmp_path: Path, make_client: Any) -> Any:
    """alice (operator) logged in through the page's cookie, over a real sync stack."""
    home = tmp_path / "home"
    paths = seed_sandbox(home)
    service = apply_service(tmp_path, home)
    store = service.store
    projector = Projector(tmp_path / "p.duckdb")
    users = UserStore(tmp_path / "users.json", HASHER)
    users.add("alice", Role.OPERATOR, "correct horse")
    web = make_client(
        extra_routers=[sync_router(InProcessSyncServices(service, store, projector))],
        sessions=SessionSigner(b"a" * 32, users),
    )
    form = {"grant_type": "password", "username": "alice", "password": "correct horse"}
    assert web.post("/api/v1/auth/token", data=form).status_code == 200
    yield web, store, projector, paths, home
    projector.close()


def _actors(store: EventStore, topic_suffix: str) -> list[str | None]:
    found = []
    for n in store.read(0, 100_000):
        if n.topic.endswith(topic_suffix):
            found.append(store.decode_body(n).get("actor"))
    return found


def test_apply_revert_and_resolve_from_the_page_name_the_user(logged_in: Any) -> None:
    """ConflictResolved, the WriteApplied it led to and ChangeReverted, caused by alice,
    carry actor alice, in the log and in the events projection (what the log viewer filters
    on); applying a plan over HTTP works for her too."""
    web, store, projector, paths, _ = logged_in
    web.post("/api/v1/sync/plan", headers=PAGE, json={})
    for client, extra in (("cursor", "/a"), ("rovodev", "/b")):
        text = paths[client].read_text().replace('"/tmp"]', f'"/tmp", "{extra}"]', 1)
        paths[client].write_text(text)
    web.post("/api/v1/sync/plan", headers=PAGE, json={})
    conflicts = web.get("/api/v1/conflicts").json()["open"]
    cid = next(c["conflict_id"] for c in conflicts if c["name"] == "filesystem")
    resolved = web.post(f"/api/v1/conflicts/{cid}/resolve", headers=PAGE, json={"take": "cursor"})
    assert resolved.status_code == 200
    # in apply mode the resolution wrote the other clients: those writes are alice's too
    plan = web.post("/api/v1/sync/plan", headers=PAGE, json={}).json()
    applied = web.post("/api/v1/sync/apply", headers=PAGE, json={"plan_hash": plan["plan_hash"]})
    assert applied.status_code == 200
    log = web.get("/api/v1/sync/log").json()
    wid = next(r["write_id"] for r in log if r["action"] == "write")
    assert web.post(f"/api/v1/sync/revert/{wid}", headers=PAGE, json={}).status_code == 200

    assert set(_actors(store, "SyncLedger.WriteApplied")) >= {"alice"}
    assert _actors(store, "SyncLedger.ChangeReverted") == ["alice"]
    assert _actors(store, "SyncLedger.ConflictResolved") == ["alice"]
    projector.catch_up(store)
    rows = projector.run_sql(
        "SELECT type, json_extract_string(body, '$.actor') FROM events"
        " WHERE json_extract_string(body, '$.actor') = 'alice'"
    ).rows
    kinds = {row[0].rsplit(".", 1)[-1] for row in rows}
    assert kinds >= {"ChangeReverted", "ConflictResolved", "WriteApplied"}


def test_events_nobody_caused_name_no_one(logged_in: Any) -> None:
    """What the engine does by itself (the first scan's observations) has no actor, and an
    event recorded outside any request has actor None, the same as an old stored event."""
    _, store, _, _, _ = logged_in
    assert all(a is None for a in _actors(store, "SyncLedger.WriteApplied"))
    event = SyncLedger.ChangeReverted.model_validate(
        {
            "originator_id": "00000000-0000-0000-0000-000000000001",
            "originator_version": 2,
            "timestamp": "2026-01-01T00:00:00+00:00",
            "write_id": "w1",
        }
    )
    assert event.actor is None  # an old body, without the field, still loads


def test_acting_as_stamps_only_events_that_declare_actor(tmp_path: Path) -> None:
    """The acting user reaches events with an ``actor`` field, and no other event."""
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "e.sqlite"))
    ledger = SyncLedger.open("mcp", "x", command_id="c1")
    with acting_as("bob"):
        ledger.record(SyncLedger.ChangeReverted, write_id="w1")
        ledger.record(SyncLedger.TranslationLossy, client="c", field="f", reason="r")
    store.save_all(ledger)
    bodies = {n.topic.rsplit(".", 1)[1]: store.decode_body(n) for n in store.read(0, 10)}
    assert bodies["ChangeReverted"]["actor"] == "bob"
    assert "actor" not in bodies["TranslationLossy"]
    assert json.dumps(bodies["Opened"]).count("bob") == 0


class _GatewayServices(AgentServices):
    """Agent services over an in-process gateway; only tasks are wired (enough to audit)."""

    def __init__(self, gateway: GatewayService) -> None:
        self.gateway = gateway

    async def run_task(self, request_id: str, task: TaskRequest) -> dict[str, Any]:
        return raise_if_refused(
            await self.gateway.run_task(request_id, task.capability, task.prompt)
        )

    async def agents(self) -> list[dict[str, Any]]:
        return self.gateway.agents()

    async def agent_kinds(self) -> dict[str, str]:
        return {}

    async def check_task(self, request_id: str, task: TaskRequest) -> None:
        return None

    def stream_task(self, request_id: str, task: TaskRequest) -> AsyncIterator[dict[str, Any]]:
        raise NotImplementedError

    async def start_workflow(self, request: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def workflow(self, workflow_id: str) -> dict[str, Any]:
        raise NotImplementedError

    async def approve(self, workflow_id: str, request: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def reject(self, workflow_id: str, request: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def workflows(self) -> list[dict[str, Any]]:
        return []


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayService]:
    """A real gateway with one scripted agent, recording into a SQLite log."""
    config = StoreConfig(backend="sqlite", sqlite_path=tmp_path / "g.sqlite")
    caps = tuple(c for c in Capability if c is not Capability.EXECUTE)
    agents = AgentsConfig(agents=(AgentConfig(name="a", backend="scripted", capabilities=caps),))
    service = GatewayService(config, agents, {"a": ScriptedBackend("a")})
    yield service
    service.close()


def _submitted_actors(service: GatewayService, tmp_path: Path) -> list[str | None]:
    assert service.flush_events(10.0)
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "g.sqlite"))
    try:
        return _actors(store, "Task.Submitted")
    finally:
        store.close_quietly()


def test_a_task_run_over_http_names_the_user(
    gateway: GatewayService, tmp_path: Path, make_client: Any
) -> None:
    """Task.Submitted carries the signed-in user, though a background thread writes it."""
    users = UserStore(tmp_path / "users.json", HASHER)
    users.add("alice", Role.OPERATOR, "correct horse")
    signer = SessionSigner(b"a" * 32, users)
    web = make_client(
        extra_routers=[agents_router(_GatewayServices(gateway), TaskStreams())], sessions=signer
    )
    token, _ = signer.issue("alice", Role.OPERATOR, 1)
    response = web.post(
        "/api/v1/tasks",
        headers={"Authorization": f"Bearer {token}"},
        json={"capability": "plan", "prompt": "hello"},
    )
    assert response.status_code == 200, response.text
    assert _submitted_actors(gateway, tmp_path) == ["alice"]


def test_the_actor_crosses_to_the_gateway_actor_as_an_argument(
    gateway: GatewayService, tmp_path: Path
) -> None:
    """Over Ray the acting user is an argument (a context cannot cross processes)."""
    asyncio.run(gateway.run_task("r-bob", "plan", "hello", actor="bob"))
    asyncio.run(gateway.run_task("r-none", "plan", "hello"))
    actors = _submitted_actors(gateway, tmp_path)
    assert len(actors) == 2
    assert set(actors) == {"bob", None}
