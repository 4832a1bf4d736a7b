"""The sync orchestrator end to end on real files, a real SQLite event store and DuckDB."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from actors.sync_service import SyncService, default_policy
from adapters.files import sha256_hex
from adapters.registry import load_adapters
from events.errors import ActorError
from events.store import EventStore, StoreConfig
from events.sync import SyncLedger
from projections.projector import Projector
from synapse._demo_sync import DEMO_ARG, demo_edit, seed_sandbox
from tests.unit.actors._sync_service import apply_service, restarted

CLIENTS = ("claude-code", "codex", "gemini", "qwen", "rovodev", "copilot", "opencode", "cursor")
CANARY = "ghp_" + "C4nary0Secret1Value2Xyz3456789abcd"


def system(tmp_path: Path, mode: str = "apply") -> tuple[SyncService, dict[str, Path], Path]:
    home = tmp_path / "home"
    paths = seed_sandbox(home)
    service = apply_service(tmp_path, home, mode=mode)
    service.scan()
    return service, paths, home


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def event_types(service: SyncService) -> list[str]:
    return [type(service.store.decode(n)).__qualname__ for n in service.store.read(0, 100_000)]


def duckdb_rows(service: SyncService, tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with Projector(tmp_path / "p.duckdb") as projector:
        projector.catch_up(service.store)
        return projector.query(sql)


def test_gemini_edit_reaches_all_seven_others_keeping_comments(tmp_path: Path) -> None:
    """An edit in Gemini lands in the other seven files in their own syntax; comments stay."""
    service, paths, home = system(tmp_path)
    before = {c: p.read_text() for c, p in paths.items()}
    assert demo_edit(home) == "gemini"
    result = service.scan("gemini")
    assert sorted(Path(p).name for p in result.written) == sorted(
        paths[c].name for c in CLIENTS if c != "gemini"
    )
    for client, path in paths.items():
        text = path.read_text()
        assert DEMO_ARG in text, client
    assert "// Gemini settings: this comment must survive a sync" in paths["gemini"].read_text()
    assert "# my codex config - comments must survive" in paths["codex"].read_text()
    assert "[unknown_future_table]" in paths["codex"].read_text()
    assert "// opencode: command is an array" in paths["opencode"].read_text()
    assert "// qwen keeps comments too" in paths["qwen"].read_text()
    assert json.loads(paths["claude-code"].read_text())["numStartups"] == 12
    assert paths["opencode"].is_symlink(), "the dotfiles link must stay a link"
    # Codex cannot interpolate: it keeps env_vars, never a literal ${VAR}.
    codex = paths["codex"].read_text()
    assert 'env_vars = ["GITHUB_PERSONAL_ACCESS_TOKEN"]' in codex
    assert "${" not in codex
    # Untouched parts are byte-identical outside the edited server.
    assert before["cursor"] != paths["cursor"].read_text()


def test_second_round_writes_nothing(tmp_path: Path) -> None:
    """After one round nothing is written again: no echo, no ping-pong."""
    service, paths, home = system(tmp_path)
    demo_edit(home)
    service.scan("gemini")
    snapshot = {c: p.read_bytes() for c, p in paths.items()}
    for _ in range(2):
        assert service.scan().written == []
    assert {c: p.read_bytes() for c, p in paths.items()} == snapshot
    assert service.plan().changes == []


def test_bearer_token_url_server_becomes_codex_bearer_token_env_var(tmp_path: Path) -> None:
    """A Claude HTTP server with ``Bearer ${TOKEN}`` becomes ``bearer_token_env_var`` in Codex."""
    service, paths, _ = system(tmp_path)
    data = json.loads(paths["claude-code"].read_text())
    data["mcpServers"]["remote"] = {
        "type": "http",
        "url": "https://mcp.example.com/mcp",
        "headers": {"Authorization": "Bearer ${REMOTE_TOKEN}"},
    }
    paths["claude-code"].write_text(json.dumps(data, indent=2))
    service.scan("claude-code")
    codex = paths["codex"].read_text()
    assert 'bearer_token_env_var = "REMOTE_TOKEN"' in codex
    assert "${" not in codex
    assert "{env:REMOTE_TOKEN}" in paths["opencode"].read_text()


def test_conflicting_edits_write_nothing_and_resolve_by_taking_a_side(tmp_path: Path) -> None:
    """Two clients edit one server differently: ConflictDetected, nothing overwritten; taking
    one side propagates it everywhere."""
    service, paths, _ = system(tmp_path)
    edit(paths["cursor"], '"/tmp"]', '"/tmp", "/from-cursor"]')
    edit(paths["rovodev"], '"/tmp"]', '"/tmp", "/from-rovodev"]')
    cursor_bytes, rovo_bytes = paths["cursor"].read_bytes(), paths["rovodev"].read_bytes()
    service.scan()
    assert paths["cursor"].read_bytes() == cursor_bytes
    assert paths["rovodev"].read_bytes() == rovo_bytes
    assert "/from-cursor" not in paths["claude-code"].read_text()
    assert "SyncLedger.ConflictDetected" in event_types(service)
    conflicts = service.conflicts()
    assert [c["type"] for c in conflicts] == ["Conflict"]
    rows = duckdb_rows(service, tmp_path, "SELECT name, status, sides FROM conflicts")
    assert rows[0][0] == "filesystem"
    assert rows[0][1] == "open"
    assert {"cursor", "rovodev"} <= set(json.loads(rows[0][2]))
    service.resolve(conflicts[0]["conflict_id"], take="rovodev")
    for client, path in paths.items():
        assert "/from-rovodev" in path.read_text(), client
        assert "/from-cursor" not in path.read_text(), client
    assert service.conflicts() == []


def test_conflict_resolved_by_edit_uses_the_given_value(tmp_path: Path) -> None:
    """Resolving with a hand-made value writes that value to every client."""
    service, paths, _ = system(tmp_path)
    edit(paths["cursor"], '"/tmp"]', '"/a"]')
    edit(paths["qwen"], '"/tmp"]', '"/b"]')
    service.scan()
    (conflict,) = service.conflicts()
    value = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/c"]}
    service.resolve(conflict["conflict_id"], value=value)
    for client, path in paths.items():
        assert '"/c"' in path.read_text(), client


def test_observe_mode_plans_and_apply_refuses_a_stale_hash(tmp_path: Path) -> None:
    """Observe mode writes nothing; apply needs the current plan hash and refuses a stale one."""
    service, paths, home = system(tmp_path, mode="observe")
    demo_edit(home)
    service.scan()
    assert DEMO_ARG not in paths["cursor"].read_text()
    plan = service.plan()
    assert len(plan.changes) == 7
    assert all(DEMO_ARG in c["diff"] for c in plan.changes)
    assert plan.plan_hash == service.plan().plan_hash, "planning is repeatable"
    edit(paths["cursor"], '"mcpServers": {', '"mcpServers": {"x": {"command": "x"},')
    stale = service.apply(plan.plan_hash)
    assert stale.stale
    assert not stale.applied
    assert DEMO_ARG not in paths["claude-code"].read_text()
    fresh = service.plan()
    done = service.apply(fresh.plan_hash)
    assert done.applied
    assert len(done.written) == 8
    assert all(DEMO_ARG in p.read_text() for p in paths.values())


def test_revert_restores_exact_bytes_and_is_recorded(tmp_path: Path) -> None:
    """Reverting a write puts back the exact pre-image (sha256 equal) and records it."""
    service, paths, home = system(tmp_path, mode="observe")
    before = sha256_hex(paths["copilot"].read_bytes())
    demo_edit(home)
    service.apply(service.plan().plan_hash)
    assert sha256_hex(paths["copilot"].read_bytes()) != before
    (wid,) = duckdb_rows(
        service, tmp_path, "SELECT write_id FROM sync_log WHERE client = 'copilot'"
    )[0]
    service.revert(wid)
    assert sha256_hex(paths["copilot"].read_bytes()) == before
    assert "SyncLedger.ChangeReverted" in event_types(service)
    with pytest.raises(ActorError):
        service.revert(wid)  # the file no longer holds that write's content
    modes = {p.stat().st_mode & 0o777 for p in (tmp_path / "preimages").iterdir()}
    assert modes == {0o600}


def test_literal_secret_never_leaves_its_user_file(tmp_path: Path) -> None:
    """A literal ghp_ token in one user file reaches no other file, event, DuckDB or plan."""
    service, paths, _ = system(tmp_path)
    data = json.loads(paths["claude-code"].read_text())
    data["mcpServers"]["github"]["env"]["GITHUB_PERSONAL_ACCESS_TOKEN"] = CANARY
    data["mcpServers"]["secretive"] = {"command": "tool", "args": [], "env": {"KEY": CANARY}}
    paths["claude-code"].write_text(json.dumps(data, indent=2))
    service.scan()
    plan = service.plan()
    assert "secretive" in paths["cursor"].read_text(), "the server itself still syncs"
    for client, path in paths.items():
        if client != "claude-code":
            assert CANARY not in path.read_text(), client
    assert CANARY not in json.dumps(plan.changes) + json.dumps(service.status())
    duckdb_rows(service, tmp_path, "SELECT 1")
    for blob in (tmp_path / "events.sqlite", tmp_path / "p.duckdb"):
        assert CANARY.encode() not in blob.read_bytes()
    wal = tmp_path / "events.sqlite-wal"
    if wal.exists():
        assert CANARY.encode() not in wal.read_bytes()
    assert service.scan().written == [], "the lossy copies are not rewritten every round"


def test_project_scope_change_waits_for_approval(tmp_path: Path) -> None:
    """A new MCP command from a project file is never synced without approval."""
    home = tmp_path / "home"
    seed_sandbox(home)
    project = home / "repo"
    project.mkdir()
    (project / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"evil": {"type": "stdio", "command": "curl", "args": []}}})
    )
    (project / ".cursor").mkdir()
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "e.sqlite"))
    adapters = load_adapters()
    service = SyncService(
        store,
        adapters,
        home=home,
        preimage_dir=tmp_path / "pre",
        policy=default_policy(list(adapters), "apply"),
        projects=[project],
    )
    service.scan()
    assert [d["type"] for d in service.conflicts()] == ["NeedsApproval"]
    user_files = [home / ".gemini/settings.json", home / ".codex/config.toml"]
    assert all("evil" not in p.read_text() for p in user_files)


def test_restart_rebuilds_from_the_log_and_stays_quiet(tmp_path: Path) -> None:
    """A new orchestrator on the same log and files writes nothing and knows past writes."""
    service, _paths, home = system(tmp_path)
    demo_edit(home)
    service.scan()
    again = restarted(service)
    assert again.scan().written == []
    assert again.status()["writes"] == 7


def test_user_files_named_like_synapse_temps_survive_a_start(tmp_path: Path) -> None:
    """Files a user keeps next to synced configs, even named exactly like Synapse temps,
    survive a start: it removes only temps a recorded write intent named."""
    service, paths, home = system(tmp_path)
    names = (".synapse.notes.txt", ".synapse.x.abc.tmp", ".synapse.mcp.json.abc.tmp")
    mine = {
        folder / name: f"the user's own {name}".encode()
        for folder in (home, paths["cursor"].parent, paths["gemini"].parent)
        for name in names
    }
    for path, data in mine.items():
        path.write_bytes(data)
    again = SyncService(service.store, service.adapters, home=home, preimage_dir=tmp_path / "p2")
    assert again.swept == []
    assert {p: p.read_bytes() for p in mine} == mine


def test_read_models_show_files_and_entities_in_sync(tmp_path: Path) -> None:
    """After a round, ``clients`` lists each file in sync and ``entities`` each copy."""
    service, _paths, home = system(tmp_path)
    demo_edit(home)
    service.scan()
    rows = duckdb_rows(service, tmp_path, "SELECT client, status FROM clients ORDER BY client")
    assert sorted({r[0] for r in rows}) == sorted(CLIENTS)  # Rovo Dev: mcp.json, prompts.yml
    assert {r[1] for r in rows} == {"in-sync"}
    ents = duckdb_rows(
        service,
        tmp_path,
        "SELECT count(DISTINCT client), count(DISTINCT digest) FROM entities "
        "WHERE name = 'filesystem'",
    )
    assert ents == [(8, 1)]
    log = duckdb_rows(service, tmp_path, "SELECT count(*) FROM sync_log WHERE action = 'write'")
    assert log == [(7,)]


def test_deleting_a_server_needs_two_scans(tmp_path: Path) -> None:
    """Removing a server from one file deletes it elsewhere only after a second scan."""
    service, paths, _ = system(tmp_path)
    data = json.loads(paths["cursor"].read_text())
    del data["mcpServers"]["github"]
    paths["cursor"].write_text(json.dumps(data, indent=2))
    service.scan("cursor")
    assert "github" in paths["claude-code"].read_text()
    service.scan("cursor")
    assert not re.search(r'"github"\s*:', paths["claude-code"].read_text())
    assert "[mcp_servers.github]" not in paths["codex"].read_text()
    assert SyncLedger.EntityRemoved.__qualname__ in event_types(service)
