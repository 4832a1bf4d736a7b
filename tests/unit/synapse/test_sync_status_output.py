"""``synapse sync status`` offline: the effective mode and why, each file once, and each
file's read error with its line and since when."""

from __future__ import annotations

from pathlib import Path

import pytest

from synapse.cli import main
from synapse.settings import SYNC_FILE

BROKEN = "---\ndescription: Review code\nargument-hint:\n  - [file\n---\nReview $ARGUMENTS\n"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNAPSE_HOME", str(tmp_path / "synapse"))
    for name in ("SYNAPSE_MODE", "SYNAPSE_SYNC_CLIENTS", "SYNAPSE_SYNC_KINDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SYNAPSE_SYNC_PROJECTS", raising=False)
    home = tmp_path / "synapse"
    home.mkdir()
    return home


def _status(clients: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["sync", "status", "--sync-home", str(clients)]) == 0
    return capsys.readouterr().out.splitlines()


def test_offline_status_says_it_observes_and_why(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """sync.toml says apply; offline the mode is observe, and the line says why and where
    the configured mode comes from."""
    (home / SYNC_FILE).write_text('mode = "apply"\n')
    first = _status(tmp_path / "clients", capsys)[0]
    assert first.startswith("mode: observe (offline: nothing runs")
    assert "`synapse sync apply --plan HASH` writes" in first
    assert 'mode = "apply" (sync.toml) applies while `synapse up` runs' in first


def test_offline_status_names_the_env_override(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SYNAPSE_MODE wins over sync.toml, and the status says it does."""
    (home / SYNC_FILE).write_text('mode = "observe"\n')
    monkeypatch.setenv("SYNAPSE_MODE", "apply")
    first = _status(tmp_path / "clients", capsys)[0]
    assert 'mode = "apply" (SYNAPSE_MODE)' in first


def test_status_prints_each_file_error_with_line_and_since(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken command file is listed with the parser's message, its line and the time it
    was first seen failing; the summary counts it."""
    clients = tmp_path / "clients"
    command = clients / ".claude" / "commands" / "review.md"
    command.parent.mkdir(parents=True)
    command.write_text(BROKEN)
    lines = _status(clients, capsys)
    [at] = [i for i, line in enumerate(lines) if line.endswith(str(command))]
    error = lines[at + 1]
    assert error.strip().startswith("error (line 5, since ")
    assert "invalid YAML" in error
    assert any("1 file(s) could not be read" in line for line in lines)
    again = _status(clients, capsys)
    assert again[again.index(lines[at]) + 1] == error  # the first-seen time is kept


def test_a_file_holding_two_scopes_is_printed_once(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``~/.claude.json`` (user scope and a project's local scope) is one line."""
    clients, project = tmp_path / "clients", tmp_path / "proj"
    project.mkdir()
    clients.mkdir()
    (clients / ".claude.json").write_text('{"mcpServers": {}}\n')
    (home / SYNC_FILE).write_text(f'projects = ["{project}"]\n')
    lines = _status(clients, capsys)
    assert sum(line.endswith(str(clients / ".claude.json")) for line in lines) == 1
