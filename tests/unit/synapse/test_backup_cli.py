"""``synapse backup`` and ``synapse restore`` as a user runs them (real subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb

from events.runtime import Alert
from events.store import EventStore, StoreConfig

REPO_ROOT = Path(__file__).resolve().parents[3]
SYNAPSE = REPO_ROOT / ".venv" / "bin" / "synapse"


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("SYNAPSE_") or k == "SYNAPSE_HOME"
    }
    env["SYNAPSE_HOME"] = str(home)
    return subprocess.run(
        [str(SYNAPSE), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )


def _append(db: Path, tag: str, n: int) -> int:
    store = EventStore(StoreConfig(sqlite_path=db))
    try:
        for i in range(n):
            alert = Alert(alert_id=f"{tag}-{i}", severity="low", source="cli", message=tag)
            alert.acknowledge(by="cli")
            store.save_all(alert)
        return store.head()
    finally:
        store.close()


def test_backup_then_restore_round_trip_through_the_cli(tmp_path: Path) -> None:
    """`synapse backup` writes a file + manifest under $SYNAPSE_HOME/backups; `synapse
    restore` refuses it over a newer log, takes it with --force, keeps the old log and
    rebuilds the projections to the backup's head."""
    home = tmp_path / "home"
    db = home / "events.sqlite"
    head = _append(db, "a", 10)

    made = _run(home, "backup")
    assert made.returncode == 0, made.stderr
    [backup_file] = sorted((home / "backups").glob("events-*.sqlite"))
    manifest = json.loads((backup_file.parent / (backup_file.name + ".manifest.json")).read_text())
    assert manifest["head"] == head == 20
    assert str(backup_file) in made.stdout

    _append(db, "b", 5)
    refused = _run(home, "restore", str(backup_file))
    assert refused.returncode == 1
    assert "error:" in refused.stderr
    assert "newer" in refused.stderr
    assert "--force" in refused.stderr
    assert "Traceback" not in refused.stderr

    done = _run(home, "restore", str(backup_file), "--force")
    assert done.returncode == 0, done.stderr
    assert "projections rebuilt up to log position 20" in done.stdout
    [kept] = home.glob("events.sqlite.before-restore-*")
    assert _append(kept, "check", 0) == 30
    con = duckdb.connect(str(home / "projections.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*), max(position) FROM events").fetchone() == (20, 20)
    finally:
        con.close()


def test_backup_to_a_chosen_path_and_restore_refused_while_running(tmp_path: Path) -> None:
    """`-o PATH` writes exactly there; `restore` refuses while the home says Synapse runs
    (server.json), leaving the log alone."""
    home = tmp_path / "home"
    db = home / "events.sqlite"
    _append(db, "a", 3)
    target = tmp_path / "elsewhere" / "log.sqlite"

    made = _run(home, "backup", "-o", str(target))
    assert made.returncode == 0, made.stderr
    assert target.is_file()
    assert (tmp_path / "elsewhere" / "log.sqlite.manifest.json").is_file()

    (home / "server.json").write_text(json.dumps({"url": "http://127.0.0.1:1", "namespace": "x"}))
    (home / "token").write_text("t\n")
    before = db.read_bytes()
    refused = _run(home, "restore", str(target))
    assert refused.returncode == 2
    assert "running" in refused.stderr
    assert "synapse down" in refused.stderr
    assert db.read_bytes() == before


def test_since_last_writes_a_segment_that_restores_the_whole_log(tmp_path: Path) -> None:
    """`synapse backup --since-last` stores only the new events, chained to the newest
    backup; `synapse restore` of that segment rebuilds the whole log and projections."""
    home = tmp_path / "home"
    db = home / "events.sqlite"
    _append(db, "a", 10)
    nothing = _run(home, "backup", "--since-last")
    assert nothing.returncode == 2
    assert "full backup first" in nothing.stderr
    assert _run(home, "backup").returncode == 0
    head = _append(db, "b", 4)

    made = _run(home, "backup", "--since-last")
    assert made.returncode == 0, made.stderr
    [segment] = sorted((home / "backups").glob("*.incr.sqlite"))
    manifest = json.loads((segment.parent / (segment.name + ".manifest.json")).read_text())
    assert (manifest["kind"], manifest["base_head"], manifest["head"]) == ("incremental", 20, 28)
    assert manifest["events"] == 8
    assert "backed up 8 events after events-" in made.stdout

    db.unlink()
    done = _run(home, "restore", str(segment))
    assert done.returncode == 0, done.stderr
    assert f"projections rebuilt up to log position {head}" in done.stdout
