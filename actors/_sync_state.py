"""The sync engine's memory: per slot, what each client holds and its last synced base.

Everything here is rebuilt from ``SyncLedger`` events (see :mod:`actors._sync_ledger`), so
the engine stays a cache of the log. Digests stand for values; the values themselves are kept
once per slot, keyed by digest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from actors._sync_values import EntityKey, Slot

__all__ = ["SlotState", "SyncState"]


@dataclass
class SlotState:
    """Merge state of one ``(entity, scope)`` slot.

    Attributes:
        agreed: digest of the value every client should converge to (None = absent).
        base: per client, the digest last known to be in sync there (missing = absent).
        seen: per client, the digest last observed there (missing = absent).
        order: per client, when ``seen`` last changed (slot-local counter, for ``newest``).
        suspected: per client, the scan id of the first complete scan that lacked the entity.
        values: every value this slot has held, by digest.
        held: per client, why its deletion waits for approval (sticky until resolved).
        clock: counts changes of ``seen``; gives ``order`` its values.
        generation: counts changes of ``agreed``.
        base_generation: per client, the generation its base was acknowledged at. A base
            equal to the agreed value by content but from an older generation is *not* in
            step: the client never saw this agreement (it held that value by coincidence).
        rejected: digests a person refused to spread: a client holding one is not a changer
            (it keeps its value, nobody else gets it) until it holds another value.
    """

    agreed: str | None = None
    base: dict[str, str | None] = field(default_factory=dict)
    seen: dict[str, str | None] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)
    suspected: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    held: dict[str, str] = field(default_factory=dict)
    clock: int = 0
    generation: int = 0
    base_generation: dict[str, int] = field(default_factory=dict)
    rejected: set[str] = field(default_factory=set)

    def changers(self, clients: tuple[str, ...]) -> list[str]:
        """Return the clients whose copy differs from their base (changed since last sync),
        leaving out those that hold a rejected value."""
        return [
            c
            for c in clients
            if self.seen.get(c) != self.base.get(c) and self.seen.get(c) not in self.rejected
        ]

    def in_step(self, client: str) -> bool:
        """Return True when ``client``'s base is the current agreement."""
        return (
            self.base.get(client) == self.agreed
            and self.base_generation.get(client, 0) == self.generation
        )

    def set_base(self, client: str, dig: str | None) -> None:
        """Acknowledge ``dig`` as ``client``'s base at the current generation."""
        self.base[client] = dig
        self.base_generation[client] = self.generation

    def value(self, dig: str | None) -> dict[str, Any] | None:
        """Return the value of ``dig`` (None for absent)."""
        return None if dig is None else self.values[dig]

    def see(self, client: str, dig: str | None, value: dict[str, Any] | None) -> bool:
        """Record an observed copy; return True when it differs from the last one."""
        self.suspected.pop(client, None)
        self.held.pop(client, None)
        if dig is not None and value is not None:
            self.values.setdefault(dig, value)
        if self.seen.get(client) == dig:
            return False
        self.seen[client] = dig
        self.clock += 1
        self.order[client] = self.clock
        return True

    def settle(self, winner: str | None, clients: list[str]) -> None:
        """Make ``winner`` the agreed value and acknowledge what ``clients`` hold."""
        if winner != self.agreed:
            self.generation += 1
        self.agreed = winner
        for client in clients:
            self.set_base(client, self.seen.get(client))

    def judge(self, verdict: str, dig: str | None, clients: tuple[str, ...]) -> None:
        """Apply a person's verdict on the change to ``dig`` (None: a deletion).

        An approved value or deletion becomes the agreement; a rejected value is remembered
        (its holders stop being changers); a rejected deletion keeps the agreed value, so it
        is written back where it was deleted. ``trusted`` changes nothing: the merge let that
        change through under the policy, and a replay derives it again.
        """
        if verdict == "trusted":
            return
        if verdict == "rejected" and dig is not None:
            self.rejected.add(dig)
            return
        self.rejected.discard(dig or "")
        self.settle(self.agreed if verdict == "rejected" else dig, self.changers(clients))
        self.held.clear()

    def snapshot(self) -> dict[str, Any]:
        """Return a comparable, JSON-like view (without the bookkeeping clock)."""
        return {
            "agreed": self.agreed,
            "base": {c: d for c, d in sorted(self.base.items())},
            "seen": {c: d for c, d in sorted(self.seen.items())},
            "suspected": dict(sorted(self.suspected.items())),
            "held": dict(sorted(self.held.items())),
            "generation": self.generation,
            "base_generation": dict(sorted(self.base_generation.items())),
            "order": _ranks(self.order),
            "rejected": sorted(self.rejected),
        }


def _ranks(order: dict[str, int]) -> list[str]:
    return [c for c, _ in sorted(order.items(), key=lambda item: (item[1], item[0]))]


@dataclass
class SyncState:
    """All slots plus the clients fully scanned in this session.

    ``scanned`` is deliberately not persisted: after a restart every client must be rescanned
    completely before the engine writes to it (a truncated first read must not look empty).
    """

    slots: dict[Slot, SlotState] = field(default_factory=dict)
    scanned: set[str] = field(default_factory=set)

    def slot(self, slot: Slot) -> SlotState:
        """Return (creating) the state of ``slot``."""
        return self.slots.setdefault(slot, SlotState())

    def slots_of(self, key: EntityKey) -> list[Slot]:
        """Return the known slots of an entity, in scope order."""
        return sorted(s for s in self.slots if s[0] == key)

    def base_digest(self, key: EntityKey, client: str, scope: str = "user") -> str | None:
        """Return the digest last synced to ``client`` for ``key`` (None = absent)."""
        state = self.slots.get((key, scope))
        return None if state is None else state.base.get(client)

    def agreed_digest(self, key: EntityKey, scope: str = "user") -> str | None:
        """Return the digest every client should converge to for ``key`` (None = absent)."""
        state = self.slots.get((key, scope))
        return None if state is None else state.agreed

    def snapshot(self) -> dict[str, Any]:
        """Return a comparable, JSON-like view of every slot."""
        return {
            f"{kind}:{name}@{scope}": state.snapshot()
            for ((kind, name), scope), state in sorted(self.slots.items())
        }
