"""The pure two-way sync engine: observations in, decisions out, nothing lost.

The engine keeps, per ``(entity, scope)`` slot and per client, the digest last observed and
the digest last known to be in sync (the *base*, like Dropbox's synced tree), plus the value
every client should converge to (the *agreement*). It does no IO and knows no Ray: the
orchestrator feeds it :class:`Observation` values, applies the :class:`Write` decisions through
the adapters (with compare-and-swap) and reports each landed write with :meth:`confirm_write`.

Rules (reliability.md E1–E8):

* **Echo suppression by content.** A confirmed write becomes the client's base, so observing
  exactly that value again is no change. No time windows.
* **Three-way merge.** A client changed when it differs from its base. One changed value
  propagates to every other client; equal changes are no conflict; different changes are a
  :class:`Conflict` (nothing written) unless the policy's rule picks a winner; modify beats
  delete. A change made while a write to that client was still pending conflicts with the
  value being written.
* **Deletions** need two complete scans (different scan ids) lacking the entity; incomplete
  scans never delete; more than ``max_deletions`` deletions from one client are held until
  approved (:meth:`approve_deletions`).
* **Trust.** :data:`NEVER_SYNC` fields are stripped before comparing and writing; scopes never
  mix (a project value is only ever synced into project scope, and a scope names its project:
  ``project:/abs/root``, so one project's value never reaches another); a project-scope MCP server
  whose ``command``/``args``/``url``/``headers`` is new or changed needs approval
  (:meth:`SyncEngine.judge`); a rejected value is not asked about again, nor spread, until
  its client holds another; a project the policy trusts lets it through, recorded.
* **State follows the files.** A conflict whose sides came to agree (or went back to their
  base) is recorded resolved (``agreed``), with no person involved.

ABA (reliability.md E3): change detection is *state-based*, like Unison. A client edited and
then edited back to its base value has not changed, whether or not the engine saw the
intermediate value; if another client changed meanwhile, that change wins without a
conflict. Once the intermediate value was synced (it became the other clients' base), the
revert is an ordinary change and conflicts with concurrent edits. Likewise a client that
reaches the agreed value on its own (the user typed what the engine was propagating) is in
sync: a deletion observed later in another client then propagates to it. We chose this over per-item
change sequence numbers because watchers drop events: an edit the engine never saw cannot be
ordered reliably anyway, and state-based detection makes a dropped event harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from actors._sync_merge import Outcome, agreed_conflicts, evaluate, held_deletions
from actors._sync_state import SlotState, SyncState
from actors._sync_types import (
    ApprovalFact,
    Conflict,
    ConflictRule,
    Decision,
    DeletionHeldFact,
    Direction,
    Drift,
    Fact,
    HoldDeletion,
    Lossy,
    NeedsApproval,
    Observation,
    ObservedFact,
    Plan,
    Policy,
    ResolvedFact,
    Write,
    WriteConfirmedFact,
    decision_dict,
)
from actors._sync_values import (
    NEVER_SYNC,
    EntityKey,
    Slot,
    approval_id,
    canonical_hash,
    digest,
    scope_of,
    strip,
)
from events.errors import ActorError

__all__ = [
    "NEVER_SYNC",
    "Conflict",
    "ConflictRule",
    "Decision",
    "Direction",
    "Drift",
    "EntityKey",
    "Fact",
    "HoldDeletion",
    "Lossy",
    "NeedsApproval",
    "Observation",
    "Plan",
    "Policy",
    "SyncEngine",
    "SyncState",
    "Write",
]


class SyncEngine:
    """Decide how to bring every participating client to the same entities.

    Args:
        policy: what to sync and how.
        state: state rebuilt from the ledger (see :func:`actors._sync_ledger.rebuild`).
    """

    def __init__(self, policy: Policy, state: SyncState | None = None) -> None:
        if policy.direction == Direction.ONE_WAY and policy.source not in policy.clients:
            msg = "one-way sync needs a source among the policy's clients"
            raise ActorError(msg)
        self.policy = policy
        self.state = state or SyncState()
        self._facts: list[Fact] = []
        #: slots in conflict after the last settlement: one that no longer is gets closed
        self._conflicted = {slot for slot, o in self._outcomes().items() if o.sides}

    # -- inputs -----------------------------------------------------------------------

    def observe(self, obs: Observation) -> list[Decision]:
        """Absorb one scan of one client and return the decisions about what it touched."""
        if obs.client not in self.policy.clients:
            return []
        batch = f"obs:{obs.client}:{obs.scan_id}"
        found: dict[Slot, dict[str, Any]] = {}
        for key, raw in obs.entities.items():
            if self.policy.covers(key) and self.policy.holds(obs.client, key):
                found[(key, scope_of(raw))] = strip(raw)
        for slot, raw in obs.scoped.items():
            if self.policy.covers(slot[0]) and self.policy.holds(obs.client, slot[0]):
                found[slot] = strip(raw)
        facts: list[ObservedFact] = []
        for slot, value in sorted(found.items()):
            st = self.state.slot(slot)
            dig = digest(value)
            if st.seen.get(obs.client) != dig or obs.client in st.suspected:
                facts.append(
                    ObservedFact(
                        batch, obs.client, slot[0], slot[1], "changed", dig, value, obs.scan_id
                    )
                )
        if obs.complete:
            self.state.scanned.add(obs.client)
            for slot, st in sorted(self.state.slots.items()):
                if slot in found or st.seen.get(obs.client) is None:
                    continue
                first = st.suspected.get(obs.client)
                if first == obs.scan_id:
                    continue  # the same scan delivered twice confirms nothing
                change: Literal["suspected", "removed"] = (
                    "suspected" if first is None else "removed"
                )
                facts.append(
                    ObservedFact(batch, obs.client, slot[0], slot[1], change, scan_id=obs.scan_id)
                )
        self.absorb(facts)
        touched = {(f.key, f.scope) for f in facts}
        return [d for d in self.decisions() if (d.key, d.scope) in touched]

    def confirm_write(
        self,
        client: str,
        key: EntityKey,
        value: dict[str, Any] | None,
        *,
        scope: str | None = None,
        path: str = "",
        sha256: str = "",
        pre_image_ref: str | None = None,
        companion: tuple[str, str, str | None] | None = None,
    ) -> None:
        """Record that a write landed: ``value`` becomes the client's base and copy.

        ``companion`` is ``(path, sha256, pre_image_ref)`` of a second file the write changed
        with ``path`` (a Rovo Dev prompt's ``prompts.yml``), kept so a revert restores both.

        ``value`` must be the canonical value as the client's adapter will read it back (after
        any lossy translation), so the echo of this write is recognised as no change.
        """
        clean = None if value is None else strip(value)
        slot_scope = scope or scope_of(value)
        st = self.state.slot((key, slot_scope))
        fact = WriteConfirmedFact(
            f"write:{client}:{key[0]}:{key[1]}:{slot_scope}:{st.clock}",
            client,
            key,
            slot_scope,
            digest(clean),
            clean,
            path,
            sha256,
            pre_image_ref,
            companion,
        )
        self.absorb([fact])

    def resolve(
        self,
        key: EntityKey,
        *,
        take: str | None = None,
        value: dict[str, Any] | None = None,
        scope: str | None = None,
    ) -> list[Write]:
        """Settle a conflict, held deletion or pending approval of ``key``.

        Args:
            key: the entity.
            take: adopt what this client holds (which may be a deletion).
            value: adopt this value instead.
            scope: the slot's scope; needed only when the entity lives in several scopes.

        Returns:
            The writes that bring every client to the chosen value.

        Raises:
            ActorError: neither ``take`` nor ``value`` given, or the slot is unknown.
        """
        slot = self._slot_for(key, scope)
        st = self.state.slots[slot]
        if take is not None:
            dig, resolution = st.seen.get(take), "take"
            chosen = st.value(dig)
        elif value is not None:
            chosen = strip(value)
            dig, resolution = digest(chosen), "value"
        else:
            msg = "resolve needs take=<client> or value=<entity>"
            raise ActorError(msg)
        batch = f"resolve:{key[0]}:{key[1]}:{slot[1]}:{st.clock}"
        self.absorb([ResolvedFact(batch, key, slot[1], dig, chosen, take, resolution)])
        return [d for d in self.decisions() if isinstance(d, Write) and (d.key, d.scope) == slot]

    def judge(self, approval: str, *, approve: bool) -> list[Write]:
        """Approve or reject the pending change or held deletion with id ``approval``.

        Approving a change settles its slot on the value; rejecting it leaves the value in
        its client and asks no more until that client holds another. Approving a held
        deletion deletes everywhere; rejecting it restores the entity where it was deleted.

        Returns:
            The writes that follow (none for a rejected change).

        Raises:
            ActorError: no pending approval has that id (judged already, or changed since).
        """
        pending = [
            d
            for d in self.decisions()
            if isinstance(d, NeedsApproval | HoldDeletion) and d.approval_id == approval
        ]
        if not pending:
            msg = f"no pending approval {approval!r}"
            raise ActorError(msg, hint="see `synapse sync approvals`; a changed value has a new id")
        d = pending[0]
        slot = (d.key, d.scope)
        st = self.state.slots[slot]
        dig = d.digest if isinstance(d, NeedsApproval) else None
        verdict: Literal["approved", "rejected"] = "approved" if approve else "rejected"
        batch = f"{verdict}:{approval}:{st.clock}"
        self.absorb(
            [ApprovalFact(batch, d.client, d.key, d.scope, dig, verdict, approval, d.reason)]
        )
        return [d for d in self.decisions() if isinstance(d, Write) and (d.key, d.scope) == slot]

    def approve_deletions(self, client: str) -> list[Write]:
        """Approve every held deletion from ``client``; return the resulting writes."""
        writes: list[Write] = []
        for (key, scope), st in sorted(self.state.slots.items()):
            if client in st.held:
                writes.extend(self.resolve(key, take=client, scope=scope))
        return writes

    def absorb(self, facts: Iterable[Fact]) -> None:
        """Apply recorded facts (from this engine or a ledger replay) and re-settle."""
        batch = list(facts)
        for fact in batch:
            st = self.state.slot((fact.key, fact.scope))
            if isinstance(fact, ObservedFact):
                if fact.change == "suspected":
                    st.suspected[fact.client] = fact.scan_id
                else:
                    st.see(fact.client, fact.digest, fact.value)
            elif isinstance(fact, WriteConfirmedFact):
                st.see(fact.client, fact.digest, fact.value)
                st.set_base(fact.client, fact.digest)
            elif isinstance(fact, ResolvedFact):
                if fact.resolution == "agreed":
                    continue  # the record of a settlement the merge itself made
                if fact.digest is not None and fact.value is not None:
                    st.values.setdefault(fact.digest, fact.value)
                st.rejected.discard(fact.digest or "")
                st.settle(fact.digest, st.changers(self.policy.clients))
                st.held.clear()
                self._conflicted.discard((fact.key, fact.scope))
            elif isinstance(fact, ApprovalFact):
                st.judge(fact.verdict, fact.digest, self.policy.clients)
            else:
                st.held[fact.client] = fact.reason
        self._facts.extend(batch)
        self._settle(batch[0].batch if batch else "settle")

    def take_facts(self) -> list[Fact]:
        """Return and forget the facts recorded since the last call (for the ledger)."""
        facts, self._facts = self._facts, []
        return facts

    # -- outputs ----------------------------------------------------------------------

    def decisions(self) -> list[Decision]:
        """Return every pending decision, slot by slot (pure)."""
        outcomes = self._outcomes()
        held = held_deletions(outcomes, self.state.slots, self.policy.max_deletions)
        out: list[Decision] = []
        for slot, outcome in outcomes.items():
            out.extend(self._slot_decisions(slot, outcome, held.get(slot, {})))
        return out

    def plan(self) -> Plan:
        """Return the current plan with its hash (decisions plus base digests)."""
        decisions = tuple(self.decisions())
        bases = {
            f"{k[0]}:{k[1]}@{s}": dict(sorted(st.base.items()))
            for (k, s), st in sorted(self.state.slots.items())
        }
        body = {"decisions": [decision_dict(d) for d in decisions], "bases": bases}
        return Plan(decisions, canonical_hash(body), self.policy.mode == "apply")

    # -- internals --------------------------------------------------------------------

    def _slot_for(self, key: EntityKey, scope: str | None) -> Slot:
        slots = self.state.slots_of(key)
        if scope is not None and (key, scope) in self.state.slots:
            return (key, scope)
        if scope is None and len(slots) == 1:
            return slots[0]
        msg = f"no single sync slot for {key[0]}:{key[1]} (scope {scope!r})"
        raise ActorError(msg, hint="pass scope=")

    def _outcomes(self) -> dict[Slot, Outcome]:
        return {
            slot: evaluate(st, slot[0][0], self.policy, slot[1])
            for slot, st in sorted(self.state.slots.items())
        }

    def _settle(self, batch: str) -> None:
        outcomes = self._outcomes()
        held = held_deletions(outcomes, self.state.slots, self.policy.max_deletions)
        for slot, outcome in outcomes.items():
            st = self.state.slots[slot]
            if slot in held:
                for client, reason in held[slot].items():
                    if client not in st.held:
                        st.held[client] = reason
                        self._facts.append(
                            DeletionHeldFact(batch, client, slot[0], slot[1], reason)
                        )
            elif outcome.decided and outcome.approval is None:
                if outcome.trusted is not None and outcome.winner != st.agreed:
                    aid = approval_id(slot, outcome.winner, outcome.proposer)
                    self._facts.append(
                        ApprovalFact(
                            batch,
                            outcome.proposer,
                            *slot,
                            outcome.winner,
                            "trusted",
                            aid,
                            outcome.trusted,
                        )
                    )
                st.settle(outcome.winner, list(outcome.changers))
            if self.policy.direction == Direction.ONE_WAY:
                # Targets that already hold the source's value are in sync, not drifting.
                for client in self.policy.clients:
                    if st.seen.get(client) == st.agreed and client in st.base:
                        st.set_base(client, st.agreed)
        closed, self._conflicted = agreed_conflicts(self._conflicted, outcomes, self.state.slots)
        for slot in closed:
            agreed = self.state.slots[slot].agreed
            self._facts.append(ResolvedFact(batch, *slot, agreed, None, None, "agreed"))

    def _slot_decisions(self, slot: Slot, outcome: Outcome, held: dict[str, str]) -> list[Decision]:
        key, scope = slot
        st = self.state.slots[slot]
        if held:
            return [
                HoldDeletion(c, key, r, scope, approval_id(slot, None, c))
                for c, r in sorted(held.items())
            ]
        if outcome.decided and outcome.approval is not None:
            aid = approval_id(slot, outcome.winner, outcome.proposer)
            return [
                NeedsApproval(key, outcome.proposer, outcome.approval, scope, outcome.winner, aid)
            ]
        if outcome.sides:
            sides = dict(sorted(outcome.sides.items()))
            bases = {st.base.get(c) for c in outcome.changers}
            base = bases.pop() if len(bases) == 1 else st.agreed
            cid = canonical_hash([list(key), scope, base, sides])[:16]
            return [Conflict(key, sides, base, scope, cid)]
        if self.policy.direction == Direction.ONE_WAY:
            return self._one_way_decisions(slot, st)
        out: list[Decision] = []
        for client in self.policy.clients:
            if not self.policy.holds(client, key):
                continue
            in_sync = st.seen.get(client) == st.base.get(client)
            if client in self.state.scanned and in_sync and st.base.get(client) != st.agreed:
                out.extend(self._write(client, slot, st))
        return out

    def _one_way_decisions(self, slot: Slot, st: SlotState) -> list[Decision]:
        source = self.policy.source
        if source is None or source not in st.base:
            return []  # the source never held this entity: leave others' own entities alone
        out: list[Decision] = []
        for client in self.policy.clients:
            if client == source or client not in self.state.scanned:
                continue
            if not self.policy.holds(client, slot[0]):
                continue
            if st.seen.get(client) != st.agreed:
                if st.seen.get(client) != st.base.get(client):
                    out.append(Drift(client, slot[0], slot[1]))
                if self.policy.mode == "apply" or st.seen.get(client) == st.base.get(client):
                    out.extend(self._write(client, slot, st))
        return out

    def _write(self, client: str, slot: Slot, st: SlotState) -> list[Decision]:
        key, scope = slot
        value = st.value(st.agreed)
        refusal = self.policy.refusal(client, key, value)
        if refusal is not None:
            # Never written (full-access modes): the target keeps its own value, untouched.
            return [Lossy(client, key, "value", refusal, scope)]
        out: list[Decision] = [Write(client, key, value, scope)]
        missing = sorted(set(value or ()) & self.policy.unsupported.get(client, frozenset()))
        out.extend(Lossy(client, key, f, f"{client} cannot express {f}", scope) for f in missing)
        return out
