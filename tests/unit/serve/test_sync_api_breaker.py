"""The sync routes' policy view and ``POST /api/v1/sync/resume/{client}``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from actors.sync_service import SyncService, default_policy
from adapters.registry import load_adapters
from events.store import EventStore, StoreConfig
from projections.projector import Projector
from serve.sync_api import sync_router
from serve.sync_services import InProcessSyncServices, SyncServices
from synapse._demo_sync import seed_sandbox


def test_status_shows_the_policy_and_resume_closes_a_breaker(
    tmp_path: Path, make_client: Callable[..., Any]
) -> None:
    """Status carries the effective policy and open breakers; POST resume closes them."""
    home = tmp_path / "home"
    paths = seed_sandbox(home)
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
    try:
        services = InProcessSyncServices(service, store, projector)
        api = make_client(extra_routers=[sync_router(services)], authed=True)
        status = api.get("/api/v1/sync/status").json()
        kinds = ["command", "instruction", "mcp_server", "skill", "subagent"]
        assert status["policy"]["kinds"] == kinds
        assert status["breakers"] == []
        codex = str(paths["codex"])
        while service.gate.breaker.check("codex", codex) == "allow":
            pass
        assert [b["path"] for b in api.get("/api/v1/sync/status").json()["breakers"]] == [codex]
        done = api.post("/api/v1/sync/resume/codex", json={})
        assert done.status_code == 200
        assert done.json()["resumed"] == [codex]
        assert api.get("/api/v1/sync/status").json()["breakers"] == []
    finally:
        projector.close()


class _NoResume(SyncServices):
    """Services that leave ``resume`` to the base class."""

    async def status(self) -> dict[str, Any]:
        return {}

    async def rows(self, sql: str) -> list[dict[str, Any]]:
        return []

    async def plan(self) -> dict[str, Any]:
        return {}

    async def apply(self, plan_hash: str) -> dict[str, Any]:
        return {}

    async def revert(self, write_id: str) -> dict[str, Any]:
        return {}

    async def resolve(
        self, conflict_id: str, take: str | None, value: dict[str, Any] | None
    ) -> dict[str, Any]:
        return {}

    async def approve_deletions(self, client: str) -> dict[str, Any]:
        return {}


def test_resume_without_support_is_501(make_client: Callable[..., Any]) -> None:
    """Services that cannot resume answer 501, not a crash."""
    api = make_client(extra_routers=[sync_router(_NoResume())], authed=True)
    assert api.post("/api/v1/sync/resume/codex", json={}).status_code == 501
