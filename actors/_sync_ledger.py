"""Record the sync engine's facts as ``SyncLedger`` events, and rebuild its state from them.

Each engine input (one scan, one confirmed write, one resolution) is a *batch*; its id is the
command id of every ledger event it produced, and all ledgers a batch touches are saved in one
atomic append. So a retried batch appends nothing twice, and a replay can feed the engine the
same inputs in the same grouping, which reproduces the same state (the merge is deterministic).

Events recorded before scopes named their project carry a bare ``project`` or ``local``. They
still load (the scope is a plain string); :func:`rebuild_state` can leave them out
(``qualified_only``), since nothing tells which project they meant: the next scans observe
those entities afresh in their project's slot.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from actors._sync_state import SyncState
from actors._sync_types import (
    ApprovalFact,
    Conflict,
    DeletionHeldFact,
    Fact,
    Lossy,
    ObservedFact,
    Plan,
    Policy,
    ResolvedFact,
    Write,
    WriteConfirmedFact,
)
from actors._sync_values import EntityKey, digest, is_qualified
from actors.sync_engine import SyncEngine
from events.store import EventStore
from events.sync import PlannedWrite, SyncLedger, ledger_id

__all__ = ["rebuild_state", "record_facts", "record_plan"]

_PAGE = 500


def _ledgers(
    store: EventStore, keys: Sequence[EntityKey], command_id: str
) -> dict[EntityKey, SyncLedger]:
    """Load or open the ledgers of ``keys``, leaving out those that already ran the command."""
    out: dict[EntityKey, SyncLedger] = {}
    for key in dict.fromkeys(keys):
        # `in repository` replays the whole history; a (cached or batched) load is cheaper.
        agg: SyncLedger
        try:
            agg = store.load(ledger_id(*key))
        except AggregateNotFoundError:
            agg = SyncLedger.open(*key, command_id=command_id)
        else:
            if agg.has_applied(command_id):
                continue
        out[key] = agg
    return out


def _append_fact(ledger: SyncLedger, fact: Fact) -> None:
    if isinstance(fact, ObservedFact):
        if fact.change == "changed":
            ledger.record(
                SyncLedger.EntityChanged,
                client=fact.client,
                scan_id=fact.scan_id,
                scope=fact.scope,
                digest=fact.digest,
                value_redacted=fact.value,
            )
        elif fact.change == "suspected":
            ledger.record(
                SyncLedger.DeletionSuspected,
                client=fact.client,
                scan_id=fact.scan_id,
                scope=fact.scope,
            )
        else:
            ledger.record(
                SyncLedger.EntityRemoved,
                client=fact.client,
                scan_id=fact.scan_id,
                scope=fact.scope,
            )
    elif isinstance(fact, WriteConfirmedFact):
        ledger.record(
            SyncLedger.WriteApplied,
            client=fact.client,
            path=fact.path,
            sha256=fact.sha256,
            pre_image_ref=fact.pre_image_ref,
            scope=fact.scope,
            digest=fact.digest,
            **_companion_fields(fact.companion),
        )
    elif isinstance(fact, ResolvedFact):
        ledger.record(
            SyncLedger.ConflictResolved,
            conflict_id=fact.batch,
            resolution=fact.resolution,
            chosen_client=fact.chosen_client,
            scope=fact.scope,
            digest=fact.digest,
            value_redacted=fact.value,
        )
    elif isinstance(fact, ApprovalFact):
        event: type[SyncLedger.Event] = SyncLedger.ChangeApproved
        extra = {"by": "trust" if fact.verdict == "trusted" else "person"}
        if fact.verdict == "rejected":
            event, extra = SyncLedger.ChangeRejected, {}
        ledger.record(
            event,
            approval_id=fact.approval_id,
            client=fact.client,
            scope=fact.scope,
            digest=fact.digest,
            reason=fact.reason,
            **extra,
        )
    else:
        ledger.record(
            SyncLedger.DeletionHeld, client=fact.client, reason=fact.reason, scope=fact.scope
        )


def _batches(facts: Sequence[Any]) -> Iterator[tuple[str, list[Any]]]:
    """Group consecutive items by their ``batch`` attribute."""
    group: list[Any] = []
    for item in facts:
        if group and group[0].batch != item.batch:
            yield group[0].batch, group
            group = []
        group.append(item)
    if group:
        yield group[0].batch, group


def record_facts(store: EventStore, facts: Sequence[Fact]) -> None:
    """Append ``facts`` (from :meth:`SyncEngine.take_facts`) to the entities' ledgers.

    Each batch is one atomic append across the ledgers it touches; a batch already recorded
    is skipped, so recording the same facts twice is harmless.
    """
    for batch, group in _batches(facts):
        ledgers = _ledgers(store, [f.key for f in group], batch)
        for fact in group:
            ledger = ledgers.get(fact.key)
            if ledger is not None:
                with ledger.command(batch):
                    _append_fact(ledger, fact)
        if ledgers:
            store.save_all(*ledgers.values())


def record_plan(store: EventStore, plan: Plan) -> None:
    """Append a plan's writes, conflicts and lossy translations to the entities' ledgers."""
    by_key: dict[EntityKey, list[Any]] = {}
    for decision in plan.decisions:
        by_key.setdefault(decision.key, []).append(decision)
    command_id = f"plan:{plan.plan_hash}"
    ledgers = _ledgers(store, list(by_key), command_id)
    for key, ledger in ledgers.items():
        with ledger.command(command_id):
            writes = [
                PlannedWrite(client=d.client, scope=d.scope, digest=digest(d.value))
                for d in by_key[key]
                if isinstance(d, Write)
            ]
            if writes:
                ledger.record(SyncLedger.SyncPlanned, plan_hash=plan.plan_hash, writes=writes)
            for d in by_key[key]:
                if isinstance(d, Conflict):
                    ledger.record(
                        SyncLedger.ConflictDetected,
                        conflict_id=d.conflict_id,
                        scope=d.scope,
                        sides=dict(d.sides),
                        base_digest=d.base,
                    )
                elif isinstance(d, Lossy):
                    ledger.record(
                        SyncLedger.TranslationLossy, client=d.client, field=d.field, reason=d.reason
                    )
    if ledgers:
        store.save_all(*ledgers.values())


def _to_fact(event: Any, key: EntityKey, engine: SyncEngine) -> Fact | None:
    batch = event.command_id
    if isinstance(event, SyncLedger.EntityChanged):
        value = dict(event.value_redacted)
        return ObservedFact(
            batch, event.client, key, event.scope, "changed", event.digest, value, event.scan_id
        )
    if isinstance(event, SyncLedger.DeletionSuspected | SyncLedger.EntityRemoved):
        change: Literal["suspected", "removed"] = (
            "suspected" if isinstance(event, SyncLedger.DeletionSuspected) else "removed"
        )
        return ObservedFact(batch, event.client, key, event.scope, change, scan_id=event.scan_id)
    if isinstance(event, SyncLedger.WriteApplied):
        st = engine.state.slot((key, event.scope))
        return WriteConfirmedFact(
            batch,
            event.client,
            key,
            event.scope,
            event.digest,
            st.value(event.digest),
            event.path,
            event.sha256,
            event.pre_image_ref,
        )
    if isinstance(event, SyncLedger.ConflictResolved):
        chosen = None if event.value_redacted is None else dict(event.value_redacted)
        return ResolvedFact(
            batch, key, event.scope, event.digest, chosen, event.chosen_client, event.resolution
        )
    if isinstance(event, SyncLedger.DeletionHeld):
        return DeletionHeldFact(batch, event.client, key, event.scope, event.reason)
    if isinstance(event, SyncLedger.ChangeApproved | SyncLedger.ChangeRejected):
        verdict: Literal["approved", "rejected", "trusted"] = "rejected"
        if isinstance(event, SyncLedger.ChangeApproved):
            verdict = "trusted" if event.by == "trust" else "approved"
        return ApprovalFact(
            batch,
            event.client,
            key,
            event.scope,
            event.digest,
            verdict,
            event.approval_id,
            event.reason,
        )
    return None


def _companion_fields(companion: tuple[str, str, str | None] | None) -> dict[str, str | None]:
    """The ``WriteApplied`` fields of a file written together with the main one."""
    if companion is None:
        return {}
    path, sha, ref = companion
    return {"companion_path": path, "companion_sha256": sha, "companion_pre_image_ref": ref}


def rebuild_state(store: EventStore, policy: Policy, *, qualified_only: bool = False) -> SyncState:
    """Replay every ``SyncLedger`` event, in log order, into a fresh engine's state.

    The rebuilt state has no ``scanned`` clients: each must be rescanned completely before the
    engine writes to it again.

    Args:
        store: the event store.
        policy: the engine's policy.
        qualified_only: skip facts whose project or local scope names no project (events
            from before scopes were ``project:/root``); replayed, such a slot would look
            deleted everywhere at the next scan, or be written into no file at all.
    """
    engine = SyncEngine(policy)
    keys: dict[UUID, EntityKey] = {}
    group: list[Fact] = []
    position = 0
    while True:
        page = store.read(position, _PAGE)
        if not page:
            break
        for note in page:
            position = note.id
            event = store.decode(note)
            if isinstance(event, SyncLedger.Opened):
                keys[event.originator_id] = (event.kind, event.name)
                continue
            if not isinstance(event, SyncLedger.Event) or event.originator_id not in keys:
                continue
            if group and group[0].batch != event.command_id:
                engine.absorb(group)
                group = []
            fact = _to_fact(event, keys[event.originator_id], engine)
            if fact is not None and (not qualified_only or is_qualified(fact.scope)):
                group.append(fact)
    if group:
        engine.absorb(group)
    return engine.state
