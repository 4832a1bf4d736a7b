"""``/metrics`` figures read from real read models folded from real events."""

from __future__ import annotations

from pathlib import Path

from events.runtime import ActorLifecycle, Alert
from events.store import EventStore, StoreConfig
from events.sync import ClientFile, SyncLedger
from projections.metrics_figures import LATENCY_BUCKETS_S, read_figures
from projections.projector import Projector


def _figures(tmp_path: Path, s: EventStore) -> dict[str, object]:
    with Projector(tmp_path / "p.duckdb") as p:
        p.catch_up(s)
        with p.cursor() as cur:
            return read_figures(cur)


def _store(tmp_path: Path) -> EventStore:
    return EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "e.sqlite"))


def _changed(ledger: SyncLedger, client: str, digest: str) -> None:
    ledger.record(
        SyncLedger.EntityChanged, client=client, scan_id="s", digest=digest, value_redacted={}
    )


def _applied(ledger: SyncLedger, client: str, digest: str) -> None:
    ledger.record(
        SyncLedger.WriteApplied,
        client=client,
        path=f"/{client}",
        sha256="s",
        pre_image_ref=None,
        digest=digest,
    )


def test_sync_latency_runs_from_the_last_change_before_each_write(tmp_path: Path) -> None:
    """Each write is timed from its entity's latest earlier change, per target client."""
    s = _store(tmp_path)
    fs = SyncLedger.open("mcp_server", "fs", command_id="o1")
    _changed(fs, "claude-code", "d1")
    _applied(fs, "codex", "d1")
    _changed(fs, "claude-code", "d2")  # a later edit: the next write is timed from here
    _applied(fs, "codex", "d2")
    _applied(fs, "gemini", "d2")
    other = SyncLedger.open("mcp_server", "gh", command_id="o2")
    _applied(other, "qwen", "x")  # no change before it in its own entity: not timed
    s.save_all(fs, other)
    events = {
        (e.__class__.__name__, getattr(e, "digest", None), getattr(e, "client", None)): e.timestamp
        for e in s.events_of(fs.id)
    }
    change1 = events[("EntityChanged", "d1", "claude-code")]
    change2 = events[("EntityChanged", "d2", "claude-code")]
    expected = {
        "codex": [
            (events[("WriteApplied", "d1", "codex")] - change1).total_seconds(),
            (events[("WriteApplied", "d2", "codex")] - change2).total_seconds(),
        ],
        "gemini": [(events[("WriteApplied", "d2", "gemini")] - change2).total_seconds()],
    }

    rows = {r["label"]: r for r in _figures(tmp_path, s)["sync_latency"]}  # type: ignore[attr-defined]

    assert sorted(rows) == ["codex", "gemini"]
    for client, seconds in expected.items():
        assert rows[client]["count"] == len(seconds)
        assert abs(rows[client]["sum"] - sum(seconds)) < 1e-3
        assert rows[client]["buckets"] == [
            sum(1 for v in seconds if v <= b) for b in LATENCY_BUCKETS_S
        ]


def test_writes_failures_conflicts_actors_and_alerts_are_counted(tmp_path: Path) -> None:
    """Outcomes per client, parse failures per client, open conflicts, restarts, alerts."""
    s = _store(tmp_path)
    ledger = SyncLedger.open("mcp_server", "fs", command_id="o")
    _changed(ledger, "claude-code", "d1")
    _applied(ledger, "codex", "d1")
    ledger.record(SyncLedger.WriteAbandoned, client="codex", path="/codex", reason="changed")
    ledger.record(
        SyncLedger.ConflictDetected, conflict_id="c1", sides={"a": "1", "b": "2"}, base_digest=None
    )
    bad = ClientFile.discover("gemini", "/h/.gemini/settings.json", "user", command_id="d")
    bad.fail_parse("line 1: expected value")
    bad.fail_parse("line 1: expected value")
    good = ClientFile.discover("qwen", "/h/.qwen/settings.json", "user", command_id="q")
    good.observe("a" * 64, {}, 3)
    projector = ActorLifecycle("projector")
    projector.start("projector", "n", 1)
    projector.restart("projector", 1, "killed", "n", 2)
    watcher = ActorLifecycle("watcher:codex:n")
    watcher.exhaust("watcher:codex:n", 5)
    alert = Alert("a1", "warning", "sync", "breaker open")
    acked = Alert("a2", "critical", "sync", "disk low")
    acked.acknowledge("admin")
    s.save_all(ledger, bad, good, projector, watcher, alert, acked)

    f = _figures(tmp_path, s)

    # Files are known for gemini and qwen: each gets its zeros; codex has writes, no file.
    assert f["writes"] == [
        ("codex", "abandoned", 1),
        ("codex", "applied", 1),
        ("gemini", "abandoned", 0),
        ("gemini", "applied", 0),
        ("qwen", "abandoned", 0),
        ("qwen", "applied", 0),
    ]
    assert f["parse_failures"] == [("gemini", 2), ("qwen", 0)]
    assert f["files_in_error"] == [("gemini", 1), ("qwen", 0)]
    assert (f["conflicts_open"], f["conflicts_total"]) == (1, 1)
    assert f["actors"] == [("projector", "running", 1), ("watcher:codex:n", "dead", 5)]
    assert f["alerts_open"] == [("critical", 0), ("error", 0), ("info", 0), ("warning", 1)]
    assert f["events"] == s.head()
