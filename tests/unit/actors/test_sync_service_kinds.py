"""Commands and subagents synced end to end: real files, a real SQLite event store."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from actors._sync_io import FileScan, ScanReport
from actors._sync_write import PreimageStore, delete_file
from actors.sync_service import SyncService
from adapters.files import sha256_hex
from adapters.formats import Format, load
from events.errors import WriteConflictError
from events.sync import SyncLedger
from tests.unit.actors._sync_service import apply_service, restarted

CLAUDE_COMMAND = """---
description: Review code
argument-hint: "<file>"
allowed-tools: Bash(git diff:*)
x-custom: keep
---
Review $ARGUMENTS carefully. Run !`git diff` and read @src/main.py
"""
CLAUDE_AGENT = """---
name: reviewer
description: Reviews code
tools: Read, Grep
model: sonnet
color: blue
---
You are a careful reviewer.
"""
#: Where each client keeps the user-scope command ``review`` (clients without commands: none).
COMMAND_PATHS = {
    "claude-code": ".claude/commands/review.md",
    "gemini": ".gemini/commands/review.toml",
    "qwen": ".qwen/commands/review.toml",
    "opencode": ".config/opencode/commands/review.md",
    "cursor": ".cursor/commands/review.md",
    "rovodev": ".rovodev/prompts/review.md",
}
AGENT_PATHS = {
    "claude-code": ".claude/agents/reviewer.md",
    "codex": ".codex/agents/reviewer.toml",
    "gemini": ".gemini/agents/reviewer.md",
    "qwen": ".qwen/agents/reviewer.md",
    "rovodev": ".rovodev/subagents/reviewer.md",
    "copilot": ".copilot/agents/reviewer.agent.md",
    "opencode": ".config/opencode/agents/reviewer.md",
    "cursor": ".cursor/agents/reviewer.md",
}
GEMINI_AGENT_KEYS = {"kind", "name", "description", "display_name", "tools", "mcp_servers"} | {
    "model",
    "temperature",
    "max_turns",
    "timeout_mins",
}


def system(tmp_path: Path, projects: tuple[Path, ...] = ()) -> tuple[SyncService, Path]:
    home = tmp_path / "home"
    home.mkdir()
    service = apply_service(tmp_path, home, projects=projects)
    service.scan()
    return service, home


def put(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def event_types(service: SyncService) -> list[str]:
    return [type(service.store.decode(n)).__qualname__ for n in service.store.read(0, 100_000)]


def with_review_command(tmp_path: Path) -> tuple[SyncService, Path]:
    service, home = system(tmp_path)
    put(home / COMMAND_PATHS["claude-code"], CLAUDE_COMMAND)
    service.scan("claude-code")
    return service, home


def test_claude_command_reaches_every_client_with_commands_in_its_syntax(tmp_path: Path) -> None:
    """A Claude command appears as Gemini/Qwen TOML with {{args}} and as OpenCode Markdown."""
    _, home = with_review_command(tmp_path)
    for client in ("gemini", "qwen"):
        data = tomllib.loads((home / COMMAND_PATHS[client]).read_text())
        assert data == {
            "description": "Review code",
            "prompt": "Review {{args}} carefully. Run !{git diff} and read @{src/main.py}\n",
        }, client
    opencode = (home / COMMAND_PATHS["opencode"]).read_text()
    assert "Review $ARGUMENTS carefully. Run !`git diff`" in opencode
    assert "x-custom" not in opencode, "another client's keys stay with it"
    assert not (home / ".codex" / "prompts").exists()


def test_second_round_writes_nothing_for_commands_and_agents(tmp_path: Path) -> None:
    """Once commands and agents are in sync, further scans write nothing (no echo)."""
    service, home = with_review_command(tmp_path)
    put(home / AGENT_PATHS["claude-code"], CLAUDE_AGENT)
    service.scan("claude-code")
    before = files_under(home)
    for _ in range(2):
        assert service.scan().written == []
    assert files_under(home) == before
    assert service.plan().changes == []


def test_gemini_edit_flows_back_keeping_claude_only_frontmatter(tmp_path: Path) -> None:
    """An edit of Gemini's TOML reaches Claude's Markdown; Claude-only keys stay put."""
    service, home = with_review_command(tmp_path)
    gemini = home / COMMAND_PATHS["gemini"]
    gemini.write_text('description = "Review it"\nprompt = "Look at {{args}} twice"\n')
    service.scan("gemini")
    claude = load(Format.MARKDOWN, (home / COMMAND_PATHS["claude-code"]).read_text())
    assert claude["body"].strip() == "Look at $ARGUMENTS twice"
    front = claude["frontmatter"]
    assert front["description"] == "Review it"
    assert front["argument-hint"] == "<file>"
    assert front["allowed-tools"] == "Bash(git diff:*)"
    assert front["x-custom"] == "keep"
    qwen = tomllib.loads((home / COMMAND_PATHS["qwen"]).read_text())
    assert qwen["prompt"] == "Look at {{args}} twice"


def test_namespaced_command_keeps_its_directory(tmp_path: Path) -> None:
    """``git/commit`` is ``git/commit.md`` in Claude and ``git/commit.toml`` in Gemini."""
    service, home = system(tmp_path)
    put(home / ".claude/commands/git/commit.md", "Commit with message $ARGUMENTS\n")
    service.scan("claude-code")
    toml = tomllib.loads((home / ".gemini/commands/git/commit.toml").read_text())
    assert toml["prompt"] == "Commit with message {{args}}\n"
    assert (home / ".config/opencode/commands/git/commit.md").is_file()


def test_deleting_a_command_in_one_client_removes_the_others_after_two_scans(
    tmp_path: Path,
) -> None:
    """A command file removed in Qwen goes from every client, but only after two scans."""
    service, home = with_review_command(tmp_path)
    (home / COMMAND_PATHS["qwen"]).unlink()
    service.scan("qwen")
    assert all((home / p).exists() for c, p in COMMAND_PATHS.items() if c != "qwen")
    service.scan("qwen")
    assert not any((home / p).exists() for p in COMMAND_PATHS.values())
    assert service.scan().written == []


def test_conflicting_command_edits_conflict_and_overwrite_nothing(tmp_path: Path) -> None:
    """Gemini and Claude edit one command differently: a conflict, both files untouched."""
    service, home = with_review_command(tmp_path)
    gemini, claude = home / COMMAND_PATHS["gemini"], home / COMMAND_PATHS["claude-code"]
    gemini.write_text('description = "Review code"\nprompt = "gemini {{args}}"\n')
    claude.write_text(CLAUDE_COMMAND.replace("carefully", "from claude"))
    gemini_bytes, claude_bytes = gemini.read_bytes(), claude.read_bytes()
    service.scan()
    assert gemini.read_bytes() == gemini_bytes
    assert claude.read_bytes() == claude_bytes
    # Claude was scanned first and its edit reached Qwen; Gemini's edit, seen later, conflicts.
    assert "gemini {{args}}" not in (home / COMMAND_PATHS["qwen"]).read_text()
    assert [c["type"] for c in service.conflicts()] == ["Conflict"]


def test_claude_subagent_reaches_every_client_respecting_gemini_schema(tmp_path: Path) -> None:
    """A Claude agent lands in all seven others; Gemini gets only keys its schema allows."""
    service, home = system(tmp_path)
    put(home / AGENT_PATHS["claude-code"], CLAUDE_AGENT)
    service.scan("claude-code")
    for client, rel in AGENT_PATHS.items():
        assert (home / rel).is_file(), client
    gemini = load(Format.MARKDOWN, (home / AGENT_PATHS["gemini"]).read_text())
    assert set(gemini["frontmatter"]) <= GEMINI_AGENT_KEYS
    assert gemini["frontmatter"]["description"] == "Reviews code"
    assert gemini["body"].strip() == "You are a careful reviewer."
    codex = tomllib.loads((home / AGENT_PATHS["codex"]).read_text())
    assert codex["developer_instructions"].strip() == "You are a careful reviewer."
    opencode = load(Format.MARKDOWN, (home / AGENT_PATHS["opencode"]).read_text())
    assert opencode["frontmatter"]["mode"] == "subagent"
    for client in ("gemini", "copilot", "cursor"):
        assert "color" not in (home / AGENT_PATHS[client]).read_text(), client


def test_agent_prompt_edit_keeps_each_clients_own_model(tmp_path: Path) -> None:
    """A prompt edited in Copilot reaches Claude, whose model and tools are left as they were."""
    service, home = system(tmp_path)
    put(home / AGENT_PATHS["claude-code"], CLAUDE_AGENT)
    service.scan("claude-code")
    copilot = home / AGENT_PATHS["copilot"]
    copilot.write_text(copilot.read_text().replace("careful reviewer", "strict reviewer"))
    service.scan("copilot")
    claude = load(Format.MARKDOWN, (home / AGENT_PATHS["claude-code"]).read_text())
    assert claude["body"].strip() == "You are a strict reviewer."
    assert claude["frontmatter"]["model"] == "sonnet"
    assert claude["frontmatter"]["tools"] == "Read, Grep"
    assert "strict reviewer" in (home / AGENT_PATHS["gemini"]).read_text()


def test_agent_named_apart_from_its_file_is_updated_in_place(tmp_path: Path) -> None:
    """A Claude agent whose ``name:`` differs from its file name is edited, not duplicated."""
    service, home = system(tmp_path)
    claude = put(home / ".claude/agents/rev.md", CLAUDE_AGENT)
    service.scan("claude-code")
    gemini = home / AGENT_PATHS["gemini"]
    gemini.write_text(gemini.read_text().replace("careful", "patient"))
    service.scan("gemini")
    assert "patient" in claude.read_text()
    assert sorted(p.name for p in claude.parent.iterdir()) == ["rev.md"]
    assert service.scan().written == []


def test_revert_of_a_created_command_deletes_the_file(tmp_path: Path) -> None:
    """Reverting the write that created Gemini's command removes the file (no empty file)."""
    service, home = with_review_command(tmp_path)
    gemini = str(home / COMMAND_PATHS["gemini"])
    wid = next(w for w, rec in service._index.writes.items() if rec.path == gemini)
    service.revert(wid)
    assert not Path(gemini).exists()
    assert "SyncLedger.ChangeReverted" in event_types(service)


def test_revert_of_a_deletion_restores_the_exact_bytes(tmp_path: Path) -> None:
    """Reverting a propagated deletion re-creates the file byte for byte."""
    service, home = with_review_command(tmp_path)
    opencode = home / COMMAND_PATHS["opencode"]
    original = opencode.read_bytes() + b"\n<!-- hand-made tail -->\n"
    opencode.write_bytes(original)
    service.scan()  # the tail is a comment-only change: nothing to sync
    (home / COMMAND_PATHS["claude-code"]).unlink()
    service.scan("claude-code")
    service.scan("claude-code")
    assert not opencode.exists()
    writes = service._index.writes.items()
    wid = next(w for w, rec in writes if rec.path == str(opencode) and not rec.sha256)
    service.revert(wid)
    assert opencode.read_bytes() == original


def test_hostile_entity_name_is_never_written_and_raises_an_alert(tmp_path: Path) -> None:
    """A forged scan naming a command ``../../escape`` writes nothing anywhere, and alerts."""
    service, home = system(tmp_path)
    before = files_under(tmp_path)
    value = {"scope": "user", "description": "x", "body": [{"kind": "lit", "text": "hi"}]}
    scan = FileScan("claude-code", str(home / ".claude/commands/x.md"), "user", True, "ab", 1)
    forged = FileScan(**{**scan.__dict__, "entities": {("command", "../../escape"): value}})
    result = service.submit(ScanReport("claude-code", "forged", (forged,)))
    assert result.written == []
    assert not [p for p in tmp_path.rglob("*escape*")]
    after = files_under(tmp_path)
    assert {k for k in after if k not in before and not k.startswith(("preimages",))} <= {
        "events.sqlite",
        "events.sqlite-wal",
        "events.sqlite-shm",
    }
    assert "Alert.Raised" in event_types(service)


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        (".claude/commands/.sneaky.md", "hidden $ARGUMENTS\n"),
        (".cursor/commands/.sneaky.md", "hidden $ARGUMENTS\n"),
        (".claude/agents/evil.md", "---\nname: ../../escape\ndescription: x\n---\nhi\n"),
    ],
)
def test_hostile_file_is_refused_and_nothing_is_written(
    tmp_path: Path, rel: str, text: str
) -> None:
    """A command or agent file with a hostile name is a scan error: left alone, not synced."""
    service, home = system(tmp_path)
    put(home / rel, text)
    assert service.scan().written == []
    assert not [p for p in tmp_path.rglob("*escape*") if p.name != "evil.md"]


def test_project_command_goes_into_the_same_project(tmp_path: Path) -> None:
    """A project command in Claude lands in that project's Gemini dir, not in another's."""
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    service, home = system(tmp_path, (one, two))
    put(two / ".claude/commands/deploy.md", "Deploy $ARGUMENTS\n")
    service.scan("claude-code")
    assert (two / ".gemini/commands/deploy.toml").is_file()
    assert not (one / ".gemini/commands/deploy.toml").exists()
    assert not (home / ".gemini/commands/deploy.toml").exists()


def test_positional_argument_into_toml_is_lossy_and_stays_quiet(tmp_path: Path) -> None:
    """``$1`` has no TOML form: a loss is recorded and the read-back is no new change."""
    service, home = system(tmp_path)
    put(home / ".claude/commands/fix.md", "Fix issue $1 now\n")
    service.scan("claude-code")
    assert "$1" in (home / ".gemini/commands/fix.toml").read_text()
    assert SyncLedger.TranslationLossy.__qualname__ in event_types(service)
    for _ in range(2):
        assert service.scan().written == []
    assert service.conflicts() == []


def test_command_conflict_resolved_with_a_markdown_body(tmp_path: Path) -> None:
    """Resolving a command conflict with a plain Markdown body writes it in every syntax."""
    service, home = with_review_command(tmp_path)
    (home / COMMAND_PATHS["gemini"]).write_text('prompt = "gemini {{args}}"\n')
    (home / COMMAND_PATHS["opencode"]).write_text("opencode $ARGUMENTS\n")
    service.scan()
    conflict = service.conflicts()[0]
    service.resolve(conflict["conflict_id"], value={"description": "R", "body": "Both $ARGUMENTS"})
    gemini = tomllib.loads((home / COMMAND_PATHS["gemini"]).read_text())
    assert gemini == {"description": "R", "prompt": "Both {{args}}"}
    claude = load(Format.MARKDOWN, (home / COMMAND_PATHS["claude-code"]).read_text())
    assert claude["body"] == "Both $ARGUMENTS"
    assert claude["frontmatter"]["x-custom"] == "keep"
    assert service.conflicts() == []


def test_restart_rebuilds_command_and_agent_state_and_stays_quiet(tmp_path: Path) -> None:
    """A new orchestrator on the same log writes nothing for synced commands and agents."""
    service, home = with_review_command(tmp_path)
    put(home / AGENT_PATHS["claude-code"], CLAUDE_AGENT)
    service.scan("claude-code")
    before = files_under(home)
    again = restarted(service)
    assert again.scan().written == []
    assert files_under(home) == before


def test_clients_without_commands_get_no_planned_writes(tmp_path: Path) -> None:
    """Codex and Copilot have no commands: the engine plans nothing for them."""
    service, _ = with_review_command(tmp_path)
    assert service.engine.plan().writes == ()
    ledger = [
        service.store.decode(n)
        for n in service.store.read(0, 100_000)
        if type(service.store.decode(n)).__qualname__ == "SyncLedger.SyncPlanned"
    ]
    targets = {w.client for event in ledger for w in event.writes}
    assert targets.isdisjoint({"codex", "copilot"})


def test_edit_racing_a_deletion_wins_and_nothing_is_lost(tmp_path: Path) -> None:
    """Gemini edits a command Claude deleted: the edited file stays and the edit comes back."""
    service, home = with_review_command(tmp_path)
    (home / COMMAND_PATHS["claude-code"]).unlink()
    service.scan("claude-code")
    gemini = home / COMMAND_PATHS["gemini"]
    gemini.write_text('description = "Review code"\nprompt = "kept {{args}}"\n')
    service.scan("claude-code")
    service.scan()
    assert gemini.read_text() == 'description = "Review code"\nprompt = "kept {{args}}"\n'
    assert "kept $ARGUMENTS" in (home / COMMAND_PATHS["claude-code"]).read_text()


def test_cas_delete_refuses_a_changed_file_and_keeps_a_symlinks_target(tmp_path: Path) -> None:
    """delete_file removes nothing when the bytes changed; a symlink loses only the link."""
    store = PreimageStore(tmp_path / "pre")
    target = put(tmp_path / "dotfiles" / "review.md", "hello\n")
    link = tmp_path / "commands" / "review.md"
    link.parent.mkdir()
    link.symlink_to(target)
    with pytest.raises(WriteConflictError):
        delete_file(link, sha256_hex(b"other\n"), [tmp_path], store)
    assert link.is_symlink()
    delete_file(link, sha256_hex(b"hello\n"), [tmp_path], store)
    assert not link.exists()
    assert not link.is_symlink()
    assert target.read_text() == "hello\n"
    plain = put(tmp_path / "commands" / "plain.md", "x\n")
    delete_file(plain, sha256_hex(b"x\n"), [tmp_path], store)
    assert sorted(p.name for p in plain.parent.iterdir()) == []


def test_a_scan_older_than_our_write_is_not_taken_for_a_deletion(tmp_path: Path) -> None:
    """A watcher's report taken before Synapse created a file, absorbed after, deletes nothing."""
    service, home = system(tmp_path)
    stale = service._scan_report("gemini")  # before the command exists anywhere
    put(home / COMMAND_PATHS["claude-code"], CLAUDE_COMMAND)
    service.scan("claude-code")
    gemini_file = home / COMMAND_PATHS["gemini"]
    assert gemini_file.exists()
    for _ in range(3):  # three stale reports would be two complete scans without the guard
        service.submit(stale)
    assert gemini_file.exists()
    assert (home / COMMAND_PATHS["claude-code"]).exists()
    events = [service.store.decode(n) for n in service.store.read(0, 100_000)]
    kinds = (SyncLedger.DeletionSuspected, SyncLedger.EntityRemoved)
    assert [e for e in events if isinstance(e, kinds)] == []


def test_a_scan_holding_the_bytes_before_our_write_does_not_undo_it(tmp_path: Path) -> None:
    """A report with a target's old bytes, absorbed after our write, is not the client undoing."""
    service, home = system(tmp_path)
    claude = put(home / COMMAND_PATHS["claude-code"], CLAUDE_COMMAND)
    service.scan("claude-code")
    stale = service._scan_report("gemini")  # Gemini still holds the first body
    claude.write_text(CLAUDE_COMMAND.replace("carefully", "like an auditor"))
    service.scan("claude-code")
    assert "like an auditor" in (home / COMMAND_PATHS["gemini"]).read_text()
    service.submit(stale)
    service.scan()
    assert "like an auditor" in claude.read_text()
    assert "like an auditor" in (home / COMMAND_PATHS["gemini"]).read_text()


def lossy_events(service: SyncService, client: str) -> list[SyncLedger.TranslationLossy]:
    events = [service.store.decode(n) for n in service.store.read(0, 100_000)]
    return [e for e in events if isinstance(e, SyncLedger.TranslationLossy) and e.client == client]


def test_claude_command_reaches_cursor_as_a_bare_body_with_losses(tmp_path: Path) -> None:
    """Cursor gets only the body (placeholders as text); what it cannot hold is reported."""
    service, home = with_review_command(tmp_path)
    cursor = home / COMMAND_PATHS["cursor"]
    assert cursor.read_text() == (
        "Review $ARGUMENTS carefully. Run !`git diff` and read @src/main.py\n"
    )
    # Only synced fields travel (the argument hint and tools stay in Claude's file).
    fields = {e.field for e in lossy_events(service, "cursor")}
    assert fields == {"description", "body"}
    for _ in range(2):
        assert service.scan().written == []
    assert service.conflicts() == []


def test_cursor_edit_reaches_claude_and_gemini_keeping_their_descriptions(
    tmp_path: Path,
) -> None:
    """A body edited in Cursor flows back; the description Cursor cannot hold stays put."""
    service, home = with_review_command(tmp_path)
    cursor = home / COMMAND_PATHS["cursor"]
    cursor.write_text("Audit $ARGUMENTS like a hawk\n")
    service.scan("cursor")
    claude = load(Format.MARKDOWN, (home / COMMAND_PATHS["claude-code"]).read_text())
    assert claude["body"] == "Audit $ARGUMENTS like a hawk\n"
    assert claude["frontmatter"]["description"] == "Review code"
    assert claude["frontmatter"]["x-custom"] == "keep"
    gemini = tomllib.loads((home / COMMAND_PATHS["gemini"]).read_text())
    assert gemini == {"description": "Review code", "prompt": "Audit {{args}} like a hawk\n"}
    assert service.scan().written == []
    assert service.conflicts() == []


def test_command_created_in_cursor_reaches_claude_without_frontmatter(tmp_path: Path) -> None:
    """A new Cursor command becomes a Claude command with just that body."""
    service, home = system(tmp_path)
    put(home / ".cursor/commands/tidy.md", "Tidy up $ARGUMENTS\n")
    service.scan("cursor")
    assert (home / ".claude/commands/tidy.md").read_text() == "Tidy up $ARGUMENTS\n"
    gemini = tomllib.loads((home / ".gemini/commands/tidy.toml").read_text())
    assert gemini == {"prompt": "Tidy up {{args}}\n"}
    assert service.scan().written == []


def test_description_added_in_claude_skips_cursor_and_reaches_gemini(tmp_path: Path) -> None:
    """A description Cursor cannot hold leaves its file alone and still reaches Gemini."""
    service, home = system(tmp_path)
    cursor = put(home / ".cursor/commands/tidy.md", "Tidy up $ARGUMENTS\n")
    service.scan("cursor")
    claude = home / ".claude/commands/tidy.md"
    claude.write_text("---\ndescription: Tidy\n---\nTidy up $ARGUMENTS\n")
    service.scan("claude-code")
    gemini = tomllib.loads((home / ".gemini/commands/tidy.toml").read_text())
    assert gemini == {"description": "Tidy", "prompt": "Tidy up {{args}}\n"}
    assert cursor.read_text() == "Tidy up $ARGUMENTS\n"
    assert {e.field for e in lossy_events(service, "cursor")} == {"body", "description"}
    for _ in range(2):
        assert service.scan().written == []
    assert service.conflicts() == []


def test_claude_edit_of_a_command_opencode_keeps_in_legacy_folder_edits_it_there(
    tmp_path: Path,
) -> None:
    """OpenCode's ``review`` in the legacy ``command/`` folder is edited there: no new
    ``commands/review.md`` beside it that OpenCode would load too (issue #14 §2)."""
    service, home = system(tmp_path)
    legacy = put(home / ".config/opencode/command/review.md", "Review $ARGUMENTS carefully.\n")
    put(home / COMMAND_PATHS["claude-code"], "Review $ARGUMENTS carefully.\n")
    service.scan()
    put(home / COMMAND_PATHS["claude-code"], "Review $ARGUMENTS twice.\n")
    service.scan("claude-code")
    assert legacy.read_text() == "Review $ARGUMENTS twice.\n"
    assert not (home / COMMAND_PATHS["opencode"]).exists()
    assert service.scan().written == []


def test_nested_opencode_agent_stays_in_opencode_and_alerts_for_the_others(
    tmp_path: Path,
) -> None:
    """``.opencode/agents/team/reviewer.md`` is agent ``team/reviewer``: synced clients that
    keep agents in one folder get no file (an alert says why), OpenCode's is untouched."""
    service, home = system(tmp_path)
    text = "---\ndescription: Reviews\nmode: subagent\n---\nYou review.\n"
    nested = put(home / ".config/opencode/agents/team/reviewer.md", text)
    service.scan("opencode")
    assert nested.read_text() == text
    assert not list(home.glob(".claude/agents/**/*.md"))
    assert "Alert.Raised" in event_types(service)


def test_cursor_rules_are_read_shown_and_written_nowhere(tmp_path: Path) -> None:
    """A project's ``.cursor/rules/*.mdc`` is a Cursor file in ``sync status`` and an
    instruction entity in the ledger; no other client gets a file or a planned write."""
    proj = tmp_path / "proj"
    proj.mkdir()
    service, _ = system(tmp_path, (proj,))
    rule = put(proj / ".cursor/rules/ts.mdc", "---\nglobs: **/*.ts\n---\nUse const.\n")
    before = files_under(tmp_path / "proj")
    service.scan("cursor")
    cursor_files = [f["path"] for f in service.status()["clients"]["cursor"]]
    assert str(rule) in cursor_files
    events = [service.store.decode(n) for n in service.store.read(0, 100_000)]
    opened = [(e.kind, e.name) for e in events if isinstance(e, SyncLedger.Opened)]
    assert ("instruction", "rule.ts") in opened
    changed = [e for e in events if isinstance(e, SyncLedger.EntityChanged)]
    assert any(e.client == "cursor" and "Use const" in str(e.value_redacted) for e in changed)
    assert files_under(tmp_path / "proj") == before
    assert service.scan().written == []
    assert service.plan().changes == []
