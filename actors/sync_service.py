"""The sync orchestrator: scans in, engine decisions out, surgical writes applied with CAS.

One instance per system (a Ray actor in production, a plain object in tests). Watchers call
:meth:`SyncService.submit` with a :class:`~actors._sync_io.ScanReport`; the orchestrator records
``ClientFile`` facts, feeds the :class:`~actors.sync_engine.SyncEngine`, records its facts in
the ``SyncLedger`` and, in ``apply`` mode, writes. In ``observe`` mode nothing is written until
:meth:`apply` is called with the hash of a plan the caller has seen.

Safety rules here (the merge rules live in the engine):

* A read that failed, a blank file that held entities, or a vanished file makes the scan
  *incomplete*: nothing is deleted because of it, and it raises an alert.
* A write is planned against the hash of the file's last observation; if the file changed
  since (an edit not yet observed), the write is abandoned and the client rescanned.
* The exact pre-image is stored (0600) before every write; :meth:`revert` restores it.
* A write a crash interrupted is settled at the next start from its recorded intent
  (:mod:`actors._sync_reconcile`); only the temp files that intent named are removed.
* A lossy target holds a different value than the one written; an observation equal to what
  the written value reads back as counts as that value (no echo, no spurious change).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from actors._sync_approvals import alert_trusted, approval_rows
from actors._sync_breaker import WriteBreaker, WriteGate
from actors._sync_companion import (
    Landed,
    apply_pair,
    one_per_file,
    revert_write,
    with_companion,
)
from actors._sync_io import (
    ScanReport,
    entity_from_value,
    entity_value,
    file_scope,
    friendly_fields,
    scan_client,
    synced_files,
)
from actors._sync_ledger import rebuild_state, record_facts, record_plan
from actors._sync_place_apply import Placer
from actors._sync_placement import PlacementPlan
from actors._sync_reconcile import reconcile_intents
from actors._sync_record import (
    FileState,
    WriteRecord,
    alert_write,
    load_indexes,
    record_file,
    record_ledger,
    record_losses,
)
from actors._sync_stale import scan_problem, stale_reason
from actors._sync_targets import (
    FILE_KINDS,
    alert_unsafe_name,
    as_written,
    file_target,
    with_lacks,
)
from actors._sync_values import canonical_hash, digest
from actors._sync_views import (
    ApplyResult,
    SyncPlanView,
    change_dict,
    decision_dict,
    file_rows,
)
from actors._sync_write import (
    FileChange,
    PreimageStore,
    apply_changes,
    plan_change,
)
from actors.sync_engine import (
    Conflict,
    HoldDeletion,
    NeedsApproval,
    Observation,
    Plan,
    Policy,
    SyncEngine,
    Write,
)
from adapters.base import ClientAdapter, ConfigFile
from events.errors import ActorError, AdapterError, UnsafeInputError, WriteConflictError
from events.store import EventStore
from events.sync import SyncLedger
from projections.sync_models import write_id

__all__ = [
    "ApplyResult",
    "SyncPlanView",
    "SyncService",
    "default_policy",
]

#: Entity kinds synced by default.
DEFAULT_KINDS = frozenset({"mcp_server", "command", "subagent", "skill", "instruction"})
#: Kinds synced by placing files (copies, shims, pointers) rather than by three-way merge.
PLACED_KINDS = frozenset({"skill", "instruction"})
Key = tuple[str, str]
WriteOutcome = Landed | Exception


def default_policy(clients: Sequence[str], mode: str = "observe") -> Policy:
    """Two-way sync of MCP servers, commands and subagents between ``clients``, manual
    conflicts, given mode."""
    return Policy(
        tuple(str(c) for c in clients),
        kinds=DEFAULT_KINDS,
        mode="apply" if mode == "apply" else "observe",
    )


class SyncService:
    """Orchestrate sync between the clients' files.

    Args:
        store: the event store.
        adapters: client id → adapter, for the participating clients.
        home: the home directory whose client configs are synced.
        preimage_dir: where pre-images are kept (0700 directory, 0600 files).
        policy: what and how to sync (default: MCP servers, two-way, observe).
        projects: project roots to include.
        extra_roots: directories besides ``home`` that reads and writes may reach (dotfiles).
        on_written: called with ``(client, path, sha256)`` after each write, so the watcher of
            that client can ignore its own echo.
        breaker: the per-file write-rate cap (default limits; reliability E7).
    """

    def __init__(
        self,
        store: EventStore,
        adapters: Mapping[str, ClientAdapter],
        *,
        home: Path,
        preimage_dir: Path,
        policy: Policy | None = None,
        projects: Sequence[Path] = (),
        extra_roots: Sequence[Path] = (),
        on_written: Callable[[str, str, str], None] | None = None,
        breaker: WriteBreaker | None = None,
    ) -> None:
        self.store = store
        self.adapters = {str(k): v for k, v in adapters.items()}
        self.home = home
        self.policy = policy or default_policy(list(self.adapters))
        self.policy = with_lacks(self.policy, self.adapters)
        self.projects = tuple(projects)
        self.roots = (home, *self.projects, *extra_roots)
        self.preimages = PreimageStore(preimage_dir)
        self.on_written = on_written
        self.gate = WriteGate(store, breaker)
        self._lock = threading.RLock()
        state = rebuild_state(store, self.policy, qualified_only=True)
        self.engine = SyncEngine(self.policy, state)
        self._index = load_indexes(store)
        #: path → sha256 of the last bytes this orchestrator wrote ("" = deleted the file).
        self._written: dict[str, str] = {}
        #: what the start found of writes a crash interrupted; only their own temps are removed
        self.reconciled = reconcile_intents(
            store, self._index, self.engine, self.roots, self.preimages
        )
        self.swept = self.reconciled.swept
        self.placer = Placer(store, self.roots, self.preimages)

    # -- inputs -----------------------------------------------------------------------

    def _files(self, client: str) -> list[ConfigFile]:
        return synced_files(self.adapters[client], self.home, self.projects, self.policy.kinds)

    def scan(self, client: str | None = None) -> ApplyResult:
        """Scan one client (or all) from this process and submit the result(s)."""
        written: list[str] = []
        abandoned: list[str] = []
        applied = False
        for name in [client] if client else list(self.policy.clients):
            result = self.submit(self._scan_report(name))
            written += result.written
            abandoned += result.abandoned
            applied = applied or result.applied
        return ApplyResult(applied=applied, written=written, abandoned=abandoned)

    def submit(self, report: ScanReport) -> ApplyResult:
        """Absorb one scan of one client; in ``apply`` mode write what it implies."""
        with self._lock:
            if report.client not in self.adapters:
                return ApplyResult(applied=False, reason=f"unknown client {report.client}")
            files_now = (str(f.path) for f in self._files(report.client))
            if stale_reason(report, files_now, self._written) is not None:
                report = self._scan_report(report.client)  # it predates our writes: rescan
            # One round, at most two commits: the scan's facts go with the write intents.
            with self.store.batch(keep=self._index.aggregates):
                plan = self._observe_only(report)
                if self.policy.mode == "apply":
                    return self._apply_writes(plan.writes)
            return ApplyResult(applied=False)

    def _record(self) -> Plan:
        """Record the engine's new facts and its current plan; return that plan."""
        facts = self.engine.take_facts()
        record_facts(self.store, facts)
        alert_trusted(self.store, facts, self.engine)
        plan = self.engine.plan()
        record_plan(self.store, plan)
        return plan

    # -- writing ----------------------------------------------------------------------

    def _target(self, client: str, scope: str, key: Key) -> ConfigFile | None:
        """The file of ``client`` that holds ``key`` in ``scope`` (or would create it).

        ``scope`` names its project (``project:/root``, ``local:/root``): the file is that
        project's (``<root>/.mcp.json``, or ``projects[<root>]`` of ``~/.claude.json``).
        """
        if key[0] in FILE_KINDS:
            try:
                return file_target(
                    self.adapters,
                    client,
                    key,
                    scope,
                    home=self.home,
                    projects=self.projects,
                    roots=self.roots,
                )
            except UnsafeInputError as e:
                alert_unsafe_name(self.store, client, key, e.message)
                return None
        files = [f for f in self._files(client) if file_scope(f) == scope and key[0] in f.kinds]
        for cfg in files:
            state = self._index.files.get(str(cfg.path))
            if state is not None and state.had_entities:
                return cfg
        return files[0] if files else None

    def _changes(self, writes: Sequence[Write]) -> list[FileChange]:
        groups: dict[tuple[str, str], tuple[ConfigFile, list[Write]]] = {}
        for w in writes:
            cfg = self._target(w.client, w.scope, w.key)
            if cfg is None:
                continue
            groups.setdefault((w.client, str(cfg.path)), (cfg, []))[1].append(w)
        changes = []
        for cfg, group in groups.values():
            adapter = self.adapters[str(cfg.client)]
            try:
                change = plan_change(adapter, cfg, self.roots, group)
                changes.append(with_companion(change, adapter, cfg, self.roots))
            except (AdapterError, ValueError):
                continue  # an unreadable target is reported by its scan, never written
        return changes

    def _apply_writes(self, writes: Sequence[Write]) -> ApplyResult:
        """Write the files ``writes`` imply (:meth:`_write_entities`), then place skills and
        instructions (:class:`~actors._sync_place_apply.Placer`).

        A pass writes each file once; writes deferred because they share a file with another
        (two prompts of one ``prompts.yml``) get further passes while passes make progress.
        """
        written: list[str] = []
        abandoned: list[str] = []
        while writes:
            done, dropped, deferred = self._write_entities(writes)
            written += done
            abandoned += dropped
            later = {(w.client, w.key, w.scope) for w in deferred}
            pending = [w for w in self.engine.plan().writes if (w.client, w.key, w.scope) in later]
            writes = pending if done and len(pending) < len(writes) else []
        placed = self.placer.apply(self._placements())
        return ApplyResult(
            applied=True,
            written=written + placed.written,
            abandoned=abandoned + placed.abandoned,
        )

    def _write_entities(self, writes: Sequence[Write]) -> tuple[list[str], list[str], list[Write]]:
        """The entity half of :meth:`_apply_writes`, in three steps with two commits.

        1. Check each target against its last observation and record a ``WritePlanned``
           intent per entity; commit. The intent is durable before the file changes, so a
           crash mid-write leaves a record of what was being written (intent → write →
           confirm).
        2. Write every target (compare-and-swap, pre-image first), in parallel so their
           fsyncs overlap. Each landed write is reported to ``on_written`` at once, so the
           target's watcher knows its echo before it debounces it.
        3. Confirm the writes in the engine, record its facts, the plan and any losses or
           abandoned writes; commit (when the outermost batch ends).

        Returns:
            The paths written, the paths abandoned, and the writes deferred to another pass.
        """
        done: list[FileChange] = []
        abandoned: list[str] = []
        failure: BaseException | None = None
        with self.store.batch(keep=self._index.aggregates):
            ready: list[FileChange] = []
            now, later = one_per_file(self._changes(writes))
            for change in now:
                if change.is_noop or self._intend(change):
                    ready.append(change)
                else:
                    abandoned.append(change.path)
            self.store.flush()
            landed = self._write_all([c for c in ready if not c.is_noop])
            for change in ready:
                outcome = landed.get(id(change), (None, change.pre_sha256 or "", None))
                if isinstance(outcome, BaseException):
                    if self._write_failed(change, outcome):
                        abandoned.append(change.path)
                    else:
                        failure = failure or outcome
                    continue
                self._apply_one(change, *outcome)
                done.append(change)
            self._record()
            for change in done:
                record_losses(self.store, change)
        if failure is not None:
            raise failure
        written = [p.path for c in done if not c.is_noop for p in c.parts]
        return written, abandoned, [w for c in later for w in c.writes]

    def _write_all(self, changes: list[FileChange]) -> dict[int, WriteOutcome]:
        """Write ``changes`` in parallel; report each landed one to ``on_written`` at once.

        Returns:
            ``id(change)`` → ``(pre_image_ref, sha256)`` or the exception the write raised.
        """
        outcomes = apply_changes(changes, self.roots, self.preimages, apply_pair)
        for change, outcome in zip(changes, outcomes, strict=True):
            if self.on_written is not None and not isinstance(outcome, BaseException):
                self.on_written(change.client, change.path, outcome[1])
                if change.companion is not None and outcome[2] is not None:
                    self.on_written(change.client, change.companion.path, outcome[2][1])
        return {id(c): o for c, o in zip(changes, outcomes, strict=True)}

    def _intend(self, change: FileChange) -> bool:
        """Check ``change`` against the last observation and record its intents."""
        keys = [w.key for w in change.writes]
        if not self.gate.admit(change):
            return False  # write-rate breaker open (E7); the trip was recorded once
        for part in change.parts:
            observed = self._index.files.get(part.path, FileState())
            if part.pre_sha256 is not None and observed.sha256 != part.pre_sha256:
                return self._abandon(change, keys, "changed since it was last observed")
        for w in change.writes:
            record_ledger(
                self.store,
                [w.key],
                f"intent:{change.path}:{change.token}",
                SyncLedger.WritePlanned,
                client=change.client,
                path=change.path,
                scope=w.scope,
                digest=digest(w.value),
                **change.intent_fields(self.preimages),
            )
        return True

    def _write_failed(self, change: FileChange, error: BaseException) -> bool:
        """Abandon a write the CAS or the disk refused; False for an unexpected error."""
        keys = [w.key for w in change.writes]
        if isinstance(error, WriteConflictError):
            self._abandon(change, keys, error.message)
        elif isinstance(error, AdapterError):
            alert_write(self.store, change, error.message)
            self._abandon(change, keys, error.message, rescan=False)
        else:
            return False
        return True

    def _apply_one(
        self, change: FileChange, ref: str | None, sha: str, other: tuple[str | None, str] | None
    ) -> None:
        """Confirm a landed (or no-op) change (and its companion) in the engine and indexes."""
        companion = None
        if change.companion is not None and other is not None:
            companion = (change.companion.path, other[1], other[0])
            self._written[companion[0]] = other[1]
            self._index.files[companion[0]] = FileState(other[1], False)
        for w in change.writes:
            self.engine.confirm_write(
                w.client,
                w.key,
                w.value,
                scope=w.scope,
                path=change.path,
                sha256=sha,
                pre_image_ref=ref,
                companion=companion,
            )
        if not change.is_noop:
            self._written[change.path] = sha
            self._index.files[change.path] = FileState(sha, True)
            wid = write_id(change.client, change.path, ref, sha)
            keys = [w.key for w in change.writes]
            self._index.writes[wid] = WriteRecord(
                change.client, change.path, sha, ref, tuple(keys), companion
            )

    def _abandon(
        self, change: FileChange, keys: list[Key], reason: str, *, rescan: bool = True
    ) -> bool:
        record_ledger(
            self.store,
            keys,
            f"abandon:{change.path}:{change.pre_sha256}:{uuid.uuid4().hex}",
            SyncLedger.WriteAbandoned,
            client=change.client,
            path=change.path,
            reason=reason,
        )
        if rescan:
            # Observe only: the rescan's own consequences wait for the next round.
            self._observe_only(self._scan_report(change.client))
        return False

    def _observe_only(self, report: ScanReport) -> Plan:
        complete = True
        for scan in report.files:
            problem = scan_problem(scan, self._index.files.get(scan.path))
            complete = complete and problem is None
            record_file(self.store, scan, report.scan_id, problem)
            if problem is None and scan.present:
                self._index.files[scan.path] = FileState(scan.sha256, bool(scan.entities))
        scoped = as_written(
            self.engine.state.slots,
            report.client,
            self.adapters[report.client],
            report.slots,
            complete,
            lambda scope, key: self._target(report.client, scope, key),
        )
        self.engine.observe(Observation(report.client, report.scan_id, complete, {}, scoped))
        return self._record()

    # -- plans, apply, revert, resolve ------------------------------------------------

    def plan(self, *, rescan: bool = True) -> SyncPlanView:
        """Return the pending changes with redacted diffs and a hash for :meth:`apply`."""
        with self._lock:
            if rescan:
                for client in self.policy.clients:
                    self._observe_only(self._scan_report(client))
            return self._view()[0]

    def _scan_report(self, client: str) -> ScanReport:
        return scan_client(
            self.adapters[client],
            self.home,
            projects=self.projects,
            roots=self.roots,
            kinds=self.policy.kinds,
        )

    def _view(self) -> tuple[SyncPlanView, list[FileChange]]:
        engine_plan = self.engine.plan()
        changes = [c for c in self._changes(engine_plan.writes) if not c.is_noop]
        others = [d for d in engine_plan.decisions if not isinstance(d, Write)]
        shown = [change_dict(c) for c in changes]
        body: dict[str, Any] = {
            "engine": engine_plan.plan_hash,
            "files": [
                (c.client, p.path, p.pre_sha256, p.new_sha256) for c in changes for p in c.parts
            ],
        }
        decisions = [decision_dict(d) for d in others]
        placements = self._placements()
        if placements.actions or placements.findings:
            shown += [a.as_dict() for a in placements.actions]
            decisions += [f.as_dict() for f in placements.findings]
            body["placement"] = placements.hash_body()
        view = SyncPlanView(canonical_hash(body), shown, decisions, self.policy.mode)
        return view, changes

    def _placements(self) -> PlacementPlan:
        """Skills and instructions to place for the participating clients (policy kinds)."""
        if not self.policy.kinds & PLACED_KINDS:
            return PlacementPlan()  # placement is off: not even the log is read for it
        clients = {c: self.adapters[c] for c in self.policy.clients if c in self.adapters}
        return self.placer.plan(
            clients, self.home, self.projects, self.policy.kinds, self.policy.exclude_personal
        )

    def apply(self, plan_hash: str) -> ApplyResult:
        """Apply the plan whose hash is ``plan_hash``, unless anything changed since.

        Returns:
            ``stale=True`` (nothing written) when the current plan has another hash.
        """
        with self._lock:
            for client in self.policy.clients:
                self._observe_only(self._scan_report(client))
            view, _ = self._view()
            if view.plan_hash != plan_hash:
                return ApplyResult(applied=False, stale=True, reason="the plan changed; plan again")
            return self._apply_writes(self.engine.plan().writes)

    def revert(self, wid: str) -> ApplyResult:
        """Restore the exact bytes a write replaced, and record ``ChangeReverted``.

        A write that created a file is undone by deleting it; one that deleted a file, by
        re-creating it. A placement id (skill copy, instruction shim or pointer) removes what
        it created.

        Raises:
            ActorError: unknown write id, or the file changed since that write.
        """
        with self._lock:
            rec = self._index.writes.get(wid)
            if rec is None and (placed := self.placer.revert(wid)) is not None:
                return ApplyResult(applied=True, written=placed)
            if rec is None:
                msg = f"no write with id {wid!r}"
                raise ActorError(msg, hint="see the sync_log table")
            try:
                paths = revert_write(rec, self.roots, self.preimages)
            except WriteConflictError as e:
                msg = f"{rec.path} changed since write {wid}; not reverting over newer content"
                raise ActorError(msg) from e
            record_ledger(
                self.store, rec.keys, f"revert:{wid}", SyncLedger.ChangeReverted, write_id=wid
            )
            self._observe_only(self._scan_report(rec.client))
            return ApplyResult(applied=True, written=paths)

    def resolve(
        self, conflict_id: str, *, take: str | None = None, value: dict[str, Any] | None = None
    ) -> ApplyResult:
        """Settle a conflict (or an approval, or a held deletion) by id or ``kind:name``.

        Args:
            conflict_id: a conflict id from :meth:`conflicts`, or ``kind:name[@scope]``.
            take: adopt this client's copy.
            value: adopt this value (canonical fields, e.g. ``{"command": "npx", ...}``; for
                a conflict between personal instruction files ``{"markdown": TEXT}``).
        """
        with self._lock:
            if self.placer.personal.resolve(conflict_id, take, value):
                # a conflict between personal instruction files: the next round merges it
                return self._apply_writes([]) if self.policy.mode == "apply" else ApplyResult(False)
            key, scope = self._find(conflict_id)
            chosen = None
            if value is not None:
                fields = friendly_fields(value)
                entity = entity_from_value(key, fields, scope=scope)
                chosen = entity_value(entity, scope=scope)
            writes = self.engine.resolve(key, take=take, value=chosen, scope=scope)
            self._record()
            if self.policy.mode == "apply":
                return self._apply_writes(writes)
            return ApplyResult(applied=False)

    def approve_deletions(self, client: str) -> ApplyResult:
        """Approve every held deletion from ``client``."""
        with self._lock:
            writes = self.engine.approve_deletions(client)
            self._record()
            return self._apply_writes(writes) if self.policy.mode == "apply" else ApplyResult(False)

    def approvals(self) -> list[dict[str, Any]]:
        """Pending approvals: changes that would run new code, and held deletions (see
        :func:`~actors._sync_approvals.approval_rows`)."""
        with self._lock:
            return approval_rows(self.engine, self._target, self._receivers)

    def _receivers(self, writes: list[Write]) -> list[FileChange]:
        return self._changes(writes)

    def judge(self, approval_id: str, *, approve: bool) -> ApplyResult:
        """Approve or reject one pending approval (recorded as ``ChangeApproved`` /
        ``ChangeRejected``); in ``apply`` mode what it releases is written at once, in
        ``observe`` mode by the next :meth:`apply`.

        Raises:
            ActorError: no pending approval has that id.
        """
        with self._lock:
            writes = self.engine.judge(approval_id, approve=approve)
            self._record()
            return self._apply_writes(writes) if self.policy.mode == "apply" else ApplyResult(False)

    def _find(self, ref: str) -> tuple[Key, str]:
        for d in self.engine.decisions():
            if isinstance(d, Conflict) and d.conflict_id == ref:
                return d.key, d.scope
        name, _, scope = ref.partition("@")
        kind, _, entity = name.partition(":")
        slots = self.engine.state.slots_of((kind, entity))
        for slot in slots:
            if not scope or slot[1] == scope:
                return slot
        msg = f"no open conflict or entity {ref!r}"
        raise ActorError(msg, hint="see `synapse conflicts`")

    # -- views ------------------------------------------------------------------------

    def conflicts(self) -> list[dict[str, Any]]:
        """Open conflicts, held deletions and pending approvals."""
        with self._lock:
            return [
                decision_dict(d)
                for d in self.engine.decisions()
                if isinstance(d, Conflict | HoldDeletion | NeedsApproval)
            ] + self.placer.open_conflicts()

    def status(self) -> dict[str, Any]:
        """Per client: files, their last hash and their read error (message, line, since);
        plus open decisions."""
        with self._lock:
            clients = {
                client: file_rows(self.store, client, self._files(client), self._index.files)
                for client in self.policy.clients
            }
            return {
                "mode": self.policy.mode,
                "clients": clients,
                "open": self.conflicts(),
                "writes": len(self._index.writes),
            }
