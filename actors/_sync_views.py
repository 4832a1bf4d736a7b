"""What the orchestrator shows people: plans with redacted diffs, apply results, decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from actors._sync_types import Conflict, Decision, HoldDeletion, Lossy, NeedsApproval
from actors._sync_write import FileChange

__all__ = ["ApplyResult", "SyncPlanView", "change_dict", "decision_dict"]


@dataclass(frozen=True)
class SyncPlanView:
    """A plan as shown to a person (JSON-safe; diffs are redacted).

    Attributes:
        plan_hash: pass it to :meth:`SyncService.apply`.
        changes: per file: client, path, pre/new sha256, entities, losses, diff.
        decisions: conflicts, held deletions and approvals waiting for a person.
        mode: the policy mode (``observe`` never writes on its own).
    """

    plan_hash: str
    changes: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    mode: str


@dataclass(frozen=True)
class ApplyResult:
    """What :meth:`SyncService.apply` (or an automatic round) did."""

    applied: bool
    stale: bool = False
    written: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    reason: str = ""


def change_dict(change: FileChange) -> dict[str, Any]:
    """One file change as JSON (hashes, entities, losses, redacted diff)."""
    return {
        "client": change.client,
        "path": change.path,
        "pre_sha256": change.pre_sha256,
        "new_sha256": change.new_sha256,
        "entities": [f"{w.key[0]}:{w.key[1]}" for w in change.writes],
        "losses": [f"{loss.field}: {loss.reason}" for loss in change.losses],
        "diff": change.diff,
    }


def decision_dict(decision: Decision) -> dict[str, Any]:
    """A non-write decision as JSON (conflict sides are digests, never values)."""
    out: dict[str, Any] = {
        "type": type(decision).__name__,
        "kind": decision.key[0],
        "name": decision.key[1],
        "scope": decision.scope,
    }
    if isinstance(decision, Conflict):
        out.update(conflict_id=decision.conflict_id, sides=dict(decision.sides))
    elif isinstance(decision, HoldDeletion | NeedsApproval):
        out.update(client=decision.client, reason=decision.reason)
    elif isinstance(decision, Lossy):  # e.g. a full-access mode refused for this client
        out.update(client=decision.client, field=decision.field, reason=decision.reason)
    return out
