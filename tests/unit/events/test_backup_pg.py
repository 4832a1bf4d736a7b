"""``pg_dump`` backups of a PostgreSQL event store against a real PostgreSQL 15 on 127.0.0.1."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import psycopg
import pytest

from events._backup_files import Manifest, manifest_path
from events._store_config import PostgresConfig
from events.backup_pg import pg_backup, pg_restore
from events.errors import BackupError
from events.runtime import Alert
from events.store import EventStore, StoreConfig

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(postgres_server: dict) -> PostgresConfig:
    """A fresh database of its own on the session's server."""
    name = f"backup_{uuid.uuid4().hex[:8]}"
    host, port = postgres_server["host"], postgres_server["port"]
    admin = f"host={host} port={port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return PostgresConfig(
        host=str(postgres_server["host"]),
        port=int(postgres_server["port"]),
        user=str(postgres_server["user"]),
        dbname=name,
    )


def _append(pg: PostgresConfig, tag: str, n: int) -> int:
    store = EventStore(StoreConfig(backend="postgres", postgres=pg))
    try:
        for i in range(n):
            store.save_all(Alert(alert_id=f"{tag}-{i}", severity="info", source="pg", message=tag))
        return store.head()
    finally:
        store.close_quietly()


def test_backup_while_writing_matches_its_manifest_and_restores(
    pg: PostgresConfig, tmp_path: Path
) -> None:
    """A dump taken while another thread appends is one snapshot: restoring it gives exactly
    the manifest's head and count; the newer log is refused, then dumped aside with --force."""
    _append(pg, "base", 50)
    stop = threading.Event()

    def writer() -> None:
        store = EventStore(StoreConfig(backend="postgres", postgres=pg, create_table=False))
        i = 0
        while not stop.is_set() and i < 2000:  # bounded
            store.save_all(Alert(alert_id=f"w-{i}", severity="info", source="pg", message="w"))
            i += 1
        store.close_quietly()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        manifest = pg_backup(pg, tmp_path / "log.dump", ciphered=False)
    finally:
        stop.set()
        thread.join()
    assert Manifest.read(manifest_path(tmp_path / "log.dump")) == manifest
    assert manifest.kind == "pg_dump"
    assert manifest.events >= 50
    newer = _append(pg, "after", 3)
    assert newer > manifest.head

    with pytest.raises(BackupError, match="newer than the backup"):
        pg_restore(tmp_path / "log.dump", pg)
    result = pg_restore(tmp_path / "log.dump", pg, force=True)
    assert (result.head, result.previous_head) == (manifest.head, newer)
    assert result.kept.exists()  # the newer log was dumped aside first
    assert Manifest.read(manifest_path(result.kept)).head == newer
    store = EventStore(StoreConfig(backend="postgres", postgres=pg, create_table=False))
    assert store.head() == manifest.head
    store.close_quietly()


def test_a_tampered_dump_is_refused_and_the_log_is_untouched(
    pg: PostgresConfig, tmp_path: Path
) -> None:
    """One changed byte fails the SHA-256 check before anything touches the database."""
    _append(pg, "t", 5)
    pg_backup(pg, tmp_path / "log.dump", ciphered=False)
    head = _append(pg, "more", 2)
    data = bytearray((tmp_path / "log.dump").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "log.dump").write_bytes(bytes(data))
    with pytest.raises(BackupError, match="does not match its manifest"):
        pg_restore(tmp_path / "log.dump", pg, force=True)
    store = EventStore(StoreConfig(backend="postgres", postgres=pg, create_table=False))
    assert store.head() == head
    store.close_quietly()
    assert not list(tmp_path.glob("*.before-restore-*"))


def test_the_cli_backs_up_and_restores_postgres_and_rebuilds_projections(
    pg: PostgresConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With SYNAPSE_STORE=postgres, ``synapse backup`` writes a dump + manifest in backups/,
    and ``restore --force`` puts the log back and rebuilds DuckDB to the same head."""
    import duckdb

    from synapse.cli import main

    for name, value in {
        "SYNAPSE_HOME": str(tmp_path / "home"),
        "SYNAPSE_STORE": "postgres",
        "SYNAPSE_PG_HOST": pg.host,
        "SYNAPSE_PG_PORT": str(pg.port),
        "SYNAPSE_PG_USER": pg.user,
        "SYNAPSE_PG_DBNAME": pg.dbname,
    }.items():
        monkeypatch.setenv(name, value)
    head = _append(pg, "cli", 7)
    assert main(["backup"]) == 0
    assert f"(log head {head})" in capsys.readouterr().out
    (dump,) = (tmp_path / "home" / "backups").glob("events-*.dump")
    _append(pg, "later", 2)
    assert main(["restore", str(dump), "--force"]) == 0
    out = capsys.readouterr().out
    assert f"restored the log to head {head}" in out
    assert f"projections rebuilt up to log position {head}" in out
    with duckdb.connect(str(tmp_path / "home" / "projections.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events").fetchone() == (head,)
