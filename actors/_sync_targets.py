"""Where a one-entity-per-file entity (a command, a subagent) lives in a client.

MCP servers share one settings file per scope; commands and subagents have one file each.
The target of a write is the client's existing file for that entity name *in that slot's
scope*, else the file the adapter would create (``locate_command`` / ``locate_subagent``). A
project-scope slot names its project (``project:/abs/root``), so a new file goes into exactly
that project, and only if it is one of the synced projects.

Rovo Dev's saved prompts are the content files its ``prompts.yml`` lists; each carries its
index entry (:attr:`~adapters.base.ConfigFile.entry`), which names it, and every write of one
also edits that index (:mod:`actors._sync_companion`).

A client without the kind (no ``command_codec`` / ``subagent_dialect``) has no target: it is
simply not written, and nothing is reported about it per entity. A client that holds the kind
but not every synced field (Cursor commands have no description) keeps the last written value
of those fields when it edits the rest (:func:`keep_unexpressed`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from actors._sync_io import SYNC_FIELDS, file_scope, project
from actors._sync_state import SlotState
from actors._sync_types import Policy
from actors._sync_values import (
    DEFAULT_SCOPE,
    PROJECT_SCOPE,
    EntityKey,
    Slot,
    digest,
    scope_kind,
    scope_project,
    without_secrets,
)
from actors.lifecycle import raise_alert
from adapters._commands import command_name
from adapters.base import ClientAdapter, ConfigFile
from adapters.files import read_config
from events.client_config import Command, Instruction, Scope, Subagent
from events.errors import AdapterError
from events.store import EventStore

__all__ = [
    "FILE_KINDS",
    "alert_unsafe_name",
    "as_written",
    "file_target",
    "has_kind",
    "keep_unexpressed",
    "kind_files",
    "with_accepts",
    "with_lacks",
]

#: Entity kinds stored one per file.
FILE_KINDS = frozenset({Command.kind, Subagent.kind})
#: Kinds some clients cannot hold (told to the engine, so it plans no write into them).
_HELD_KINDS = FILE_KINDS | {Instruction.kind}

Key = tuple[str, str]


def has_kind(adapter: ClientAdapter, kind: str) -> bool:
    """Whether ``adapter``'s client can hold entities of ``kind`` at all.

    Instruction entities are Cursor's rules only (``rule_dirs``): read and shown, never
    written into another client (placement, not the engine, syncs instruction files).
    """
    if kind == Command.kind:
        return adapter.command_codec is not None
    if kind == Subagent.kind:
        return adapter.subagent_dialect is not None
    if kind == Instruction.kind:
        return bool(adapter.rule_dirs)
    return True


def keep_unexpressed(
    adapter: ClientAdapter, kind: str, observed: dict[str, Any], written: dict[str, Any]
) -> dict[str, Any]:
    """``observed`` with the synced fields ``adapter`` cannot express taken from ``written``.

    A client that cannot hold a field reads back without it; that absence is not an edit
    (an edited Cursor command body must not erase the description everywhere else).
    """
    if kind not in FILE_KINDS:
        return observed
    supported = adapter.capabilities().kinds.get(kind, frozenset())
    missing = [f for f in SYNC_FIELDS.get(kind, ()) if f not in supported]
    if not missing:
        return observed
    out = {k: v for k, v in observed.items() if k not in missing}
    out.update({f: written[f] for f in missing if f in written})
    return out


def with_lacks(policy: Policy, adapters: Mapping[str, ClientAdapter]) -> Policy:
    """``policy`` told which clients cannot hold which file kinds (unless it already says).

    Without this the engine would plan a write of every command into Codex on every round,
    and log it each time the plan changes. The approval modes each client can be written are
    filled in too (:func:`with_accepts`).
    """
    if not policy.lacks:
        lacks = {
            client: frozenset(k for k in _HELD_KINDS if not has_kind(adapter, k))
            for client, adapter in adapters.items()
        }
        policy = dataclasses.replace(policy, lacks={c: k for c, k in lacks.items() if k})
    return with_accepts(policy, adapters)


def with_accepts(policy: Policy, adapters: Mapping[str, ClientAdapter]) -> Policy:
    """``policy`` told which approval modes each client can be written (unless it says).

    Without this the engine would plan a mode a client has no spelling for (Copilot has no
    auto-edit); the write would change nothing and the next scan would read as an edit.
    """
    if policy.accepts or not policy.settings:
        return policy
    accepts = {
        client: adapter.settings_dialect.writable_modes
        for client, adapter in adapters.items()
        if adapter.settings_dialect is not None
    }
    return dataclasses.replace(policy, accepts=accepts)


def kind_files(
    adapter: ClientAdapter, kind: str, home: Path, projects: Sequence[Path]
) -> list[ConfigFile]:
    """The client's existing files of one file-per-entity ``kind``."""
    if kind == Command.kind:
        return adapter.command_files(home, projects)
    return adapter.subagent_files(home, projects)


def _entity_name(adapter: ClientAdapter, cfg: ConfigFile, roots: Sequence[Path]) -> str | None:
    """The name of the entity ``cfg`` holds (None when unreadable)."""
    if cfg.entry is not None:
        return cfg.entry.name
    if adapter.command_codec is not None and cfg.kinds == {Command.kind}:
        try:
            return command_name(cfg.path, adapter.command_codec.suffix)
        except AdapterError:
            return None
    dialect = adapter.subagent_dialect
    if dialect is None:
        return None
    if dialect.name_key is None:
        return dialect.name_of(cfg.path)
    try:
        info = cfg.path.stat()
    except OSError:
        return None
    # The name sits in the frontmatter; re-read only when the file changed.
    stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
    return _parsed_name(adapter, cfg, tuple(roots), stamp)


@functools.lru_cache(maxsize=4096)
def _parsed_name(
    adapter: ClientAdapter, cfg: ConfigFile, roots: tuple[Path, ...], _stamp: tuple[int, ...]
) -> str | None:
    try:
        snap = read_config(cfg.path, allowed_roots=roots)
        if snap is None:
            return None
        entities = adapter.parse(cfg, snap.data.decode("utf-8"))
    except (AdapterError, OSError, ValueError):
        return None
    return entities[0].name if entities else None


def _existing(
    adapter: ClientAdapter,
    key: Key,
    scope: str,
    files: Sequence[ConfigFile],
    roots: Sequence[Path],
) -> ConfigFile | None:
    for cfg in files:
        if file_scope(cfg) == scope and _entity_name(adapter, cfg, roots) == key[1]:
            return cfg
    return None


def _project_of(scope: str, projects: Sequence[Path]) -> Path | None:
    """The synced project a project scope names (None: unqualified, or not synced)."""
    root = scope_project(scope)
    return next((p for p in projects if str(p) == root), None)


def file_target(
    adapters: Mapping[str, ClientAdapter],
    client: str,
    key: Key,
    scope: str,
    *,
    home: Path,
    projects: Sequence[Path],
    roots: Sequence[Path],
) -> ConfigFile | None:
    """The file of ``client`` that holds (or would hold) a one-per-file entity.

    Args:
        adapters: every participating client's adapter.
        client: the target client.
        key: ``(kind, name)``; ``kind`` is in :data:`FILE_KINDS`.
        scope: ``user`` or ``project:/abs/root`` (no client has local commands or agents).
        home: the home directory.
        projects: the project roots.
        roots: directories reads must stay under.

    Returns:
        The existing file, else the file to create, else None (the client lacks the kind, or
        the scope names no synced project).

    Raises:
        UnsafeInputError: the name could escape the client's directory (``..``, NUL …).
    """
    adapter = adapters[client]
    if not has_kind(adapter, key[0]):
        return None
    kind = scope_kind(scope)
    if kind == DEFAULT_SCOPE:
        project = None
    elif kind == PROJECT_SCOPE:
        project = _project_of(scope, projects)
        if project is None:
            return None
    else:
        return None
    # Only the scope's own files: a namesake in another project is another entity.
    files = kind_files(adapter, key[0], home, [] if project is None else [project])
    own = _existing(adapter, key, scope, files, roots)
    if own is not None:
        return own
    if key[0] == Command.kind:
        return adapter.locate_command(key[1], Scope(kind), home, project)
    return adapter.locate_subagent(key[1], Scope(kind), home, project)


def alert_unsafe_name(store: EventStore, client: str, key: Key, reason: str) -> None:
    """Raise (once) the alert for a write skipped because the entity's name is hostile."""
    shown = key[1][:40].encode("unicode_escape").decode()
    raise_alert(
        store,
        alert_id=f"sync-name:{client}:{key[0]}:{shown}",
        severity="error",
        source=f"sync:{client}",
        message=f"not writing {key[0]} {shown!r} into {client}: {reason}",
    )


def as_written(
    slots: Mapping[Slot, SlotState],
    client: str,
    adapter: ClientAdapter,
    found: dict[Slot, dict[str, Any]],
    complete: bool,
    target: Callable[[str, EntityKey], ConfigFile | None],
) -> dict[Slot, dict[str, Any]]:
    """One client's scan with lossy read-backs of Synapse's own writes replaced by the value
    written, and the written value kept for fields the client cannot express.

    Args:
        slots: the engine's slot states.
        client: the scanned client, as the policy names it.
        adapter: its adapter.
        found: slot → value as the scan read it.
        complete: the scan saw every file (an absent slot is then a real absence).
        target: ``(scope, key)`` → the client's file for it (None: no such file).
    """
    out = dict(found)
    for slot, st in slots.items():
        key, scope = slot
        base = st.base.get(client)
        if base is None or (slot not in found and not complete):
            continue
        observed = found.get(slot)
        if observed is not None and digest(observed) == base:
            continue
        written = st.value(base)
        if (
            written is not None
            and observed is not None
            and without_secrets(observed) == without_secrets(written)
        ):
            out[slot] = written  # the target kept its own literal secret (never copied)
            continue
        cfg = target(scope, key)
        if written is None or cfg is None:
            continue
        if project(adapter, cfg, key, written) == observed:
            out[slot] = written
        elif observed is not None:
            out[slot] = keep_unexpressed(adapter, key[0], observed, written)
    return out
