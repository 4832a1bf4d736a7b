"""Settle, at start, the file writes a crash interrupted (intent recorded, outcome never).

A write is intent → pre-image → temp file → fsync → rename → directory fsync → outcome. The
``WritePlanned`` intent is durable before anything else and names the planned hashes and every
temp file the write may create, so a restart can tell from the files alone how far it got:

* the target still hashes to the base (``pre_sha256``): the write never landed; it is recorded
  abandoned (the next round plans it again);
* it hashes to the planned ``new_sha256``: it landed; it is confirmed in the engine exactly as
  a finished write would have been, so its ``WriteApplied`` carries the pre-image reference and
  ``revert`` restores the original bytes;
* anything else: someone else changed the file meanwhile; it is recorded abandoned with an
  alert, and the next scan sees that change as any other.

A write with a companion file (a Rovo Dev prompt and its ``prompts.yml``) that landed in only
one of the two is undone, as :func:`~actors._sync_companion.apply_pair` would have done.
Then exactly the temp files the intent named are removed; a delete's rename-aside is first put
back if the target is gone, so no bytes are lost. Files that merely look like Synapse temps are
never touched.

One orchestrator runs per system (the Ray actor, or the CLI when no system runs), so an open
intent at start is one whose writer is gone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from actors._sync_ledger import record_facts
from actors._sync_record import FileState, Indexes, WriteRecord, record_ledger
from actors._sync_write import PreimageStore, revert_file
from actors.lifecycle import raise_alert
from actors.sync_engine import SyncEngine
from adapters.files import (
    MAX_LARGE_CONFIG_BYTES,
    TEMP_PREFIX,
    fsync_dir,
    read_config,
    remove_recorded_temps,
)
from events.errors import SynapseError
from events.store import EventStore
from events.sync import SyncLedger
from projections.sync_models import write_id

__all__ = ["Reconciled", "reconcile_intents"]

State = Literal["pre", "new", "other"]
Key = tuple[str, str]


@dataclass
class Reconciled:
    """What the start-up reconcile found, by path."""

    applied: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    #: the temp files removed (only ones an intent named)
    swept: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Part:
    """One file of an interrupted write: its base hash and planned hash ("" = deleted)."""

    path: str
    pre: str | None
    new: str | None


def _parts(planned: SyncLedger.WritePlanned) -> list[_Part]:
    parts = [_Part(planned.path, planned.pre_sha256, planned.new_sha256)]
    if planned.companion_path is not None:
        parts.append(
            _Part(planned.companion_path, planned.companion_pre_sha256, planned.companion_sha256)
        )
    return parts


def _own_temp(part: _Part, temps: Sequence[str]) -> Path | None:
    """The intent's temp for ``part`` itself (a delete's rename-aside), if one was named."""
    real = Path(os.path.realpath(part.path))
    for temp in map(Path, temps):
        if temp.parent == real.parent and temp.name.startswith(f"{TEMP_PREFIX}{real.name}."):
            return temp
    return None


def _put_back_aside(part: _Part, temps: Sequence[str], preimages: PreimageStore) -> None:
    """A delete renames the file aside first: give it back if the target is still gone.

    If the target exists again, the aside's bytes are kept as a pre-image before the temp is
    removed; in no case are bytes lost.
    """
    if part.new != "":
        return
    aside = _own_temp(part, temps)
    if aside is None or not aside.is_file() or aside.is_symlink():
        return
    real = Path(os.path.realpath(part.path))
    try:
        os.link(aside, real)  # never over a file that appeared meanwhile
    except FileExistsError:
        preimages.put(aside.read_bytes())
    else:
        fsync_dir(real.parent)  # the name is back for good before the aside is removed


def _state(part: _Part, roots: Sequence[Path]) -> State:
    try:
        snap = read_config(Path(part.path), allowed_roots=roots, max_bytes=MAX_LARGE_CONFIG_BYTES)
    except (SynapseError, OSError):
        return "other"  # unreadable now (oversize, binary, out of roots): not ours to judge
    found = None if snap is None else snap.sha256
    if found == part.pre:
        return "pre"
    if part.new is not None and found == (part.new or None):
        return "new"
    return "other"


def _undo_landed(
    parts: list[_Part], states: list[State], roots: Sequence[Path], preimages: PreimageStore
) -> bool:
    """Undo the parts that landed of a write that landed only partly; False if one failed."""
    for part, state in zip(parts, states, strict=True):
        if state != "new" or part.new is None:
            continue
        try:
            revert_file(Path(part.path), part.new, part.pre, roots, preimages)
        except (SynapseError, OSError, ValueError):
            return False
    return True


def reconcile_intents(
    store: EventStore,
    index: Indexes,
    engine: SyncEngine,
    roots: Sequence[Path],
    preimages: PreimageStore,
) -> Reconciled:
    """Settle every open intent of ``index`` (see the module docstring) and record it.

    Landed writes are confirmed in ``engine`` (their ``WriteApplied`` facts are recorded) and
    added to ``index``; the others are recorded ``WriteAbandoned``. ``index.intents`` is
    emptied.

    Returns:
        The paths found applied, abandoned and changed by someone else, and the temps removed.
    """
    out = Reconciled()
    for command_id, entries in index.intents.items():
        keys = [key for key, _ in entries]
        planned = entries[0][1]
        parts = _parts(planned)
        for part in parts:
            _put_back_aside(part, planned.temp_paths, preimages)
        states = [_state(part, roots) for part in parts]
        landed = all(s == "new" for s in states)
        if landed and _confirm(engine, index, entries, parts):
            out.applied.append(planned.path)
        elif not landed and "other" not in states and _undo_landed(parts, states, roots, preimages):
            reason = "interrupted before it landed; the file was left as it was"
            _abandon(store, keys, command_id, planned, reason)
            out.abandoned.append(planned.path)
        else:
            # Someone changed the file meanwhile (or, rarely, the value it landed is no
            # longer known): either way Synapse cannot claim it, so it is left as found.
            reason = "interrupted, and the file changed meanwhile; it was left as found"
            _abandon(store, keys, command_id, planned, reason)
            raise_alert(
                store,
                alert_id=f"sync-interrupted:{planned.client}:{planned.path}:{command_id}",
                severity="warning",
                source=f"sync:{planned.client}",
                message=f"a write of {planned.path} was interrupted and the file changed "
                "meanwhile; Synapse left it as found and will sync from what it holds",
            )
            out.changed.append(planned.path)
        out.swept += map(str, remove_recorded_temps(Path(t) for t in planned.temp_paths))
    record_facts(store, engine.take_facts())
    index.intents.clear()
    return out


def _abandon(
    store: EventStore,
    keys: list[Key],
    command_id: str,
    planned: SyncLedger.WritePlanned,
    reason: str,
) -> None:
    record_ledger(
        store,
        keys,
        f"reconcile:{command_id}",
        SyncLedger.WriteAbandoned,
        client=planned.client,
        path=planned.path,
        reason=reason,
    )


def _confirm(
    engine: SyncEngine,
    index: Indexes,
    entries: list[tuple[Key, SyncLedger.WritePlanned]],
    parts: list[_Part],
) -> bool:
    """Confirm a write that landed, as a finished round would have; False if the value it
    wrote is no longer known (then it cannot be confirmed, and is treated as changed)."""
    values: list[dict[str, Any] | None] = []
    for key, planned in entries:
        if planned.digest is None:
            values.append(None)  # the write removed the entity
            continue
        slot = engine.state.slots.get((key, planned.scope))
        if slot is None or planned.digest not in slot.values:
            return False
        values.append(slot.values[planned.digest])
    main = parts[0]
    sha = main.new or ""
    ref = main.pre
    companion = None
    if len(parts) > 1:
        other = parts[1]
        companion = (other.path, other.new or "", other.pre)
        index.files[other.path] = FileState(other.new or "", False)
    client = entries[0][1].client
    for (key, planned), value in zip(entries, values, strict=True):
        engine.confirm_write(
            client,
            key,
            value,
            scope=planned.scope,
            path=main.path,
            sha256=sha,
            pre_image_ref=ref,
            companion=companion,
        )
    index.files[main.path] = FileState(sha, True)
    keys = tuple(key for key, _ in entries)
    wid = write_id(client, main.path, ref, sha)
    index.writes[wid] = WriteRecord(client, main.path, sha, ref, keys, companion)
    return True
