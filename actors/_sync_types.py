"""Public value types of the sync engine: policy, observations, decisions, plans, facts."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any, Literal, TypeAlias

from actors._sync_values import (
    DEFAULT_SCOPE,
    PROJECT_SCOPE,
    EntityKey,
    Slot,
    scope_kind,
    scope_project,
)
from events.client_config import Setting, setting_refusal

__all__ = [
    "ApprovalFact",
    "Conflict",
    "ConflictRule",
    "Decision",
    "DeletionHeldFact",
    "Direction",
    "Drift",
    "Fact",
    "HoldDeletion",
    "Lossy",
    "NeedsApproval",
    "Observation",
    "ObservedFact",
    "Plan",
    "Policy",
    "ResolvedFact",
    "Write",
    "WriteConfirmedFact",
    "decision_dict",
]


class Direction(StrEnum):
    """Which way changes flow."""

    TWO_WAY = "two-way"
    ONE_WAY = "one-way"


class ConflictRule(StrEnum):
    """How a conflict between clients is settled."""

    MANUAL = "manual"
    SOURCE_PRIORITY = "source-priority"
    NEWEST = "newest"


@dataclass(frozen=True)
class Policy:
    """What to sync, between whom, and how.

    Attributes:
        clients: the participating clients.
        kinds: entity kinds to sync (empty = every kind).
        direction: two-way, or one-way from ``source``.
        source: the one-way source client.
        conflict_rule: manual (default), source priority, or newest observation.
        priority: client order for ``source-priority`` (earlier wins).
        include: fnmatch patterns of entity names to sync (empty = all).
        exclude: fnmatch patterns of entity names never to sync.
        mode: ``observe`` plans without allowing apply; ``apply`` allows it.
        max_deletions: more deletions than this from one client in one plan are held.
        unsupported: per client, value fields it cannot express (reported as lossy).
        lacks: per client, entity kinds it cannot hold at all (Codex has no commands); such a
            client is never a write target for them.
        settings: opt-in settings: setting name → the clients it flows among. A setting
            not named here is not synced at all.
        accepts: per client, the canonical approval modes it can be written (a client not
            named takes none); set from the adapters by the orchestrator.
        trusted_projects: project roots whose project-scope MCP servers flow without asking
            (``trust = "auto"`` in ``sync.toml``); still only into that project's files.
        exclude_personal: clients whose personal (user-level) instruction file is kept out
            of the by-content instruction sync.
    """

    clients: tuple[str, ...]
    kinds: frozenset[str] = frozenset()
    direction: Direction = Direction.TWO_WAY
    source: str | None = None
    conflict_rule: ConflictRule = ConflictRule.MANUAL
    priority: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    mode: Literal["observe", "apply"] = "apply"
    max_deletions: int = 3
    unsupported: Mapping[str, frozenset[str]] = field(default_factory=dict)
    lacks: Mapping[str, frozenset[str]] = field(default_factory=dict)
    settings: Mapping[str, frozenset[str]] = field(default_factory=dict)
    accepts: Mapping[str, frozenset[str]] = field(default_factory=dict)
    trusted_projects: frozenset[str] = frozenset()
    exclude_personal: frozenset[str] = frozenset()

    def trusts(self, scope: str) -> bool:
        """Return True when ``scope`` is the project scope of a project trusted to run code."""
        return scope_kind(scope) == PROJECT_SCOPE and scope_project(scope) in self.trusted_projects

    def holds(self, client: str, key: EntityKey) -> bool:
        """Return True when ``client`` takes part in syncing ``key``: it can hold the kind
        (Codex has no commands), and a setting flows only among the clients opted in for it."""
        kind, name = key
        if kind in self.lacks.get(client, frozenset()):
            return False
        return kind != Setting.kind or client in self.settings.get(name, frozenset())

    def refusal(self, client: str, key: EntityKey, value: Mapping[str, Any] | None) -> str | None:
        """Why ``value`` must not be written into ``client`` (None: it may be).

        Full-access approval modes and native modes with no equivalent are never written;
        nor is a mode the client has no spelling for.
        """
        if key[0] != Setting.kind or value is None:
            return None
        text = value.get("value")
        why = setting_refusal(key[1], text if isinstance(text, str) else None)
        if why is not None or key[1] != "approval_mode":
            return why
        if text not in self.accepts.get(client, frozenset()):
            return f"{client} has no approval mode {text!r}"
        return None

    def covers(self, key: EntityKey) -> bool:
        """Return True when ``key`` is in this policy's kinds and name filters."""
        kind, name = key
        if self.kinds and kind not in self.kinds:
            return False
        if kind == Setting.kind and not self.settings.get(name):
            return False  # settings are opt-in, one by one
        if self.include and not any(fnmatchcase(name, p) for p in self.include):
            return False
        return not any(fnmatchcase(name, p) for p in self.exclude)

    def as_dict(self) -> dict[str, Any]:
        """The policy as shown to people (``synapse sync status``): JSON-safe, sorted."""
        return {
            "clients": list(self.clients),
            "kinds": sorted(self.kinds),
            "direction": str(self.direction),
            "source": self.source,
            "conflict": str(self.conflict_rule),
            "priority": list(self.priority),
            "include": list(self.include),
            "exclude": list(self.exclude),
            "mode": self.mode,
            "max_deletions": self.max_deletions,
            "settings": {name: sorted(c) for name, c in sorted(self.settings.items())},
            "trusted_projects": sorted(self.trusted_projects),
        }


@dataclass(frozen=True)
class Observation:
    """What one scan of one client found.

    ``complete`` is False when any file failed to parse, vanished mid-read or looked
    truncated: what is present counts, what is missing is *unknown*, never deleted.

    Attributes:
        client: the scanned client.
        scan_id: the scan's id (two complete scans lacking an entity delete it).
        complete: every file was read and trusted.
        entities: values by key; each value's ``scope`` says its slot.
        scoped: values by slot: one name in several scopes (two projects) at once.
    """

    client: str
    scan_id: str
    complete: bool
    entities: Mapping[EntityKey, dict[str, Any]]
    scoped: Mapping[Slot, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Write:
    """Write ``value`` (None = remove the entity) into ``client``."""

    client: str
    key: EntityKey
    value: dict[str, Any] | None
    scope: str = DEFAULT_SCOPE


@dataclass(frozen=True)
class Conflict:
    """Clients changed ``key`` to different values; nothing is written until resolved."""

    key: EntityKey
    sides: Mapping[str, str | None]
    base: str | None
    scope: str = DEFAULT_SCOPE
    conflict_id: str = ""


@dataclass(frozen=True)
class HoldDeletion:
    """A deletion from ``client`` waits for approval (``approval_id`` releases it)."""

    client: str
    key: EntityKey
    reason: str
    scope: str = DEFAULT_SCOPE
    approval_id: str = ""


@dataclass(frozen=True)
class NeedsApproval:
    """A change from ``client`` waits for explicit approval (it would run new code).

    ``digest`` is the value waiting; ``approval_id`` names this slot and value, so approving
    an id approves exactly what was shown.
    """

    key: EntityKey
    client: str | None
    reason: str
    scope: str = DEFAULT_SCOPE
    digest: str | None = None
    approval_id: str = ""


@dataclass(frozen=True)
class Lossy:
    """Writing ``key`` into ``client`` drops ``field``."""

    client: str
    key: EntityKey
    field: str
    reason: str
    scope: str = DEFAULT_SCOPE


@dataclass(frozen=True)
class Drift:
    """One-way sync: ``client`` differs from the source's value."""

    client: str
    key: EntityKey
    scope: str = DEFAULT_SCOPE


Decision: TypeAlias = Write | Conflict | HoldDeletion | NeedsApproval | Lossy | Drift


def decision_dict(decision: Decision) -> dict[str, Any]:
    """Return a JSON-like form of a decision (type name included)."""
    body = dataclasses.asdict(decision)
    body["key"] = list(decision.key)
    if isinstance(decision, Conflict):
        body["sides"] = dict(sorted(decision.sides.items()))
    return {"type": type(decision).__name__, **body}


@dataclass(frozen=True)
class Plan:
    """Every pending decision, hashed so ``apply`` can refuse a stale plan."""

    decisions: tuple[Decision, ...]
    plan_hash: str
    apply_allowed: bool

    @property
    def writes(self) -> tuple[Write, ...]:
        """Return the writes of this plan."""
        return tuple(d for d in self.decisions if isinstance(d, Write))


# -- facts: the engine inputs the ledger records, so a replay rebuilds the same state -----


@dataclass(frozen=True)
class ObservedFact:
    """A scan changed, suspected or removed a client's copy (``change`` is the kind)."""

    batch: str
    client: str
    key: EntityKey
    scope: str
    change: Literal["changed", "suspected", "removed"]
    digest: str | None = None
    value: dict[str, Any] | None = None
    scan_id: str = ""


@dataclass(frozen=True)
class WriteConfirmedFact:
    """A planned write landed."""

    batch: str
    client: str
    key: EntityKey
    scope: str
    digest: str | None
    value: dict[str, Any] | None
    path: str = ""
    sha256: str = ""
    pre_image_ref: str | None = None
    #: ``(path, sha256, pre_image_ref)`` of the file written with ``path`` (a prompt index).
    companion: tuple[str, str, str | None] | None = None


@dataclass(frozen=True)
class ResolvedFact:
    """A person settled a slot on ``digest``."""

    batch: str
    key: EntityKey
    scope: str
    digest: str | None
    value: dict[str, Any] | None
    chosen_client: str | None
    resolution: str


@dataclass(frozen=True)
class DeletionHeldFact:
    """Deletions from ``client`` were held back (sticky until approved)."""

    batch: str
    client: str
    key: EntityKey
    scope: str
    reason: str


@dataclass(frozen=True)
class ApprovalFact:
    """A change (``digest``) or a deletion (``digest`` None) from ``client`` was judged.

    ``verdict``: ``approved`` or ``rejected`` by a person, or ``trusted`` (the project's
    ``trust = "auto"`` let it through; recorded, never replayed as a settlement).
    """

    batch: str
    client: str | None
    key: EntityKey
    scope: str
    digest: str | None
    verdict: Literal["approved", "rejected", "trusted"]
    approval_id: str
    reason: str = ""


Fact: TypeAlias = ObservedFact | WriteConfirmedFact | ResolvedFact | DeletionHeldFact | ApprovalFact
