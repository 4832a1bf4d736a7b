"""The README's main command keeps working: `synapse demo` runs every act and checks itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ray

#: Ray's own lines a newcomer must not see (they go to <home>/logs/ray-driver.log).
RAY_NOISE = (
    "core_worker.cc",
    "constructor arguments in the object store",
    "(raylet)",
    "graceful_shutdown failed",
    "PYTHON worker processes have been started",
    "Token authentication is enabled",
)
FIELDS = {"ts", "level", "logger", "actor", "msg"}


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
    _assert_quiet_terminal_and_json_logs(out + result.stderr, tmp_path / "synapse" / "logs")


def _assert_quiet_terminal_and_json_logs(terminal: str, logs: Path) -> None:
    """Ray's noise reached the log folder, not the terminal; every process wrote JSON lines."""
    assert [phrase for phrase in RAY_NOISE if phrase in terminal] == []
    assert "tightened permissions" not in terminal  # the sandbox home is made private at once
    assert "== starting Synapse in the sandbox" in terminal  # our own lines stay
    assert (logs / "ray-driver.log").stat().st_size > 0
    actors = set()
    for path in logs.glob("*.jsonl*"):
        assert path.stat().st_mode & 0o777 == 0o600, path
        for text in path.read_text().splitlines():
            line = json.loads(text)
            assert set(line) >= FIELDS, (path, line)
            actors.add(line["actor"])
    assert {"projector", "gateway", "sync", "supervisor", "api", "cli"} <= actors, actors
    assert any(a.startswith("watcher:") for a in actors), actors
