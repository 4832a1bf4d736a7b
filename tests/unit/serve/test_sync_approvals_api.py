"""The approval routes over a real orchestrator, SQLite log, project files and DuckDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.registry import load_adapters
from projections.projector import Projector
from serve.sync_api import sync_router
from serve.sync_services import InProcessSyncServices
from tests.unit.actors._sync_service import apply_service

CANARY = "ghp_" + "C4nary0Secret1Value2Xyz3456789abcd"


@pytest.fixture
def project_api(tmp_path: Path, make_client: Any) -> Iterator[tuple[Any, Path, Any]]:
    """An authed client over Claude, Cursor and Gemini; project ``a``'s ``.mcp.json`` holds
    ``lint`` (with a literal token after ``--token``), waiting for approval; apply mode.
    Also yields the project root and a client without the token."""
    home, project = tmp_path / "home", tmp_path / "a"
    home.mkdir()
    project.mkdir()
    server = {"command": "npx", "args": ["-y", "lint-mcp", "--token", CANARY], "env": {}}
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"lint": server}}))
    adapters = {
        c: a for c, a in load_adapters().items() if str(c) in ("claude-code", "cursor", "gemini")
    }
    service = apply_service(tmp_path, home, adapters, projects=[project])
    store = service.store
    service.scan()
    projector = Projector(tmp_path / "p.duckdb")
    services = InProcessSyncServices(service, store, projector)
    router = sync_router(services)
    anonymous = make_client(extra_routers=[router])
    yield make_client(extra_routers=[router], authed=True), project, anonymous
    projector.close()


def test_the_list_shows_the_command_line_masked_and_the_status_names_the_id(
    project_api: tuple[Any, Path, Any],
) -> None:
    """GET approvals: the file, the command line with the token masked, why no client would
    get it; the status names the id."""
    api, project, _ = project_api
    answer = api.get("/api/v1/sync/approvals")
    assert answer.status_code == 200
    assert CANARY not in answer.text
    (item,) = answer.json()["approvals"]
    assert item["file"] == str(project / ".mcp.json")
    assert item["command"] == "npx -y lint-mcp --token ***"
    assert item["approve"] == f"synapse sync approve {item['id']}"
    # A literal secret is never copied: nobody would get it, and the list says why.
    assert item["clients"] == []
    assert {loss.split(":")[0] for loss in item["losses"]} == {"cursor", "gemini"}
    assert all("literal secret" in loss for loss in item["losses"])
    (open_,) = api.get("/api/v1/sync/status").json()["open"]
    assert open_["approval_id"] == item["id"]


def test_approve_then_the_id_is_gone_and_unknown_ids_are_404(
    project_api: tuple[Any, Path, Any],
) -> None:
    """POST approve answers the outcome; the same id again, or a made-up one, is 404."""
    api, _, _ = project_api
    (item,) = api.get("/api/v1/sync/approvals").json()["approvals"]
    done = api.post(f"/api/v1/sync/approvals/{item['id']}/approve", json={})
    assert done.status_code == 200
    assert done.json()["applied"] is True
    assert api.get("/api/v1/sync/approvals").json()["approvals"] == []
    again = api.post(f"/api/v1/sync/approvals/{item['id']}/approve", json={})
    assert again.status_code == 404
    assert api.post("/api/v1/sync/approvals/0123456789ab/reject", json={}).status_code == 404
    assert api.post(f"/api/v1/sync/approvals/{item['id']}/maybe", json={}).status_code == 422


def test_reject_writes_nothing_and_is_not_asked_again(project_api: tuple[Any, Path, Any]) -> None:
    """POST reject: no file written, the list stays empty after a rescan (plan)."""
    api, project, _ = project_api
    (item,) = api.get("/api/v1/sync/approvals").json()["approvals"]
    done = api.post(f"/api/v1/sync/approvals/{item['id']}/reject", json={})
    assert done.status_code == 200
    assert done.json()["written"] == []
    api.post("/api/v1/sync/plan", json={})
    assert api.get("/api/v1/sync/approvals").json()["approvals"] == []
    assert not (project / ".cursor/mcp.json").exists()


def test_approval_routes_need_the_token(project_api: tuple[Any, Path, Any]) -> None:
    """Without the bearer token the approval routes are refused and nothing is approved."""
    api, _, anonymous = project_api
    (item,) = api.get("/api/v1/sync/approvals").json()["approvals"]
    assert anonymous.get("/api/v1/sync/approvals").status_code in (401, 403)
    refused = anonymous.post(f"/api/v1/sync/approvals/{item['id']}/approve", json={})
    assert refused.status_code in (401, 403)
    assert len(api.get("/api/v1/sync/approvals").json()["approvals"]) == 1
