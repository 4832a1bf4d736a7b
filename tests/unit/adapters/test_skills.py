"""Skills: whole-directory entities, de-duplicated across roots, planned into shared roots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters._skills import (
    FoundSkill,
    SkillRoot,
    check_relative,
    find_skills,
    plan_skill,
    read_skill,
    skill_digest,
)
from adapters.claude_code import ClaudeCodeAdapter
from adapters.codex import CodexAdapter
from adapters.gemini_cli import GeminiCliAdapter
from adapters.opencode import OpenCodeAdapter
from adapters.rovodev import RovoDevAdapter
from events.client_config import Placement, Scope
from events.errors import ConfigParseError, UnsafeInputError

SKILL_MD = """---
name: pdf
description: Extract text and tables from PDF files.
license: Apache-2.0
compatibility: Requires python3
metadata:
  author: example-org
  version: "1.0"
allowed-tools: Bash(git diff:*) Read
---
# PDF

Run `scripts/extract.py`.
"""
CLAUDE_SKILL_MD = """---
name: review
description: Review a diff
context: fork
hooks: {}
---
Review.
"""


def _write_skill(root: Path, name: str, skill_md: str = SKILL_MD, extra: bytes = b"print(1)\n"):
    skill = root / name
    (skill / "scripts").mkdir(parents=True)
    (skill / "SKILL.md").write_text(skill_md)
    (skill / "scripts" / "extract.py").write_bytes(extra)
    return skill


def _roots(adapter: object, tmp: Path) -> list[SkillRoot]:
    assert isinstance(adapter, ClaudeCodeAdapter | CodexAdapter | GeminiCliAdapter)
    return [r for r in adapter.skill_roots(tmp / "home", [tmp / "proj"]) if r.project]


def _project_roots(tmp: Path) -> list[SkillRoot]:
    proj = tmp / "proj"
    return [
        SkillRoot(proj / ".agents/skills", ".agents/skills", Scope.PROJECT, proj),
        SkillRoot(proj / ".claude/skills", ".claude/skills", Scope.PROJECT, proj),
    ]


def test_skill_frontmatter_maps_to_the_agent_skills_core(tmp_path: Path) -> None:
    """name, description, license, compatibility, metadata and allowed-tools are canonical."""
    [agents, _] = _project_roots(tmp_path)
    found = read_skill(_write_skill(agents.path, "pdf"), agents, [tmp_path])
    skill = found.skill
    assert (skill.name, skill.scope, skill.root) == ("pdf", Scope.PROJECT, ".agents/skills")
    assert skill.description.startswith("Extract text")
    assert (skill.license, skill.compatibility) == ("Apache-2.0", "Requires python3")
    assert skill.metadata == {"author": "example-org", "version": "1.0"}
    assert skill.allowed_tools == ("Bash(git diff:*)", "Read")
    assert set(found.files) == {"SKILL.md", "scripts/extract.py"}
    assert skill.content_sha256 == skill_digest(found.files)


def test_digest_covers_every_byte_and_every_path(tmp_path: Path) -> None:
    """A changed script or a renamed file changes the digest; the same bytes do not."""
    [agents, claude] = _project_roots(tmp_path)
    a = read_skill(_write_skill(agents.path, "pdf"), agents, [tmp_path]).skill
    b = read_skill(_write_skill(claude.path, "pdf"), claude, [tmp_path]).skill
    assert a.digest() == b.digest()
    (claude.path / "pdf/scripts/extract.py").write_bytes(b"print(2)\n")
    assert read_skill(claude.path / "pdf", claude, [tmp_path]).skill.digest() != a.digest()
    files = {"SKILL.md": b"x", "a": b"y"}
    assert skill_digest(files) != skill_digest({"SKILL.md": b"x", "b": b"y"})


def test_same_skill_in_two_roots_is_one_entity(tmp_path: Path) -> None:
    """.agents/skills/pdf and an identical .claude/skills/pdf de-duplicate into one skill."""
    roots = _project_roots(tmp_path)
    _write_skill(roots[0].path, "pdf")
    _write_skill(roots[1].path, "pdf")
    _write_skill(roots[1].path, "review", CLAUDE_SKILL_MD)
    found = find_skills(roots)
    assert [f.skill.name for f in found] == ["pdf", "review"]
    assert found[0].locations == (roots[0].path / "pdf", roots[1].path / "pdf")


def test_same_name_different_content_stays_two_entities(tmp_path: Path) -> None:
    """Diverged copies are not merged: the caller sees the conflict."""
    roots = _project_roots(tmp_path)
    _write_skill(roots[0].path, "pdf")
    _write_skill(roots[1].path, "pdf", extra=b"print('changed')\n")
    assert len(find_skills(roots)) == 2


def test_client_reading_a_shared_root_gets_nothing_copied(tmp_path: Path) -> None:
    """Codex reads .agents/skills, which already holds the skill: de-duplicate, don't copy."""
    roots = _project_roots(tmp_path)
    _write_skill(roots[0].path, "pdf")
    [pdf] = find_skills(roots)
    plan = plan_skill(pdf, "codex", _roots(CodexAdapter(), tmp_path), [pdf])
    assert plan.placement is Placement.SHARED_ROOT
    assert (plan.writes, plan.target_dir, plan.reused) == ({}, None, roots[0].path / "pdf")


def test_claude_gets_a_copy_or_a_symlink_into_claude_skills(tmp_path: Path) -> None:
    """Claude reads only .claude/skills: the whole directory is copied, or linked on request."""
    roots = _project_roots(tmp_path)
    _write_skill(roots[0].path, "pdf")
    [pdf] = find_skills(roots)
    claude_roots = _roots(ClaudeCodeAdapter(), tmp_path)
    copy = plan_skill(pdf, "claude-code", claude_roots, [pdf])
    assert copy.placement is Placement.COPY
    assert copy.target_dir == roots[1].path / "pdf"
    assert copy.writes == dict(pdf.files)
    link = plan_skill(pdf, "claude-code", claude_roots, [pdf], Placement.SYMLINK)
    assert link.placement is Placement.SYMLINK
    assert link.writes == {}
    assert link.symlink_to == os.path.join("..", "..", ".agents", "skills", "pdf")


def test_gemini_copy_goes_to_the_shared_agents_root(tmp_path: Path) -> None:
    """A skill seen only in .claude/skills is planned into .agents/skills for Gemini."""
    roots = _project_roots(tmp_path)
    _write_skill(roots[1].path, "review", CLAUDE_SKILL_MD)
    [review] = find_skills(roots)
    plan = plan_skill(review, "gemini", _roots(GeminiCliAdapter(), tmp_path), [review])
    assert plan.target_dir == roots[0].path / "review"
    assert {loss.field for loss in plan.losses} == {"frontmatter.context", "frontmatter.hooks"}
    same = plan_skill(review, "claude-code", _roots(ClaudeCodeAdapter(), tmp_path), [review])
    assert same.losses == []


def test_update_in_place_writes_only_changed_files_inside_the_skill(tmp_path: Path) -> None:
    """An older copy gets the changed bytes and loses stale files only inside its own dir."""
    roots = _project_roots(tmp_path)
    _write_skill(roots[0].path, "pdf", extra=b"new\n")
    old = _write_skill(roots[1].path, "pdf")
    (old / "stale.txt").write_text("old")
    (roots[1].path / "keep.md").write_text("user file beside the skill")
    new, stale = find_skills(roots)
    plan = plan_skill(new, "claude-code", _roots(ClaudeCodeAdapter(), tmp_path), [new, stale])
    assert plan.target_dir == old
    assert plan.writes == {"scripts/extract.py": b"new\n"}
    assert plan.deletes == ("stale.txt",)


def test_symlink_leaving_the_allowed_roots_is_refused(tmp_path: Path) -> None:
    """A file link to ~/.ssh or a skill dir linked outside the roots is refused."""
    [agents, claude] = _project_roots(tmp_path)
    secret = tmp_path / "outside" / "id_rsa"
    secret.parent.mkdir()
    secret.write_text("KEY")
    skill = _write_skill(agents.path, "pdf")
    (skill / "leak").symlink_to(secret)
    with pytest.raises(UnsafeInputError, match="outside"):
        read_skill(skill, agents, [agents.path, claude.path])
    claude.path.mkdir(parents=True)
    (claude.path / "evil").symlink_to(secret.parent)
    (secret.parent / "SKILL.md").write_text("---\nname: evil\n---\n")
    with pytest.raises(UnsafeInputError):
        find_skills([claude])


def test_symlinked_skill_inside_the_roots_is_read_as_a_symlink(tmp_path: Path) -> None:
    """.claude/skills/pdf → ../../.agents/skills/pdf is one skill with symlink placement."""
    roots = _project_roots(tmp_path)
    _write_skill(roots[0].path, "pdf")
    roots[1].path.mkdir(parents=True)
    (roots[1].path / "pdf").symlink_to(Path("../../.agents/skills/pdf"))
    found = find_skills(roots, [tmp_path / "proj"])
    assert len(found) == 1
    assert len(found[0].locations) == 2
    linked = read_skill(roots[1].path / "pdf", roots[1], [tmp_path])
    assert linked.skill.placement is Placement.SYMLINK


@pytest.mark.parametrize("rel", ["../x", "/etc/passwd", "a/../b", "a\\b", "", "a//b", "nul\x00"])
def test_escaping_relative_paths_are_refused(rel: str) -> None:
    """Skill file paths that could leave the skill directory are refused."""
    with pytest.raises(UnsafeInputError):
        check_relative(rel)


def test_hostile_skill_names_and_missing_skill_md_are_refused(tmp_path: Path) -> None:
    """Dot/dash names are refused; a directory without SKILL.md is not a skill."""
    [agents, _] = _project_roots(tmp_path)
    hidden = _write_skill(agents.path, ".hidden")
    with pytest.raises(UnsafeInputError):
        read_skill(hidden, agents, [tmp_path])
    (agents.path / "empty").mkdir()
    with pytest.raises(ConfigParseError, match=r"SKILL\.md"):
        read_skill(agents.path / "empty", agents, [tmp_path])
    bad = FoundSkill(
        read_skill(_write_skill(agents.path, "pdf"), agents, [tmp_path]).skill,
        agents,
        {"../escape": b"x"},
    )
    with pytest.raises(UnsafeInputError):
        plan_skill(bad, "claude-code", _roots(ClaudeCodeAdapter(), tmp_path))


def test_skill_roots_follow_the_reference_matrix(tmp_path: Path) -> None:
    """Claude reads .claude/skills; Codex/OpenCode read .agents/skills; Rovo Dev has none."""
    home, proj = tmp_path / "home", tmp_path / "proj"

    def rels(adapter: object) -> list[str]:
        assert hasattr(adapter, "skill_roots")
        return [r.rel for r in adapter.skill_roots(home, [proj]) if r.scope is Scope.PROJECT]

    assert rels(ClaudeCodeAdapter()) == [".claude/skills"]
    assert rels(CodexAdapter()) == [".codex/skills", ".agents/skills"]
    # OpenCode's legacy ``skill/`` is read last (placement copies into a shared root).
    opencode = [".opencode/skills", ".claude/skills", ".agents/skills", ".opencode/skill"]
    assert rels(OpenCodeAdapter()) == opencode
    assert rels(RovoDevAdapter()) == []


@given(
    st.dictionaries(
        st.from_regex(r"[a-z]{1,5}(/[a-z]{1,5})?", fullmatch=True), st.binary(max_size=20)
    ),
    st.randoms(),
)
def test_digest_ignores_listing_order(files: dict[str, bytes], rnd: object) -> None:
    """The digest depends on paths and bytes only, never on directory listing order."""
    items = list(files.items())
    assert hasattr(rnd, "shuffle")
    rnd.shuffle(items)
    assert skill_digest(dict(items)) == skill_digest(files)
