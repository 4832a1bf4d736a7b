"""Project scope is per project: real files, a real SQLite store, two projects with namesakes."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from actors._sync_ledger import rebuild_state, record_facts
from actors._sync_types import ObservedFact
from actors.sync_service import SyncService, default_policy
from events.store import EventStore, StoreConfig
from projections.projector import Projector
from tests.unit.actors._sync_service import apply_service

#: Project-scope MCP files of the clients that hold MCP servers per project (JSON ones).
MCP_FILES = {
    "claude-code": ".mcp.json",
    "cursor": ".cursor/mcp.json",
    "gemini": ".gemini/settings.json",
    "qwen": ".qwen/settings.json",
    "copilot": ".github/mcp.json",
    "rovodev": ".rovodev/mcp.json",
}


def service_for(tmp_path: Path, projects: tuple[Path, ...]) -> SyncService:
    """A two-way ``apply`` orchestrator over every client, on ``tmp_path/events.sqlite``."""
    return apply_service(tmp_path, tmp_path / "home", projects=projects)


def put(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def servers(path: Path) -> dict[str, Any]:
    """The MCP servers of a JSON(C-free) project file ({} when absent)."""
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return dict(data.get("mcpServers", {}))


def mcp_json(command: str) -> str:
    server = {"type": "stdio", "command": command, "args": ["--db"], "env": {}}
    return json.dumps({"mcpServers": {"db": server}}, indent=2)


def two_projects(tmp_path: Path) -> tuple[SyncService, Path, Path]:
    """Projects ``a`` and ``b`` whose Claude ``.mcp.json`` both hold ``db`` (other commands),
    approved, so each project's other clients hold its own ``db``."""
    (tmp_path / "home").mkdir()
    a, b = tmp_path / "a", tmp_path / "b"
    put(a / ".mcp.json", mcp_json("a-db"))
    put(b / ".mcp.json", mcp_json("b-db"))
    service = service_for(tmp_path, (a, b))
    service.scan()
    pending = service.conflicts()
    assert sorted(d["scope"] for d in pending) == [f"project:{a}", f"project:{b}"]
    for project in (a, b):
        service.resolve(f"mcp_server:db@project:{project}", take="claude-code")
    return service, a, b


def test_namesakes_in_two_projects_each_reach_only_their_own_project(tmp_path: Path) -> None:
    """``db`` of project a lands in a's Cursor/Gemini/... files, b's in b's; never crossed."""
    _, a, b = two_projects(tmp_path)
    for project, command, other in ((a, "a-db", "b-db"), (b, "b-db", "a-db")):
        for client, rel in MCP_FILES.items():
            text = (project / rel).read_text()
            assert command in text, (project, client)
            assert other not in text, (project, client)
        codex = tomllib.loads((project / ".codex/config.toml").read_text())
        assert codex["mcp_servers"]["db"]["command"] == command
    home = tmp_path / "home"
    assert not any("a-db" in p.read_text() for p in home.rglob("*") if p.is_file())


def test_each_project_needs_its_own_approval(tmp_path: Path) -> None:
    """Approving project a's ``db`` writes nothing into project b, whose ``db`` still waits."""
    (tmp_path / "home").mkdir()
    a, b = tmp_path / "a", tmp_path / "b"
    put(a / ".mcp.json", mcp_json("a-db"))
    put(b / ".mcp.json", mcp_json("b-db"))
    service = service_for(tmp_path, (a, b))
    service.scan()
    service.resolve(f"mcp_server:db@project:{a}", take="claude-code")
    assert servers(a / ".cursor/mcp.json")["db"]["command"] == "a-db"
    assert not (b / ".cursor/mcp.json").exists()
    assert [d["scope"] for d in service.conflicts()] == [f"project:{b}"]


def test_edit_in_one_projects_gemini_reaches_only_that_project(tmp_path: Path) -> None:
    """An env reference added in a's Gemini file reaches a's other clients, not b's."""
    service, a, b = two_projects(tmp_path)
    before_b = {rel: (b / rel).read_bytes() for rel in MCP_FILES.values()}
    gemini = a / ".gemini/settings.json"
    data = json.loads(gemini.read_text())
    data["mcpServers"]["db"]["env"] = {"DB_URL": "${DB_URL}"}
    gemini.write_text(json.dumps(data, indent=2))
    service.scan("gemini")
    assert servers(a / ".mcp.json")["db"]["env"] == {"DB_URL": "${DB_URL}"}
    assert servers(a / ".cursor/mcp.json")["db"]["env"] == {"DB_URL": "${env:DB_URL}"}
    assert {rel: (b / rel).read_bytes() for rel in MCP_FILES.values()} == before_b
    assert service.scan().written == []


def test_project_commands_of_one_name_stay_in_their_projects(tmp_path: Path) -> None:
    """``deploy`` in a's and b's ``.claude/commands`` each reach only their own Gemini dir."""
    (tmp_path / "home").mkdir()
    a, b = tmp_path / "a", tmp_path / "b"
    put(a / ".claude/commands/deploy.md", "Deploy A $ARGUMENTS\n")
    put(b / ".claude/commands/deploy.md", "Deploy B $ARGUMENTS\n")
    service = service_for(tmp_path, (a, b))
    service.scan()
    for project, body in ((a, "Deploy A {{args}}"), (b, "Deploy B {{args}}")):
        toml = tomllib.loads((project / ".gemini/commands/deploy.toml").read_text())
        assert toml["prompt"].strip() == body
    assert not (tmp_path / "home/.gemini/commands/deploy.toml").exists()
    assert service.conflicts() == []


def test_deleting_in_one_project_leaves_the_other_untouched(tmp_path: Path) -> None:
    """Removing ``db`` from a's Claude file removes it from a's clients; b keeps every byte."""
    service, a, b = two_projects(tmp_path)
    before_b = {rel: (b / rel).read_bytes() for rel in MCP_FILES.values()}
    put(a / ".mcp.json", json.dumps({"mcpServers": {}}))
    service.scan("claude-code")
    service.scan("claude-code")
    assert "db" not in servers(a / ".cursor/mcp.json")
    assert "db" not in servers(a / ".github/mcp.json")
    assert {rel: (b / rel).read_bytes() for rel in MCP_FILES.values()} == before_b


def test_rebuild_from_the_log_keeps_projects_apart(tmp_path: Path) -> None:
    """A new orchestrator on the same store is quiet and still routes b's edit only to b."""
    _, a, b = two_projects(tmp_path)
    again = service_for(tmp_path, (a, b))
    scopes = {s for (key, s) in again.engine.state.slots if key == ("mcp_server", "db")}
    assert scopes == {f"project:{a}", f"project:{b}"}
    assert again.scan().written == []
    before_a = {rel: (a / rel).read_bytes() for rel in MCP_FILES.values()}
    cursor = b / ".cursor/mcp.json"
    data = json.loads(cursor.read_text())
    data["mcpServers"]["db"]["env"] = {"TOKEN": "${env:TOKEN}"}
    cursor.write_text(json.dumps(data, indent=2))
    again.scan("cursor")
    assert servers(b / ".mcp.json")["db"]["env"] == {"TOKEN": "${TOKEN}"}
    assert {rel: (a / rel).read_bytes() for rel in MCP_FILES.values()} == before_a


def test_claude_local_scope_stays_in_its_projects_entry(tmp_path: Path) -> None:
    """A local server under ``projects[a]`` of ``~/.claude.json`` never reaches b's entry."""
    home = tmp_path / "home"
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    local = {"type": "stdio", "command": "mine", "args": [], "env": {}}
    state = {"projects": {str(a): {"mcpServers": {"own": local}}, str(b): {"mcpServers": {}}}}
    put(home / ".claude.json", json.dumps(state, indent=2))
    service = service_for(tmp_path, (a, b))
    service.scan()
    after = json.loads((home / ".claude.json").read_text())
    assert after["projects"][str(b)]["mcpServers"] == {}
    assert "own" not in after.get("mcpServers", {})
    assert not [p for p in (a, b) if "mine" in "".join(_texts(p))]
    scopes = {s for (key, s) in service.engine.state.slots if key == ("mcp_server", "own")}
    assert scopes == {f"local:{a}"}


def _texts(root: Path) -> list[str]:
    return [p.read_text() for p in root.rglob("*") if p.is_file()]


def test_old_bare_project_scope_events_still_load_and_are_not_replayed(tmp_path: Path) -> None:
    """A ledger written with a bare ``project`` scope loads; the orchestrator skips it."""
    (tmp_path / "home").mkdir()
    a = tmp_path / "a"
    put(a / ".cursor/mcp.json", json.dumps({"mcpServers": {}}))
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.sqlite"))
    old = {"scope": "project", "command": {"parts": []}}
    facts = [
        ObservedFact(
            "obs:cursor:s0", "cursor", ("mcp_server", "db"), "project", "changed", "d", old
        )
    ]
    record_facts(store, facts)
    policy = default_policy(["cursor"], "apply")
    assert (("mcp_server", "db"), "project") in rebuild_state(store, policy).slots
    service = service_for(tmp_path, (a,))
    assert service.engine.state.slots == {}
    service.scan()
    service.scan()
    assert service.conflicts() == []
    assert servers(a / ".cursor/mcp.json") == {}


def test_read_models_show_each_project_in_the_scope(tmp_path: Path) -> None:
    """``entities`` rows name the project in the scope; each project's ``db`` is in sync."""
    service, a, b = two_projects(tmp_path)
    with Projector(tmp_path / "p.duckdb") as projector:
        projector.catch_up(service.store)
        rows = projector.query(
            "SELECT scope, count(DISTINCT digest), min(status), count(*) FROM entities "
            "WHERE name = 'db' GROUP BY scope ORDER BY scope"
        )
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (f"project:{a}", 1, "in-sync"),
        (f"project:{b}", 1, "in-sync"),
    ]
    assert all(r[3] >= len(MCP_FILES) for r in rows)
