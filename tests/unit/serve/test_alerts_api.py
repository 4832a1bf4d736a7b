"""Alerts over HTTP against a real event store and real DuckDB read models."""

from __future__ import annotations

from pathlib import Path

from actors.lifecycle import acknowledge_alert, raise_alert
from events.runtime import Alert
from events.store import EventStore, StoreConfig
from projections.projector import Projector
from projections.sql_guard import run_query
from serve.schemas import QueryResult
from tests.unit.serve.conftest import AppFactory, FakeServices


class _RealAlerts(FakeServices):
    """SQL from a real projector over a real store; acknowledgements recorded as events."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp)
        self.store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp / "e.sqlite"))
        self.projector = Projector(tmp / "p.duckdb")

    async def sql(self, query: str, limit: int) -> QueryResult:
        self.projector.catch_up(self.store)
        with self.projector.cursor() as cur:
            result = run_query(cur, query, limit=limit, timeout_s=10)
        return QueryResult(
            columns=list(result.columns), rows=[list(r) for r in result.rows], truncated=False
        )

    async def acknowledge_alert(self, alert_id: str, by: str) -> bool:
        return acknowledge_alert(self.store, alert_id, by)


def test_alerts_list_newest_first_and_an_acknowledgement_is_an_event(
    tmp_path: Path, make_client: AppFactory
) -> None:
    """GET lists raised alerts (text masked); POST acknowledges once, as the caller, recorded
    as ``Alert.Acknowledged``; the open filter then leaves it out; unknown ids are 404."""
    services = _RealAlerts(tmp_path)
    raise_alert(services.store, alert_id="a1", severity="warning", source="sync", message="one")
    raise_alert(
        services.store,
        alert_id="a2",
        severity="critical",
        source="gateway",
        message="upstream said Authorization: Bearer sk-live-abcdefghijklmnopqrstuvwx",
    )
    api = make_client(services, authed=True)

    listed = api.get("/api/v1/alerts").json()["alerts"]
    assert [a["alert_id"] for a in listed] == ["a2", "a1"]
    assert "sk-live-abcdefghijklmnopqrstuvwx" not in str(listed)

    done = api.post("/api/v1/alerts/a1/acknowledge", headers={"Content-Type": "application/json"})
    assert done.status_code == 200, done.text
    assert done.json() == {"alert_id": "a1", "acknowledged_by": "cli"}
    again = api.post("/api/v1/alerts/a1/acknowledge", headers={"Content-Type": "application/json"})
    assert again.status_code == 200
    acks = [
        e
        for n in services.store.read(0, 100)
        if isinstance(e := services.store.decode(n), Alert.Acknowledged)
    ]
    assert [a.by for a in acks] == ["cli"]  # once, however often it is asked

    still_open = api.get("/api/v1/alerts", params={"open": "true"}).json()["alerts"]
    assert [a["alert_id"] for a in still_open] == ["a2"]
    row = next(a for a in api.get("/api/v1/alerts").json()["alerts"] if a["alert_id"] == "a1")
    assert row["acknowledged"] is True
    assert row["acknowledged_by"] == "cli"

    missing = api.post(
        "/api/v1/alerts/nope/acknowledge", headers={"Content-Type": "application/json"}
    )
    assert missing.status_code == 404
