"""``synapse conflicts resolve ID --value FILE_OR_TEXT`` offline, for a conflict between
personal instruction files (real files, sync.toml, event store and DuckDB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from synapse.cli import main
from synapse.settings import SYNC_FILE

FILES = {"claude-code": ".claude/CLAUDE.md", "codex": ".codex/AGENTS.md"}
SEED = "# Rules\n\n- Be brief.\n- Use British spelling.\n"
TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"


@pytest.fixture
def common(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """sync.toml syncs instructions between Claude and Codex, whose files are in sync;
    returns the arguments every command takes."""
    home = tmp_path / "synapse"
    monkeypatch.setenv("SYNAPSE_HOME", str(home))
    for name in ("SYNAPSE_MODE", "SYNAPSE_SYNC_CLIENTS", "SYNAPSE_SYNC_KINDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SYNAPSE_SYNC_PROJECTS", raising=False)
    home.mkdir()
    (home / SYNC_FILE).write_text('clients = ["claude-code", "codex"]\nkinds = ["instruction"]\n')
    for rel in FILES.values():
        (tmp_path / "clients" / rel).parent.mkdir(parents=True)
        (tmp_path / "clients" / rel).write_text(SEED)
    return ["--sync-home", str(tmp_path / "clients")]


def _apply(capsys: pytest.CaptureFixture[str], common: list[str]) -> None:
    assert main(["sync", "plan", *common]) == 0
    plan_hash = capsys.readouterr().out.strip().splitlines()[-1].removeprefix("plan: ")
    assert main(["sync", "apply", "--plan", plan_hash, *common]) == 0
    capsys.readouterr()


def _open_id(tmp_path: Path, capsys: pytest.CaptureFixture[str], common: list[str]) -> str:
    clients = tmp_path / "clients"
    (clients / FILES["claude-code"]).write_text(SEED.replace("Be brief.", "Be brief, always."))
    (clients / FILES["codex"]).write_text(SEED.replace("Be brief.", "Be brief, mostly."))
    assert main(["sync", "plan", *common]) == 0  # the round that meets the conflict
    capsys.readouterr()
    assert main(["conflicts", *common]) == 0
    [line] = [x for x in capsys.readouterr().out.splitlines() if "InstructionConflict" in x]
    assert "instruction:Rules" in line
    return line.split()[0]


def test_value_from_a_file_is_written_once_into_both_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], common: list[str]
) -> None:
    """A Markdown file given to ``--value`` settles the conflict; the next apply writes its
    text once into each file, and ``conflicts`` lists nothing open."""
    _apply(capsys, common)
    cid = _open_id(tmp_path, capsys, common)
    chosen = tmp_path / "rule.md"
    chosen.write_text("- Be brief unless asked.\n")
    assert main(["conflicts", "resolve", cid, "--value", str(chosen), *common]) == 0
    assert f"resolved {cid}" in capsys.readouterr().out
    _apply(capsys, common)
    for rel in FILES.values():
        text = (tmp_path / "clients" / rel).read_text()
        assert text == SEED.replace("- Be brief.", "- Be brief unless asked.")
    assert main(["conflicts", *common]) == 0
    assert "no open conflicts" in capsys.readouterr().out


def test_a_credential_looking_text_value_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], common: list[str]
) -> None:
    """Text holding a token: a one-line error that does not quote it, non-zero exit, the
    conflict still open and both files as the person left them."""
    _apply(capsys, common)
    cid = _open_id(tmp_path, capsys, common)
    before = {rel: (tmp_path / "clients" / rel).read_bytes() for rel in FILES.values()}
    assert main(["conflicts", "resolve", cid, "--value", f"- Use {TOKEN}.", *common]) != 0
    captured = capsys.readouterr()
    assert "looks like a credential" in captured.err
    assert TOKEN not in captured.out + captured.err
    assert {rel: (tmp_path / "clients" / rel).read_bytes() for rel in FILES.values()} == before
    assert main(["conflicts", *common]) == 0
    assert cid in capsys.readouterr().out
