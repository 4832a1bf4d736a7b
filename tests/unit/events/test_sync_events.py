"""Sync aggregates and events: redaction, lifecycle, store round trips, state rebuild."""

from __future__ import annotations

import itertools
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import StoredEvent

from actors._sync_ledger import rebuild_state, record_facts, record_plan
from actors.sync_engine import Observation, Policy, SyncEngine
from events.store import EventStore, StoreConfig
from events.sync import REDACTED, ClientFile, SyncLedger, ledger_id, redact

GH = ("mcp", "github")
_scans = itertools.count()


def store() -> EventStore:
    return EventStore(StoreConfig(backend="memory"))


def test_redact_replaces_literal_secrets_but_keeps_references() -> None:
    """Literal tokens and env/header values are redacted; env references survive."""
    value = {
        "token": "ghp_literal",
        "env": {"A": "literal", "B": "${B}", "C": "$C"},
        "headers": {"Authorization": "Bearer ${T}", "X-Key": "abc"},
        "command": "npx",
        "nested": [{"api_key": "k"}],
    }
    out = redact(value)
    assert out["token"] == REDACTED
    assert out["env"] == {"A": REDACTED, "B": "${B}", "C": "$C"}
    assert out["headers"] == {"Authorization": "Bearer ${T}", "X-Key": REDACTED}
    assert out["command"] == "npx"
    assert out["nested"] == [{"api_key": REDACTED}]
    assert value["token"] == "ghp_literal"


def test_entity_changed_never_stores_a_literal_secret() -> None:
    """An EntityChanged event redacts a literal token even if an adapter let it through."""
    s = store()
    ledger = SyncLedger.open("mcp", "github", command_id="c0")
    ledger.record(
        SyncLedger.EntityChanged,
        client="a",
        scan_id="s",
        digest="d",
        value_redacted={"token": "ghp_secret123"},
    )
    s.save_all(ledger)
    bodies = [str(s.decode_body(n)) for n in s.read(0, 100)]
    assert not any("ghp_secret123" in b for b in bodies)
    assert s.repository.get(ledger.id).values["d"] == {"token": REDACTED}


def test_client_file_lifecycle_round_trips() -> None:
    """ClientFile records discovery, reads, parse errors, vanishing; repeats add nothing."""
    s = store()
    f = ClientFile.discover("codex", "/h/.codex/config.toml", "user", command_id="d1")
    f.observe("sha1", {"mcp:github": "dg"}, 10)
    f.observe("sha1", {"mcp:github": "dg"}, 10)
    f.fail_parse("bad toml")
    f.vanish()
    f.vanish()
    s.save_all(f)
    again: ClientFile = s.repository.get(f.id)
    assert again.entity_digests == {"mcp:github": "dg"}
    assert again.parse_error == "bad toml"
    assert again.present is False
    assert [type(e).__name__ for e in s.events_of(f.id)] == [
        "Discovered",
        "Observed",
        "ParseFailed",
        "Vanished",
    ]


def _drive(e: SyncEngine, s: EventStore) -> None:
    """A scripted history: sync, change, conflict, resolve, deletion, held deletion."""

    def scan(client: str, ents: dict[Any, dict[str, Any]], complete: bool = True) -> None:
        e.observe(Observation(client, f"s{next(_scans)}", complete, ents))
        record_facts(s, e.take_facts())

    def land() -> None:
        plan = e.plan()
        record_plan(s, plan)
        for w in plan.writes:
            e.confirm_write(w.client, w.key, w.value, scope=w.scope, path=f"/{w.client}")
        record_facts(s, e.take_facts())

    keys = [("mcp", f"k{i}") for i in range(4)]
    base = {k: {"command": "x"} for k in keys}
    for c in "abc":
        scan(c, {**base, GH: {"command": "npx", "token": "${T}"}})
    scan("a", {**base, GH: {"command": "uvx"}})
    land()
    scan("b", {**base, GH: {"command": "b"}})
    scan("c", {**base, GH: {"command": "c"}})
    record_plan(s, e.plan())
    e.resolve(GH, take="c")
    record_facts(s, e.take_facts())
    land()
    scan("a", {GH: {"command": "c"}})
    scan("a", {GH: {"command": "c"}}, complete=False)
    scan("a", {GH: {"command": "c"}})  # four deletions > 3: held
    record_plan(s, e.plan())
    scan("b", {**base, GH: {"command": "c"}, ("mcp", "new"): {"command": "n"}})


def test_ledger_replay_rebuilds_the_engine_state() -> None:
    """Rebuilding SyncState from the ledger events reproduces the live engine's state."""
    s = store()
    policy = Policy(clients=("a", "b", "c"))
    live = SyncEngine(policy)
    _drive(live, s)
    assert any(st.held for st in live.state.slots.values())
    rebuilt = rebuild_state(s, policy)
    assert rebuilt.snapshot() == live.state.snapshot()

    def pending(e: SyncEngine) -> list[Any]:
        return [d for d in e.decisions() if type(d).__name__ != "Write"]

    assert pending(SyncEngine(policy, rebuilt)) == pending(live)


def test_recording_the_same_facts_twice_appends_nothing() -> None:
    """Facts are recorded under their batch id, so a retried recording is a no-op."""
    s = store()
    e = SyncEngine(Policy(clients=("a", "b")))
    e.observe(Observation("a", "s1", True, {GH: {"command": "npx"}}))
    facts = e.take_facts()
    record_facts(s, facts)
    head = s.head()
    record_facts(s, facts)
    assert s.head() == head


def test_ledger_state_tracks_bases_conflicts_and_held_deletions() -> None:
    """The ledger aggregate's own state follows its events."""
    s = store()
    policy = Policy(clients=("a", "b", "c"))
    e = SyncEngine(policy)
    _drive(e, s)
    ledger: SyncLedger = s.repository.get(ledger_id(*GH))
    assert ledger.base[("user", "a")] is not None
    assert ledger.conflicts == {}
    held: SyncLedger = s.repository.get(ledger_id("mcp", "k0"))
    assert ("user", "a") in held.held
    names = {type(ev).__name__ for ev in s.events_of(ledger_id(*GH))}
    assert {"EntityChanged", "WriteApplied", "ConflictDetected", "ConflictResolved"} <= names


def test_a_v1_write_applied_reads_back_without_a_companion() -> None:
    """A ``WriteApplied`` stored before companion files existed upcasts to v2 with none;
    a v2 one keeps its companion file through a round trip."""
    mapper = store().mapper
    v1 = {
        "timestamp": "2026-01-01T00:00:00+00:00",
        "command_id": "c1",
        "client": "gemini",
        "path": "/h/.gemini/commands/x.toml",
        "sha256": "ab",
        "pre_image_ref": None,
        "scope": "user",
        "digest": "d",
    }
    stored = StoredEvent(
        uuid4(), 2, "events.sync:SyncLedger.WriteApplied", mapper.transcoder.encode(v1)
    )
    old = mapper.to_domain_event(stored)
    assert isinstance(old, SyncLedger.WriteApplied)
    assert (old.companion_path, old.companion_sha256, old.companion_pre_image_ref) == (
        None,
        "",
        None,
    )
    new = old.model_copy(
        update={"companion_path": "/h/.rovodev/prompts.yml", "companion_sha256": "cd"}
    )
    again = mapper.to_domain_event(mapper.to_stored_event(new))
    assert isinstance(again, SyncLedger.WriteApplied)
    assert (again.companion_path, again.companion_sha256) == ("/h/.rovodev/prompts.yml", "cd")


def test_a_v1_write_intent_reads_back_with_an_unknown_outcome_and_no_temps() -> None:
    """A ``WritePlanned`` stored before intents named their planned hash and temp files
    upcasts to v2 with neither (so a restart only removes temps an intent really named);
    a v2 one keeps both through a round trip."""
    mapper = store().mapper
    v1 = {
        "timestamp": "2026-01-01T00:00:00+00:00",
        "command_id": "intent:/h/.cursor/mcp.json:ab:cd",
        "client": "cursor",
        "path": "/h/.cursor/mcp.json",
        "scope": "user",
        "digest": "d",
        "pre_sha256": "ab",
    }
    stored = StoredEvent(
        uuid4(), 2, "events.sync:SyncLedger.WritePlanned", mapper.transcoder.encode(v1)
    )
    old = mapper.to_domain_event(stored)
    assert isinstance(old, SyncLedger.WritePlanned)
    assert (old.new_sha256, old.temp_paths, old.companion_path) == (None, (), None)
    temp = "/h/.cursor/.synapse.mcp.json.0123abcd.tmp"
    new = old.model_copy(update={"new_sha256": "cd", "temp_paths": (temp,)})
    again = mapper.to_domain_event(mapper.to_stored_event(new))
    assert isinstance(again, SyncLedger.WritePlanned)
    assert (again.new_sha256, again.temp_paths) == ("cd", (temp,))
