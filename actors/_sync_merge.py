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
from actors._sync_values import needs_approval

if TYPE_CHECKING:
    from actors.sync_engine import Policy

__all__ = ["UNHELD", "Outcome", "evaluate"]

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
    """

    changers: tuple[str, ...] = ()
    winner: str | None = None
    decided: bool = False
    sides: dict[str, str | None] = field(default_factory=dict)
    approval: str | None = None
    proposer: str | None = None
    deleters: tuple[str, ...] = ()

    @property
    def quiet(self) -> bool:
        """Nothing changed in this slot."""
        return not self.changers


def evaluate(st: SlotState, kind: str, policy: Policy) -> Outcome:
    """Merge one slot under ``policy`` (pure: ``st`` is not modified)."""
    if policy.source is not None and policy.direction == "one-way":
        return _one_way(st, kind, policy.source)
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
    return _decided(st, kind, tuple(changers), winner, holders[winner])


def _one_way(st: SlotState, kind: str, source: str) -> Outcome:
    if st.seen.get(source) == st.base.get(source):
        return Outcome()
    winner = st.seen.get(source)
    return _decided(st, kind, (source,), winner, [source])


def _decided(
    st: SlotState, kind: str, changers: tuple[str, ...], winner: str | None, holders: list[str]
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
        approval=reason,
        proposer=proposer,
        deleters=deleters,
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
