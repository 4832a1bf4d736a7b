"""Per-file read errors: shown with their line and since when (status, read model, HTTP),
and a file put back to its last good bytes goes back to its good state. The same rows over
HTTP: ``tests/unit/serve/test_sync_status_api.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from actors.sync_service import SyncService
from events.sync import ClientFile, client_file_id
from projections.projector import Projector
from tests.unit.actors._sync_service import apply_service

GOOD = "---\ndescription: Review code\nargument-hint: [file]\n---\nReview $ARGUMENTS\n"
#: An indented flow list left open: strict YAML and the clients' retry both reject it.
BROKEN = "---\ndescription: Review code\nargument-hint:\n  - [file\n---\nReview $ARGUMENTS\n"


@pytest.fixture
def service(tmp_path: Path) -> SyncService:
    home = tmp_path / "home"
    (home / ".claude" / "commands").mkdir(parents=True)
    svc = apply_service(tmp_path, home, mode="observe")
    return svc


def _command(service: SyncService) -> Path:
    return service.home / ".claude" / "commands" / "review.md"


def _row(service: SyncService, path: Path) -> dict[str, Any]:
    rows: list[dict[str, Any]] = service.status()["clients"]["claude-code"]
    [row] = [r for r in rows if r["path"] == str(path)]
    return row


def test_a_broken_file_shows_its_error_line_and_first_seen_time(service: SyncService) -> None:
    """Status names the parser's message, the line, and when the file was first seen
    failing; a second failing scan keeps that first time."""
    path = _command(service)
    path.write_text(GOOD)
    service.scan()
    assert _row(service, path)["error"] is None
    path.write_text(BROKEN)
    service.scan()
    row = _row(service, path)
    assert "invalid YAML" in row["error"]
    assert row["line"] == 5
    assert row["column"] is not None
    assert row["since"] is not None
    first = row["since"]
    path.write_text(BROKEN + "\n")
    service.scan()
    assert _row(service, path)["since"] == first


def test_a_file_put_back_to_its_last_good_bytes_is_good_again(
    service: SyncService, tmp_path: Path
) -> None:
    """Broken, then restored byte for byte: its hash is the old one, yet it is observed
    again, its error cleared in the log, the status and the read model."""
    path = _command(service)
    path.write_text(GOOD)
    service.scan()
    path.write_text(BROKEN)
    service.scan()
    path.write_text(GOOD)
    service.scan()
    assert _row(service, path)["error"] is None
    agg: ClientFile = service.store.load(client_file_id("claude-code", str(path)))
    assert agg.parse_error is None
    assert agg.parse_error_since is None
    with Projector(tmp_path / "p.duckdb") as projector:
        projector.catch_up(service.store)
        [(status, error, since)] = projector.query(
            "SELECT status, error, error_since FROM clients WHERE path = ?", [str(path)]
        )
    assert (status, error, since) == ("in-sync", None, None)


def test_the_read_model_dates_an_error_by_its_first_failure(
    service: SyncService, tmp_path: Path
) -> None:
    """``clients.error_since`` is the first failure's time; a changed error keeps it."""
    path = _command(service)
    path.write_text(BROKEN)
    service.scan()
    path.write_text(BROKEN.replace("---\n", "---\nmodel: sonnet\n", 1))  # now line 6
    service.scan()
    with Projector(tmp_path / "p.duckdb") as projector:
        projector.catch_up(service.store)
        [(status, error, since)] = projector.query(
            "SELECT status, error, error_since FROM clients WHERE path = ?", [str(path)]
        )
    events = [
        e
        for e in service.store.events_of(client_file_id("claude-code", str(path)))
        if isinstance(e, ClientFile.ParseFailed)
    ]
    assert len(events) == 2
    assert status == "error"
    assert "line 6" in error
    assert since == events[0].timestamp.replace(tzinfo=None)


def test_a_file_two_scopes_share_is_listed_once(tmp_path: Path) -> None:
    """``~/.claude.json`` holds user and local (project) scope: one status row."""
    home, project = tmp_path / "home", tmp_path / "proj"
    project.mkdir()
    home.mkdir()
    (home / ".claude.json").write_text('{"mcpServers": {}}\n')
    service = apply_service(tmp_path, home, mode="observe", projects=[project])
    service.scan()
    paths = [r["path"] for r in service.status()["clients"]["claude-code"]]
    assert paths.count(str(home / ".claude.json")) == 1
