"""``synapse agents``: an agent that needs a login is flagged, with the alert's advice."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from synapse import _agent_commands


class FakeApi:
    """Answers ``GET /api/v1/agents`` like the gateway does (the HTTP boundary)."""

    def get_json(self, path: str) -> dict[str, Any]:
        assert path == "/api/v1/agents"
        row = {
            "backend": "claude",
            "breaker": "open",
            "error_rate": 1.0,
            "ewma_latency_ms": 0.0,
            "in_flight": 0,
            "capabilities": ["plan"],
            "enabled": True,
        }
        return {
            "agents": [
                {**row, "name": "claude", "needs_login": True, "alert": "needs login: run it"},
                {**row, "name": "demo", "needs_login": False, "breaker": "closed"},
            ]
        }


def test_agents_flags_the_agent_that_needs_a_login(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The row says NEEDS LOGIN and stderr carries the advice; other agents are unmarked."""
    monkeypatch.setattr(_agent_commands, "_client", lambda _args: FakeApi())
    assert _agent_commands.agents(argparse.Namespace(json=False)) == 0
    out, err = capsys.readouterr()
    claude = next(line for line in out.splitlines() if line.startswith("claude"))
    demo = next(line for line in out.splitlines() if line.startswith("demo"))
    assert "NEEDS LOGIN" in claude
    assert "NEEDS LOGIN" not in demo
    assert "claude: needs login: run it" in err
