"""Value helpers of the sync engine: keys, slots, scopes, stripping, digests, approval triggers.

A slot's scope names the project it belongs to: ``user``, ``project:/abs/root`` or
``local:/abs/root``. The same server name in two projects is then two slots, so one project's
config (its command, its env) never reaches another project's files. A bare ``project`` or
``local`` (events recorded before scopes named their project) is *unqualified*: the
orchestrator does not replay it, since it cannot tell which project it meant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, TypeAlias

import orjson

__all__ = [
    "DEFAULT_SCOPE",
    "EXECUTION_FIELDS",
    "LOCAL_SCOPE",
    "MCP_KINDS",
    "NEVER_SYNC",
    "PROJECT_SCOPE",
    "approval_id",
    "canonical_hash",
    "digest",
    "is_qualified",
    "needs_approval",
    "qualified_scope",
    "scope_kind",
    "scope_of",
    "scope_project",
    "strip",
    "without_secrets",
]

#: ``(kind, name)``, e.g. ``("mcp", "github")``.
EntityKey: TypeAlias = tuple[str, str]
#: ``(key, scope)``: the unit of merging. Scopes never mix, so project config is never
#: promoted into user scope, nor copied into another project.
Slot: TypeAlias = tuple[EntityKey, str]

DEFAULT_SCOPE = "user"
PROJECT_SCOPE = "project"
LOCAL_SCOPE = "local"

#: Trust-bearing fields (reliability.md E4): never compared, never propagated. A target keeps
#: its own values because adapters write surgically.
NEVER_SYNC = frozenset(
    {
        "trust",
        "approvals",
        "approved",
        "approval_policy",
        "sandbox_mode",
        "trust_level",
        "enableAllProjectMcpServers",
        "enabledMcpjsonServers",
        "disabledMcpjsonServers",
        "permissions",
        "hooks",
        "statusLine",
    }
)

#: Entity kinds that are MCP servers (the engine's tests say ``mcp``; the canonical model
#: in :mod:`events.client_config` says ``mcp_server``).
MCP_KINDS = frozenset({"mcp", "mcp_server"})

#: MCP fields whose addition or change runs code or reaches a new endpoint.
EXECUTION_FIELDS = ("command", "args", "url", "headers")


def scope_of(value: Mapping[str, Any] | None) -> str:
    """Return the scope a value lives in (``user`` when it does not say)."""
    if value is None:
        return DEFAULT_SCOPE
    return str(value.get("scope", DEFAULT_SCOPE))


def qualified_scope(scope: str, project: str | None) -> str:
    """Return the slot scope of a file in ``scope`` of ``project`` (``project:/abs/root``).

    User scope belongs to no project; a project or local scope without a project stays bare.
    """
    if scope == DEFAULT_SCOPE or not project:
        return scope
    return f"{scope}:{project}"


def scope_kind(scope: str) -> str:
    """Return ``user``, ``project`` or ``local``: the scope without its project."""
    return scope.partition(":")[0]


def scope_project(scope: str) -> str | None:
    """Return the project root a scope names (None for user scope or an unqualified one)."""
    return scope.partition(":")[2] or None


def is_qualified(scope: str) -> bool:
    """Whether ``scope`` says which project it belongs to (user scope needs none)."""
    return scope_kind(scope) == DEFAULT_SCOPE or scope_project(scope) is not None


def strip(value: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``value`` without the :data:`NEVER_SYNC` fields."""
    return {k: v for k, v in value.items() if k not in NEVER_SYNC}


def digest(value: Mapping[str, Any] | None) -> str | None:
    """Return the sha256 of the canonical JSON of ``value`` (None for an absent entity)."""
    if value is None:
        return None
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


def without_secrets(value: Any) -> Any:
    """``value`` (a slot value's JSON form) with every literal secret's fingerprint removed.

    Literal secrets never travel between clients: each file keeps its own. Two copies that
    differ only in which secret they hold are the same synced value, and a target that kept
    its own secret still holds Synapse's write.
    """
    if isinstance(value, Mapping):
        if value.get("kind") == "secret":
            return {"kind": "secret"}
        return {k: without_secrets(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_secrets(v) for v in value]
    return value


def canonical_hash(obj: Any) -> str:
    """Return the sha256 of the canonical JSON of any JSON-like object."""
    return hashlib.sha256(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)).hexdigest()


def approval_id(slot: Slot, digest: str | None, client: str | None = None) -> str:
    """Return the id a person approves by: the slot and the value (or deletion) it releases.

    A change's id names its value's digest, so a different value is a different question;
    a held deletion's names the deleting client (its digest is None).
    """
    (kind, name), scope = slot
    return canonical_hash([kind, name, scope, digest, client])[:12]


def needs_approval(
    kind: str, new: Mapping[str, Any] | None, old: Mapping[str, Any] | None
) -> str | None:
    """Return why a change needs explicit approval, or None.

    Adding or changing an MCP server's ``command``, ``args``, ``url`` or ``headers`` in project
    scope runs code a repository chose (reliability.md E4), so it is never synced silently.
    """
    if kind not in MCP_KINDS or new is None or scope_kind(scope_of(new)) != PROJECT_SCOPE:
        return None
    if old is None:
        return "new project-scope MCP server"
    changed = [f for f in EXECUTION_FIELDS if new.get(f) != old.get(f)]
    if not changed:
        return None
    return "project-scope MCP server changes " + ", ".join(changed)
