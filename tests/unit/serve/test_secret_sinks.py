"""Secrets found by position or shape never reach a sink in clear.

A corpus of secrets that no key name gives away (a value after ``--api-key``, ``--token=…``,
a URL's password, a credential query parameter, custom auth headers) goes through a real
sync: real files, the SQLite log, the DuckDB projections, CSV / NDJSON / Parquet exports and
the sync API's answers. None of them may hold a secret's text; the client file it came from
keeps it, and no other client's file receives it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from actors.install_key import fingerprint_key
from adapters.registry import load_adapters
from projections.projector import Projector
from serve.sync_api import sync_router
from serve.sync_services import InProcessSyncServices
from synapse._demo_sync import DEMO_ARG, demo_edit, seed_sandbox
from tests.unit.actors._sync_service import apply_service

SECRETS = {
    "after a flag": "plainkey1Q",
    "flag=value": "shorttokQ",
    "URL password in args": "hunter2Q",
    "URL password in env": "hunter3Q",
    "query parameter": "abc123defQ",
    "custom auth header": "custom-secret-1Q",
    "basic auth header": "dXNlcjpwYXNzQ",
}
DB_SERVER = {
    "command": "npx",
    "args": [
        "-y",
        "db-mcp",
        "--api-key",
        SECRETS["after a flag"],
        f"--token={SECRETS['flag=value']}",
        f"postgres://app:{SECRETS['URL password in args']}@db.local/app",
    ],
    "env": {"DATABASE_URL": f"postgres://app:{SECRETS['URL password in env']}@db/app"},
}
REMOTE_SERVER = {
    "type": "http",
    "url": f"https://api.example.com/mcp?api_key={SECRETS['query parameter']}",
    "headers": {
        "X-Custom-Auth": SECRETS["custom auth header"],
        "Proxy-Authorization": f"Basic {SECRETS['basic auth header']}",
    },
}
TABLES = ["events", "clients", "entities", "sync_log", "conflicts", "losses", "alerts"]


def _found(blob: bytes) -> list[str]:
    return [what for what, secret in SECRETS.items() if secret.encode() in blob]


@pytest.fixture
def synced(tmp_path: Path, make_client):  # type: ignore[no-untyped-def]
    """A sandbox whose Claude config holds the corpus, synced (with an edit) in apply mode."""
    home = tmp_path / "home"
    paths = seed_sandbox(home)
    claude = paths["claude-code"]
    data = json.loads(claude.read_text())
    data["mcpServers"].update({"db": DB_SERVER, "remote": REMOTE_SERVER})
    claude.write_text(json.dumps(data, indent=2))
    service = apply_service(
        tmp_path, home, load_adapters(fingerprint_key=fingerprint_key(tmp_path))
    )
    store = service.store
    service.scan()
    demo_edit(home)
    service.scan("gemini")
    projector = Projector(tmp_path / "p.duckdb")
    projector.catch_up(store)
    api = make_client(
        extra_routers=[sync_router(InProcessSyncServices(service, store, projector))], authed=True
    )
    yield tmp_path, paths, projector, api
    projector.close()


def test_the_source_file_keeps_its_secrets_and_no_other_file_gets_them(synced) -> None:  # type: ignore[no-untyped-def]
    """Claude's file is untouched in the corpus servers; the edit still reached everyone."""
    _, paths, _, _ = synced
    assert _found(paths["claude-code"].read_bytes()) == list(SECRETS)
    for client, path in paths.items():
        assert DEMO_ARG in path.read_text(), client
        if client != "claude-code":
            assert _found(path.read_bytes()) == [], client


def test_the_log_and_the_projections_hold_no_secret(synced) -> None:  # type: ignore[no-untyped-def]
    """Neither the SQLite log (with its WAL) nor the DuckDB file, raw or decoded, holds one."""
    tmp_path, _, projector, _ = synced
    files = [
        tmp_path / n for n in ("events.sqlite", "events.sqlite-wal", "p.duckdb", "p.duckdb.wal")
    ]
    assert files[0].exists()
    assert files[2].exists()
    for file in files:
        if file.exists():
            assert _found(file.read_bytes()) == [], file.name
    for table in TABLES:
        rows = projector.query(f"SELECT * FROM {table}")
        assert _found(repr(rows).encode()) == [], table


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "parquet"])
def test_exports_hold_no_secret(synced, fmt: str) -> None:  # type: ignore[no-untyped-def]
    """Every table exported in every format, Parquet decoded, holds no secret."""
    tmp_path, _, projector, _ = synced
    for table in TABLES:
        dest = tmp_path / f"{table}.{fmt}"
        projector.export(table, fmt, dest)  # type: ignore[arg-type]
        blob = dest.read_bytes()
        if fmt == "parquet":
            blob = repr(pq.read_table(io.BytesIO(blob)).to_pylist()).encode()
        assert _found(blob) == [], (table, fmt)


def test_api_answers_hold_no_secret(synced) -> None:  # type: ignore[no-untyped-def]
    """Status, clients, plan, conflicts and the write log answer without any secret."""
    _, _, _, api = synced
    answers = [
        api.get("/api/v1/sync/status"),
        api.get("/api/v1/clients"),
        api.get("/api/v1/sync/log"),
        api.get("/api/v1/conflicts"),
        api.post("/api/v1/sync/plan", json={}),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.url
        assert _found(answer.content) == [], answer.url


def test_servers_that_need_a_secret_are_reported_where_they_cannot_go(synced) -> None:  # type: ignore[no-untyped-def]
    """Every other client gets a loss naming the literal secret instead of a broken copy."""
    _, _, projector, _ = synced
    rows = projector.query("SELECT DISTINCT client, name, reason FROM losses WHERE name = 'db'")
    assert {r[0] for r in rows} >= {"codex", "gemini", "qwen", "cursor", "opencode"}
    assert all("literal secret" in r[2] for r in rows)
