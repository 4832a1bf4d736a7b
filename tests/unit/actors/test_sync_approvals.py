"""Approvals a user can give: real project files, a real SQLite log, and a DuckDB projector."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Literal

import pytest

from actors.sync_actor import SyncOrchestrator
from actors.sync_service import SyncService, default_policy
from adapters.registry import load_adapters
from events.errors import ActorError
from events.runtime import Alert
from events.store import EventStore, StoreConfig
from events.sync import SyncLedger
from projections.projector import Projector
from tests.unit.actors._sync_service import apply_service

CLIENTS = ("claude-code", "cursor", "gemini")


def put(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def mcp_json(command: str, *args: str) -> str:
    server = {"type": "stdio", "command": command, "args": list(args), "env": {}}
    return json.dumps({"mcpServers": {"lint": server}}, indent=2)


def servers(path: Path) -> dict[str, Any]:
    """The MCP servers of a JSON file ({} when absent)."""
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text()).get("mcpServers", {}))


def project_service(
    tmp_path: Path, *, mode: Literal["observe", "apply"] = "apply", trusted: bool = False
) -> tuple[SyncService, Path]:
    """Claude, Cursor and Gemini over a home and project ``a`` whose ``.mcp.json`` holds
    ``lint`` (``npx -y lint-mcp --fix``); ``trusted`` gives the project ``trust = "auto"``."""
    home, project = tmp_path / "home", tmp_path / "a"
    home.mkdir()
    put(project / ".mcp.json", mcp_json("npx", "-y", "lint-mcp", "--fix"))
    adapters = {c: a for c, a in load_adapters().items() if str(c) in CLIENTS}
    policy = default_policy(list(adapters), mode)
    if trusted:
        policy = dataclasses.replace(policy, trusted_projects=frozenset({str(project)}))
    service = apply_service(tmp_path, home, adapters, policy=policy, projects=(project,))
    service.scan()
    return service, project


def events(store: EventStore, cls: type) -> list[Any]:
    """Every stored event of type ``cls``, in log order."""
    found, position = [], 0
    while page := store.read(position, 500):
        for note in page:
            position = note.id
            event = store.decode(note)
            if isinstance(event, cls):
                found.append(event)
    return found


def test_a_pending_approval_names_its_file_command_line_and_receivers(tmp_path: Path) -> None:
    """The list shows the id, the file it came from, the exact command line and who gets it."""
    service, project = project_service(tmp_path)
    (row,) = service.approvals()
    assert row["type"] == "change"
    assert (row["kind"], row["name"], row["scope"]) == ("mcp_server", "lint", f"project:{project}")
    assert row["client"] == "claude-code"
    assert row["file"] == str(project / ".mcp.json")
    assert row["command"] == "npx -y lint-mcp --fix"
    assert row["clients"] == ["cursor", "gemini"]
    assert row["approve"] == f"synapse sync approve {row['id']}"
    assert not (project / ".cursor/mcp.json").exists()
    (open_,) = service.status()["open"]
    assert open_["approval_id"] == row["id"]


def test_approving_in_apply_mode_writes_the_project_files_and_records_the_digest(
    tmp_path: Path,
) -> None:
    """Approve writes lint into the other clients' project files (never the home) at once;
    ``ChangeApproved`` records the digest of exactly the value that was shown."""
    service, project = project_service(tmp_path)
    (row,) = service.approvals()
    (pending,) = [d for d in service.engine.decisions() if d.key == ("mcp_server", "lint")]
    result = service.judge(row["id"], approve=True)
    assert result.applied
    assert servers(project / ".cursor/mcp.json")["lint"]["args"] == ["-y", "lint-mcp", "--fix"]
    assert servers(project / ".gemini/settings.json")["lint"]["command"] == "npx"
    home = tmp_path / "home"
    assert not any("lint-mcp" in p.read_text() for p in home.rglob("*") if p.is_file())
    (approved,) = events(service.store, SyncLedger.ChangeApproved)
    assert (approved.approval_id, approved.by) == (row["id"], "person")
    assert approved.digest == getattr(pending, "digest", None) is not None
    assert service.approvals() == []


def test_approving_in_observe_mode_records_it_and_apply_writes(tmp_path: Path) -> None:
    """In observe mode approve writes nothing; the next ``apply`` of the plan writes it."""
    service, project = project_service(tmp_path, mode="observe")
    (row,) = service.approvals()
    assert not service.judge(row["id"], approve=True).applied
    assert not (project / ".cursor/mcp.json").exists()
    assert len(events(service.store, SyncLedger.ChangeApproved)) == 1
    plan = service.plan()
    assert service.apply(plan.plan_hash).applied
    assert servers(project / ".cursor/mcp.json")["lint"]["command"] == "npx"


def test_a_rejected_change_is_not_asked_again_until_it_changes(tmp_path: Path) -> None:
    """Reject: nothing written, ``ChangeRejected`` with the digest; rescans and a restart do
    not ask again; a different command asks again under a new id."""
    service, project = project_service(tmp_path)
    (row,) = service.approvals()
    assert service.judge(row["id"], approve=False).written == []
    (rejected,) = events(service.store, SyncLedger.ChangeRejected)
    assert rejected.approval_id == row["id"]
    assert rejected.digest is not None
    service.scan()
    assert service.approvals() == []
    again = SyncService(
        service.store,
        service.adapters,
        home=service.home,
        preimage_dir=service.preimages.directory,
        policy=service.policy,
        projects=service.projects,
    )
    again.scan()
    assert again.approvals() == []
    assert not (project / ".cursor/mcp.json").exists()
    put(project / ".mcp.json", mcp_json("npx", "-y", "lint-mcp@2"))
    again.scan()
    (new,) = again.approvals()
    assert new["id"] != row["id"]
    assert new["command"] == "npx -y lint-mcp@2"


def test_an_unknown_or_outdated_approval_id_is_refused(tmp_path: Path) -> None:
    """An id that is not pending (already judged) raises ActorError; nothing is written."""
    service, project = project_service(tmp_path)
    (row,) = service.approvals()
    service.judge(row["id"], approve=False)
    for wrong in (row["id"], "000000000000"):
        with pytest.raises(ActorError) as info:
            service.judge(wrong, approve=True)
        assert "sync approvals" in (info.value.hint or "")
    assert not (project / ".cursor/mcp.json").exists()


def _user_servers(tmp_path: Path, count: int) -> tuple[SyncService, Path, Path]:
    """``count`` user-scope servers in Claude, synced to Cursor; apply mode."""
    home = tmp_path / "home"
    claude = put(
        home / ".claude.json",
        json.dumps(
            {"mcpServers": {f"s{i}": {"command": "uvx", "args": [f"s{i}"]} for i in range(count)}}
        ),
    )
    adapters = {c: a for c, a in load_adapters().items() if str(c) in ("claude-code", "cursor")}
    service = apply_service(tmp_path, home, adapters)
    service.scan()
    cursor = home / ".cursor/mcp.json"
    assert sorted(servers(cursor)) == [f"s{i}" for i in range(count)]
    return service, claude, cursor


def test_held_deletions_are_listed_and_approved_one_by_one(tmp_path: Path) -> None:
    """Four deletions from Cursor (limit 3) are listed as deletions; approving one deletes it
    from Claude, the others stay held."""
    service, claude, cursor = _user_servers(tmp_path, 4)
    cursor.write_text(json.dumps({"mcpServers": {}}))
    service.scan()
    service.scan()
    rows = service.approvals()
    assert [(r["type"], r["name"], r["client"]) for r in rows] == [
        ("deletion", f"s{i}", "cursor") for i in range(4)
    ]
    assert rows[0]["file"] == str(cursor)
    assert rows[0]["clients"] == ["claude-code"]
    assert rows[0]["command"] == "uvx s0"
    service.judge(rows[0]["id"], approve=True)
    assert sorted(servers(claude)) == ["s1", "s2", "s3"]
    assert [r["name"] for r in service.approvals()] == ["s1", "s2", "s3"]


def test_a_rejected_deletion_is_written_back_where_it_was_deleted(tmp_path: Path) -> None:
    """Rejecting a held deletion keeps the server: Cursor gets it back, Claude keeps it."""
    service, claude, cursor = _user_servers(tmp_path, 4)
    cursor.write_text(json.dumps({"mcpServers": {}}))
    service.scan()
    service.scan()
    first = service.approvals()[0]
    service.judge(first["id"], approve=False)
    assert sorted(servers(cursor)) == ["s0"]
    assert sorted(servers(claude)) == ["s0", "s1", "s2", "s3"]
    assert len(events(service.store, SyncLedger.ChangeRejected)) == 1


def test_a_trusted_project_flows_without_asking_but_is_recorded_and_alerted(
    tmp_path: Path,
) -> None:
    """``trust = "auto"``: lint reaches the project's other files with no approval, never the
    home; each new command is a ``ChangeApproved`` (by trust) and an alert naming it."""
    service, project = project_service(tmp_path, trusted=True)
    assert service.approvals() == []
    assert servers(project / ".cursor/mcp.json")["lint"]["command"] == "npx"
    home = tmp_path / "home"
    assert not any("lint-mcp" in p.read_text() for p in home.rglob("*") if p.is_file())
    put(project / ".mcp.json", mcp_json("uvx", "lint-mcp@2"))
    service.scan("claude-code")
    assert servers(project / ".gemini/settings.json")["lint"]["command"] == "uvx"
    approved = events(service.store, SyncLedger.ChangeApproved)
    assert [a.by for a in approved] == ["trust", "trust"]
    alerts = [a.message for a in events(service.store, Alert.Raised)]
    assert any("npx -y lint-mcp --fix" in m and 'trust = "auto"' in m for m in alerts)
    assert any("uvx lint-mcp@2" in m for m in alerts)


def test_a_conflict_whose_sides_come_to_agree_is_closed_in_duckdb(tmp_path: Path) -> None:
    """Claude and Cursor edit fs differently (conflict open, clients in conflict); Cursor is
    then edited to match Claude: the conflict is resolved ("agreed") and both are in sync."""
    home = tmp_path / "home"

    def fs(arg: str) -> str:
        return json.dumps({"mcpServers": {"fs": {"command": "npx", "args": ["fs", arg]}}})

    claude = put(home / ".claude.json", fs("/tmp"))
    cursor = put(home / ".cursor/mcp.json", fs("/tmp"))
    adapters = {c: a for c, a in load_adapters().items() if str(c) in ("claude-code", "cursor")}
    service = apply_service(tmp_path, home, adapters)
    service.scan()
    claude.write_text(fs("/a"))
    cursor.write_text(fs("/b"))
    service.scan()
    projector = Projector(tmp_path / "p.duckdb")
    try:
        projector.catch_up(service.store)
        assert projector.run_sql("SELECT status FROM conflicts").rows == [("open",)]
        statuses = "SELECT DISTINCT status FROM clients WHERE present"
        assert projector.run_sql(statuses).rows == [("conflict",)]
        cursor.write_text(fs("/a"))
        service.scan()
        assert service.conflicts() == []
        projector.catch_up(service.store)
        rows = projector.run_sql("SELECT status, resolution FROM conflicts").rows
        assert rows == [("resolved", "agreed")]
        assert projector.run_sql(statuses).rows == [("in-sync",)]
        entity = "SELECT DISTINCT status FROM entities WHERE name = 'fs'"
        assert projector.run_sql(entity).rows == [("in-sync",)]
    finally:
        projector.close()


def test_the_ray_facing_orchestrator_lists_and_judges_in_plain_dicts(tmp_path: Path) -> None:
    """``SyncOrchestrator.approvals`` / ``judge`` (what the API calls over Ray) answer plain
    JSON dicts; approving writes the project's other files in apply mode."""
    home, project = tmp_path / "home", tmp_path / "a"
    home.mkdir()
    put(project / ".mcp.json", mcp_json("npx", "lint-mcp"))
    orchestrator = SyncOrchestrator(
        StoreConfig(backend="sqlite", sqlite_path=tmp_path / "e.sqlite"),
        str(home),
        str(tmp_path / "synapse" / "preimages"),
        policy=default_policy(list(CLIENTS), "apply"),
        projects=[str(project)],
    )
    (row,) = orchestrator.approvals()
    done = orchestrator.judge(row["id"], True)
    assert json.loads(json.dumps([row, done])) == [row, done]
    assert done["applied"] is True
    assert servers(project / ".cursor/mcp.json")["lint"]["args"] == ["lint-mcp"]
    assert orchestrator.approvals() == []
