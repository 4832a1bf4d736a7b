"""``GET /api/v1/sync/status`` over a real orchestrator: each file's read error, its line and
since when, and what the mode means, described by the ``SyncStatus`` response model."""

from __future__ import annotations

from pathlib import Path

from actors.sync_actor import policy_status
from projections.projector import Projector
from serve.sync_api import sync_router
from serve.sync_services import InProcessSyncServices
from tests.unit.actors._sync_service import apply_service

BROKEN = "---\ndescription: Review code\nargument-hint:\n  - [file\n---\nReview $ARGUMENTS\n"


def test_http_status_carries_each_file_error(tmp_path: Path, make_client) -> None:  # type: ignore[no-untyped-def]
    """The route answers the broken file's error, line and since, and the mode's reason."""
    home = tmp_path / "home"
    path = home / ".claude" / "commands" / "review.md"
    path.parent.mkdir(parents=True)
    path.write_text(BROKEN)
    service = apply_service(tmp_path, home, mode="observe")
    service.scan()
    projector = Projector(tmp_path / "p.duckdb")
    services = InProcessSyncServices(service, service.store, projector)
    api = make_client(extra_routers=[sync_router(services)], authed=True)
    try:
        body = api.get("/api/v1/sync/status").json()
        schema = api.get("/openapi.json").json()["components"]["schemas"]
    finally:
        projector.close()
    [row] = [r for r in body["clients"]["claude-code"] if r["path"] == str(path)]
    assert row["line"] == 5
    assert "invalid YAML" in row["error"]
    assert row["since"]
    assert body["mode_reason"] == policy_status(service)["mode_reason"]
    assert "planned, not written" in body["mode_reason"]
    assert {"error", "line", "since"} <= set(schema["SyncFile"]["properties"])
    assert "mode_reason" in schema["SyncStatus"]["properties"]
