"""Stateful model test of the sync engine (reliability.md R-6): N simulated clients.

Users edit, delete and edit concurrently; watcher events are duplicated or dropped (a periodic
full rescan catches up); files are read truncated; the engine's writes land only when the file
did not change since the engine last read it (compare-and-swap), otherwise the client is
re-read. After a quiescent sync every key converges or has an open conflict, nothing a user
wrote last is lost, and writes stay bounded (no echo storm).
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from actors._sync_types import ObservedFact
from actors._sync_values import digest
from actors.sync_engine import Conflict, HoldDeletion, Observation, Policy, SyncEngine

KEYS = [("mcp", f"k{i}") for i in range(4)]
values = st.builds(lambda n: {"command": "npx", "args": [str(n)]}, st.integers(0, 4))
keys = st.sampled_from(KEYS)


class SyncModel(RuleBasedStateMachine):
    """Simulated client stores driven by users, a lossy watcher and the engine."""

    def __init__(self) -> None:
        super().__init__()
        self.clients: list[str] = []
        self.files: dict[str, dict[Any, dict[str, Any]]] = {}
        self.version: dict[str, int] = {}
        self.read_version: dict[str, int] = {}
        self.queue: list[str] = []
        self.scan_ids = itertools.count()
        # Every user change: [key, client, value, observed-at (None until the engine saw it),
        # protected]. "Later" means later in the engine's observation order: a state-based
        # engine cannot order edits it has not seen (reliability.md E3).
        self.history: list[list[Any]] = []
        self.observed = itertools.count()
        self.changes = 0
        self.writes = 0
        self.deleted_keys: set[Any] = set()
        self.engine: SyncEngine | None = None

    # -- setup and helpers --------------------------------------------------------------

    @initialize(n=st.integers(3, 8), start=st.dictionaries(keys, values, max_size=4))
    def setup(self, n: int, start: dict[Any, dict[str, Any]]) -> None:
        self.clients = [f"c{i}" for i in range(n)]
        self.engine = SyncEngine(Policy(clients=tuple(self.clients)))
        for client in self.clients:
            self.files[client] = dict(start)
            self.version[client] = 0
            self.read(client)

    @property
    def eng(self) -> SyncEngine:
        assert self.engine is not None
        return self.engine

    def read(self, client: str, *, keep: frozenset[Any] | None = None) -> Observation:
        entities = dict(self.files[client])
        complete = keep is None
        if keep is not None:
            entities = {k: v for k, v in entities.items() if k in keep}
            complete = False
        obs = Observation(client, f"s{next(self.scan_ids)}", complete, entities)
        self.deliver(obs)
        if complete:
            self.read_version[client] = self.version[client]
        return obs

    def deliver(self, obs: Observation) -> None:
        state = self.eng.state
        bases = {k: state.base_digest(k, obs.client) for k in KEYS}
        for decision in self.eng.observe(obs):
            if getattr(decision, "value", 1) is None:
                assert decision.key in self.deleted_keys, "a deletion nobody made"
        for fact in self.eng.take_facts():
            if not isinstance(fact, ObservedFact) or fact.change == "suspected":
                continue
            for entry in reversed(self.history):
                same = entry[0] == fact.key and entry[1] == fact.client
                if same and entry[3] is None and digest(entry[2]) == fact.digest:
                    entry[3] = next(self.observed)
                    # ABA (E3, documented): going back to the sync base is no change; it
                    # withdraws this client's side rather than asserting a value.
                    entry[4] = entry[4] and fact.digest != bases[fact.key]
                    break

    def user_change(self, client: str, key: Any, value: dict[str, Any] | None) -> None:
        if self.files[client].get(key) == value:
            return
        if value is None:
            del self.files[client][key]
            self.deleted_keys.add(key)
        else:
            self.files[client][key] = value
        self.version[client] += 1
        self.history.append([key, client, value, None, True])
        self.changes += 1
        self.queue.append(client)

    def apply_plan(self) -> None:
        planned_against = dict(self.read_version)
        for write in self.eng.plan().writes:
            if write.value is None:
                assert write.key in self.deleted_keys, "a deletion nobody made"
            client = write.client
            if self.version[client] != planned_against.get(client):
                # Compare-and-swap failed: re-read instead of overwriting, and drop the rest
                # of this now stale plan (the orchestrator re-plans).
                self.read(client)
                return
            if write.value is None:
                self.files[client].pop(write.key, None)
            else:
                self.files[client][write.key] = write.value
            self.writes += 1
            self.eng.confirm_write(client, write.key, write.value, scope=write.scope)
            self.eng.take_facts()

    # -- rules --------------------------------------------------------------------------

    @rule(data=st.data(), key=keys, value=values)
    def user_edits(self, data: st.DataObject, key: Any, value: dict[str, Any]) -> None:
        self.user_change(data.draw(st.sampled_from(self.clients)), key, value)

    @rule(data=st.data(), key=keys)
    def user_deletes(self, data: st.DataObject, key: Any) -> None:
        self.user_change(data.draw(st.sampled_from(self.clients)), key, None)

    @rule(data=st.data(), key=keys, first=values, second=values)
    def concurrent_edits(self, data: st.DataObject, key: Any, first: Any, second: Any) -> None:
        pair = data.draw(st.lists(st.sampled_from(self.clients), min_size=2, max_size=2))
        self.user_change(pair[0], key, first)
        self.user_change(pair[1], key, second)

    @precondition(lambda self: bool(self.queue))
    @rule()
    def watcher_fires(self) -> None:
        self.read(self.queue.pop(0))

    @precondition(lambda self: bool(self.queue))
    @rule()
    def watcher_fires_twice(self) -> None:
        obs = self.read(self.queue.pop(0))
        self.deliver(obs)

    @precondition(lambda self: bool(self.queue))
    @rule()
    def watcher_drops_event(self) -> None:
        self.queue.pop(0)

    @rule()
    def periodic_rescan(self) -> None:
        for client in self.clients:
            self.read(client)

    @rule(data=st.data())
    def truncated_read(self, data: st.DataObject) -> None:
        client = data.draw(st.sampled_from(self.clients))
        keep = data.draw(st.frozensets(st.sampled_from(sorted(self.files[client]) or KEYS)))
        self.read(client, keep=keep)

    @rule()
    def engine_applies_writes(self) -> None:
        self.apply_plan()

    @rule(data=st.data())
    def person_resolves_a_conflict(self, data: st.DataObject) -> None:
        conflicts = [d for d in self.eng.plan().decisions if isinstance(d, Conflict)]
        if not conflicts:
            return
        conflict = data.draw(st.sampled_from(conflicts))
        take = data.draw(st.sampled_from(sorted(c for c in conflict.sides if c in self.clients)))
        chosen = self.eng.state.slots[(conflict.key, conflict.scope)]
        value = chosen.value(chosen.seen.get(take))
        self.eng.resolve(conflict.key, take=take, scope=conflict.scope)
        self.eng.take_facts()
        # A resolution supersedes earlier values but is not itself a user edit to protect:
        # a user edit the engine had not seen yet may still override it.
        self.history.append([conflict.key, take, value, next(self.observed), False])
        self.changes += 1

    @rule()
    def quiesce_and_check(self) -> None:
        self.quiesce()

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def writes_are_bounded(self) -> None:
        assert self.writes <= self.changes * len(self.clients)

    def quiesce(self) -> None:
        for _ in range(20):
            self.queue.clear()
            for _scan in range(2):  # two complete scans confirm deletions
                for client in self.clients:
                    self.read(client)
            if not self.eng.plan().writes:
                break
            self.apply_plan()
        else:
            raise AssertionError("the sync never went quiet (echo storm)")
        plan = self.eng.plan()
        open_keys = {d.key for d in plan.decisions if isinstance(d, Conflict | HoldDeletion)}
        sides = {d.key: set(d.sides.values()) for d in plan.decisions if isinstance(d, Conflict)}
        for key in KEYS:
            held = {digest(self.files[c].get(key)) for c in self.clients}
            assert len(held) == 1 or key in open_keys, f"{key} diverged without a conflict"
            seen = sorted(
                (h for h in self.history if h[0] == key and h[3] is not None), key=lambda h: h[3]
            )
            if seen and seen[-1][2] is not None and seen[-1][4]:
                survivor = digest(seen[-1][2])
                assert survivor in held | sides.get(key, set()), f"lost {seen[-1]}"

    def teardown(self) -> None:
        if self.engine is not None:
            self.quiesce()


SyncModel.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSyncModel = SyncModel.TestCase
TestSyncModel.__doc__ = "Users, a lossy watcher and the engine never lose data or storm."
