"""The three-way merge of one slot: who changed, who wins, or why nobody may win yet.

A client *changed* when what it holds differs from its base (the digest last in sync there).
A changed client whose base equals the agreed value changed *on top of* the agreement; one
whose base lags behind (a write to it had not landed yet) changed *concurrently* with the
agreement, so the agreed value is a side of its own. Every distinct value among those sides is
a candidate; deletions lose to modifications; one candidate left is the winner, more than one
is a conflict that the policy's rule may decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from actors._sync_state import SlotState
from actors._sync_values import Slot, needs_approval

if TYPE_CHECKING:
    from actors.sync_engine import Policy

__all__ = ["UNHELD", "Outcome", "agreed_conflicts", "evaluate", "held_deletions"]

#: Conflict side name for an agreed value that no client currently holds.
UNHELD = "(agreed)"


@dataclass(frozen=True)
class Outcome:
    """What the merge of one slot concluded.

    Attributes:
        changers: clients that changed since their base.
        winner: digest to settle on (valid when ``decided``).
        decided: a single winner exists (possibly after a rule).
        sides: when undecided, the conflicting digest per client.
        approval: when set, why the winner needs a person's approval first.
        proposer: the client that proposed the winner.
        deleters: clients whose deletion is the winner (deletions need the two-scan rule and
            the per-plan cap, which the engine checks across slots).
        trusted: why the winner would have needed approval, when the policy trusts the
            slot's project to run code (the engine records it and lets it through).
    """

    changers: tuple[str, ...] = ()
    winner: str | None = None
    decided: bool = False
    sides: dict[str, str | None] = field(default_factory=dict)
    approval: str | None = None
    proposer: str | None = None
    deleters: tuple[str, ...] = ()
    trusted: str | None = None

    @property
    def quiet(self) -> bool:
        """Nothing changed in this slot."""
        return not self.changers


def evaluate(st: SlotState, kind: str, policy: Policy, scope: str = "user") -> Outcome:
    """Merge one slot (of ``scope``) under ``policy`` (pure: ``st`` is not modified)."""
    trusted = policy.trusts(scope)
    if policy.source is not None and policy.direction == "one-way":
        return _one_way(st, kind, policy.source, trusted=trusted)
    changers = st.changers(policy.clients)
    if not changers:
        return Outcome()
    holders = _candidates(st, changers, policy.clients)
    if not holders:  # every changer merely caught up with the agreement
        return Outcome(changers=tuple(changers), winner=st.agreed, decided=True)
    if len(holders) > 1 and None in holders:
        del holders[None]  # modify beats delete
    if len(holders) == 1:
        winner = next(iter(holders))
    else:
        chosen = _by_rule(st, holders, policy)
        if chosen is None:
            sides = {c: d for d, cs in holders.items() for c in cs or [UNHELD]}
            return Outcome(changers=tuple(changers), sides=sides)
        winner = chosen[0]
    return _decided(st, kind, tuple(changers), winner, holders[winner], trusted=trusted)


def _one_way(st: SlotState, kind: str, source: str, *, trusted: bool) -> Outcome:
    if not st.changers((source,)):
        return Outcome()
    winner = st.seen.get(source)
    return _decided(st, kind, (source,), winner, [source], trusted=trusted)


def _decided(
    st: SlotState,
    kind: str,
    changers: tuple[str, ...],
    winner: str | None,
    holders: list[str],
    *,
    trusted: bool,
) -> Outcome:
    proposer = holders[0] if holders else None
    reason = None
    if winner != st.agreed:
        reason = needs_approval(kind, st.value(winner), st.value(st.agreed))
    deleters = tuple(c for c in changers if st.seen.get(c) is None) if winner is None else ()
    return Outcome(
        changers=changers,
        winner=winner,
        decided=True,
        approval=None if trusted else reason,
        proposer=proposer,
        deleters=deleters,
        trusted=reason if trusted else None,
    )


def _candidates(
    st: SlotState, changers: list[str], clients: tuple[str, ...]
) -> dict[str | None, list[str]]:
    """Return each candidate digest with the clients holding it."""
    holders: dict[str | None, list[str]] = {}
    on_top = [c for c in changers if st.in_step(c)]
    behind = [c for c in changers if not st.in_step(c) and st.seen.get(c) != st.agreed]
    for client in on_top:
        holders.setdefault(st.seen.get(client), []).append(client)
    if behind and not on_top:
        # The agreement itself is a side: those clients never saw it before changing.
        holders[st.agreed] = [
            c for c in clients if c not in changers and st.seen.get(c) == st.agreed
        ]
    for client in behind:
        holders.setdefault(st.seen.get(client), []).append(client)
    # A client that reached the agreed value on its own (a user typed what we were about to
    # write, or our write landed unconfirmed) stands behind it: a concurrent deletion then
    # loses (modify beats delete) and a concurrent edit is a conflict, never a silent loss.
    caught = [c for c in changers if not st.in_step(c) and st.seen.get(c) == st.agreed]
    if caught:
        holders.setdefault(st.agreed, []).extend(caught)
    return holders


def _by_rule(
    st: SlotState, holders: dict[str | None, list[str]], policy: Policy
) -> tuple[str | None] | None:
    """Pick a winner by the policy's conflict rule; None means a person must decide."""
    if policy.conflict_rule == "source-priority":
        order = [*policy.priority, *(c for c in policy.clients if c not in policy.priority)]
        far = len(order)

        def rank(dig: str | None) -> int:
            return min((order.index(c) for c in holders[dig] if c in order), default=far)

        return (min(holders, key=rank),)
    if policy.conflict_rule == "newest":

        def age(dig: str | None) -> int:
            return max((st.order.get(c, -1) for c in holders[dig]), default=-1)

        return (max(holders, key=age),)
    return None


def held_deletions(
    outcomes: dict[Slot, Outcome], slots: dict[Slot, SlotState], max_deletions: int
) -> dict[Slot, dict[str, str]]:
    """Return, per slot, the deleting clients held back (cap exceeded or still held).

    The cap counts one client's deletions across every slot of the plan.
    """
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        if outcome.decided and outcome.winner is None:
            for client in outcome.deleters:
                counts[client] = counts.get(client, 0) + 1
    held: dict[Slot, dict[str, str]] = {}
    for slot, outcome in outcomes.items():
        if not (outcome.decided and outcome.winner is None):
            continue
        st = slots[slot]
        for client in outcome.deleters:
            if client in st.held:
                held.setdefault(slot, {})[client] = st.held[client]
            elif counts[client] > max_deletions:
                reason = f"{counts[client]} deletions from {client} exceed the limit of "
                held.setdefault(slot, {})[client] = reason + str(max_deletions)
    return held


def agreed_conflicts(
    conflicted: set[Slot], outcomes: dict[Slot, Outcome], slots: dict[Slot, SlotState]
) -> tuple[list[Slot], set[Slot]]:
    """Split the slots that were in conflict into those settled on their own and the rest.

    A conflict is over when its sides came to agree or went back to their base, unless the
    slot now waits for a person (an approval or a held deletion): then it stays counted as
    open and closes when that settles.

    Returns:
        The slots whose conflict closed, and the slots in conflict from now on.
    """
    now = {slot for slot, o in outcomes.items() if o.sides}
    closed: list[Slot] = []
    for slot in sorted(conflicted - now):
        outcome = outcomes.get(slot)
        if outcome is not None and outcome.approval is None and not slots[slot].held:
            closed.append(slot)
        else:
            now.add(slot)
    return closed, now
