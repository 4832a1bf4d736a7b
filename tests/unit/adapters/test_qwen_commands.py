"""Qwen Code commands: ``.md`` (Markdown + frontmatter) beside ``.toml``, placeholders kept."""

from __future__ import annotations

import tomllib
from pathlib import Path

from actors._sync_targets import kind_files
from adapters._commands import command_name
from adapters.claude_code import ClaudeCodeAdapter
from adapters.formats import Format, load
from adapters.gemini_cli import GeminiCliAdapter
from adapters.qwen_code import QwenCodeAdapter
from events.client_config import (
    ArgsPlaceholder,
    Command,
    FilePlaceholder,
    Lit,
    Scope,
    ShellPlaceholder,
)
from tests.unit.actors._sync_service import apply_service

FIXTURES = Path(__file__).parents[2] / "fixtures" / "qwen" / "commands"
#: The 1.x docs' example, in a namespace folder, with Qwen's brace placeholders added.
REVIEW_MD = (FIXTURES / "team" / "review.md").read_text()
CLAUDE_MD = """---
description: Review code
argument-hint: "<file>"
model: sonnet
---
Review $ARGUMENTS carefully. Run !`git diff` and read @src/main.py
"""


def put(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def review_file(home: Path) -> Path:
    return put(home / ".qwen/commands/team/review.md", REVIEW_MD)


def parsed(adapter: QwenCodeAdapter, home: Path, name: str = "team/review") -> Command:
    cfg = adapter.locate_command(name, Scope.USER, home)
    assert cfg is not None
    [command] = adapter.parse(cfg, cfg.path.read_text())
    assert isinstance(command, Command)
    return command


def test_a_nested_md_command_is_read_with_qwen_placeholders(tmp_path: Path) -> None:
    """``team/review.md`` is ``team/review``; ``description`` and ``argument-hint`` are read,
    ``$ARGUMENTS`` / ``{{args}}`` / ``!{cmd}`` / ``@{path}`` are placeholders, and Claude's
    ``!`cmd``` / ``@path`` (which Qwen does not substitute) stay text."""
    review_file(tmp_path)
    command = parsed(QwenCodeAdapter(), tmp_path)
    assert command.name == "team/review"
    assert command.description == "Review a change for correctness and missing tests."
    assert command.argument_hint == "[path]"
    assert command.model is None
    assert command.allowed_tools is None
    assert command.extras == {"qwen": {"disable-model-invocation": True}}
    assert command.body == (
        Lit("\nReview the changes affecting "),
        ArgsPlaceholder(),
        Lit(" ("),
        ArgsPlaceholder(),
        Lit(" again). Run "),
        ShellPlaceholder("git diff --stat"),
        Lit(", read "),
        FilePlaceholder("docs/standards.md"),
        Lit(". Not substituted: !`ls` and @README.md.\n"),
    )


def test_md_and_toml_commands_are_both_discovered_in_both_scopes(tmp_path: Path) -> None:
    """User and project ``.md`` and ``.toml`` commands are all listed, ``.md`` as Markdown."""
    home, project = tmp_path / "home", tmp_path / "proj"
    user_md = review_file(home)
    user_toml = put(home / ".qwen/commands/plain.toml", 'prompt = "Plain {{args}}"\n')
    project_md = put(project / ".qwen/commands/fix.md", "Fix {{args}}\n")
    adapter = QwenCodeAdapter()
    files = {f.path: f for f in adapter.command_files(home, [project])}
    assert set(files) == {user_md, user_toml, project_md}
    assert files[user_md].fmt is Format.MARKDOWN
    assert files[user_md].scope is Scope.USER
    assert files[user_toml].fmt is Format.TOML
    assert files[project_md].scope is Scope.PROJECT
    assert files[project_md].project == project
    assert {f.path for f in adapter.discover(home, [project])} >= set(files)
    # A command with no file yet still goes to .toml (every Qwen release reads it).
    new = adapter.locate_command("team/new", Scope.PROJECT, home, project)
    assert new is not None
    assert (new.path, new.fmt) == (project / ".qwen/commands/team/new.toml", Format.TOML)
    # The sync engine names files with the client's (TOML) suffix: a .md still names right.
    assert command_name(user_md, ".toml") == "team/review"
    assert command_name(user_toml, ".toml") == "plain"


def test_an_update_edits_only_the_changed_field_keeping_unknown_keys_and_prose(
    tmp_path: Path,
) -> None:
    """A new description rewrites that line only: ``disable-model-invocation``, the hint,
    the blank line and the body keep their bytes."""
    path = review_file(tmp_path)
    adapter = QwenCodeAdapter()
    command = parsed(adapter, tmp_path)
    cfg = adapter.locate_command(command.name, Scope.USER, tmp_path)
    assert cfg is not None
    assert cfg.path == path
    wanted = command.model_copy(update={"description": "Review it."})
    rendered = adapter.render(cfg, REVIEW_MD, {command.key: wanted})
    old = "description: Review a change for correctness and missing tests.\n"
    assert rendered.text == REVIEW_MD.replace(old, "description: Review it.\n")
    assert rendered.losses == []


def test_a_claude_command_is_written_in_qwen_syntax_with_losses(tmp_path: Path) -> None:
    """Into an existing ``.md``: ``$ARGUMENTS`` → ``{{args}}``, ``!`cmd``` → ``!{cmd}``,
    ``@path`` → ``@{path}``; ``model`` and ``$1`` are reported lost and not written."""
    path = put(tmp_path / ".qwen/commands/review.md", "---\nwhen_to_use: reviews\n---\nOld\n")
    claude = ClaudeCodeAdapter()
    cfg = claude.locate_command("review", Scope.USER, tmp_path)
    assert cfg is not None
    [source] = claude.parse(cfg, CLAUDE_MD + "First: $1\n")
    adapter = QwenCodeAdapter()
    target = adapter.locate_command("review", Scope.USER, tmp_path)
    assert target is not None
    assert target.path == path
    rendered = adapter.render(target, path.read_text(), {source.key: source})
    data = load(Format.MARKDOWN, rendered.text)
    assert data["frontmatter"] == {
        "when_to_use": "reviews",
        "description": "Review code",
        "argument-hint": "<file>",
    }
    assert data["body"] == (
        "Review {{args}} carefully. Run !{git diff} and read @{src/main.py}\nFirst: $1\n"
    )
    assert sorted(loss.field for loss in rendered.losses) == ["body", "model"]


def test_a_body_spelling_the_arguments_dollar_style_keeps_that_spelling(tmp_path: Path) -> None:
    """A ``.md`` using ``$ARGUMENTS`` (Qwen 1.x docs) keeps it when its body is rewritten."""
    path = put(tmp_path / ".qwen/commands/fix.md", "Fix $ARGUMENTS now.\n")
    adapter = QwenCodeAdapter()
    command = parsed(adapter, tmp_path, "fix")
    assert command.body == (Lit("Fix "), ArgsPlaceholder(), Lit(" now.\n"))
    cfg = adapter.locate_command("fix", Scope.USER, tmp_path)
    assert cfg is not None
    wanted = command.model_copy(update={"body": (Lit("Fix "), ArgsPlaceholder(), Lit(" twice.\n"))})
    assert adapter.render(cfg, path.read_text(), {command.key: wanted}).text == (
        "Fix $ARGUMENTS twice.\n"
    )


def test_an_md_shadows_a_toml_of_its_name(tmp_path: Path) -> None:
    """``x.md`` beside ``x.toml``: Qwen loads the ``.md`` (loaded last, last wins), so only
    the ``.md`` is listed and located; writing it reports the shadowed ``.toml``."""
    md = review_file(tmp_path)
    toml = put(md.with_suffix(".toml"), 'prompt = "Stale {{args}}"\n')
    adapter = QwenCodeAdapter()
    assert [f.path for f in adapter.command_files(tmp_path, [])] == [md]
    assert [f.path for f in kind_files(adapter, Command.kind, tmp_path, [])] == [md]
    cfg = adapter.locate_command("team/review", Scope.USER, tmp_path)
    assert cfg is not None
    assert cfg.path == md
    command = parsed(adapter, tmp_path)
    wanted = command.model_copy(update={"description": "Review it."})
    [loss] = adapter.render(cfg, REVIEW_MD, {command.key: wanted}).losses
    assert (loss.field, loss.entity_key) == ("file", command.key)
    assert "review.toml is shadowed by review.md" in loss.reason
    gone = adapter.render(cfg, REVIEW_MD, {command.key: None})
    assert gone.delete_file
    assert [loss.field for loss in gone.losses] == ["file"]
    assert toml.read_text() == 'prompt = "Stale {{args}}"\n'


def test_an_md_edit_in_qwen_reaches_claude_and_gemini_with_structural_placeholders(
    tmp_path: Path,
) -> None:
    """Claude → Qwen (migrated to ``.md``) → edited in Qwen → Claude and Gemini: the
    arguments stay a placeholder in each syntax (``$ARGUMENTS``, ``{{args}}``)."""
    home = tmp_path / "home"
    claude_path = put(home / ".claude/commands/review.md", CLAUDE_MD)
    adapters = {"claude-code": ClaudeCodeAdapter(), "gemini": GeminiCliAdapter()}
    service = apply_service(tmp_path, home, {**adapters, "qwen": QwenCodeAdapter()})
    service.scan()
    toml = home / ".qwen/commands/review.toml"
    prompt = tomllib.loads(toml.read_text())["prompt"]
    assert prompt == "Review {{args}} carefully. Run !{git diff} and read @{src/main.py}\n"
    # What ``qwen migrate-commands`` does: the same command as .md, the .toml set aside.
    qwen_path = put(
        toml.with_suffix(".md"),
        f"---\ndescription: Review code\ndisable-model-invocation: true\n---\n{prompt}",
    )
    toml.rename(toml.with_suffix(".toml.backup"))
    assert service.scan("qwen").written == []

    claude_path.write_text(CLAUDE_MD.replace("carefully", "closely"))
    service.scan("claude-code")
    qwen = load(Format.MARKDOWN, qwen_path.read_text())
    assert qwen["body"] == "Review {{args}} closely. Run !{git diff} and read @{src/main.py}\n"
    assert qwen["frontmatter"]["disable-model-invocation"] is True
    assert not toml.exists(), "no second copy in Qwen"

    edited = qwen_path.read_text().replace("closely", "twice").replace("{{args}}", "$ARGUMENTS")
    qwen_path.write_text(edited)
    service.scan("qwen")
    claude = load(Format.MARKDOWN, claude_path.read_text())
    assert claude["body"] == "Review $ARGUMENTS twice. Run !`git diff` and read @src/main.py\n"
    assert claude["frontmatter"]["model"] == "sonnet", "Claude's own field survives"
    gemini = tomllib.loads((home / ".gemini/commands/review.toml").read_text())
    assert gemini["prompt"] == "Review {{args}} twice. Run !{git diff} and read @{src/main.py}\n"
    assert qwen_path.read_text() == edited, "Qwen's own edit is not rewritten"
    assert service.scan().written == []
    assert not toml.exists()
