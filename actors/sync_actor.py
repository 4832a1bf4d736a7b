"""The Ray-facing sync orchestrator: a :class:`~actors.sync_service.SyncService` built from
picklable arguments, answering in plain dicts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from actors._sync_breaker import BreakerLimits, WriteBreaker
from actors._sync_io import ScanReport
from actors._sync_types import Policy
from actors.install_key import fingerprint_key
from actors.sync_service import SyncService, default_policy
from adapters.registry import load_adapters
from events.audit import acting_as
from events.store import EventStore, StoreConfig

__all__ = [
    "MODE_REASONS",
    "SyncOrchestrator",
    "fingerprint_key",
    "policy_status",
    "resume_client",
    "sync_gauges",
]


#: What each mode means for a running orchestrator (``mode_reason`` in the status).
MODE_REASONS = {
    "apply": "running: every change is written to the other clients",
    "observe": "running: changes are planned, not written; `synapse sync apply --plan HASH` writes",
}


def policy_status(service: SyncService) -> dict[str, Any]:
    """The effective policy, project roots and open write breakers of ``service``, and
    what its mode means (``mode_reason``)."""
    return {
        "policy": {**service.policy.as_dict(), "projects": [str(p) for p in service.projects]},
        "breakers": service.gate.breaker.open_files(),
        "mode_reason": MODE_REASONS.get(service.policy.mode, service.policy.mode),
    }


def sync_gauges(service: SyncService) -> dict[str, Any]:
    """For ``/metrics``: approvals waiting, and open write breakers per participating client
    (zero included, so the series exist before the first breaker opens)."""
    breakers = dict.fromkeys(service.policy.clients, 0)
    for row in service.gate.breaker.open_files():
        breakers[row["client"]] = breakers.get(row["client"], 0) + 1
    return {"approvals_waiting": len(service.approvals()), "breakers_open": breakers}


def resume_client(service: SyncService, client: str) -> dict[str, Any]:
    """Close ``client``'s open write breakers, then rescan it so held-back writes happen.

    Returns:
        ``client``, the ``resumed`` paths and what the rescan ``written`` (apply mode).
    """
    resumed = service.gate.resume(client)
    written = service.scan(client).written if client in service.policy.clients else []
    return {"client": client, "resumed": resumed, "written": written}


class SyncOrchestrator:
    """The Ray-facing orchestrator: built from picklable arguments, answers in plain dicts.

    Its constructor rebuilds from the log and rescans every client, so a restarted
    orchestrator converges without waiting for a watcher event.

    Args:
        store_config: how to open the event store.
        home: the home directory whose client configs are synced.
        preimage_dir: where pre-images are kept.
        mode: ``observe`` or ``apply``.
        on_written: picklable ``(client, path, sha256)`` callback (tells the watcher).
        extra_roots: directories besides ``home`` reads and writes may reach.
        policy: what and how to sync (default: MCP servers between every client, ``mode``);
            only its clients take part.
        projects: project roots whose project-scope files are synced too.
        breaker: limits of the per-file write-rate breaker (default limits).
    """

    def __init__(
        self,
        store_config: StoreConfig,
        home: str,
        preimage_dir: str,
        mode: str = "observe",
        on_written: Callable[[str, str, str], None] | None = None,
        extra_roots: Sequence[str] = (),
        policy: Policy | None = None,
        projects: Sequence[str] = (),
        breaker: BreakerLimits | None = None,
    ) -> None:
        adapters = load_adapters(fingerprint_key=fingerprint_key(Path(preimage_dir).parent))
        policy = policy or default_policy(list(adapters), mode)
        self.service = SyncService(
            EventStore(store_config),
            {c: a for c, a in adapters.items() if str(c) in policy.clients},
            home=Path(home),
            preimage_dir=Path(preimage_dir),
            policy=policy,
            projects=[Path(p) for p in projects],
            extra_roots=[Path(r) for r in extra_roots],
            on_written=on_written,
            breaker=WriteBreaker(breaker),
        )
        self.service.scan()

    def submit(self, report: ScanReport) -> dict[str, Any]:
        """See :meth:`SyncService.submit`."""
        return dataclasses.asdict(self.service.submit(report))

    def status(self) -> dict[str, Any]:
        """See :meth:`SyncService.status`; plus the effective policy and open breakers."""
        return {**self.service.status(), **policy_status(self.service)}

    def gauges(self) -> dict[str, Any]:
        """See :func:`sync_gauges`."""
        return sync_gauges(self.service)

    def resume(self, client: str) -> dict[str, Any]:
        """See :func:`resume_client`."""
        return resume_client(self.service, client)

    def plan(self) -> dict[str, Any]:
        """See :meth:`SyncService.plan`."""
        return dataclasses.asdict(self.service.plan())

    # ``actor``: the user the HTTP replica handles the call for (events/audit.py); it
    # crosses the process boundary as an argument, since a context variable cannot.
    def apply(self, plan_hash: str, actor: str | None = None) -> dict[str, Any]:
        """See :meth:`SyncService.apply`."""
        with acting_as(actor):
            return dataclasses.asdict(self.service.apply(plan_hash))

    def revert(self, wid: str, actor: str | None = None) -> dict[str, Any]:
        """See :meth:`SyncService.revert`."""
        with acting_as(actor):
            return dataclasses.asdict(self.service.revert(wid))

    def resolve(
        self,
        conflict_id: str,
        take: str | None = None,
        value: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> dict[str, Any]:
        """See :meth:`SyncService.resolve`."""
        with acting_as(actor):
            result = self.service.resolve(conflict_id, take=take, value=value)
        return dataclasses.asdict(result)

    def approve_deletions(self, client: str, actor: str | None = None) -> dict[str, Any]:
        """See :meth:`SyncService.approve_deletions`."""
        with acting_as(actor):
            return dataclasses.asdict(self.service.approve_deletions(client))

    def approvals(self) -> list[dict[str, Any]]:
        """See :meth:`SyncService.approvals`."""
        return self.service.approvals()

    def judge(self, approval_id: str, approve: bool, actor: str | None = None) -> dict[str, Any]:
        """See :meth:`SyncService.judge`."""
        with acting_as(actor):
            return dataclasses.asdict(self.service.judge(approval_id, approve=approve))

    def rescan(self) -> dict[str, Any]:
        """Scan every client now (and write, in apply mode)."""
        return dataclasses.asdict(self.service.scan())
