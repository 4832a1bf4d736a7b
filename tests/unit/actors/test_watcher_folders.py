"""ClientWatcher on real watchdog: entity folders, folders created after start, the filter."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from actors._sync_io import ScanReport
from actors._watch_targets import ClientConfigFilter, EntityDir, entity_dirs, watch_plan
from actors.watcher import Change, ClientWatcher
from adapters.claude_code import ClaudeCodeAdapter
from adapters.gemini_cli import GeminiCliAdapter
from adapters.opencode import OpenCodeAdapter
from adapters.qwen_code import QwenCodeAdapter
from adapters.rovodev import RovoDevAdapter

TIMEOUT = 10.0
ALL = frozenset({"mcp_server", "command", "subagent", "skill"})


class Sink:
    """Collects reports; waits (bounded) until a report satisfies a predicate."""

    def __init__(self) -> None:
        self.reports: list[ScanReport] = []
        self._cond = threading.Condition()

    def __call__(self, report: ScanReport) -> None:
        with self._cond:
            self.reports.append(report)
            self._cond.notify_all()

    def wait_until(self, ok: Callable[[ScanReport], bool]) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: any(ok(r) for r in self.reports), TIMEOUT)

    def wait_for(self, count: int) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.reports) >= count, TIMEOUT)


def has(kind: str, name: str) -> Callable[[ScanReport], bool]:
    return lambda report: (kind, name) in report.entities


def test_a_new_command_file_in_a_fresh_commands_folder_is_scanned(tmp_path: Path) -> None:
    """Creating ~/.claude/commands/git/commit.md after start produces a scan holding it."""
    (tmp_path / ".claude").mkdir()
    sink = Sink()
    w = ClientWatcher(
        ClaudeCodeAdapter(), tmp_path, sink, roots=[tmp_path], kinds=ALL, debounce_s=0.05
    )
    try:
        assert sink.wait_for(1)
        commands = tmp_path / ".claude/commands/git"
        commands.mkdir(parents=True)
        (commands / "commit.md").write_text("---\ndescription: commit\n---\nCommit it.\n")
        assert sink.wait_until(has("command", "git/commit"))
        assert str(tmp_path / ".claude/commands") in w.watched_folders()
    finally:
        w.stop()


def test_a_rovo_prompt_and_its_description_edit_are_scanned(tmp_path: Path) -> None:
    """A prompt added to ``~/.rovodev/prompts.yml`` after start, then re-described, produces
    scans holding it with each description (the index is watched, not just the folder)."""
    (tmp_path / ".rovodev").mkdir()
    sink = Sink()
    w = ClientWatcher(
        RovoDevAdapter(), tmp_path, sink, roots=[tmp_path], kinds=ALL, debounce_s=0.05
    )
    index = tmp_path / ".rovodev/prompts.yml"

    def described(text: str) -> Callable[[ScanReport], bool]:
        return lambda r: r.entities.get(("command", "plan"), {}).get("description") == text

    try:
        assert sink.wait_for(1)
        (tmp_path / ".rovodev/prompts").mkdir()
        (tmp_path / ".rovodev/prompts/plan.md").write_text("Plan it.\n")
        entry = "prompts:\n  - {name: plan, description: Plan, content_file: prompts/plan.md}\n"
        index.write_text(entry)
        assert sink.wait_until(described("Plan"))
        index.write_text(entry.replace("Plan,", "Plan carefully,"))
        assert sink.wait_until(described("Plan carefully"))
    finally:
        w.stop()


def test_a_client_folder_created_after_start_is_watched(tmp_path: Path) -> None:
    """Creating ~/.gemini/ after start and then settings.json produces a scan of the server."""
    sink = Sink()
    w = ClientWatcher(
        GeminiCliAdapter(), tmp_path, sink, roots=[tmp_path], kinds=ALL, debounce_s=0.05
    )
    try:
        assert sink.wait_for(1)
        assert not (tmp_path / ".gemini").exists(), "the watcher never creates client folders"
        assert w.watched_folders().get(str(tmp_path)) is False
        (tmp_path / ".gemini").mkdir()
        (tmp_path / ".gemini/settings.json").write_text(
            '{"mcpServers": {"fresh": {"command": "npx", "args": ["-y", "fresh"]}}}'
        )
        assert sink.wait_until(has("mcp_server", "fresh"))
    finally:
        w.stop()


def test_noise_and_temp_files_in_an_entity_folder_cause_no_scan(tmp_path: Path) -> None:
    """Our temp files and editor noise in a commands folder are ignored; a real file is not."""
    commands = tmp_path / ".claude/commands"
    commands.mkdir(parents=True)
    sink = Sink()
    w = ClientWatcher(
        ClaudeCodeAdapter(), tmp_path, sink, roots=[tmp_path], kinds=ALL, debounce_s=0.05
    )
    try:
        assert sink.wait_for(1)
        (commands / ".synapse.review.md.x.tmp").write_text("half")
        (commands / "review.md.swp").write_text("x")
        (commands / "notes.txt").write_text("not a command")
        (commands / "review.md").write_text("Review it.\n")
        assert sink.wait_until(has("command", "review"))
        # The noise came first; had any of it counted, a scan without `review` would exist.
        assert all(has("command", "review")(r) for r in sink.reports[1:])
    finally:
        w.stop()


def test_a_new_qwen_markdown_command_is_scanned_live(tmp_path: Path) -> None:
    """Qwen loads ``.md`` commands beside its ``.toml`` ones: a new ``team/review.md`` created
    after start produces a scan holding it (not just the next periodic rescan)."""
    commands = tmp_path / ".qwen/commands"
    commands.mkdir(parents=True)
    (commands / "old.toml").write_text('prompt = "Old."\n')
    sink = Sink()
    w = ClientWatcher(
        QwenCodeAdapter(), tmp_path, sink, roots=[tmp_path], kinds=ALL, debounce_s=0.05
    )
    try:
        assert sink.wait_until(has("command", "old"))
        (commands / "team").mkdir()
        (commands / "team/review.md").write_text("---\ndescription: r\n---\nReview {{args}}.\n")
        assert sink.wait_until(has("command", "team/review"))
    finally:
        w.stop()
    dirs = entity_dirs(QwenCodeAdapter(), tmp_path, [], frozenset({"command"}))
    assert {d.suffix for d in dirs} == {".toml", ".md"}


def test_filter_accepts_entity_files_only() -> None:
    """Entity folders admit files with their suffix (recursively where namespaced)."""
    f = ClientConfigFilter(
        [Path("/h/.gemini/settings.json")],
        [
            EntityDir(Path("/h/.claude/commands"), ".md", True),
            EntityDir(Path("/h/.claude/agents"), ".md", False),
            EntityDir(Path("/h/.claude/skills"), "", True),
        ],
    )
    assert f(Change.added, "/h/.claude/commands/git/commit.md")
    assert f(Change.added, "/h/.claude/agents/reviewer.md")
    assert not f(Change.added, "/h/.claude/agents/deep/reviewer.md")
    assert f(Change.added, "/h/.claude/skills/pdf/SKILL.md")
    assert f(Change.added, "/h/.claude/skills/pdf/scripts/run.py")
    assert not f(Change.added, "/h/.claude/commands/notes.txt")
    assert not f(Change.added, "/h/.claude/commands/.synapse.commit.md.1.tmp")
    assert not f(Change.added, "/h/.claude/skills/pdf/SKILL.md~")
    assert not f(Change.added, "/h/.claude/other.md")


def test_entity_dirs_follow_the_synced_kinds(tmp_path: Path) -> None:
    """Only folders of synced kinds are watched; projects add their own folders."""
    project = tmp_path / "proj"
    adapter = ClaudeCodeAdapter()
    assert entity_dirs(adapter, tmp_path, [project], frozenset({"mcp_server"})) == []
    dirs = entity_dirs(adapter, tmp_path, [project], frozenset({"command"}))
    assert {d.path for d in dirs} == {tmp_path / ".claude/commands", project / ".claude/commands"}


def test_watch_plan_stands_in_the_nearest_existing_ancestor(tmp_path: Path) -> None:
    """A missing folder is covered by its nearest existing ancestor, non-recursively."""
    (tmp_path / ".claude").mkdir()
    wanted = [(tmp_path / ".claude/commands", True), (tmp_path / ".claude", False)]
    assert watch_plan(wanted, [tmp_path]) == {str(tmp_path / ".claude"): False}
    (tmp_path / ".claude/commands").mkdir()
    assert watch_plan(wanted, [tmp_path]) == {
        str(tmp_path / ".claude/commands"): True,
        str(tmp_path / ".claude"): False,
    }


def test_watch_plan_stays_inside_its_bounds(tmp_path: Path) -> None:
    """A folder whose home is missing is left to the rescan, never watched above the home."""
    home = tmp_path / "missing-home"
    assert watch_plan([(home / ".gemini", False)], [home]) == {}


def test_opencode_legacy_and_nested_folders_are_watched(tmp_path: Path) -> None:
    """OpenCode's ``command/`` beside ``commands/`` is watched, and its agent folders
    recursively (``agents/team/reviewer.md`` is agent ``team/reviewer``)."""
    home, proj = tmp_path / "home", tmp_path / "proj"
    dirs = entity_dirs(OpenCodeAdapter(), home, [proj], ALL)
    watched = {d.path: d for d in dirs}
    for rel in (".opencode/commands", ".opencode/command"):
        assert watched[proj / rel].recursive
    assert watched[home / ".config/opencode/command"].recursive
    agents = watched[proj / ".opencode/agents"]
    assert agents.holds(proj / ".opencode/agents/team/reviewer.md")
    assert watched[proj / ".opencode/agent"].holds(proj / ".opencode/agent/team/reviewer.md")
