"""Slash commands: Claude/OpenCode Markdown ↔ Gemini/Qwen TOML, placeholders structured."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.claude_code import ClaudeCodeAdapter
from adapters.formats import Format, load
from adapters.gemini_cli import GeminiCliAdapter
from adapters.opencode import OpenCodeAdapter
from events.client_config import (
    ArgPlaceholder,
    ArgsPlaceholder,
    Command,
    FilePlaceholder,
    Lit,
    Scope,
    ShellPlaceholder,
)
from events.errors import UnsafeInputError

HOME, PROJECT = Path("/home/user"), Path("/home/user/proj")
CLAUDE_MD = """---
description: Review code
allowed-tools: Bash(git diff:*), Read
argument-hint: "[file]"
model: sonnet
---
Review $ARGUMENTS carefully. First arg: $1. Context: !`git diff --stat` and @src/main.py
"""
GEMINI_TOML = '''description = "Generate a commit message"
prompt = """Write a commit message for: {{args}}
!{git diff --staged} see @{README.md}"""
'''


def _claude_command() -> Command:
    adapter = ClaudeCodeAdapter()
    file = adapter.locate_command("git/review", Scope.PROJECT, HOME, PROJECT)
    assert file is not None
    [command] = adapter.parse(file, CLAUDE_MD)
    assert isinstance(command, Command)
    return command


def test_claude_markdown_placeholders_are_structured() -> None:
    """$ARGUMENTS, $1, !`cmd` and @file become typed placeholders; frontmatter is mapped."""
    command = _claude_command()
    assert command.name == "git/review"
    assert command.description == "Review code"
    assert command.argument_hint == "[file]"
    assert command.allowed_tools == ("Bash(git diff:*)", "Read")
    assert command.body == (
        Lit("Review "),
        ArgsPlaceholder(),
        Lit(" carefully. First arg: "),
        ArgPlaceholder(1),
        Lit(". Context: "),
        ShellPlaceholder("git diff --stat"),
        Lit(" and "),
        FilePlaceholder("src/main.py"),
        Lit("\n"),
    )


def test_gemini_toml_placeholders_are_structured() -> None:
    """{{args}}, !{cmd} and @{path} parse to the same placeholders as Markdown."""
    adapter = GeminiCliAdapter()
    file = adapter.locate_command("git/commit", Scope.USER, HOME)
    assert file is not None
    assert file.path == HOME / ".gemini/commands/git/commit.toml"
    [command] = adapter.parse(file, GEMINI_TOML)
    assert isinstance(command, Command)
    assert ArgsPlaceholder() in command.body
    assert ShellPlaceholder("git diff --staged") in command.body
    assert FilePlaceholder("README.md") in command.body


def test_claude_command_into_gemini_reports_what_toml_cannot_hold() -> None:
    """Placeholders are translated; $1, argument-hint, model and tools are losses."""
    command = _claude_command()
    gemini = GeminiCliAdapter()
    file = gemini.locate_command(command.name, Scope.PROJECT, HOME, PROJECT)
    assert file is not None
    rendered = gemini.render(file, "", {command.key: command})
    data = load(Format.TOML, rendered.text)
    assert "{{args}}" in data["prompt"]
    assert "!{git diff --stat}" in data["prompt"]
    assert "@{src/main.py}" in data["prompt"]
    assert {loss.field for loss in rendered.losses} == {
        "body",
        "argument_hint",
        "model",
        "allowed_tools",
    }
    [back] = gemini.parse(file, rendered.text)
    assert isinstance(back, Command)
    lossless = [p for p in command.body if not isinstance(p, Lit | ArgPlaceholder)]
    assert [p for p in back.body if not isinstance(p, Lit)] == lossless
    assert back.description == command.description


def test_gemini_command_into_opencode_markdown_round_trips() -> None:
    """A TOML command written as OpenCode Markdown parses back to the same body."""
    gemini, opencode = GeminiCliAdapter(), OpenCodeAdapter()
    src = gemini.locate_command("commit", Scope.USER, HOME)
    dst = opencode.locate_command("commit", Scope.PROJECT, HOME, PROJECT)
    assert src is not None
    assert dst is not None
    assert dst.path == PROJECT / ".opencode/commands/commit.md"
    [command] = gemini.parse(src, GEMINI_TOML)
    rendered = opencode.render(dst, "", {command.key: command})
    assert rendered.losses == []
    [back] = opencode.parse(dst, rendered.text)
    assert back.digest() == command.digest()


def test_unchanged_command_plans_nothing_and_delete_removes_the_file() -> None:
    """The command's own state yields no edits; None marks the file for deletion."""
    adapter = ClaudeCodeAdapter()
    file = adapter.locate_command("git/review", Scope.PROJECT, HOME, PROJECT)
    assert file is not None
    command = _claude_command()
    assert adapter.plan(file, CLAUDE_MD, {command.key: command}).edits == []
    assert adapter.render(file, CLAUDE_MD, {command.key: None}).delete_file


def test_existing_command_files_are_discovered(tmp_path: Path) -> None:
    """discover() lists command files under the user and project command dirs."""
    (tmp_path / ".claude/commands/git").mkdir(parents=True)
    (tmp_path / ".claude/commands/git/review.md").write_text(CLAUDE_MD)
    files = [f for f in ClaudeCodeAdapter().discover(tmp_path, []) if "command" in f.kinds]
    assert [f.path.name for f in files] == ["review.md"]


@pytest.mark.parametrize("name", ["../x", "a//b", "bad\x00"])
def test_hostile_command_names_are_refused(name: str) -> None:
    """Command names cannot climb out of the commands directory."""
    with pytest.raises(UnsafeInputError):
        ClaudeCodeAdapter().locate_command(name, Scope.USER, HOME)
