"""The README's main command keeps working: `synapse demo` runs every act and checks itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ray


def test_demo_runs_every_act_and_loses_nothing(tmp_path: Path) -> None:
    """The demo recovers the fault, completes the workflow, syncs MCP, commands, agents, skills."""
    result = subprocess.run(
        [sys.executable, "-m", "synapse.cli", "demo", "--seconds", "1", "--home", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert "ActorLifecycle.Restarted" in out  # act 1: the crashed projector came back
    assert "Task.FallbackUsed" in out or "Task.RetryScheduled" in out  # act 2: fault recovered
    assert "completed: plan=done, code=done, review=done, execute=done" in out  # act 3
    assert "the edit reached all 7 other clients" in out  # act 4: MCP
    assert "FAILED" not in out
    assert "command /review reached cursor, gemini, opencode, qwen" in out  # 4b: commands
    assert 'review.toml: prompt = "Review {{args}} for bugs and missing tests.' in out
    assert "subagent reviewer reached all 7 other clients" in out  # 4b: subagents
    assert "skill changelog: one copy into ~/.agents/skills" in out  # 4b: skills
    assert "~/.agents/skills: codex, copilot, gemini, qwen" in out
    assert "the edit came back to ~/.claude/commands/review.md" in out  # 4c
    assert "Review $ARGUMENTS like a security auditor" in out
    assert "frontmatter keys kept: description, argument-hint, allowed-tools" in out
    assert "the rule reached all 6 other clients once" in out  # 4d: personal instructions
    assert "nothing lost, nothing doubled" in out
