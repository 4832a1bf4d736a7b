"""An existing ``$SYNAPSE_HOME`` is tightened at every start: folders 0700, the files
Synapse keeps there 0600, and a warning names each path that had to change."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from events.store import EventStore, StoreConfig
from projections.projector import Projector
from synapse.bootstrap import prepare_home
from synapse.settings import load_settings

SECRET_FILES = (
    "events.sqlite",
    "events.sqlite-wal",
    "events.sqlite-shm",
    "projections.duckdb",
    "token",
    "fingerprint.key",
    "cipher.key",
    "auth.key",
    "users.json",
    "preimages/ab/abcdef",
    "logs/synapse.log",
    "exports/events.parquet",
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _loose_home(home: Path) -> None:
    """A home as ``cp -r`` under umask 022 leaves it: folders 0755, files 0644."""
    for rel in SECRET_FILES:
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("t" * 43 if rel in ("token", "auth.key") else "x")
        path.chmod(0o644)
    for folder in (home, home / "preimages", home / "preimages" / "ab", home / "logs"):
        folder.chmod(0o755)
    (home / "exports").chmod(0o755)
    (home / "sync.toml").write_text("# not secret\n")
    (home / "sync.toml").chmod(0o644)


def test_a_loose_home_is_tightened_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """0755/0644 become 0700/0600 for the home, store files (-wal, -shm), keys, token,
    pre-images, logs and exports; the warning names what changed."""
    home = tmp_path / "synapse"
    home.mkdir()
    _loose_home(home)
    with caplog.at_level(logging.WARNING, logger="synapse.bootstrap"):
        prepare_home(load_settings(environ={}, home=home))
    for folder in (home, home / "preimages", home / "preimages" / "ab", home / "logs"):
        assert _mode(folder) == 0o700, folder
    assert _mode(home / "exports") == 0o700
    for rel in SECRET_FILES:
        assert _mode(home / rel) == 0o600, rel
    assert _mode(home / "sync.toml") == 0o644  # not Synapse's secret: left as the user set it
    [record] = [r for r in caplog.records if "tightened" in r.getMessage()]
    message = record.getMessage()
    assert record.levelno == logging.WARNING
    assert f"{home / 'token'} 0644 -> 0600" in message
    assert f"{home} 0755 -> 0700" in message
    assert f"{home / 'preimages' / 'ab' / 'abcdef'} 0644 -> 0600" in message


def test_a_tight_home_starts_silently(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The second start finds nothing to change and warns about nothing; stricter modes
    (a 0400 token) are kept."""
    home = tmp_path / "synapse"
    home.mkdir()
    _loose_home(home)
    settings = load_settings(environ={}, home=home)
    prepare_home(settings)
    (home / "token").chmod(0o400)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="synapse.bootstrap"):
        prepare_home(settings)
    assert not [r for r in caplog.records if "tightened" in r.getMessage()]
    assert _mode(home / "token") == 0o400


def test_a_symlink_in_the_home_is_not_followed(tmp_path: Path) -> None:
    """A symlinked pre-image pointing outside the home keeps its target's mode."""
    home, outside = tmp_path / "synapse", tmp_path / "elsewhere.txt"
    (home / "preimages").mkdir(parents=True)
    outside.write_text("not ours")
    outside.chmod(0o644)
    (home / "preimages" / "link").symlink_to(outside)
    prepare_home(load_settings(environ={}, home=home))
    assert _mode(outside) == 0o644


def test_a_new_log_and_projection_are_private_from_the_start(tmp_path: Path) -> None:
    """The event store (with its WAL) and the DuckDB file are created 0600, so a second
    start finds nothing to tighten (no warning on a fresh install)."""
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.sqlite"))
    with Projector(tmp_path / "projections.duckdb") as projector:
        projector.catch_up(store)
    created = [p for p in tmp_path.iterdir() if p.is_file()]
    assert {p.name for p in created} >= {"events.sqlite", "projections.duckdb"}
    assert {p.name: _mode(p) for p in created} == {p.name: 0o600 for p in created}
