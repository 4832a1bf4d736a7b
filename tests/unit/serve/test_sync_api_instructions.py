"""``POST /api/v1/conflicts/{id}/resolve`` with Markdown for a conflict between personal
instruction files, over a real orchestrator, event store and DuckDB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from actors.sync_engine import Policy
from actors.sync_service import SyncService
from adapters.registry import load_adapters
from events.store import EventStore, StoreConfig
from projections.projector import Projector
from serve.sync_api import sync_router
from serve.sync_services import InProcessSyncServices

FILES = {"claude-code": ".claude/CLAUDE.md", "codex": ".codex/AGENTS.md"}
SEED = "# Rules\n\n- Be brief.\n- Use British spelling.\n"
TOKEN = "ghp_" + "C4nary0Secret1Value2Xyz3456789abcd"


def instruction_rows(api: TestClient) -> list[dict[str, Any]]:
    """The instruction rows of the read model, as ``GET /api/v1/conflicts`` answers them."""
    return [
        r for r in api.get("/api/v1/conflicts").json()["conflicts"] if r["kind"] == "instruction"
    ]


@pytest.fixture
def conflict(tmp_path: Path, make_client):  # type: ignore[no-untyped-def]
    """Claude and Codex edited the same rule differently; yields the API, the files and the
    open conflict as ``GET /api/v1/conflicts`` lists it."""
    home = tmp_path / "home"
    paths = {c: home / rel for c, rel in FILES.items()}
    for p in paths.values():
        p.parent.mkdir(parents=True)
        p.write_text(SEED)
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "e.sqlite"))
    adapters = load_adapters()
    service = SyncService(
        store,
        {c: adapters[c] for c in FILES},
        home=home,
        preimage_dir=tmp_path / "pre",
        policy=Policy(tuple(FILES), kinds=frozenset({"instruction"}), mode="apply"),
    )
    projector = Projector(tmp_path / "p.duckdb")
    api = make_client(
        extra_routers=[sync_router(InProcessSyncServices(service, store, projector))], authed=True
    )
    api.post("/api/v1/sync/apply", json={"plan_hash": service.plan().plan_hash})
    paths["claude-code"].write_text(SEED.replace("Be brief.", "Be brief, always."))
    paths["codex"].write_text(SEED.replace("Be brief.", "Be brief, mostly."))
    api.post("/api/v1/sync/plan", json={})
    body = api.get("/api/v1/conflicts").json()
    [found] = [c for c in body["open"] if c["type"] == "InstructionConflict"]
    yield api, paths, found, store
    projector.close()


def test_markdown_value_resolves_an_instruction_conflict_over_http(conflict) -> None:  # type: ignore[no-untyped-def]
    """The listed row is open with both previews; ``{"markdown": …}`` writes the text into
    both files once, closes the row as ``value`` and records the caller as actor."""
    api, paths, found, store = conflict
    [row] = instruction_rows(api)
    assert row["status"] == "open"
    assert json.loads(row["sides"]) == {
        "claude-code": "- Be brief, always.",
        "codex": "- Be brief, mostly.",
    }
    url = f"/api/v1/conflicts/{found['conflict_id']}/resolve"
    done = api.post(url, json={"value": {"markdown": "- Be brief, please.\n"}})
    assert done.status_code == 200, done.text
    for p in paths.values():
        text = p.read_text()
        assert text.count("- Be brief, please.") == 1
        assert "always" not in text
        assert "mostly" not in text
    [row] = instruction_rows(api)
    assert (row["status"], row["resolution"]) == ("resolved", "value")
    settled = [
        store.decode_body(n)
        for n in store.read(0, 10_000)
        if n.topic.endswith("InstructionSync.ConflictSettled")
    ]
    assert [s["actor"] for s in settled] == ["cli"]


def test_a_credential_looking_markdown_value_is_refused_with_422(conflict) -> None:  # type: ignore[no-untyped-def]
    """A token in the value is refused before anything is recorded or written; the answer
    says why without echoing it."""
    api, paths, found, store = conflict
    before = {c: p.read_bytes() for c, p in paths.items()}
    head = store.head()
    url = f"/api/v1/conflicts/{found['conflict_id']}/resolve"
    refused = api.post(url, json={"value": {"markdown": f"- Use {TOKEN} for GitHub.\n"}})
    assert refused.status_code == 422
    assert "credential" in refused.text
    assert TOKEN not in refused.text
    assert {c: p.read_bytes() for c, p in paths.items()} == before
    assert store.head() == head
    open_ = api.get("/api/v1/conflicts").json()["open"]
    assert [c["conflict_id"] for c in open_] == [found["conflict_id"]]
