"""GitHub Copilot CLI: ``~/.copilot/mcp-config.json`` and the workspace ``.github/mcp.json``.

The CLI writes ``"type": "local"`` for stdio and ``"tools": ["*"]`` when no allowlist is
given. Disabled servers are listed in ``~/.copilot/settings.json`` (``disabledMcpServers``),
not in the MCP file; :func:`disabled_servers` reads that list so callers can overlay it.
Copilot also reads Claude's ``.mcp.json``; that file belongs to the Claude adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adapters._agent_tools import COPILOT_TOOLS, full_model_id
from adapters._mcp_json import JsonDialect, McpJsonAdapter
from adapters._settings import SettingsDialect
from adapters._subagents import SubagentDialect
from adapters.base import Capabilities, ConfigFile
from adapters.envrefs import EnvSyntax
from adapters.formats import Format, load
from events.client_config import ClientId, McpServer

__all__ = ["CopilotCliAdapter", "disabled_servers"]

_SERVER_FIELDS = frozenset(
    {
        "transport",
        "command",
        "args",
        "env",
        "url",
        "headers",
        "bearer_token_env",
        "tool_timeout_ms",
        "tools_include",
    }
)


def disabled_servers(settings_text: str) -> frozenset[str]:
    """Names in ``disabledMcpServers`` of ``~/.copilot/settings.json`` text."""
    data = load(Format.JSON, settings_text) if settings_text.strip() else {}
    names = data.get("disabledMcpServers", []) if isinstance(data, dict) else []
    return frozenset(n for n in names if isinstance(n, str))


class CopilotCliAdapter(McpJsonAdapter):
    """Copilot CLI's MCP configuration."""

    client = ClientId.COPILOT
    display_name = "GitHub Copilot CLI"
    instruction_files = (".github/copilot-instructions.md", "AGENTS.md", "CLAUDE.md", "GEMINI.md")
    user_instruction_files = (".copilot/copilot-instructions.md",)
    subagent_dialect = SubagentDialect(
        client="copilot",
        fmt=Format.MARKDOWN,
        suffix=".agent.md",
        user_dirs=(".copilot/agents",),
        project_dirs=(".github/agents",),
        keys={"description": ("description",), "model": ("model",), "tools": ("tools",)},
        tools=COPILOT_TOOLS,
        model_ok=full_model_id,
    )
    skill_dirs = (
        (".copilot/skills", ".agents/skills"),
        (".github/skills", ".agents/skills", ".claude/skills"),
    )
    settings_dialect = SettingsDialect(
        client="copilot",
        fmt=Format.JSON,
        path=".copilot/settings.json",
        model=("model",),
        approval=("defaultMode",),
        modes={"interactive": "default", "plan": "plan", "autopilot": "full_access"},
    )
    dialect = JsonDialect(
        syntax=EnvSyntax.CLAUDE,
        stdio_type="local",
        optional=frozenset({"timeout", "tools"}),
        disabled_note="Copilot keeps disabled servers in settings.json disabledMcpServers",
    )

    def discover(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """The user MCP file and each project's ``.github/mcp.json``."""
        files = self.mcp_files(
            home, projects, ".copilot/mcp-config.json", ".github/mcp.json", Format.JSON
        )
        return self.with_settings(files + self.subagent_files(home, projects), home)

    def capabilities(self) -> Capabilities:
        """Copilot supports a tool allowlist and a timeout (ms)."""
        return Capabilities(
            self.client,
            {McpServer.kind: _SERVER_FIELDS, **self.entity_capabilities()},
            ("workspace MCP only in trusted_folders", "${VAR} expansion unconfirmed"),
        )
