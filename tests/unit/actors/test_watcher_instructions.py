"""ClientWatcher on real watchdog: project instruction files (AGENTS.md …) trigger rescans."""

from __future__ import annotations

from pathlib import Path

from actors._watch_targets import instruction_paths
from actors.watcher import ClientWatcher
from adapters.base import ClientAdapter
from adapters.claude_code import ClaudeCodeAdapter
from adapters.gemini_cli import GeminiCliAdapter
from adapters.registry import load_adapters
from tests.unit.actors._sync_service import apply_service
from tests.unit.actors.test_watcher import Sink

ALL = frozenset({"mcp_server", "command", "subagent", "skill", "instruction"})


def watcher(adapter: ClientAdapter, home: Path, project: Path, sink: Sink) -> ClientWatcher:
    return ClientWatcher(
        adapter,
        home,
        sink,
        roots=[home, project],
        kinds=ALL,
        projects=[project],
        debounce_s=0.05,
    )


def test_instruction_paths_follow_the_client_and_the_synced_kinds(tmp_path: Path) -> None:
    """Claude watches CLAUDE.md, .claude/CLAUDE.md and AGENTS.md; none without instructions."""
    project = tmp_path / "proj"
    claude = instruction_paths(ClaudeCodeAdapter(), [project], ALL)
    assert claude == [project / "AGENTS.md", project / "CLAUDE.md", project / ".claude/CLAUDE.md"]
    gemini = instruction_paths(GeminiCliAdapter(), [project], frozenset())
    assert gemini == [project / "AGENTS.md", project / "GEMINI.md"]
    assert instruction_paths(ClaudeCodeAdapter(), [project], frozenset({"command"})) == []


def test_editing_a_projects_agents_md_rescans_the_client(tmp_path: Path) -> None:
    """An edit of <project>/AGENTS.md (and a new GEMINI.md) makes the Gemini watcher rescan."""
    home, project = tmp_path / "home", tmp_path / "proj"
    home.mkdir()
    project.mkdir()
    (project / "AGENTS.md").write_text("# Rules\n")
    sink = Sink()
    w = watcher(GeminiCliAdapter(), home, project, sink)
    try:
        assert sink.wait_for(1)
        assert w.watched_folders().get(str(project)) is False, "the root, non-recursively"
        (project / "AGENTS.md").write_text("# Rules\n\nBe brief.\n")
        assert sink.wait_for(2)
        (project / "GEMINI.md").write_text("# Gemini only\n")
        assert sink.wait_for(3)
    finally:
        w.stop()


def test_agents_md_created_in_a_project_gets_claude_its_shim(tmp_path: Path) -> None:
    """Creating AGENTS.md reaches the orchestrator through the watcher: CLAUDE.md is placed."""
    home, project = tmp_path / "home", tmp_path / "proj"
    (home / ".claude").mkdir(parents=True)
    project.mkdir()
    claude = ClaudeCodeAdapter()
    service = apply_service(tmp_path, home, {"claude-code": claude}, projects=[project])
    sink = Sink(service.submit)
    w = watcher(claude, home, project, sink)
    try:
        assert sink.wait_for(1)
        assert not (project / "CLAUDE.md").exists()
        (project / "AGENTS.md").write_text("# Rules\n")
        assert sink.wait_for(2)
        assert "@AGENTS.md" in (project / "CLAUDE.md").read_text()
    finally:
        w.stop()


def test_a_rule_appended_to_claude_md_reaches_codex_through_the_watcher(tmp_path: Path) -> None:
    """~/.claude/CLAUDE.md is watched: appending a rule re-runs the by-content sync."""
    home, project = tmp_path / "home", tmp_path / "proj"
    project.mkdir()
    for rel in (".claude/CLAUDE.md", ".codex/AGENTS.md"):
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text("- Be brief.\n")
    claude, adapters = ClaudeCodeAdapter(), load_adapters()
    chosen = {"claude-code": claude, "codex": adapters["codex"]}
    service = apply_service(tmp_path, home, chosen, projects=[project])
    sink = Sink(service.submit)
    w = watcher(claude, home, project, sink)
    try:
        assert sink.wait_for(1)
        (home / ".claude/CLAUDE.md").write_text("- Be brief.\n- Never force-push.\n")
        assert sink.wait_for(2)
        assert (home / ".codex/AGENTS.md").read_text() == "- Be brief.\n- Never force-push.\n"
    finally:
        w.stop()
