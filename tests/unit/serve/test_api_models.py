"""The response models added for the dashboard document the answers without reshaping them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from serve.agent_services import AgentServices, ApprovalRequest, TaskRequest, WorkflowRequest
from serve.agents_api import agents_router
from serve.sync_api import sync_router
from serve.sync_services import ENTITY_SQL, LOSS_SQL, SyncServices

SEEN = datetime(2026, 1, 2, 3, 4, 5, 678000)
# One row per route, shaped like the backend's (extra fields, absent optional ones).
ROWS: dict[str, list[dict[str, Any]]] = {
    "clients": [
        {
            "client": "codex",
            "path": "/h/c.toml",
            "status": "error",
            "error": "line 3",
            "last_seen": SEEN,
            "future_field": [1, 2],
        },
        {"client": "cursor", "path": "/h/m.json"},
    ],
    ENTITY_SQL: [
        {
            "kind": "mcp_server",
            "name": "fs",
            "scope": "user",
            "client": "cursor",
            "digest": "ab" * 32,
            "base_digest": None,
            "present": True,
            "updated_at": SEEN,
            "status": "conflict",
        },
    ],
    LOSS_SQL: [
        {
            "client": "rovodev",
            "kind": "mcp_server",
            "name": "gh",
            "field": "headers",
            "reason": "no header support",
            "ts": None,
        },
    ],
    "conflicts": [
        {
            "conflict_id": "c1",
            "kind": "mcp_server",
            "name": "fs",
            "scope": "user",
            "sides": '{"cursor": "a"}',
            "status": "open",
            "detected_at": SEEN,
            "resolved_at": None,
        },
    ],
}
STATUS: dict[str, Any] = {
    "mode": "apply",
    "clients": {"cursor": [{"path": "/h/m.json", "sha256": None}]},
    "open": [
        {
            "type": "Conflict",
            "kind": "mcp_server",
            "name": "fs",
            "scope": "user",
            "conflict_id": "c1",
            "sides": {"cursor": "a", "codex": None},
        },
        {
            "type": "HoldDeletion",
            "kind": "skill",
            "name": "x",
            "scope": "user",
            "client": "codex",
            "reason": "3 deletions",
        },
    ],
    "writes": 2,
    "breakers": [{"client": "codex", "path": "/h/c.toml", "open_s": 1.5, "refused": 2}],
}
PLAN: dict[str, Any] = {
    "plan_hash": "ab" * 32,
    "changes": [
        {
            "client": "cursor",
            "path": "/h/.cursor/mcp.json",
            "pre_sha256": "a" * 64,
            "new_sha256": "b" * 64,
            "entities": ["mcp_server:fs"],
            "losses": [],
            "diff": "--- /h/.cursor/mcp.json\n+++ /h/.cursor/mcp.json\n@@ -1 +1 @@\n-a\n+b\n",
        },
        {
            "client": "claude-code",
            "clients": ["claude-code", "codex"],
            "path": "/h/.agents/skills/review/SKILL.md",
            "pre_sha256": None,
            "new_sha256": "c" * 64,
            "entities": ["skill:review"],
            "losses": [],
            "diff": "",
            "placement": "copy",
            "placement_id": "p1",
            "reason": "",
        },
    ],
    "decisions": [
        {"type": "Lossy", "kind": "mcp_server", "name": "fs", "scope": "user", "field": "env"},
        {"type": "PlacementConflict", "kind": "skill", "name": "x", "finding_id": "f1"},
    ],
    "mode": "observe",
}
OUTCOME: dict[str, Any] = {
    "applied": True,
    "stale": False,
    "written": ["/h/m.json"],
    "abandoned": [],
    "reason": "",
}
LOG: list[dict[str, Any]] = [
    {
        "write_id": "w1",
        "ts": SEEN,
        "action": "write",
        "client": "cursor",
        "path": "/h/m.json",
        "sha256": "b" * 64,
        "pre_image_ref": "a" * 64,
        "entities": "mcp_server:fs",
        "reason": None,
    },
    {
        "write_id": "abandoned:9",
        "ts": SEEN,
        "action": "abandoned",
        "client": "codex",
        "path": "/h/c.toml",
        "sha256": None,
        "pre_image_ref": None,
        "entities": "",
        "reason": "changed during the write",
    },
]
RESUMED: dict[str, Any] = {"client": "codex", "resumed": ["/h/c.toml"], "written": []}
AGENTS = [
    {
        "name": "a",
        "backend": "claude",
        "capabilities": ["plan"],
        "weight": 1.0,
        "enabled": True,
        "breaker": "closed",
        "times_opened": 0,
        "error_rate": 0.0,
        "ewma_latency_ms": 12.5,
        "in_flight": 0,
        "retry_budget_tokens": 9.5,
    },
    {
        "name": "b",
        "backend": "gemini",
        "capabilities": [],
        "weight": 1,
        "enabled": False,
        "breaker": "disabled",
        "times_opened": 0,
        "error_rate": 0.0,
        "ewma_latency_ms": 0.0,
        "in_flight": 0,
    },
]


class _FixedSync(SyncServices):
    """Answers fixed rows per query; commands settle with a fixed outcome."""

    async def status(self) -> dict[str, Any]:
        return STATUS

    async def rows(self, sql: str) -> list[dict[str, Any]]:
        if "FROM sync_log" in sql:
            return LOG
        if sql in ROWS:
            return ROWS[sql]
        return ROWS["clients"] if "FROM clients" in sql else ROWS["conflicts"]

    async def plan(self) -> dict[str, Any]:
        return PLAN

    async def apply(self, plan_hash: str) -> dict[str, Any]:
        return OUTCOME

    async def revert(self, write_id: str) -> dict[str, Any]:
        return OUTCOME

    async def resolve(
        self, conflict_id: str, take: str | None, value: dict[str, Any] | None
    ) -> dict[str, Any]:
        return {
            "applied": True,
            "stale": False,
            "written": ["/h/m.json"],
            "abandoned": [],
            "reason": "",
            "extra": {"took": take},
        }

    async def approve_deletions(self, client: str) -> dict[str, Any]:
        return OUTCOME

    async def resume(self, client: str) -> dict[str, Any]:
        return RESUMED


class _FixedAgents(AgentServices):
    """Lists fixed agent rows; nothing else is used here."""

    async def agents(self) -> list[dict[str, Any]]:
        return AGENTS

    async def agent_kinds(self) -> dict[str, str]:
        return {}

    async def run_task(self, request_id: str, task: TaskRequest) -> dict[str, Any]:
        raise NotImplementedError

    async def check_task(self, request_id: str, task: TaskRequest) -> None:
        raise NotImplementedError

    def stream_task(self, request_id: str, task: TaskRequest) -> AsyncIterator[dict[str, Any]]:
        raise NotImplementedError

    async def start_workflow(self, request: WorkflowRequest) -> dict[str, Any]:
        raise NotImplementedError

    async def workflow(self, workflow_id: str) -> dict[str, Any]:
        raise NotImplementedError

    async def approve(self, workflow_id: str, request: ApprovalRequest) -> dict[str, Any]:
        raise NotImplementedError

    async def reject(self, workflow_id: str, request: ApprovalRequest) -> dict[str, Any]:
        raise NotImplementedError

    async def workflows(self) -> list[dict[str, Any]]:
        return []


def _as_json(value: Any) -> Any:
    """What the route answered before it had a model: the value through FastAPI's encoder."""
    from fastapi.encoders import jsonable_encoder

    return json.loads(json.dumps(jsonable_encoder(value)))


def _api(make_client: Callable[..., Any]) -> Any:
    return make_client(
        extra_routers=[sync_router(_FixedSync()), agents_router(_FixedAgents())], authed=True
    )


def test_sync_answers_are_unchanged_by_their_models(make_client: Callable[..., Any]) -> None:
    """Clients, status and conflicts answer exactly the backend's data: extras kept, none added."""
    api = _api(make_client)
    assert api.get("/api/v1/clients").json() == _as_json(ROWS["clients"])
    assert api.get("/api/v1/sync/status").json() == _as_json(STATUS)
    conflicts = api.get("/api/v1/conflicts").json()
    assert conflicts == _as_json({"conflicts": ROWS["conflicts"], "open": STATUS["open"]})


def test_entities_and_losses_routes_answer_the_read_model(make_client: Callable[..., Any]) -> None:
    """GET /sync/entities and /sync/losses answer their read-model rows (for the dashboard)."""
    api = _api(make_client)
    assert api.get("/api/v1/sync/entities").json() == _as_json(ROWS[ENTITY_SQL])
    assert api.get("/api/v1/sync/losses").json() == _as_json(ROWS[LOSS_SQL])


def test_resolve_and_agents_answers_are_unchanged(make_client: Callable[..., Any]) -> None:
    """The resolve outcome and the agents list keep every field, typed or not."""
    api = _api(make_client)
    resolved = api.post("/api/v1/conflicts/c1/resolve", json={"take": "cursor"})
    assert resolved.status_code == 200
    assert resolved.json()["extra"] == {"took": "cursor"}
    assert resolved.json()["written"] == ["/h/m.json"]
    assert api.get("/api/v1/agents").json() == {"agents": AGENTS}


def test_the_openapi_schema_names_the_dashboards_models(make_client: Callable[..., Any]) -> None:
    """Every GET route the dashboard reads has a response schema (the page's types come from it)."""
    schema = _api(make_client).get("/openapi.json").json()
    expected = {
        "/api/v1/clients": "ClientFile",
        "/api/v1/sync/entities": "EntityState",
        "/api/v1/sync/losses": "LossRecord",
        "/api/v1/sync/status": "SyncStatus",
        "/api/v1/conflicts": "ConflictList",
        "/api/v1/agents": "AgentList",
    }
    for path, model in expected.items():
        body = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert model in json.dumps(body["schema"]), path


def test_plan_apply_revert_log_and_resume_answers_are_unchanged_by_their_models(
    make_client: Callable[..., Any],
) -> None:
    """The Sync and Approvals views' routes answer the backend's data as it was: extras kept."""
    api = _api(make_client)
    assert api.post("/api/v1/sync/plan", json={}).json() == _as_json(PLAN)
    assert api.post("/api/v1/sync/apply", json={"plan_hash": "ab" * 32}).json() == OUTCOME
    assert api.post("/api/v1/sync/revert/w1", json={}).json() == OUTCOME
    assert api.post("/api/v1/sync/approve-deletions/codex", json={}).json() == OUTCOME
    assert api.post("/api/v1/sync/resume/codex", json={}).json() == RESUMED
    assert api.get("/api/v1/sync/log").json() == _as_json(LOG)


def test_the_openapi_schema_names_the_sync_views_models(make_client: Callable[..., Any]) -> None:
    """Plan, apply, revert, log, resume and the export list have response schemas (page types)."""
    schema = _api(make_client).get("/openapi.json").json()
    expected = {
        ("/api/v1/sync/plan", "post"): "SyncPlan",
        ("/api/v1/sync/apply", "post"): "SyncOutcome",
        ("/api/v1/sync/revert/{write_id}", "post"): "SyncOutcome",
        ("/api/v1/sync/approve-deletions/{client}", "post"): "SyncOutcome",
        ("/api/v1/sync/resume/{client}", "post"): "ResumeOutcome",
        ("/api/v1/sync/log", "get"): "SyncLogRow",
        ("/api/v1/exports", "get"): "ExportTables",
    }
    for (path, method), model in expected.items():
        body = schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]
        assert model in json.dumps(body["schema"]), path


def test_the_export_list_names_the_projection_tables(make_client: Callable[..., Any]) -> None:
    """GET /api/v1/exports lists the tables the export route downloads, for the SQL view."""
    api = _api(make_client)
    listed = api.get("/api/v1/exports").json()
    assert listed == {"tables": ["clients"]}
    (table,) = listed["tables"]
    assert api.get(f"/api/v1/exports/{table}?format=csv").status_code == 200
