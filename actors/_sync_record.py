"""Event-log side effects of the orchestrator: file facts, alerts, write outcomes, and the
in-memory indexes rebuilt from them at start (last good hash per file, applied writes, write
intents a crash left without an outcome)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from actors._sync_io import FileScan
from actors._sync_values import digest
from actors._sync_write import FileChange
from actors.lifecycle import raise_alert
from events.store import EventStore
from events.sync import ClientFile, SyncLedger, client_file_id, ledger_id
from projections.sync_models import write_id

__all__ = [
    "FileState",
    "Indexes",
    "WriteRecord",
    "alert_write",
    "load_indexes",
    "record_file",
    "record_ledger",
    "record_losses",
]

_PAGE = 500


@dataclass
class FileState:
    """What the orchestrator last knew of one file."""

    sha256: str | None = None
    had_entities: bool = False


@dataclass(frozen=True)
class WriteRecord:
    """One applied file write, for revert."""

    client: str
    path: str
    sha256: str
    pre_image_ref: str | None
    keys: tuple[tuple[str, str], ...]
    #: ``(path, sha256, pre_image_ref)`` of the file written with it (a prompt's index).
    companion: tuple[str, str, str | None] | None = None


@dataclass
class Indexes:
    """The orchestrator's caches of the log."""

    files: dict[str, FileState] = field(default_factory=dict)
    writes: dict[str, WriteRecord] = field(default_factory=dict)
    #: The aggregates the orchestrator last saved (``EventStore.batch(keep=...)``).
    aggregates: dict[UUID, Any] = field(default_factory=dict)
    #: Intents with no outcome (``WriteApplied`` / ``WriteAbandoned``) in the log, by the
    #: intent's command id: each entity's key and its ``WritePlanned`` event.
    intents: dict[str, list[tuple[tuple[str, str], SyncLedger.WritePlanned]]] = field(
        default_factory=dict
    )


def load_indexes(store: EventStore) -> Indexes:
    """Replay ``ClientFile`` and ``SyncLedger`` write events into :class:`Indexes`."""
    out = Indexes()
    keys: dict[UUID, tuple[str, str]] = {}
    paths: dict[UUID, str] = {}
    intents: dict[tuple[UUID, str, str], SyncLedger.WritePlanned] = {}
    position = 0
    while page := store.read(position, _PAGE):
        for note in page:
            position = note.id
            event = store.decode(note)
            agg = event.originator_id
            if isinstance(event, SyncLedger.Opened):
                keys[agg] = (event.kind, event.name)
            elif isinstance(event, ClientFile.Discovered):
                paths[agg] = event.path
                out.files.setdefault(event.path, FileState())
            elif isinstance(event, ClientFile.Observed) and agg in paths:
                out.files[paths[agg]] = FileState(event.sha256, bool(event.entity_digests))
            elif isinstance(event, SyncLedger.WritePlanned) and agg in keys:
                intents[(agg, event.client, event.path)] = event
            elif isinstance(event, SyncLedger.WriteAbandoned):
                intents.pop((agg, event.client, event.path), None)
            elif isinstance(event, SyncLedger.WriteApplied) and agg in keys:
                intents.pop((agg, event.client, event.path), None)
                wid = write_id(event.client, event.path, event.pre_image_ref, event.sha256)
                old = out.writes.get(wid)
                prior = old.keys if old is not None else ()
                companion = None
                if event.companion_path is not None:
                    ref = event.companion_pre_image_ref
                    companion = (event.companion_path, event.companion_sha256, ref)
                    out.files[event.companion_path] = FileState(event.companion_sha256, False)
                out.writes[wid] = WriteRecord(
                    event.client,
                    event.path,
                    event.sha256,
                    event.pre_image_ref,
                    (*prior, keys[agg]),
                    companion,
                )
                out.files[event.path] = FileState(event.sha256, True)
    for (agg, _, _), planned in intents.items():
        out.intents.setdefault(planned.command_id, []).append((keys[agg], planned))
    return out


def record_file(store: EventStore, scan: FileScan, scan_id: str, problem: str | None) -> None:
    """Record one file's scan as ``ClientFile`` events, and alert on a problem.

    Args:
        store: the event store.
        scan: the file's scan.
        scan_id: the scan's id (makes the command idempotent).
        problem: why this read is not trusted (parse error, blank file, vanished), or None.
    """
    agg_id = client_file_id(scan.client, scan.path)

    def act(agg: ClientFile) -> None:
        if not scan.present:
            agg.vanish()
        elif problem is not None:
            if agg.parse_error != problem:
                agg.fail_parse(problem)
        elif scan.sha256 != agg.sha256 or not agg.present or agg.parse_error is not None:
            # Digests only for a file that changed (or parses again: put back to its last
            # good bytes, its hash is the old one): hashing 200 entities on every no-op
            # rescan costs more than the rest of recording it.
            digests = {f"{k[0]}:{k[1]}": _digest(v) for k, v in scan.entities.items()}
            agg.observe(scan.sha256, digests, scan.size)

    def create(command_id: str) -> ClientFile:
        return ClientFile.discover(scan.client, scan.path, scan.scope, command_id=command_id)

    store.execute(ClientFile, agg_id, f"scan:{scan_id}:{scan.path}", act, create=create)
    if problem is not None:
        raise_alert(
            store,
            alert_id=f"sync-file:{scan.client}:{scan.path}:{scan.sha256[:16]}:{problem[:40]}",
            severity="warning",
            source=f"sync:{scan.client}",
            message=f"{scan.path}: {problem}; the file was left untouched and nothing was "
            "deleted because of it",
        )


def record_ledger(
    store: EventStore,
    keys: Iterable[tuple[str, str]],
    command_id: str,
    event: type,
    **fields: object,
) -> None:
    """Append one event to each existing entity ledger of ``keys`` (idempotent per command)."""
    ledgers = []
    for key in dict.fromkeys(keys):
        # `in repository` replays the whole history; a (cached or batched) load is cheaper.
        try:
            ledger: SyncLedger = store.load(ledger_id(*key))
        except AggregateNotFoundError:
            continue
        if ledger.has_applied(command_id):
            continue
        with ledger.command(command_id):
            ledger.record(event, **fields)
        ledgers.append(ledger)
    if ledgers:
        store.save_all(*ledgers)


def _digest(value: dict[str, object]) -> str:
    return digest(value) or ""


def alert_write(store: EventStore, change: FileChange, message: str) -> None:
    """Raise the alert for a write the disk or an adapter refused (the original is intact)."""
    raise_alert(
        store,
        alert_id=f"sync-write:{change.client}:{change.path}:{change.new_sha256[:16]}",
        severity="error",
        source=f"sync:{change.client}",
        message=f"writing {change.path} failed: {message}; the original is intact",
    )


def record_losses(store: EventStore, change: FileChange) -> None:
    """Record a ``TranslationLossy`` fact per field ``change`` could not express."""
    for loss in change.losses:
        key = (loss.entity_key.kind, loss.entity_key.name)
        record_ledger(
            store,
            [key],
            f"loss:{loss.client}:{key}:{loss.field}:{loss.reason}",
            SyncLedger.TranslationLossy,
            client=loss.client,
            field=loss.field,
            reason=loss.reason,
        )
