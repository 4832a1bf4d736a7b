"""What the orchestrator shows people: plans with redacted diffs, apply results, decisions,
and each file's read error (message, line, since when)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from actors._sync_record import FileState
from actors._sync_types import Conflict, Decision, HoldDeletion, Lossy, NeedsApproval
from actors._sync_write import FileChange
from adapters.base import ConfigFile
from events.store import EventStore
from events.sync import client_file_id

__all__ = [
    "ApplyResult",
    "SyncPlanView",
    "change_dict",
    "decision_dict",
    "file_error",
    "file_rows",
]


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
        # The id `synapse sync approve ID` takes (the status and the plan name it).
        out.update(client=decision.client, reason=decision.reason, approval_id=decision.approval_id)
    elif isinstance(decision, Lossy):  # e.g. a full-access mode refused for this client
        out.update(client=decision.client, field=decision.field, reason=decision.reason)
    return out


_WHERE = re.compile(r"at line (?P<line>\d+)(?:, column (?P<column>\d+))?")


def file_error(store: EventStore, client: str, path: str) -> dict[str, Any] | None:
    """Why ``client``'s file ``path`` is not trusted now, or None (it parsed, or is unknown).

    Returns:
        ``error`` (the parser's message), ``line`` and ``column`` when the parser named them,
        and ``since``: when it was first seen failing after its last good read (ISO 8601).
    """
    try:
        agg = store.load(client_file_id(client, path))
    except AggregateNotFoundError:
        return None
    if agg.parse_error is None:
        return None
    since = getattr(agg, "parse_error_since", None)
    out: dict[str, Any] = {
        "error": agg.parse_error,
        "line": None,
        "column": None,
        "since": since.isoformat() if since is not None else None,
    }
    where = _WHERE.search(agg.parse_error)
    if where is not None:
        out["line"] = int(where["line"])
        out["column"] = int(where["column"]) if where["column"] else None
    return out


def file_rows(
    store: EventStore,
    client: str,
    files: Iterable[ConfigFile],
    known: Mapping[str, FileState],
) -> list[dict[str, Any]]:
    """One row per distinct path of ``files``: its last good hash and its error, if any.

    A file several scopes share (Claude's ``~/.claude.json`` holds user and local scope) is
    listed once.
    """
    rows: list[dict[str, Any]] = []
    for path in dict.fromkeys(str(cfg.path) for cfg in files):
        row: dict[str, Any] = {"path": path, "sha256": known.get(path, FileState()).sha256}
        row.update(file_error(store, client, path) or {"error": None})
        rows.append(row)
    return rows
