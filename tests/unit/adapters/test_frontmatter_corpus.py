"""Real command, subagent and skill files (``tests/fixtures/frontmatter``) in every shape the
clients accept: each parses to an entity, a no-op render leaves its bytes alone, an edit keeps
every unknown key's line, and what another client cannot hold is reported as a loss."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from adapters._skills import SkillRoot, find_skills, plan_skill
from adapters.base import ClientAdapter, ConfigFile
from adapters.registry import load_adapters
from events.client_config import Command, Entity, Scope, Subagent
from events.errors import ConfigParseError

CORPUS = Path(__file__).parents[2] / "fixtures" / "frontmatter"
ADAPTERS = load_adapters()
#: Corpus folder → the client whose files it holds.
FOLDERS = {
    "claude-code": "claude-code",
    "opencode": "opencode",
    "gemini": "gemini",
    "qwen": "qwen",
    "copilot": "copilot",
}


def _adapter(client: str) -> ClientAdapter:
    return next(a for c, a in ADAPTERS.items() if str(c) == client)


def _files(kind_dir: str) -> list[Path]:
    return sorted(
        p
        for folder in FOLDERS
        for p in (CORPUS / folder / kind_dir).rglob("*")
        if p.is_file() and p.suffix in {".md", ".toml"}
    )


def _config(path: Path) -> tuple[ClientAdapter, ConfigFile]:
    parts = path.relative_to(CORPUS).parts
    adapter = _adapter(FOLDERS[parts[1] if parts[0] == "broken" else parts[0]])
    if "commands" in path.parts:
        codec = adapter.command_codec
        assert codec is not None
        kinds, fmt = frozenset({Command.kind}), codec.fmt
    else:
        dialect = adapter.subagent_dialect
        assert dialect is not None
        kinds, fmt = frozenset({Subagent.kind}), dialect.fmt
    return adapter, ConfigFile(adapter.client, path, Scope.USER, fmt, kinds, False)


def _parse(path: Path) -> tuple[ClientAdapter, ConfigFile, str, Entity]:
    adapter, cfg = _config(path)
    text = path.read_bytes().decode()
    [entity] = adapter.parse(cfg, text)
    return adapter, cfg, text, entity


ENTITY_FILES = _files("commands") + _files("agents")
_IDS = [str(p.relative_to(CORPUS)) for p in ENTITY_FILES]


def test_the_corpus_covers_every_kind_and_client() -> None:
    """The corpus holds a few dozen files: commands, agents and skills of five clients."""
    assert len(ENTITY_FILES) >= 35
    assert {p.relative_to(CORPUS).parts[0] for p in ENTITY_FILES} == set(FOLDERS)
    assert len(list((CORPUS / "skills").glob("*/SKILL.md"))) >= 5
    listed = (CORPUS / "INDEX.md").read_text()
    for path in CORPUS.rglob("*"):
        if path.is_file() and path.name != "INDEX.md":
            assert f"`{path.relative_to(CORPUS).as_posix()}`" in listed, path


@pytest.mark.parametrize("path", ENTITY_FILES, ids=_IDS)
def test_every_file_parses_to_an_entity(path: Path) -> None:
    """No corpus file is dropped: each parses to exactly one command or subagent."""
    _, _, _, entity = _parse(path)
    assert entity.name


@pytest.mark.parametrize("path", ENTITY_FILES, ids=_IDS)
def test_a_no_op_render_keeps_the_bytes(path: Path) -> None:
    """Rendering what a file already holds changes nothing (unknown keys, list-shaped
    hints, comments and quoting all stay byte-identical)."""
    adapter, cfg, text, entity = _parse(path)
    rendered = adapter.render(cfg, text, {entity.key: entity})
    assert rendered.text == text


def _description_block(text: str) -> set[str]:
    """The lines of the top-level ``description`` key (its first line and continuations)."""
    lines = text.splitlines(keepends=True)
    block: set[str] = set()
    inside = False
    for line in lines:
        if re.match(r"(description\s*[:=])", line):
            inside = True
        elif inside and (not line[:1].isspace() or not line.strip()):
            inside = line[:1].isspace() and inside
        if inside:
            block.add(line)
    return block


@pytest.mark.parametrize("path", ENTITY_FILES, ids=_IDS)
def test_an_edit_keeps_every_other_line(path: Path) -> None:
    """Changing the description rewrites only its lines: unknown keys, tool lists and the
    hint keep their exact text, and the file reads back with the new description."""
    adapter, cfg, text, entity = _parse(path)
    changed = entity.model_copy(update={"description": "Changed by another client"})
    rendered = adapter.render(cfg, text, {entity.key: changed})
    removed = set(text.splitlines(keepends=True)) - set(rendered.text.splitlines(keepends=True))
    assert removed <= _description_block(text)
    [back] = adapter.parse(cfg, rendered.text)
    assert back.synced() == changed.synced()
    assert back.extras == entity.extras


def _targets(entity: Entity) -> list[ClientAdapter]:
    if isinstance(entity, Command):
        return [a for a in ADAPTERS.values() if a.command_codec is not None]
    return [a for a in ADAPTERS.values() if a.subagent_dialect is not None]


def _target_file(target: ClientAdapter, entity: Entity, home: Path) -> ConfigFile:
    if isinstance(entity, Command):
        cfg = target.locate_command(entity.name, Scope.USER, home)
    else:
        cfg = target.locate_subagent(entity.name, Scope.USER, home)
    assert cfg is not None
    if cfg.entry is not None:  # Rovo Dev: the description lives in prompts.yml
        entry = dataclasses.replace(cfg.entry, description=getattr(entity, "description", None))
        cfg = dataclasses.replace(cfg, entry=entry)
    return cfg


@pytest.mark.parametrize("path", ENTITY_FILES, ids=_IDS)
def test_what_another_client_cannot_hold_is_a_loss(path: Path, tmp_path: Path) -> None:
    """Written into every other client, each canonical field that does not read back the
    same is named by a Loss: nothing is dropped silently."""
    source, _, _, entity = _parse(path)
    for target in _targets(entity):
        if target.client == source.client:
            continue
        cfg = _target_file(target, entity, tmp_path)
        rendered = target.render(cfg, "", {entity.key: entity})
        [back] = target.parse(cfg, rendered.text)
        lost = {loss.field for loss in rendered.losses}
        before, after = entity.synced(), back.synced()
        differ = {f for f in before if before[f] != after.get(f)}
        assert differ <= lost, f"{target.client}: {differ - lost} changed without a loss"


def test_list_shaped_hints_read_as_the_text_their_author_typed() -> None:
    """``argument-hint: [project-name]`` (a YAML list) and ``[pr-number] [priority]``
    (not YAML at all) are both the hint text Claude Code shows."""
    hints = {
        name: _parse(CORPUS / "claude-code" / "commands" / name)[3]
        for name in ("new-sdk-app.md", "review-pr.md", "optional-hint.md", "numbers.md")
    }
    assert [getattr(c, "argument_hint", None) for c in hints.values()] == [
        "[project-name]",
        "[pr-number] [priority] [assignee]",
        "[optional: some value]",
        "3",
    ]
    assert getattr(hints["numbers.md"], "description", None) == "2026"


def test_a_list_hint_is_written_as_text_where_the_hint_is_a_string(tmp_path: Path) -> None:
    """Claude's list-shaped hint reaches OpenCode as a quoted string, and Gemini (no hints)
    reports it lost."""
    _, _, _, entity = _parse(CORPUS / "claude-code" / "commands" / "new-sdk-app.md")
    opencode, gemini = _adapter("opencode"), _adapter("gemini")
    text = opencode.render(_target_file(opencode, entity, tmp_path), "", {entity.key: entity})
    assert "argument-hint: '[project-name]'" in text.text
    lossy = gemini.render(_target_file(gemini, entity, tmp_path), "", {entity.key: entity})
    assert "argument_hint" in {loss.field for loss in lossy.losses}


def test_tool_lists_keep_their_shape_when_they_change() -> None:
    """A YAML tool list that changes stays a YAML list; a comma string stays a string."""
    for name, shape in (("hookify.md", "- Read\n"), ("commit-push-pr.md", "Bash(git add:*), ")):
        adapter, cfg, text, entity = _parse(CORPUS / "claude-code" / "commands" / name)
        assert isinstance(entity, Command)
        tools = (*(entity.allowed_tools or ()), "Read")
        changed = entity.model_copy(update={"allowed_tools": tools})
        rendered = adapter.render(cfg, text, {entity.key: changed}).text
        assert shape in rendered
        [back] = adapter.parse(cfg, rendered)
        assert getattr(back, "allowed_tools", None) == tools


BROKEN = sorted(p for p in (CORPUS / "broken").rglob("*.md"))


@pytest.mark.parametrize("path", BROKEN, ids=[p.name for p in BROKEN])
def test_frontmatter_the_clients_reject_is_an_error_with_its_line(path: Path) -> None:
    """What even the clients' lenient retry cannot read is an error naming its line."""
    with pytest.raises(ConfigParseError, match=r"invalid YAML: .* at line \d+, column \d+"):
        _parse(path)


def test_skills_parse_and_report_claude_only_keys(tmp_path: Path) -> None:
    """Every corpus skill reads (list or space-delimited tools, numeric version); a client
    that is not Claude gets Claude's own keys reported as losses."""
    root = SkillRoot(CORPUS / "skills", ".agents/skills", Scope.USER)
    found = {f.skill.name: f for f in find_skills([root])}
    assert len(found) == len(list((CORPUS / "skills").glob("*/SKILL.md")))
    explain = found["explain-code"]
    assert explain.skill.allowed_tools == ("Read", "Grep", "Glob")
    assert found["pdf-processing"].skill.allowed_tools == ("Bash(git:*)", "Bash(jq:*)", "Read")
    target = SkillRoot(tmp_path / ".codex" / "skills", ".codex/skills", Scope.USER)
    plan = plan_skill(explain, "codex", [target])
    assert {loss.field for loss in plan.losses} == {
        "frontmatter.argument-hint",
        "frontmatter.disable-model-invocation",
    }
