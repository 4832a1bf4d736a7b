"""Conflicts between personal instruction files in the DuckDB ``conflicts`` table, settled by
taking a side or by a person's own Markdown (real files in a tmp home, SQLite, DuckDB)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from actors.sync_engine import Policy
from actors.sync_service import SyncService
from adapters.registry import load_adapters
from events.audit import acting_as
from events.errors import ActorError
from events.instructions import InstructionSync
from events.placement import SyncPlacement
from projections.projector import Projector
from tests.unit.actors._client_loads import PERSONAL
from tests.unit.actors._sync_service import apply_service

SEED = "# Personal rules\n\n- Be brief.\n- Use British spelling.\n"
ALWAYS, MOSTLY = "- Be brief, always.", "- Be brief, mostly."
NEW = "- Never force-push."
TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
THREE = ("claude-code", "codex", "gemini")
ROW_SQL = (
    "SELECT conflict_id, kind, name, scope, sides, status, resolution, chosen_client "
    "FROM conflicts WHERE kind = 'instruction' ORDER BY detected_at"
)


def service(tmp_path: Path, clients: tuple[str, ...] = THREE) -> SyncService:
    """An orchestrator in apply mode syncing only instructions between ``clients``."""
    home = tmp_path / "home"
    for client in clients:
        (home / PERSONAL[client]).parent.mkdir(parents=True, exist_ok=True)
    adapters = load_adapters()
    policy = Policy(clients, kinds=frozenset({"instruction"}), mode="apply")
    return apply_service(tmp_path, home, {c: adapters[c] for c in clients}, policy=policy)


def path(svc: SyncService, client: str) -> Path:
    return svc.home / PERSONAL[client]


def conflicted(svc: SyncService, codex_rule: str = MOSTLY) -> dict[str, Any]:
    """Seed and sync every file, then edit the first rule differently in Claude and Codex;
    return the open instruction conflict."""
    for client in svc.policy.clients:
        path(svc, client).write_text(SEED)
    svc.apply(svc.plan().plan_hash)
    path(svc, "claude-code").write_text(SEED.replace("- Be brief.", ALWAYS))
    path(svc, "codex").write_text(SEED.replace("- Be brief.", codex_rule))
    svc.plan()
    [found] = [d for d in svc.conflicts() if d["type"] == "InstructionConflict"]
    return found


def rows(svc: SyncService, tmp_path: Path) -> list[dict[str, Any]]:
    """The instruction rows of the DuckDB ``conflicts`` table, caught up with the log."""
    with Projector(tmp_path / "p.duckdb") as projector:
        projector.catch_up(svc.store)
        result = projector.run_sql(ROW_SQL)
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def texts(svc: SyncService) -> dict[str, str]:
    return {c: path(svc, c).read_text() for c in svc.policy.clients}


def bodies(svc: SyncService, kind: str) -> list[dict[str, Any]]:
    notes = svc.store.read(0, 10_000)
    return [svc.store.decode_body(n) for n in notes if n.topic.endswith(kind)]


def test_a_conflict_is_an_open_duckdb_row_with_each_sides_preview(tmp_path: Path) -> None:
    """Claude and Codex rewrite one rule differently: one open ``instruction`` row, scope
    ``user``, named after the heading, sides holding each client's version of the rule."""
    svc = service(tmp_path)
    found = conflicted(svc)
    [row] = rows(svc, tmp_path)
    assert row["conflict_id"] == found["conflict_id"]
    assert (row["kind"], row["name"], row["scope"], row["status"]) == (
        "instruction",
        "Personal rules",
        "user",
        "open",
    )
    assert json.loads(row["sides"]) == {"claude-code": ALWAYS, "codex": MOSTLY}
    assert found["name"] == "Personal rules"
    assert found["previews"] == {"claude-code": ALWAYS, "codex": MOSTLY}


def test_a_side_holding_a_credential_never_reaches_a_preview(tmp_path: Path) -> None:
    """Codex pastes a token into the rule: its block is not synced, so its side reads as the
    rule removed; the token is in no event, no DuckDB row and no byte of the DuckDB file."""
    svc = service(tmp_path)
    conflicted(svc, codex_rule=f"- Be brief; my token is {TOKEN}")
    [row] = rows(svc, tmp_path)
    assert json.loads(row["sides"]) == {"claude-code": ALWAYS, "codex": "(removed)"}
    assert not any(TOKEN in json.dumps(b) for b in bodies(svc, ""))
    assert not any(TOKEN.encode() in p.read_bytes() for p in tmp_path.glob("p.duckdb*"))


def test_take_closes_the_row_writes_the_side_once_everywhere_and_merging_resumes(
    tmp_path: Path,
) -> None:
    """``resolve --take claude-code``: the row is resolved (``take``, chosen client), every
    file holds Claude's rule exactly once, and a later rule added in Gemini merges as usual."""
    svc = service(tmp_path)
    found = conflicted(svc)
    svc.resolve(found["conflict_id"], take="claude-code")
    [row] = rows(svc, tmp_path)
    assert (row["status"], row["resolution"], row["chosen_client"]) == (
        "resolved",
        "take",
        "claude-code",
    )
    for client, text in texts(svc).items():
        assert (text.count(ALWAYS), text.count(MOSTLY), text.count("- Be brief.")) == (1, 0, 0), (
            client
        )
    path(svc, "gemini").write_text(path(svc, "gemini").read_text() + NEW + "\n")
    svc.apply(svc.plan().plan_hash)
    assert all(text.count(NEW) == 1 for text in texts(svc).values())
    assert svc.conflicts() == []


def test_value_writes_the_persons_text_once_into_every_file(tmp_path: Path) -> None:
    """``resolve --value``: the given Markdown replaces both versions in all three files
    (once each), the row closes as ``value``, the event names the person and keeps the
    text, and a later edit merges again."""
    svc = service(tmp_path)
    found = conflicted(svc)
    chosen = "- Be brief, unless asked for detail.\n- Cite sources."
    with acting_as("alice"):
        svc.resolve(found["conflict_id"], value={"markdown": chosen})
    for client, text in texts(svc).items():
        counts = [text.count(r) for r in ("- Be brief, unless", "- Cite sources.", "mostly")]
        assert counts == [1, 1, 0], (client, text)
        assert "always" not in text
        assert text.count("- Use British spelling.") == 1
    [row] = rows(svc, tmp_path)
    assert (row["status"], row["resolution"], row["chosen_client"]) == ("resolved", "value", None)
    [settled] = bodies(svc, "InstructionSync.ConflictSettled")
    assert (settled["text"], settled["actor"]) == (chosen + "\n", "alice")
    path(svc, "codex").write_text(path(svc, "codex").read_text() + NEW + "\n")
    svc.apply(svc.plan().plan_hash)
    assert all(text.count(NEW) == 1 for text in texts(svc).values())
    assert svc.conflicts() == []


def test_a_value_is_written_through_placement_and_reverts_to_the_pre_image(
    tmp_path: Path,
) -> None:
    """The resolution's write to Codex is a placement with a pre-image: reverting it puts
    back Codex's exact bytes from before the resolution."""
    svc = service(tmp_path)
    found = conflicted(svc)
    codex_before = path(svc, "codex").read_bytes()
    svc.resolve(found["conflict_id"], value={"markdown": "- Be brief when you can."})
    assert path(svc, "codex").read_bytes() != codex_before
    placed = [svc.store.decode(n) for n in svc.store.read(0, 10_000)]
    [*_, last] = [
        e
        for e in placed
        if isinstance(e, SyncPlacement.Placed) and e.path == str(path(svc, "codex"))
    ]
    svc.revert(last.placement_id)
    assert path(svc, "codex").read_bytes() == codex_before


def test_a_credential_looking_value_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    """A value holding a token is refused with a clear error that does not quote it; no
    file changes, no event holds it, the row stays open."""
    svc = service(tmp_path)
    found = conflicted(svc)
    before = texts(svc)
    head = svc.store.head()
    with pytest.raises(ActorError, match="looks like a credential") as err:
        svc.resolve(found["conflict_id"], value={"markdown": f"- Use {TOKEN} for GitHub."})
    assert TOKEN not in err.value.message
    assert texts(svc) == before
    assert svc.store.head() == head
    [row] = rows(svc, tmp_path)
    assert row["status"] == "open"
    with pytest.raises(ActorError, match="Markdown"):
        svc.resolve(found["conflict_id"], value={"command": "npx"})
    with pytest.raises(ActorError, match="never synced"):
        svc.resolve(found["conflict_id"], value={"markdown": "@~/notes/style.md"})


def _as_version_1(db: Path, topic: str, drop: tuple[str, ...]) -> None:
    """Rewrite every stored ``topic`` event the way version 1 stored it."""
    con = sqlite3.connect(db)
    with con:
        found = con.execute(
            "SELECT originator_id, originator_version, state FROM stored_events WHERE topic = ?",
            [topic],
        ).fetchall()
        assert found
        for oid, version, state in found:
            body = json.loads(state)
            for key in (*drop, "class_version"):
                body.pop(key)
            con.execute(
                "UPDATE stored_events SET state = ? WHERE originator_id = ? "
                "AND originator_version = ?",
                [json.dumps(body).encode(), oid, version],
            )
    con.close()


def test_a_version_1_conflict_in_an_old_store_loads_projects_and_resolves(
    tmp_path: Path,
) -> None:
    """ConflictFound stored without previews or label (version 1) is upcast: the restarted
    orchestrator lists it, DuckDB shows it (sides as digests, named by its id), and taking
    a side closes it; a version 1 ConflictSettled loads too."""
    svc = service(tmp_path)
    found = conflicted(svc)
    topic = "events.instructions:InstructionSync."
    _as_version_1(tmp_path / "events.sqlite", topic + "ConflictFound", ("previews", "label"))
    again = service(tmp_path)
    [listed] = [d for d in again.conflicts() if d["type"] == "InstructionConflict"]
    assert (listed["conflict_id"], listed["previews"]) == (found["conflict_id"], {})
    [row] = rows(again, tmp_path)
    assert row["name"] == found["conflict_id"]
    assert json.loads(row["sides"]) == found["sides"]
    again.resolve(found["conflict_id"], take="codex")
    assert all(text.count(MOSTLY) == 1 for text in texts(again).values())
    _as_version_1(tmp_path / "events.sqlite", topic + "ConflictSettled", ("text", "actor"))
    agg = service(tmp_path).placer.personal.state()
    assert isinstance(agg, InstructionSync)
    assert agg.conflicts == {}
    assert agg.resolutions == {found["conflict_id"]: "codex"}
    assert agg.texts == {}
    with Projector(tmp_path / "fresh.duckdb") as projector:
        projector.catch_up(again.store)
        [(status, resolution)] = projector.run_sql(
            "SELECT status, resolution FROM conflicts WHERE kind = 'instruction'"
        ).rows
    assert (status, resolution) == ("resolved", "take")
