"""``synapse sync approvals|approve|reject`` offline, over real project files and sync.toml."""

from __future__ import annotations

import json
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


def _project(tmp_path: Path, home: Path, entry: str | None = None) -> tuple[Path, list[str]]:
    """Project ``a`` with ``lint`` in its ``.mcp.json``; sync.toml syncs Claude and Cursor
    over it (``entry`` replaces the plain path). Returns the root and the common args."""
    project = tmp_path / "a"
    project.mkdir()
    server = {"command": "npx", "args": ["-y", "lint-mcp"]}
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"lint": server}}))
    home.mkdir(parents=True)
    listed = entry or f'"{project}"'
    (home / SYNC_FILE).write_text(
        f'clients = ["claude-code", "cursor"]\nkinds = ["mcp_server"]\nprojects = [{listed}]\n'
    )
    (tmp_path / "clients").mkdir()
    return project, ["--sync-home", str(tmp_path / "clients")]


def _approval_id(capsys: pytest.CaptureFixture[str], common: list[str]) -> str:
    assert main(["sync", "approvals", *common]) == 0
    return capsys.readouterr().out.split()[0]


def test_approvals_lists_what_would_run_and_status_and_plan_name_the_verb(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The list names the file, the command line and who gets it; status and plan print
    `synapse sync approve <id>`."""
    project, common = _project(tmp_path, home)
    assert main(["sync", "approvals", *common]) == 0
    out = capsys.readouterr().out
    aid = out.split()[0]
    assert f"{aid}  change    mcp_server:lint  project:{project}" in out
    assert f"from:    claude-code {project / '.mcp.json'}" in out
    assert "runs:    npx -y lint-mcp" in out
    assert "goes to: cursor" in out
    approve = f"synapse sync approve {aid}"
    assert f"approve: {approve}" in out
    assert main(["sync", "status", *common]) == 0
    line = f"open: NeedsApproval mcp_server:lint (new project-scope MCP server) run: {approve}"
    assert line in capsys.readouterr().out
    assert main(["sync", "plan", *common]) == 0
    assert f"run: {approve}" in capsys.readouterr().out


def test_approve_offline_records_it_and_apply_writes(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Offline (observe) approve says it is recorded; the plan then writes Cursor's file."""
    project, common = _project(tmp_path, home)
    aid = _approval_id(capsys, common)
    assert main(["sync", "approve", aid, *common]) == 0
    out = capsys.readouterr().out
    assert f"approved {aid}" in out
    assert "`synapse sync apply` writes it" in out
    assert not (project / ".cursor/mcp.json").exists()
    assert main(["sync", "plan", *common]) == 0
    plan_hash = capsys.readouterr().out.strip().splitlines()[-1].removeprefix("plan: ")
    assert main(["sync", "apply", "--plan", plan_hash, *common]) == 0
    cursor = json.loads((project / ".cursor/mcp.json").read_text())
    assert cursor["mcpServers"]["lint"]["command"] == "npx"
    assert main(["sync", "approvals", *common]) == 0
    assert capsys.readouterr().out.strip().endswith("no pending approvals")


def test_reject_offline_is_not_asked_again(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rejected, the change leaves the list for good (a new process replays the rejection)."""
    _, common = _project(tmp_path, home)
    aid = _approval_id(capsys, common)
    assert main(["sync", "reject", aid, *common]) == 0
    assert f"rejected {aid}" in capsys.readouterr().out
    assert main(["sync", "approvals", *common]) == 0
    assert capsys.readouterr().out.strip() == "no pending approvals"


def test_an_unknown_id_is_one_error_and_a_hint(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sync approve` of an id nobody listed exits 2 with `error:` and `hint:`."""
    _, common = _project(tmp_path, home)
    assert main(["sync", "approve", "0123456789ab", *common]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line]
    assert err[0] == "error: no pending approval '0123456789ab'"
    assert err[1].startswith("hint: see `synapse sync approvals`")


def test_a_trusted_project_asks_nothing_and_status_says_so(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`{path = ..., trust = "auto"}`: no approval waits, the plan writes Cursor's project
    file, and status marks the project trusted."""
    project = tmp_path / "a"
    _, common = _project(tmp_path, home, f'{{path = "{project}", trust = "auto"}}')
    assert main(["sync", "approvals", *common]) == 0
    assert capsys.readouterr().out.strip() == "no pending approvals"
    assert main(["sync", "status", *common]) == 0
    assert f'projects:      {project} (trust = "auto")' in capsys.readouterr().out
    assert main(["sync", "plan", *common]) == 0
    assert str(project / ".cursor/mcp.json") in capsys.readouterr().out


def test_a_bad_trust_value_names_the_key(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`trust = "always"` stops the command: one error naming projects[0].trust, a hint."""
    project = tmp_path / "a"
    _, common = _project(tmp_path, home, f'{{path = "{project}", trust = "always"}}')
    assert main(["sync", "approvals", *common]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line]
    assert err[0].startswith("error: ")
    assert "projects[0].trust" in err[0]
    assert '"ask" or "auto"' in err[0]
    assert err[1].startswith("hint: ")
