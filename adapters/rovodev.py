"""Atlassian Rovo Dev: ``~/.rovodev/mcp.json`` and the project ``.rovodev/mcp.json``.

Servers use ``"transport": "stdio|http|sse"`` instead of ``type``. Rovo Dev reads only the
file named by ``mcp.mcpConfigPath`` in ``config.yml`` (default: the global file), so a
project file is inert unless that key points at it; :func:`mcp_config_path` reads the key.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adapters._agent_tools import ROVODEV_TOOLS, full_model_id
from adapters._mcp_json import JsonDialect, McpJsonAdapter
from adapters._settings import SettingsDialect
from adapters._subagents import SubagentDialect
from adapters.base import Capabilities, ConfigFile
from adapters.envrefs import EnvSyntax
from adapters.formats import Format, load
from events.client_config import ClientId, McpServer

__all__ = ["RovoDevAdapter", "mcp_config_path"]

_SERVER_FIELDS = frozenset(
    {"transport", "command", "args", "env", "url", "headers", "bearer_token_env"}
)


def mcp_config_path(config_yml_text: str) -> str | None:
    """The ``mcp.mcpConfigPath`` value of a Rovo Dev ``config.yml``, if set."""
    data = load(Format.YAML, config_yml_text) if config_yml_text.strip() else {}
    mcp = data.get("mcp") if isinstance(data, dict) else None
    path = mcp.get("mcpConfigPath") if isinstance(mcp, dict) else None
    return path if isinstance(path, str) else None


class RovoDevAdapter(McpJsonAdapter):
    """Rovo Dev's MCP configuration."""

    client = ClientId.ROVODEV
    display_name = "Rovo Dev"
    instruction_files = ("AGENTS.md", "AGENTS.local.md")
    subagent_dialect = SubagentDialect(
        client="rovodev",
        fmt=Format.MARKDOWN,
        suffix=".md",
        user_dirs=(".rovodev/subagents",),
        project_dirs=(".rovodev/subagents",),
        keys={"description": ("description",), "model": ("model",), "tools": ("tools",)},
        tools=ROVODEV_TOOLS,
        model_ok=full_model_id,
    )
    settings_dialect = SettingsDialect(
        client="rovodev", fmt=Format.YAML, path=".rovodev/config.yml", model=("agent", "modelId")
    )
    # Rovo Dev does not document interpolation; ${VAR} is what other tools write.
    dialect = JsonDialect(
        syntax=EnvSyntax.CLAUDE,
        type_key="transport",
        disabled_note="Rovo Dev has no per-server disabled flag",
    )

    def discover(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """The global MCP file and each project's ``.rovodev/mcp.json``."""
        files = self.mcp_files(
            home, projects, ".rovodev/mcp.json", ".rovodev/mcp.json", Format.JSON
        )
        return self.with_settings(files + self.subagent_files(home, projects), home)

    def capabilities(self) -> Capabilities:
        """Rovo Dev has the basic stdio/remote fields."""
        return Capabilities(
            self.client,
            {McpServer.kind: _SERVER_FIELDS, **self.entity_capabilities()},
            ("project mcp.json needs mcp.mcpConfigPath in config.yml", *self.entity_notes()),
        )
