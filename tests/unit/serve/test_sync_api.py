"""The sync HTTP routes over a real orchestrator, event store and DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actors.sync_service import SyncService, default_policy
from adapters.files import sha256_hex
from adapters.registry import load_adapters
from events.store import EventStore, StoreConfig
from projections.projector import Projector
from serve.sync_api import sync_router
from serve.sync_services import InProcessSyncServices
from synapse._demo_sync import DEMO_ARG, demo_edit, seed_sandbox

CANARY = "ghp_" + "C4nary0Secret1Value2Xyz3456789abcd"


@pytest.fixture
def sandbox(tmp_path: Path, make_client):  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    paths = seed_sandbox(home)
    data = json.loads(paths["claude-code"].read_text())
    data["mcpServers"]["github"]["env"]["GITHUB_PERSONAL_ACCESS_TOKEN"] = CANARY
    paths["claude-code"].write_text(json.dumps(data, indent=2))
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "e.sqlite"))
    adapters = load_adapters()
    service = SyncService(
        store,
        adapters,
        home=home,
        preimage_dir=tmp_path / "pre",
        policy=default_policy(list(adapters), "apply"),
    )
    projector = Projector(tmp_path / "p.duckdb")
    api = make_client(
        extra_routers=[sync_router(InProcessSyncServices(service, store, projector))], authed=True
    )
    yield api, paths, home, make_client
    projector.close()


def test_plan_apply_revert_over_http(sandbox) -> None:  # type: ignore[no-untyped-def]
    """POST plan → apply with its hash → revert by write id restores the exact bytes."""
    api, paths, home, _ = sandbox
    api.post("/api/v1/sync/plan", json={})
    before = sha256_hex(paths["cursor"].read_bytes())
    demo_edit(home)
    plan = api.post("/api/v1/sync/plan", json={}).json()
    assert len(plan["changes"]) == 7
    assert api.post("/api/v1/sync/apply", json={"plan_hash": "0" * 64}).status_code == 409
    done = api.post("/api/v1/sync/apply", json={"plan_hash": plan["plan_hash"]})
    assert done.status_code == 200
    assert DEMO_ARG in paths["cursor"].read_text()
    log = api.get("/api/v1/sync/log").json()
    (wid,) = [r["write_id"] for r in log if r["client"] == "cursor" and r["action"] == "write"]
    assert api.post(f"/api/v1/sync/revert/{wid}", json={}).status_code == 200
    assert sha256_hex(paths["cursor"].read_bytes()) == before
    assert api.post(f"/api/v1/sync/revert/{wid}", json={}).status_code == 409
    clients = api.get("/api/v1/clients").json()
    assert {c["client"] for c in clients} >= {"gemini", "codex", "cursor"}


def test_conflicts_listed_and_resolved_over_http(sandbox) -> None:  # type: ignore[no-untyped-def]
    """A conflict shows in /conflicts and is resolved by taking a side."""
    api, paths, _, _ = sandbox
    api.post("/api/v1/sync/plan", json={})
    for client, extra in (("cursor", "/a"), ("rovodev", "/b")):
        text = paths[client].read_text().replace('"/tmp"]', f'"/tmp", "{extra}"]', 1)
        paths[client].write_text(text)
    api.post("/api/v1/sync/plan", json={})
    body = api.get("/api/v1/conflicts").json()
    # github conflicts too: Claude holds a literal token where the others hold ${VAR}.
    (conflict,) = [c for c in body["open"] if c["name"] == "filesystem"]
    assert {c["status"] for c in body["conflicts"]} == {"open"}
    bad = api.post(f"/api/v1/conflicts/{conflict['conflict_id']}/resolve", json={})
    assert bad.status_code == 422
    ok = api.post(f"/api/v1/conflicts/{conflict['conflict_id']}/resolve", json={"take": "cursor"})
    assert ok.status_code == 200
    left = api.get("/api/v1/conflicts").json()["open"]
    assert [c["name"] for c in left] == ["github"]
    assert "/a" in paths["rovodev"].read_text()


def test_no_answer_leaks_the_secret_and_token_is_required(sandbox) -> None:  # type: ignore[no-untyped-def]
    """The canary appears in no sync answer; without the token the routes are refused."""
    api, _, home, make_client = sandbox
    demo_edit(home)
    texts = [
        api.post("/api/v1/sync/plan", json={}).text,
        api.get("/api/v1/sync/status").text,
        api.get("/api/v1/clients").text,
        api.get("/api/v1/conflicts").text,
        api.get("/api/v1/sync/log").text,
    ]
    assert all(CANARY not in t for t in texts)
    anonymous = make_client(extra_routers=[])
    assert anonymous.get("/api/v1/clients").status_code in (401, 403, 404)
