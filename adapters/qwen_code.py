"""Qwen Code: ``~/.qwen/settings.json`` and ``.qwen/settings.json`` (JSONC, ``$version: 4``).

A Gemini CLI fork with its own spelling: streamable HTTP is ``httpUrl``, SSE is a bare
``url``, and there is no ``type`` key. Qwen expands ``$VAR`` and ``${VAR}`` but has no
``${VAR:-default}``, so defaults are reported as losses.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adapters._agent_tools import QWEN_TOOLS, full_model_id
from adapters._commands import CommandCodec
from adapters._mcp_json import JsonDialect, McpJsonAdapter
from adapters._settings import SettingsDialect
from adapters._subagents import SubagentDialect
from adapters.base import Capabilities, ConfigFile
from adapters.envrefs import EnvSyntax
from adapters.formats import Format
from events.client_config import ClientId, McpServer, Transport

__all__ = ["QwenCodeAdapter"]

_OPTIONAL = frozenset({"cwd", "timeout", "trust", "description", "includeTools", "excludeTools"})
_SERVER_FIELDS = frozenset(
    {
        "transport",
        "command",
        "args",
        "env",
        "url",
        "headers",
        "bearer_token_env",
        "cwd",
        "tool_timeout_ms",
        "trust",
        "description",
        "tools_include",
        "tools_exclude",
    }
)


class QwenCodeAdapter(McpJsonAdapter):
    """Qwen Code's MCP configuration."""

    client = ClientId.QWEN
    display_name = "Qwen Code"
    instruction_files = ("QWEN.md", "AGENTS.md")
    user_instruction_files = (".qwen/QWEN.md", ".qwen/AGENTS.md")
    subagent_dialect = SubagentDialect(
        client="qwen",
        fmt=Format.MARKDOWN,
        suffix=".md",
        user_dirs=(".qwen/agents",),
        project_dirs=(".qwen/agents",),
        keys={
            "description": ("description",),
            "model": ("model",),
            "tools": ("tools",),
            "tools_deny": ("disallowedTools",),
            "max_turns": ("runConfig", "max_turns"),
            "color": ("color",),
        },
        tools=QWEN_TOOLS,
        model_ok=full_model_id,
    )
    skill_dirs = ((".qwen/skills", ".agents/skills"), (".qwen/skills", ".agents/skills"))
    command_codec = CommandCodec(Format.TOML)
    command_dirs = ((".qwen/commands",), (".qwen/commands",))
    settings_dialect = SettingsDialect(
        client="qwen",
        fmt=Format.JSONC,
        path=None,
        model=("model", "name"),
        approval=("tools", "approvalMode"),
        modes={
            "default": "default",
            "auto-edit": "auto_edit",
            "plan": "plan",
            "yolo": "full_access",
        },
    )
    dialect = JsonDialect(
        syntax=EnvSyntax.QWEN,
        type_key=None,
        stdio_type=None,
        http_url_key="httpUrl",
        typed_remote=False,
        untyped_url=Transport.SSE,
        optional=_OPTIONAL,
        disabled_note="Qwen keeps disabled servers in mcp.excluded",
    )

    def discover(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """User settings plus each project's ``.qwen/settings.json``."""
        files = self.mcp_files(
            home, projects, ".qwen/settings.json", ".qwen/settings.json", Format.JSONC
        )
        files += self.command_files(home, projects) + self.subagent_files(home, projects)
        return self.with_settings(files, home)

    def capabilities(self) -> Capabilities:
        """Qwen supports cwd, timeout (ms), trust, description and tool filters."""
        return Capabilities(
            self.client,
            {McpServer.kind: _SERVER_FIELDS, **self.entity_capabilities()},
            ("no ${VAR:-default}", "writes settings.json.orig on its own writes"),
        )
