"""OpenCode adapter: mcp key, command array, environment, {env:X}, enabled."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.claude_code import ClaudeCodeAdapter
from adapters.formats import Format, load
from adapters.opencode import OpenCodeAdapter
from events.client_config import EnvRef, McpServer, Scope, Subagent, Transport, Value
from events.errors import UnsafeInputError
from tests.contract.test_adapter_contract import AdapterContract


class TestOpenCode(AdapterContract):
    """OpenCode honours the adapter contract."""

    golden = (
        ("home.opencode.jsonc", Scope.USER, ["remhttp", "fs", "another"]),
        ("project.opencode.jsonc", Scope.PROJECT, ["projsrv"]),
    )

    def make_adapter(self) -> OpenCodeAdapter:
        return OpenCodeAdapter()

    def test_command_array_environment_and_enabled(self) -> None:
        """The command array splits into command + args; {env:X} is a reference."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.PROJECT)
        [projsrv] = adapter.parse(file, self.fixture("project.opencode.jsonc"))
        assert isinstance(projsrv, McpServer)
        assert projsrv.command == Value.of("node")
        assert projsrv.args == (Value.of("p.js"),)
        assert projsrv.enabled is False
        assert projsrv.env == {"T": Value.of(EnvRef("MY_TOKEN"))}

    def test_bearer_reference_renders_in_opencode_syntax(self) -> None:
        """A bearer env var becomes an Authorization header with {env:X}."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.USER)
        server = McpServer(
            name="r", transport=Transport.HTTP, url=Value.of("http://a"), bearer_token_env="T"
        )
        data = load(Format.JSONC, adapter.render(file, "", {server.key: server}).text)
        assert data["mcp"]["r"] == {
            "type": "remote",
            "url": "http://a",
            "headers": {"Authorization": "Bearer {env:T}"},
        }
        [back] = adapter.parse(file, adapter.render(file, "", {server.key: server}).text)
        assert back.bearer_token_env == "T"


NESTED_AGENT = "---\ndescription: Reviews code\nmode: subagent\n---\nYou review code.\n"


def test_agent_in_a_sub_folder_is_named_by_its_path_as_opencode_names_it(tmp_path: Path) -> None:
    """``.opencode/agent/team/reviewer.md`` (legacy folder, nested) is agent ``team/reviewer``."""
    home, proj = tmp_path / "home", tmp_path / "proj"
    path = proj / ".opencode/agent/team/reviewer.md"
    path.parent.mkdir(parents=True)
    path.write_text(NESTED_AGENT)
    adapter = OpenCodeAdapter()
    [cfg] = adapter.subagent_files(home, [proj])
    assert cfg.path == path
    [agent] = adapter.parse(cfg, path.read_text())
    assert isinstance(agent, Subagent)
    assert agent.name == "team/reviewer"
    assert agent.prompt == "You review code.\n"


def test_nested_agent_is_located_where_it_lives_else_in_the_current_folder(tmp_path: Path) -> None:
    """An existing nested agent is edited in place; a new one goes under ``agents/``."""
    home, proj = tmp_path / "home", tmp_path / "proj"
    adapter = OpenCodeAdapter()
    new = adapter.locate_subagent("team/reviewer", Scope.PROJECT, home, proj)
    assert new is not None
    assert new.path == proj / ".opencode/agents/team/reviewer.md"
    legacy = proj / ".opencode/agent/team/reviewer.md"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(NESTED_AGENT)
    found = adapter.locate_subagent("team/reviewer", Scope.PROJECT, home, proj)
    assert found is not None
    assert found.path == legacy
    changed = Subagent(name="team/reviewer", description="Reviews code", prompt="Twice.\n")
    text = adapter.render(found, legacy.read_text(), {changed.key: changed}).text
    [back] = adapter.parse(found, text)
    assert back.synced() == changed.synced()


@pytest.mark.parametrize("hostile", ["../x", "team/../x", "team//x", "/abs", "team/.hidden"])
def test_hostile_nested_agent_names_are_refused(tmp_path: Path, hostile: str) -> None:
    """A sub-folder name never escapes the agents folder."""
    with pytest.raises(UnsafeInputError):
        OpenCodeAdapter().locate_subagent(hostile, Scope.USER, tmp_path)


def test_a_client_without_agent_sub_folders_refuses_a_nested_name(tmp_path: Path) -> None:
    """Claude keeps agents in one folder: ``team/reviewer`` is refused with the reason."""
    with pytest.raises(UnsafeInputError, match="no agent sub-folders"):
        ClaudeCodeAdapter().locate_subagent("team/reviewer", Scope.USER, tmp_path)


def test_legacy_command_folder_is_read_and_new_commands_go_to_commands(tmp_path: Path) -> None:
    """Commands in ``command/`` and ``commands/`` are both read; a new one goes to
    ``commands/`` (the documented folder); one in ``command/`` is located in place."""
    home = tmp_path / "home"
    legacy = home / ".config/opencode/command/old.md"
    current = home / ".config/opencode/commands/team/new.md"
    for path in (legacy, current):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("Do it\n")
    adapter = OpenCodeAdapter()
    assert {f.path for f in adapter.command_files(home, [])} == {legacy, current}
    old = adapter.locate_command("old", Scope.USER, home)
    fresh = adapter.locate_command("fresh", Scope.USER, home)
    assert old is not None
    assert fresh is not None
    assert old.path == legacy
    assert fresh.path == home / ".config/opencode/commands/fresh.md"
