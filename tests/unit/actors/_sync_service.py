"""Orchestrators for the sync-service tests: a fresh one on ``tmp_path``, and a restart."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from actors.sync_engine import Policy
from actors.sync_service import SyncService, default_policy
from adapters.base import ClientAdapter
from adapters.registry import load_adapters
from events.store import EventStore, StoreConfig


def apply_service(
    tmp_path: Path,
    home: Path,
    adapters: Mapping[str, ClientAdapter] | None = None,
    *,
    mode: Literal["observe", "apply"] = "apply",
    policy: Policy | None = None,
    **options: Any,
) -> SyncService:
    """An orchestrator over ``adapters`` (default: every client) syncing two ways in ``mode``.

    Its log is ``tmp_path/events.sqlite`` and its pre-images ``tmp_path/preimages``; other
    keywords (``projects``, ``breaker``, ``extra_roots``…) go to :class:`SyncService`.
    """
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.sqlite"))
    chosen = dict(load_adapters() if adapters is None else adapters)
    return SyncService(
        store,
        chosen,
        home=home,
        preimage_dir=tmp_path / "preimages",
        policy=policy or default_policy(list(chosen), mode),
        **options,
    )


def restarted(service: SyncService) -> SyncService:
    """``service`` built again on its log, home, pre-images and policy (a process restart)."""
    return SyncService(
        service.store,
        service.adapters,
        home=service.home,
        preimage_dir=service.preimages.directory,
        policy=service.policy,
    )
