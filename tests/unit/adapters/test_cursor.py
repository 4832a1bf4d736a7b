"""Cursor adapter: mcpServers with ${env:VAR}; plain Markdown commands."""

from __future__ import annotations

from pathlib import Path

from adapters.base import ConfigFile
from adapters.claude_code import ClaudeCodeAdapter
from adapters.cursor import CursorAdapter
from events.client_config import (
    ArgsPlaceholder,
    Command,
    EnvRef,
    FilePlaceholder,
    Lit,
    McpServer,
    Scope,
    ShellPlaceholder,
    Value,
)
from tests.contract.test_adapter_contract import FIXTURES, AdapterContract


class TestCursor(AdapterContract):
    """Cursor honours the adapter contract."""

    golden = (("rulesync.mcp.json", Scope.PROJECT, ["github"]),)

    def make_adapter(self) -> CursorAdapter:
        return CursorAdapter()

    def test_env_colon_syntax_is_a_reference(self) -> None:
        """${env:GITHUB_TOKEN} (as rulesync writes it for Cursor) is an EnvRef."""
        adapter = self.make_adapter()
        [github] = adapter.parse(
            self.file_for(adapter, Scope.PROJECT), self.fixture("rulesync.mcp.json")
        )
        assert isinstance(github, McpServer)
        assert github.env == {"GITHUB_TOKEN": Value.of(EnvRef("GITHUB_TOKEN"))}


HOME, PROJECT = Path("/home/user"), Path("/home/user/proj")
CLAUDE_REVIEW = """---
description: Review code
argument-hint: "[file]"
model: sonnet
allowed-tools: Read
---
Review $ARGUMENTS carefully. Run !`git diff` and read @src/main.py
"""


def _cursor_file(name: str = "review", project: Path | None = PROJECT) -> ConfigFile:
    scope = Scope.USER if project is None else Scope.PROJECT
    file = CursorAdapter().locate_command(name, scope, HOME, project)
    assert file is not None
    return file


def _claude_review() -> Command:
    claude = ClaudeCodeAdapter()
    file = claude.locate_command("review", Scope.PROJECT, HOME, PROJECT)
    assert file is not None
    [command] = claude.parse(file, CLAUDE_REVIEW)
    assert isinstance(command, Command)
    return command


def test_command_files_live_in_cursor_commands() -> None:
    """User commands sit in ~/.cursor/commands, project ones in <project>/.cursor/commands."""
    assert _cursor_file(project=None).path == HOME / ".cursor/commands/review.md"
    assert _cursor_file().path == PROJECT / ".cursor/commands/review.md"


def test_plain_markdown_parses_to_a_body_only_command() -> None:
    """A Cursor command is its body: no description; placeholders read structurally."""
    adapter = CursorAdapter()
    [command] = adapter.parse(
        _cursor_file(), FIXTURES.joinpath("cursor/review.command.md").read_text()
    )
    assert isinstance(command, Command)
    assert command.name == "review"
    assert (command.description, command.argument_hint, command.model) == (None, None, None)
    assert command.allowed_tools is None
    assert command.extras == {}
    parts = [p for p in command.body if not isinstance(p, Lit)]
    assert parts == [
        ArgsPlaceholder(),
        ShellPlaceholder("git diff --stat"),
        FilePlaceholder("src/main.py"),
    ]


def test_foreign_frontmatter_is_neither_read_nor_touched() -> None:
    """Frontmatter another tool left in a Cursor file is not a description; edits keep it."""
    adapter = CursorAdapter()
    text = "---\ndescription: from apm\n---\nOld body\n"
    [command] = adapter.parse(_cursor_file(), text)
    assert isinstance(command, Command)
    assert command.description is None
    wanted = command.model_copy(update={"body": (Lit("New body\n"),)})
    rendered = adapter.render(_cursor_file(), text, {command.key: wanted})
    assert rendered.text == "---\ndescription: from apm\n---\nNew body\n"


def test_unchanged_cursor_command_round_trips_byte_identical() -> None:
    """Golden: planning a file's own command back into it changes no byte."""
    adapter = CursorAdapter()
    text = FIXTURES.joinpath("cursor/review.command.md").read_text()
    [command] = adapter.parse(_cursor_file(), text)
    assert adapter.plan(_cursor_file(), text, {command.key: command}).edits == []
    assert adapter.render(_cursor_file(), text, {command.key: command}).text == text


def test_claude_command_into_cursor_writes_only_the_body_and_reports_losses() -> None:
    """Frontmatter fields and every placeholder are reported; the file is the bare body."""
    adapter = CursorAdapter()
    command = _claude_review()
    rendered = adapter.render(_cursor_file(), "", {command.key: command})
    assert rendered.text == "Review $ARGUMENTS carefully. Run !`git diff` and read @src/main.py\n"
    lost = {(loss.field, loss.reason.split(" ")[0]) for loss in rendered.losses}
    assert {f for f, _ in lost} == {
        "description",
        "argument_hint",
        "model",
        "allowed_tools",
        "body",
    }
    assert {why for f, why in lost if f == "body"} == {"$ARGUMENTS", "!`git", "@src/main.py"}
    assert all(loss.client == "cursor" for loss in rendered.losses)
    [back] = adapter.parse(_cursor_file(), rendered.text)
    assert isinstance(back, Command)
    assert back.body == command.body, "what Synapse writes reads back as the same body"


def test_namespaced_command_reports_the_flattened_name() -> None:
    """``git/commit`` is written under git/, with a loss saying Cursor shows it as /commit."""
    adapter = CursorAdapter()
    file = _cursor_file("git/commit")
    assert file.path == PROJECT / ".cursor/commands/git/commit.md"
    command = Command(name="git/commit", scope=Scope.PROJECT, body=(Lit("Commit it\n"),))
    rendered = adapter.render(file, "", {command.key: command})
    assert rendered.text == "Commit it\n"
    assert [(x.field, x.reason) for x in rendered.losses] == [
        ("name", "command folders are flattened: shown as /commit")
    ]


def test_discover_lists_command_files_and_capabilities_say_body_only(tmp_path: Path) -> None:
    """discover() includes user and project command files; only the body is supported."""
    project = tmp_path / "proj"
    (tmp_path / ".cursor/commands").mkdir(parents=True)
    (tmp_path / ".cursor/commands/mine.md").write_text("Mine\n")
    (project / ".cursor/commands").mkdir(parents=True)
    (project / ".cursor/commands/team.md").write_text("Team\n")
    adapter = CursorAdapter()
    files = [f for f in adapter.discover(tmp_path, [project]) if "command" in f.kinds]
    assert [(f.path.name, f.scope) for f in files] == [
        ("mine.md", Scope.USER),
        ("team.md", Scope.PROJECT),
    ]
    caps = adapter.capabilities()
    assert caps.supports("command", "body")
    assert not caps.supports("command", "description")
