"""The sync read models folded from real ClientFile and SyncLedger events."""

from __future__ import annotations

from pathlib import Path

from events.placement import SyncPlacement
from events.store import EventStore, StoreConfig
from events.sync import ClientFile, SyncLedger
from projections.projector import Projector
from projections.sync_models import write_id


def store(tmp_path: Path) -> EventStore:
    return EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "e.sqlite"))


def project(tmp_path: Path, s: EventStore, sql: str) -> list[tuple[object, ...]]:
    with Projector(tmp_path / "p.duckdb") as p:
        p.catch_up(s)
        return p.query(sql)


def test_file_rows_track_observations_and_errors(tmp_path: Path) -> None:
    """A file is in-sync after an observation and ``error`` after a failed parse."""
    s = store(tmp_path)
    f = ClientFile.discover("codex", "/h/.codex/config.toml", "user", command_id="c1")
    f.observe("a" * 64, {}, 10)
    s.save_all(f)
    rows = project(tmp_path, s, "SELECT client, status, sha256 FROM clients")
    assert rows == [("codex", "in-sync", "a" * 64)]
    f.fail_parse("ConfigParseError: line 1")
    s.save_all(f)
    assert project(tmp_path, s, "SELECT status, error FROM clients") == [
        ("error", "ConfigParseError: line 1")
    ]


def test_entities_conflicts_and_writes(tmp_path: Path) -> None:
    """Different digests drift, an open conflict marks its sides, a write lands in sync_log."""
    s = store(tmp_path)
    ledger = SyncLedger.open("mcp_server", "fs", command_id="o")
    for client, dig in (("a", "d1"), ("b", "d2")):
        ledger.record(
            SyncLedger.EntityChanged, client=client, scan_id="s", digest=dig, value_redacted={}
        )
    ledger.record(
        SyncLedger.ConflictDetected,
        conflict_id="c1",
        sides={"a": "d1", "b": "d2"},
        base_digest=None,
    )
    s.save_all(ledger)
    rows = project(tmp_path, s, "SELECT client, status FROM entities ORDER BY client")
    assert rows == [("a", "conflict"), ("b", "conflict")]
    ledger.record(
        SyncLedger.ConflictResolved, conflict_id="r", resolution="take", chosen_client="a"
    )
    ledger.record(
        SyncLedger.WriteApplied, client="b", path="/b", sha256="s2", pre_image_ref="p", digest="d1"
    )
    ledger.record(SyncLedger.TranslationLossy, client="b", field="cwd", reason="no cwd")
    s.save_all(ledger)
    assert project(tmp_path, s, "SELECT DISTINCT status FROM entities") == [("in-sync",)]
    assert project(tmp_path, s, "SELECT status FROM conflicts") == [("resolved",)]
    log = project(tmp_path, s, "SELECT write_id, action, entities FROM sync_log")
    assert log == [(write_id("b", "/b", "p", "s2"), "write", "mcp_server:fs")]
    assert project(tmp_path, s, "SELECT client, name, field FROM losses") == [("b", "fs", "cwd")]


def test_placements_and_their_reverts_appear_in_sync_log_by_placement_id(tmp_path: Path) -> None:
    """A skill copy is a ``sync_log`` row keyed by its placement id; its revert is another."""
    s = store(tmp_path)
    placed = SyncPlacement.place(
        command_id="place:p1",
        placement_id="p1",
        action="copy_skill",
        subject="skill:pdf",
        path="/h/.agents/skills/pdf",
        clients=["codex", "gemini"],
        sha256="d" * 64,
        pre_sha256=None,
        pre_image_ref=None,
        created_dirs=[],
    )
    s.save_all(placed)
    sql = "SELECT write_id, action, client, path, entities, reason FROM sync_log ORDER BY 1"
    assert project(tmp_path, s, sql) == [
        ("p1", "copy_skill", "codex,gemini", "/h/.agents/skills/pdf", "skill:pdf", None)
    ]
    placed.revert()
    s.save_all(placed)
    rows = project(tmp_path, s, "SELECT write_id, action, reason FROM sync_log ORDER BY 1")
    assert rows == [
        ("p1", "copy_skill", "reverted"),
        ("revert:p1", "revert", "reverted placement p1"),
    ]
