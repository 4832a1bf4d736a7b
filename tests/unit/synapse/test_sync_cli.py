"""``synapse sync status|resume`` offline: the policy file is created, shown and validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from synapse.cli import main
from synapse.settings import SYNC_FILE


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNAPSE_HOME", str(tmp_path / "synapse"))
    for name in ("SYNAPSE_MODE", "SYNAPSE_SYNC_CLIENTS", "SYNAPSE_SYNC_KINDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SYNAPSE_SYNC_PROJECTS", raising=False)
    return tmp_path / "synapse"


def test_status_creates_the_policy_file_and_shows_the_policy(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """First `sync status` writes sync.toml and prints the effective policy."""
    assert main(["sync", "status", "--sync-home", str(tmp_path / "clients")]) == 0
    out = capsys.readouterr().out
    assert (home / SYNC_FILE).exists()
    assert "policy:" in out
    assert "kinds:         command, instruction, mcp_server, skill, subagent" in out
    assert "projects:      none" in out


def test_status_limits_files_to_the_configured_clients_and_projects(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only configured clients are listed, each with its project file."""
    project = tmp_path / "proj"
    project.mkdir()
    home.mkdir(parents=True)
    (home / SYNC_FILE).write_text(f'clients = ["codex"]\nprojects = ["{project}"]\n')
    assert main(["sync", "status", "--sync-home", str(tmp_path / "clients")]) == 0
    out = capsys.readouterr().out
    assert str(project / ".codex/config.toml") in out
    assert "gemini" not in out


def test_a_bad_policy_file_is_one_error_and_a_hint(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad value exits 2 with `error:` naming the key and a `hint:`; no traceback."""
    home.mkdir(parents=True)
    (home / SYNC_FILE).write_text('conflict = "loudest"\n')
    assert main(["sync", "status", "--sync-home", str(tmp_path / "clients")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line]
    assert err[0].startswith("error: ")
    assert "conflict" in err[0]
    assert err[1].startswith("hint: ")


def test_resume_offline_has_nothing_to_resume(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a running system no breaker is open; resume says so and succeeds."""
    assert main(["sync", "resume", "codex", "--sync-home", str(tmp_path / "clients")]) == 0
    assert "no open write breaker for codex" in capsys.readouterr().out
