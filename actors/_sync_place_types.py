"""The values placement planning produces: actions to write, findings not to.

See :mod:`actors._sync_placement` for the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from actors._sync_values import canonical_hash
from actors._sync_write import unified_diff
from adapters.base import ClientAdapter

if TYPE_CHECKING:
    from actors._sync_personal import BaseNote

__all__ = [
    "Action",
    "Finding",
    "FindingKind",
    "PlacementAction",
    "PlacementPlan",
    "file_diff",
    "installed",
]

Action = Literal[
    "copy_skill",
    "create_shim",
    "copy_instructions",
    "point_context",
    "sync_instructions",
    "retire_copy",
]
FindingKind = Literal["conflict", "drift", "refused", "unreachable"]
#: Where a client without skills keeps its settings (its directory marks it as in use).
SETTINGS_ANCHORS: dict[str, str] = {"claude-code": ".claude", "rovodev": ".rovodev"}


@dataclass(frozen=True)
class PlacementAction:
    """One file or skill directory that placement would write.

    Attributes:
        action: what kind of write.
        subject: what is placed (``skill:pdf``, ``instructions``).
        path: the file or skill directory.
        clients: the clients this serves (one copy may serve several).
        reason: why, in words.
        pre_sha256: the hash the file must still have; None means it must not exist.
        new_sha256: the new file's hash, or the skill's content digest (``""``: the file
            is removed).
        data: the new file's bytes (file actions).
        files: relative path → bytes (``copy_skill``).
        source: the directory copied from (``copy_skill``; file modes come from it).
        losses: what some client will not understand.
        diff: redacted unified diff, or a file list for a skill.
    """

    action: Action
    subject: str
    path: Path
    clients: tuple[str, ...]
    reason: str
    pre_sha256: str | None
    new_sha256: str
    data: bytes = field(default=b"", repr=False)
    files: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    source: Path | None = None
    losses: tuple[str, ...] = ()
    diff: str = ""

    @property
    def placement_id(self) -> str:
        """Stable id of this exact write (what, where, from which hash, to which)."""
        body = [self.action, str(self.path), self.pre_sha256, self.new_sha256]
        return canonical_hash(body)[:16]

    def as_dict(self) -> dict[str, Any]:
        """The action as shown in a plan (the shape of a file change, plus placement keys)."""
        return {
            "client": self.clients[0],
            "clients": list(self.clients),
            "path": str(self.path),
            "pre_sha256": self.pre_sha256,
            "new_sha256": self.new_sha256,
            "entities": [self.subject],
            "losses": list(self.losses),
            "diff": self.diff,
            "placement": self.action,
            "placement_id": self.placement_id,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Finding:
    """Something placement will not write, and why (a conflict, drift, a refused input).

    Attributes:
        kind: ``conflict`` (two different things under one name), ``drift`` (a client's
            own file does not follow ``AGENTS.md``), ``refused`` (hostile or unreadable
            input) or ``unreachable`` (no way to reach the client).
        subject: what it is about.
        paths: the files or directories involved.
        clients: the clients affected.
        reason: why, in words.
    """

    kind: FindingKind
    subject: str
    paths: tuple[str, ...]
    clients: tuple[str, ...]
    reason: str

    @property
    def finding_id(self) -> str:
        """Stable id (the alert raised for it reuses it)."""
        return canonical_hash([self.kind, self.subject, list(self.paths), self.reason])[:16]

    def as_dict(self) -> dict[str, Any]:
        """The finding as a plan decision."""
        kind, _, name = self.subject.partition(":")
        return {
            "type": f"Placement{self.kind.capitalize()}",
            "kind": kind,
            "name": name,
            "scope": "",
            "finding_id": self.finding_id,
            "paths": list(self.paths),
            "clients": list(self.clients),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PlacementPlan:
    """Everything placement would write, and everything it will not."""

    actions: tuple[PlacementAction, ...] = ()
    findings: tuple[Finding, ...] = ()
    #: personal instruction files' bases, recorded once the writes to them land
    bases: tuple[BaseNote, ...] = ()

    def hash_body(self) -> list[Any]:
        """What the plan hash covers: each write's identity and each finding's."""
        return [a.placement_id for a in self.actions] + [f.finding_id for f in self.findings]


def file_diff(path: Path, old: str, new: str) -> str:
    """A redacted unified diff of one file."""
    return unified_diff(old, new, str(path), str(path))


def installed(adapter: ClientAdapter, home: Path) -> bool:
    """Whether the client is in use: the directory holding its first user skill root exists.

    Placement never creates a client's directory tree from nothing (no litter for absent
    clients); shared roots such as ``~/.agents`` are created when needed.
    """
    user_dirs = adapter.skill_dirs[0]
    if user_dirs:
        return (home / Path(user_dirs[0]).parent).is_dir()
    anchor = SETTINGS_ANCHORS.get(str(adapter.client))
    return anchor is not None and (home / anchor).is_dir()
