"""The event store: idempotent commands, optimistic concurrency, cipher, durability, faults."""

from __future__ import annotations

import base64
import os
import sqlite3
from pathlib import Path

import pytest
from eventsourcing.application import AggregateNotFoundError

from events.errors import (
    CipherKeyError,
    ConcurrencyError,
    DurabilityError,
    StoreUnavailableError,
)
from events.runtime import ActorLifecycle, Alert
from events.store import EventStore, PostgresConfig, StoreConfig, aggregate_id, load_cipher_key


def _create(actor: str):
    def build(command_id: str) -> ActorLifecycle:
        return ActorLifecycle._create(
            ActorLifecycle.Registered,
            id=aggregate_id("actor", actor),
            command_id=command_id,
            actor=actor,
        )

    return build


def _start(store: EventStore, actor: str, command_id: str, pid: int = 1) -> ActorLifecycle:
    return store.execute(
        ActorLifecycle,
        aggregate_id("actor", actor),
        command_id,
        lambda a: a.start(actor=actor, node="n", pid=pid),
        create=_create(actor),
    )


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    s = EventStore(StoreConfig(sqlite_path=tmp_path / "events.sqlite"))
    yield s
    s.close_quietly()


def test_retried_command_appends_nothing_twice(store: EventStore) -> None:
    """The same command id applied twice appends its events once."""
    _start(store, "p", "cmd-1")
    _start(store, "p", "cmd-1")
    _start(store, "p", "cmd-2", pid=2)
    _start(store, "p", "cmd-2", pid=2)
    assert store.head() == 3  # Registered + Started(cmd-1) + Started(cmd-2)
    bodies = [store.decode_body(n) for n in store.read(0, 10)]
    assert [b["command_id"] for b in bodies] == ["cmd-1", "cmd-1", "cmd-2"]


def test_expected_version_mismatch_is_refused(store: EventStore) -> None:
    """A command carrying a stale expected version fails and appends nothing."""
    agg = _start(store, "p", "c1")
    with pytest.raises(ConcurrencyError, match="expected version"):
        store.execute(
            ActorLifecycle,
            agg.id,
            "c2",
            lambda a: a.stop(actor="p", reason="x"),
            expected_version=agg.version - 1,
        )
    assert store.head() == 2


def test_concurrent_writer_loses_with_integrity_error(tmp_path: Path) -> None:
    """Two store instances saving the same aggregate version: the second one is refused."""
    path = tmp_path / "e.sqlite"
    a, b = EventStore(StoreConfig(sqlite_path=path)), EventStore(StoreConfig(sqlite_path=path))
    _start(a, "p", "c1")
    stale = b.repository.get(aggregate_id("actor", "p"))
    _start(a, "p", "c2")
    stale.stop(actor="p", reason="late")
    with pytest.raises(ConcurrencyError):
        b.save_all(stale)
    assert a.head() == 3


def test_missing_aggregate_without_create_raises(store: EventStore) -> None:
    """Commands on unknown aggregates fail unless a factory is given."""
    with pytest.raises(AggregateNotFoundError):
        store.execute(ActorLifecycle, aggregate_id("actor", "x"), "c", lambda a: None)


def test_sqlite_is_wal_with_synchronous_full(store: EventStore, tmp_path: Path) -> None:
    """The store runs in WAL mode with ``synchronous=FULL`` on its own connection.

    ``journal_mode`` is persistent, so a fresh connection sees it; ``synchronous`` is per
    connection, so it is read on the connection the store writes with.
    """
    con = sqlite3.connect(tmp_path / "events.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()
    datastore = store.recorder.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=False) as curs:
        curs.execute("PRAGMA synchronous")
        assert int(curs.fetchone()[0]) == 2  # 2 = FULL: every commit is fsynced


def test_durability_check_refuses_a_non_wal_database(tmp_path: Path) -> None:
    """A SQLite database that cannot run in WAL mode (in-memory) is refused at open."""
    with pytest.raises(DurabilityError, match="journal_mode"):
        EventStore(StoreConfig(sqlite_path=Path("file:synapse-test?mode=memory&cache=shared")))


def test_cipher_hides_bodies_and_wrong_key_fails_closed(tmp_path: Path) -> None:
    """With a key, bodies are unreadable on disk; a different key refuses to open the log."""
    key = load_cipher_key(tmp_path / "cipher.key", create=True)
    path = tmp_path / "e.sqlite"
    s = EventStore(StoreConfig(sqlite_path=path, cipher_key=key))
    _start(s, "canary-actor-name", "c1")
    s.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("e.sqlite*"))
    assert b"canary-actor-name" not in raw
    wrong = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(CipherKeyError, match="does not match"):
        EventStore(StoreConfig(sqlite_path=path, cipher_key=wrong))
    again = EventStore(StoreConfig(sqlite_path=path, cipher_key=key))
    assert again.decode_body(again.read(0, 1)[0])["actor"] == "canary-actor-name"
    again.close()


def test_cipher_key_file_is_0600_and_group_readable_key_is_refused(tmp_path: Path) -> None:
    """The key file is created 0600; a key file readable by others is refused."""
    path = tmp_path / "cipher.key"
    load_cipher_key(path, create=True)
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o644)
    with pytest.raises(CipherKeyError, match="0600"):
        load_cipher_key(path, create=False)


@pytest.mark.parametrize("content", ["not base64!!", base64.b64encode(b"short").decode()])
def test_malformed_cipher_key_is_refused(tmp_path: Path, content: str) -> None:
    """Garbage or wrong-length keys are refused with a clear error."""
    path = tmp_path / "k"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(CipherKeyError):
        load_cipher_key(path, create=False)


def test_unwritable_home_is_a_clear_error(tmp_path: Path) -> None:
    """A store under a read-only folder fails with StoreUnavailableError, not a traceback."""
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores modes; use a path under a file instead
            target = tmp_path / "file"
            target.write_text("x")
            path = target / "sub" / "e.sqlite"
        else:
            path = ro / "e.sqlite"
        with pytest.raises(StoreUnavailableError):
            EventStore(StoreConfig(sqlite_path=path))
    finally:
        ro.chmod(0o700)


def test_full_disk_gives_clear_error_and_recovers(tiny_disk: Path, fill_disk) -> None:
    """On a real full disk appends fail cleanly, nothing half-written; they resume after."""
    store = EventStore(StoreConfig(sqlite_path=tiny_disk / "e.sqlite"))
    _start(store, "p", "c0")
    head_before = store.head()
    filler = fill_disk(tiny_disk)
    big = "x" * 200_000

    def append(i: int) -> None:
        store.execute(
            Alert,
            aggregate_id("alert", f"a{i}"),
            f"c{i}",
            lambda a: None,
            create=lambda cid: Alert._create(
                Alert.Raised,
                id=aggregate_id("alert", f"a{i}"),
                command_id=cid,
                alert_id=f"a{i}",
                severity="info",
                source="t",
                message=big,
            ),
        )

    failed = None
    for i in range(50):
        try:
            append(i)
        except StoreUnavailableError as exc:
            failed = exc
            break
    assert failed is not None
    assert "write failed" in failed.message
    head_full = store.head()
    assert head_full >= head_before
    versions = [(n.originator_id, n.originator_version) for n in store.read(0, 1000)]
    assert len(versions) == head_full  # nothing half-written
    filler.unlink()
    _start(store, "p", "after-space-returns", pid=9)
    assert store.head() == head_full + 1
    store.close_quietly()


def test_upcaster_chain_runs_on_read(store: EventStore) -> None:
    """A v1 body stored before a schema change reads back upcast to the current class."""
    from events._mapper import PydanticMapper

    class_ = ActorLifecycle.Stopped
    original_version = getattr(class_, "class_version", 1)

    def upcast_v1_v2(state: dict) -> None:
        state["reason"] = state["reason"].upper()

    _start(store, "p", "c1")
    store.execute(
        ActorLifecycle, aggregate_id("actor", "p"), "c2", lambda a: a.stop(actor="p", reason="bye")
    )
    class_.class_version = 2  # type: ignore[attr-defined]
    class_.upcast_v1_v2 = staticmethod(upcast_v1_v2)  # type: ignore[attr-defined]
    try:
        mapper = store.mapper
        assert isinstance(mapper, PydanticMapper)
        note = store.read(2, 1)[0]
        assert store.decode(note).reason == "BYE"
    finally:
        class_.class_version = original_version  # type: ignore[attr-defined]
        del class_.upcast_v1_v2  # type: ignore[attr-defined]


@pytest.mark.postgres
def test_postgres_backend_appends_and_dedupes(postgres_server: dict) -> None:
    """The PostgreSQL store (eventsourcing's own module) keeps the same guarantees."""
    config = StoreConfig(
        backend="postgres",
        postgres=PostgresConfig(
            host=str(postgres_server["host"]),
            port=int(postgres_server["port"]),
            user=str(postgres_server["user"]),
            dbname=str(postgres_server["dbname"]),
        ),
    )
    store = EventStore(config)
    start = store.head()
    _start(store, "pg-actor", "c1")
    _start(store, "pg-actor", "c1")
    assert store.head() == start + 2
    other = EventStore(
        StoreConfig(backend="postgres", postgres=config.postgres, create_table=False)
    )
    assert [n.topic.split(":")[1] for n in other.read(start, 10)] == [
        "ActorLifecycle.Registered",
        "ActorLifecycle.Started",
    ]
    other.close_quietly()
    store.close_quietly()
