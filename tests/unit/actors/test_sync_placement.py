"""Placement of skills and instructions through the sync orchestrator, on real files and SQLite."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from actors._sync_placement import plan_placements
from actors.sync_engine import Policy
from actors.sync_service import SyncService
from adapters.formats import Format, load
from adapters.registry import load_adapters
from events.errors import ActorError
from tests.unit.actors._sync_service import apply_service

SKILL = "---\nname: pdf\ndescription: Read PDFs\n---\nUse pdftotext.\n"
OTHER = "---\nname: pdf\ndescription: Something else\n---\nDifferent.\n"
GEMINI_SETTINGS = """{
  // my gemini settings: this comment must survive
  "general": {"vimMode": true},
  "futureKey": [1, 2, 3],
}
"""


def service(
    tmp_path: Path,
    clients: tuple[str, ...] = ("claude-code", "codex", "gemini", "qwen"),
    *,
    mode: str = "apply",
    projects: tuple[Path, ...] = (),
) -> SyncService:
    home = tmp_path / "home"
    for client_dir in (".claude", ".codex", ".gemini", ".qwen", ".cursor", ".copilot"):
        (home / client_dir).mkdir(parents=True, exist_ok=True)
    adapters = load_adapters()
    policy = Policy(
        clients,
        kinds=frozenset({"skill", "instruction"}),
        mode="apply" if mode == "apply" else "observe",
    )
    return apply_service(
        tmp_path, home, {c: adapters[c] for c in clients}, policy=policy, projects=projects
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def placements(svc: SyncService) -> list[dict[str, Any]]:
    return [c for c in svc.plan().changes if "placement" in c]


def apply_all(svc: SyncService) -> list[str]:
    result = svc.apply(svc.plan().plan_hash)
    assert result.applied, result
    assert not result.abandoned, result
    return result.written


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_skill_in_claude_root_is_copied_once_into_the_shared_root(tmp_path: Path) -> None:
    """A skill only in ~/.claude/skills lands once in ~/.agents/skills for Codex, Gemini, Qwen."""
    svc = service(tmp_path)
    source = write(svc.home / ".claude/skills/pdf/SKILL.md", SKILL)
    write(svc.home / ".claude/skills/pdf/scripts/run.sh", "#!/bin/sh\necho hi\n").chmod(0o755)
    [change] = placements(svc)
    assert change["path"] == str(svc.home / ".agents/skills/pdf")
    assert sorted(change["clients"]) == ["codex", "gemini", "qwen"]
    assert apply_all(svc) == [str(svc.home / ".agents/skills/pdf")]
    copy = svc.home / ".agents/skills/pdf"
    assert (copy / "SKILL.md").read_bytes() == source.read_bytes()
    assert (copy / "scripts/run.sh").stat().st_mode & 0o777 == 0o700
    assert (copy / "SKILL.md").stat().st_mode & 0o777 == 0o600
    assert not (svc.home / ".codex/skills/pdf").exists(), "shared root only, no duplicate"
    assert placements(svc) == [], "a second plan is empty"


def test_same_name_different_content_is_a_conflict_and_both_stay(tmp_path: Path) -> None:
    """Two different skills named pdf: no write, a conflict decision and an alert."""
    svc = service(tmp_path)
    write(svc.home / ".claude/skills/pdf/SKILL.md", SKILL)
    write(svc.home / ".agents/skills/pdf/SKILL.md", OTHER)
    before = snapshot(svc.home)
    view = svc.plan()
    assert [c for c in view.changes if "placement" in c] == []
    [conflict] = [d for d in view.decisions if d["type"] == "PlacementConflict"]
    assert conflict["name"] == "pdf"
    assert len(conflict["paths"]) == 2
    svc.apply(view.plan_hash)
    assert snapshot(svc.home) == before
    messages = [
        svc.store.decode(n).message
        for n in svc.store.read(0, 10_000)
        if type(svc.store.decode(n)).__qualname__ == "Alert.Raised"
    ]
    assert any("skill:pdf" in m for m in messages)


def test_gemini_context_points_at_agents_md_keeping_comments(tmp_path: Path) -> None:
    """Gemini's settings gain context.fileName [AGENTS.md, GEMINI.md]; comments, keys stay."""
    project = tmp_path / "proj"
    write(project / "AGENTS.md", "# Rules\n")
    svc = service(tmp_path, ("gemini", "codex"), projects=(project,))
    settings = write(svc.home / ".gemini/settings.json", GEMINI_SETTINGS)
    [change] = placements(svc)
    assert change["placement"] == "point_context"
    assert change["path"] == str(settings)
    apply_all(svc)
    text = settings.read_text()
    assert "// my gemini settings: this comment must survive" in text
    assert '"futureKey": [1, 2, 3]' in text
    assert text.startswith(GEMINI_SETTINGS.split("\n", 2)[0])
    assert placements(svc) == []
    assert load(Format.JSONC, text)["context"]["fileName"] == ["AGENTS.md", "GEMINI.md"]


def test_project_gemini_settings_that_name_context_files_are_the_ones_edited(
    tmp_path: Path,
) -> None:
    """A project settings file setting context.fileName overrides the user's: it is edited."""
    project = tmp_path / "proj"
    write(project / "AGENTS.md", "# Rules\n")
    local = write(project / ".gemini/settings.json", '{"context": {"fileName": "RULES.md"}}\n')
    svc = service(tmp_path, ("gemini",), projects=(project,))
    apply_all(svc)
    assert json.loads(local.read_text())["context"]["fileName"] == ["AGENTS.md", "RULES.md"]
    assert not (svc.home / ".gemini/settings.json").exists()


def test_qwen_reads_agents_md_by_default_and_gets_nothing(tmp_path: Path) -> None:
    """Qwen loads AGENTS.md unless context.fileName leaves it out: no settings file appears."""
    project = tmp_path / "proj"
    write(project / "AGENTS.md", "# Rules\n")
    svc = service(tmp_path, ("qwen", "codex"), projects=(project,))
    assert placements(svc) == []


def test_claude_shim_only_where_claude_md_is_absent(tmp_path: Path) -> None:
    """A project without CLAUDE.md gets '@AGENTS.md'; one with prose is reported, not edited."""
    bare, wordy = tmp_path / "bare", tmp_path / "wordy"
    for project in (bare, wordy):
        write(project / "AGENTS.md", "# Rules\n")
    prose = write(wordy / "CLAUDE.md", "# My own notes\n")
    svc = service(tmp_path, ("claude-code", "codex"), projects=(bare, wordy))
    view = svc.plan()
    assert [c["path"] for c in view.changes] == [str(bare / "CLAUDE.md")]
    [drift] = [d for d in view.decisions if d["type"] == "PlacementDrift"]
    assert drift["paths"] == [str(prose)]
    apply_all(svc)
    assert (bare / "CLAUDE.md").read_text() == "@AGENTS.md\n"
    assert (bare / "CLAUDE.md").stat().st_mode & 0o777 == 0o600
    assert prose.read_text() == "# My own notes\n"


def test_claude_md_that_imports_agents_md_is_in_sync(tmp_path: Path) -> None:
    """CLAUDE.md with an '@AGENTS.md' line among prose needs nothing and reports nothing."""
    project = tmp_path / "proj"
    write(project / "AGENTS.md", "# Rules\n")
    write(project / "CLAUDE.md", "# Notes\n\n@AGENTS.md\n")
    svc = service(tmp_path, ("claude-code",), projects=(project,))
    view = svc.plan()
    assert view.changes == []
    assert view.decisions == []


def test_no_agents_md_means_no_instruction_writes(tmp_path: Path) -> None:
    """Without an AGENTS.md nothing is invented: no shim, no pointer."""
    project = tmp_path / "proj"
    project.mkdir()
    svc = service(tmp_path, ("claude-code", "gemini"), projects=(project,))
    assert placements(svc) == []


def test_revert_removes_what_placement_created_and_restores_settings(tmp_path: Path) -> None:
    """Reverting each placement id removes the copy, the shim, new dirs, and restores settings."""
    project = tmp_path / "proj"
    write(project / "AGENTS.md", "# Rules\n")
    svc = service(tmp_path, ("claude-code", "gemini"), projects=(project,))
    write(svc.home / ".claude/skills/pdf/SKILL.md", SKILL)
    settings = write(svc.home / ".gemini/settings.json", GEMINI_SETTINGS)
    before = snapshot(tmp_path / "home") | snapshot(project)
    ids = [c["placement_id"] for c in placements(svc)]
    assert len(ids) == 3
    apply_all(svc)
    for pid in ids:
        assert svc.revert(pid).applied
    assert snapshot(tmp_path / "home") | snapshot(project) == before
    assert not (svc.home / ".agents").exists(), "directories placement created are gone"
    assert settings.read_text() == GEMINI_SETTINGS
    with pytest.raises(ActorError, match="already reverted"):
        svc.revert(ids[0])


def test_revert_refuses_when_the_placed_file_was_edited(tmp_path: Path) -> None:
    """A shim a person edited since is not removed by revert."""
    project = tmp_path / "proj"
    write(project / "AGENTS.md", "# Rules\n")
    svc = service(tmp_path, ("claude-code",), projects=(project,))
    [pid] = [c["placement_id"] for c in placements(svc)]
    apply_all(svc)
    write(project / "CLAUDE.md", "@AGENTS.md\nmore\n")
    with pytest.raises(ActorError, match="changed since"):
        svc.revert(pid)
    assert (project / "CLAUDE.md").read_text() == "@AGENTS.md\nmore\n"


def test_observe_mode_writes_nothing_until_apply(tmp_path: Path) -> None:
    """In observe mode scans and plans write nothing; apply with the plan hash does."""
    project = tmp_path / "proj"
    write(project / "AGENTS.md", "# Rules\n")
    svc = service(tmp_path, projects=(project,), mode="observe")
    write(svc.home / ".claude/skills/pdf/SKILL.md", SKILL)
    before = snapshot(tmp_path)
    svc.scan()
    view = svc.plan()
    assert len(view.changes) == 3  # skill copy, Claude shim, Gemini pointer
    assert {p: b for p, b in snapshot(tmp_path).items() if "events.sqlite" not in p} == {
        p: b for p, b in before.items() if "events.sqlite" not in p
    }
    assert svc.apply(view.plan_hash).applied
    assert (project / "CLAUDE.md").exists()


def test_edit_of_the_source_refreshes_our_untouched_copy(tmp_path: Path) -> None:
    """After the source skill changes, the copy placement made follows it (no conflict)."""
    svc = service(tmp_path, ("claude-code", "codex"))
    source = write(svc.home / ".claude/skills/pdf/SKILL.md", SKILL)
    apply_all(svc)
    source.write_text(SKILL + "v2\n")
    [change] = placements(svc)
    assert change["pre_sha256"] is not None
    apply_all(svc)
    assert (svc.home / ".agents/skills/pdf/SKILL.md").read_text() == SKILL + "v2\n"
    assert placements(svc) == []


def test_a_copy_a_person_edited_is_never_overwritten(tmp_path: Path) -> None:
    """Both the source and our copy changed: a conflict, and the person's edit stays."""
    svc = service(tmp_path, ("claude-code", "codex"))
    source = write(svc.home / ".claude/skills/pdf/SKILL.md", SKILL)
    apply_all(svc)
    source.write_text(SKILL + "v2\n")
    copy = write(svc.home / ".agents/skills/pdf/SKILL.md", SKILL + "mine\n")
    view = svc.plan()
    assert [c for c in view.changes if "placement" in c] == []
    assert any(d["type"] == "PlacementConflict" for d in view.decisions)
    svc.apply(view.plan_hash)
    assert copy.read_text() == SKILL + "mine\n"


def test_hostile_skill_names_and_escaping_links_are_refused(tmp_path: Path) -> None:
    """A skill named '-rf' and one symlinked out of home are refused, never copied."""
    svc = service(tmp_path, ("claude-code", "codex"))
    write(svc.home / ".claude/skills/-rf/SKILL.md", SKILL)
    outside = write(tmp_path / "outside/evil/SKILL.md", SKILL).parent
    os.symlink(outside, svc.home / ".claude/skills/evil")
    view = svc.plan()
    assert [c for c in view.changes if "placement" in c] == []
    refused = sorted(d["name"] for d in view.decisions if d["type"] == "PlacementRefused")
    assert refused == ["-rf", "evil"]
    apply_all(svc)
    assert not (svc.home / ".agents").exists()


def test_clients_not_in_use_get_no_directories(tmp_path: Path) -> None:
    """Cursor's skill root is only created when ~/.cursor exists."""
    svc = service(tmp_path, ("claude-code", "cursor"))
    (svc.home / ".cursor").rmdir()
    write(svc.home / ".claude/skills/pdf/SKILL.md", SKILL)
    assert placements(svc) == []


def test_placement_events_carry_no_file_content(tmp_path: Path) -> None:
    """The ledger records paths and hashes of placements, never the bytes placed."""
    project = tmp_path / "proj"
    write(project / "AGENTS.md", "# Rules\n")
    svc = service(tmp_path, projects=(project,))
    write(svc.home / ".claude/skills/pdf/SKILL.md", SKILL + "canary-text-42\n")
    apply_all(svc)
    bodies = [json.dumps(svc.store.decode_body(n)) for n in svc.store.read(0, 10_000)]
    placed = [b for b in bodies if "placement_id" in b]
    assert len(placed) == 3
    assert not any("canary-text-42" in b or "@AGENTS.md" in b for b in bodies)


def test_planner_is_pure_and_stable(tmp_path: Path) -> None:
    """plan_placements reads only: same plan twice, nothing on disk changes."""
    home = tmp_path / "home"
    for d in (".claude", ".codex"):
        (home / d).mkdir(parents=True)
    write(home / ".claude/skills/pdf/SKILL.md", SKILL)
    adapters = load_adapters()
    chosen = {c: adapters[c] for c in ("claude-code", "codex")}
    before = snapshot(tmp_path)
    first = plan_placements(chosen, home, (), (home,))
    assert first == plan_placements(chosen, home, (), (home,))
    assert snapshot(tmp_path) == before
    assert [a.action for a in first.actions] == ["copy_skill"]


def test_user_agents_md_is_synced_by_content_never_shimmed_or_pointed(tmp_path: Path) -> None:
    """~/.codex/AGENTS.md reaches each client's own personal file by content: no
    ``@~/.codex/AGENTS.md`` shim, no ~/.gemini/AGENTS.md copy, no user-level pointer."""
    clients = ("claude-code", "codex", "gemini", "qwen", "copilot")
    svc = service(tmp_path, clients)
    write(svc.home / ".codex/AGENTS.md", "# Me\n")
    by_path = {c["path"]: c["placement"] for c in placements(svc)}
    assert by_path == {
        str(svc.home / rel): "sync_instructions"
        for rel in (
            ".claude/CLAUDE.md",
            ".gemini/GEMINI.md",
            ".qwen/QWEN.md",
            ".copilot/copilot-instructions.md",
        )
    }
    apply_all(svc)
    assert (svc.home / ".claude/CLAUDE.md").read_text() == "# Me\n"
    assert not (svc.home / ".gemini/settings.json").exists()
    assert placements(svc) == []


def test_user_files_that_differ_are_merged_not_reported_as_drift(tmp_path: Path) -> None:
    """A first sync of two personal files adds what each has to the other; nothing is lost."""
    svc = service(tmp_path, ("codex", "qwen"))
    write(svc.home / ".codex/AGENTS.md", "# Me\n")
    own = write(svc.home / ".qwen/QWEN.md", "# Qwen only\n")
    view = svc.plan()
    assert [d for d in view.decisions if d["type"] == "PlacementDrift"] == []
    svc.apply(view.plan_hash)
    assert sorted(own.read_text().split("\n\n")) == ["# Me", "# Qwen only\n"]
