"""The demo's act 4 helpers: the entities it creates sync as the demo claims (no Ray)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from actors.sync_service import SyncService, default_policy
from adapters.base import ClientAdapter
from adapters.formats import Format, load
from adapters.registry import load_adapters
from events.store import EventStore, StoreConfig
from synapse._demo_sync import (
    AGENT,
    COMMAND,
    COMMAND_EDIT,
    DOTFILES,
    SKILL,
    add_claude_entities,
    by_root,
    edit_gemini_command,
    entity_paths,
    holds,
    seed_sandbox,
    short,
    skill_readers,
    wait_all,
)


def adapters() -> dict[str, ClientAdapter]:
    return {str(c): a for c, a in load_adapters().items()}


@pytest.fixture
def synced(tmp_path: Path) -> tuple[SyncService, Path]:
    """The demo sandbox, synced once in apply mode, then Claude's entities added and scanned."""
    home = tmp_path / "home"
    seed_sandbox(home)
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.sqlite"))
    service = SyncService(
        store,
        load_adapters(),
        home=home,
        preimage_dir=tmp_path / "preimages",
        policy=default_policy(list(adapters()), "apply"),
        extra_roots=[home / DOTFILES],
    )
    service.scan()
    add_claude_entities(home)
    service.scan("claude-code")
    return service, home


def test_entity_paths_name_the_clients_that_have_each_kind(tmp_path: Path) -> None:
    """Commands live in six clients (Codex and Copilot have none); subagents in all."""
    commands = entity_paths(adapters(), tmp_path, "command", COMMAND)
    assert sorted(commands) == ["claude-code", "cursor", "gemini", "opencode", "qwen", "rovodev"]
    assert commands["rovodev"] == tmp_path / f".rovodev/prompts/{COMMAND}.md"
    assert commands["gemini"] == tmp_path / ".gemini/commands/review.toml"
    agents = entity_paths(adapters(), tmp_path, "subagent", AGENT)
    assert len(agents) == 8
    assert agents["codex"] == tmp_path / ".codex/agents/reviewer.toml"


def test_claude_entities_reach_the_paths_the_demo_awaits(synced: tuple[SyncService, Path]) -> None:
    """After one round the command and subagent exist wherever entity_paths says."""
    _, home = synced
    for client, path in entity_paths(adapters(), home, "command", COMMAND).items():
        assert COMMAND_EDIT[0] in path.read_text(), client
    for client, path in entity_paths(adapters(), home, "subagent", AGENT).items():
        assert AGENT in path.read_text(), client
    gemini = (home / ".gemini/commands/review.toml").read_text()
    assert "{{args}}" in gemini


def test_the_skill_is_copied_once_into_the_shared_root(synced: tuple[SyncService, Path]) -> None:
    """Codex, Copilot, Gemini and Qwen share one copy in ~/.agents/skills; Rovo Dev sees none."""
    _, home = synced
    readers = skill_readers(adapters(), home, SKILL)
    shared = sorted(c for c, root in readers.items() if root == home / ".agents/skills")
    assert shared == ["codex", "copilot", "gemini", "qwen"]
    assert readers["claude-code"] == home / ".claude/skills"
    assert "rovodev" not in readers


def test_gemini_command_edit_flows_back_keeping_claude_keys(
    synced: tuple[SyncService, Path],
) -> None:
    """edit_gemini_command's change reaches Claude's Markdown with $ARGUMENTS, keys intact."""
    service, home = synced
    line = edit_gemini_command(home / ".gemini/commands/review.toml")
    assert line.startswith("prompt = ")
    assert COMMAND_EDIT[1] in line
    service.scan("gemini")
    doc = load(Format.MARKDOWN, (home / ".claude/commands/review.md").read_text())
    assert f"$ARGUMENTS {COMMAND_EDIT[1]}" in doc["body"]
    assert {"description", "argument-hint", "allowed-tools"} <= set(doc["frontmatter"])


def test_edit_gemini_command_refuses_a_file_without_the_seeded_phrase(tmp_path: Path) -> None:
    """A command that no longer holds the phrase is an error, not a silent no-op."""
    path = tmp_path / "review.toml"
    path.write_text('prompt = "something else"\n')
    with pytest.raises(ValueError, match="no longer holds"):
        edit_gemini_command(path)


def test_wait_all_reports_passed_checks_and_leaves_out_timed_out_ones() -> None:
    """A check passing on its third poll is reported; one that never passes is absent."""
    polls = {"n": 0}

    def third() -> bool:
        polls["n"] += 1
        return polls["n"] >= 3

    seen = wait_all({"late": third, "never": lambda: False}, time.monotonic(), 0.3)
    assert set(seen) == {"late"}
    assert seen["late"] >= 0


def test_holds_treats_a_missing_file_as_not_yet(tmp_path: Path) -> None:
    """holds() is False for a missing file and True once the text is there."""
    check = holds(tmp_path / "x" / "f.md", "hello")
    assert not check()
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f.md").write_text("say hello")
    assert check()


def test_short_and_by_root_print_paths_under_home_with_a_tilde(tmp_path: Path) -> None:
    """Paths under home print as ~/...; readers group by root in sorted client order."""
    assert short(tmp_path, tmp_path / ".agents/skills") == "~/.agents/skills"
    assert short(tmp_path, Path("/elsewhere")) == "/elsewhere"
    readers = {"qwen": tmp_path / "a", "codex": tmp_path / "a", "cursor": tmp_path / "c"}
    assert by_root(tmp_path, readers) == "~/a: codex, qwen | ~/c: cursor"
