"""The per-file write-rate cap (reliability E7): the pure rule and its hook in SyncService."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from actors._sync_breaker import BreakerLimits, Verdict, WriteBreaker
from actors.sync_actor import sync_gauges
from events.runtime import Alert
from events.store import EventStore
from events.sync import SyncLedger
from synapse._demo_sync import seed_sandbox
from tests.unit.actors._sync_service import apply_service


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(max_writes: int = 3, window_s: float = 60.0, cooldown_s: float = 0.0) -> WriteBreaker:
    clock = Clock()
    b = WriteBreaker(BreakerLimits(max_writes, window_s, cooldown_s), clock=clock)
    b.clock = clock  # type: ignore[attr-defined]
    return b


def test_writes_up_to_the_cap_pass_and_the_next_trips() -> None:
    """N writes in the window pass; write N+1 opens the breaker; later ones are refused."""
    b = breaker(max_writes=3)
    assert [b.check("codex", "/f") for _ in range(3)] == [Verdict.ALLOW] * 3
    assert b.check("codex", "/f") is Verdict.TRIPPED
    assert b.check("codex", "/f") is Verdict.OPEN
    assert b.open_files()[0]["refused"] == 2


def test_the_window_slides() -> None:
    """Writes older than the window no longer count."""
    b = breaker(max_writes=2, window_s=10)
    clock = b.clock  # type: ignore[attr-defined]
    for _ in range(20):
        assert b.check("codex", "/f") is Verdict.ALLOW
        clock.now += 6


def test_files_are_capped_independently() -> None:
    """A storm on one file leaves another file writable."""
    b = breaker(max_writes=1)
    b.check("codex", "/a")
    assert b.check("codex", "/a") is Verdict.TRIPPED
    assert b.check("codex", "/b") is Verdict.ALLOW


def test_resume_closes_only_that_clients_breakers() -> None:
    """Resuming a client frees its files with a fresh window; other clients stay open."""
    b = breaker(max_writes=1)
    for client, path in (("codex", "/a"), ("gemini", "/g")):
        b.check(client, path)
        b.check(client, path)
    assert b.resume("codex") == ["/a"]
    assert b.check("codex", "/a") is Verdict.ALLOW
    assert b.check("gemini", "/g") is Verdict.OPEN


def test_without_cooldown_it_stays_open() -> None:
    """With cooldown 0 only a resume closes the breaker."""
    b = breaker(max_writes=1, cooldown_s=0)
    b.check("codex", "/a")
    b.check("codex", "/a")
    b.clock.now += 10**6  # type: ignore[attr-defined]
    assert b.check("codex", "/a") is Verdict.OPEN


def test_cooldown_closes_it_by_itself() -> None:
    """After the cooldown the file is writable again, with a fresh window."""
    b = breaker(max_writes=1, cooldown_s=300)
    b.check("codex", "/a")
    b.check("codex", "/a")
    b.clock.now += 299  # type: ignore[attr-defined]
    assert b.check("codex", "/a") is Verdict.OPEN
    b.clock.now += 1  # type: ignore[attr-defined]
    assert b.open_files() == []
    assert b.check("codex", "/a") is Verdict.ALLOW
    assert b.open_files() == []


@given(st.lists(st.floats(min_value=0, max_value=5), min_size=1, max_size=200))
def test_never_more_than_the_cap_within_any_window(gaps: list[float]) -> None:
    """Whatever the timing, admitted writes within any window never exceed the cap."""
    b = breaker(max_writes=4, window_s=10, cooldown_s=30)
    clock = b.clock  # type: ignore[attr-defined]
    admitted: list[float] = []
    for gap in gaps:
        clock.now += gap
        if b.check("c", "/f") is Verdict.ALLOW:
            admitted.append(clock.now)
    for t in admitted:
        assert sum(1 for u in admitted if t <= u < t + 10) <= 4


def events(store: EventStore) -> list[object]:
    return [store.decode(n) for n in store.read(0, 100_000)]


def _bump(path: Path, n: int) -> None:
    text = path.read_text()
    old = f'"/tmp{n - 1 if n > 1 else ""}"'
    assert old in text
    path.write_text(text.replace(old, f'"/tmp{n}"', 1))


def test_a_burst_of_edits_trips_the_breaker_and_bounds_writes(tmp_path: Path) -> None:
    """Rapid edits propagate until the cap; then writes stop, an alert is raised, resume works."""
    home = tmp_path / "home"
    paths = seed_sandbox(home)
    clock = Clock()
    service = apply_service(
        tmp_path, home, breaker=WriteBreaker(BreakerLimits(max_writes=2, cooldown_s=0), clock=clock)
    )
    service.scan()
    written: list[str] = []
    abandoned: list[str] = []
    for n in range(1, 6):
        _bump(paths["gemini"], n)
        result = service.scan("gemini")
        written += result.written
        abandoned += result.abandoned
    codex = str(paths["codex"])
    assert written.count(codex) == 2
    assert codex in abandoned
    assert "/tmp5" not in paths["codex"].read_text()
    opened = service.gate.breaker.open_files()
    assert {o["client"] for o in opened} >= {"codex"}
    gauges = sync_gauges(service)  # what /metrics reports: every client, zero included
    assert set(gauges["breakers_open"]) == set(service.policy.clients)
    assert gauges["breakers_open"]["codex"] == 1
    assert sum(gauges["breakers_open"].values()) == len(opened)
    assert gauges["breakers_open"]["gemini"] == 0  # the edited client is never written to
    alerts = [e for e in events(service.store) if isinstance(e, Alert.Raised)]
    assert any("codex" in a.source and "stopped writing" in a.message for a in alerts)
    reasons = [e.reason for e in events(service.store) if isinstance(e, SyncLedger.WriteAbandoned)]
    assert any("write breaker open" in r for r in reasons)

    assert codex in service.gate.resume("codex")
    assert sync_gauges(service)["breakers_open"]["codex"] == 0
    result = service.scan("gemini")
    assert codex in result.written or "/tmp5" in paths["codex"].read_text()
    assert any(isinstance(e, Alert.Acknowledged) for e in events(service.store))
