"""Claude Code: ``~/.claude.json`` (user and per-project local scope) and ``.mcp.json``.

Both files are strict JSON (a comment makes Claude reject or ignore them). User-scope servers
sit in the top-level ``mcpServers``; local-scope servers in ``projects["/abs"].mcpServers`` of
the same file, so that file appears once per scope in :meth:`discover`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from adapters._agent_tools import CLAUDE_TOOLS, claude_model
from adapters._commands import CommandCodec
from adapters._mcp_json import JsonDialect, McpJsonAdapter
from adapters._settings import SettingsDialect
from adapters._subagents import SubagentDialect
from adapters.base import Capabilities, ConfigFile
from adapters.envrefs import EnvSyntax
from adapters.files import MAX_LARGE_CONFIG_BYTES
from adapters.formats import Format
from events.client_config import ClientId, McpServer, Scope

__all__ = ["ClaudeCodeAdapter"]

_MCP = frozenset({McpServer.kind})
_SERVER_FIELDS = frozenset(
    {"transport", "command", "args", "env", "url", "headers", "bearer_token_env"}
)


class ClaudeCodeAdapter(McpJsonAdapter):
    """Claude Code's MCP configuration."""

    client = ClientId.CLAUDE_CODE
    display_name = "Claude Code"
    instruction_files = ("CLAUDE.md", ".claude/CLAUDE.md", "AGENTS.md")
    user_instruction_files = (".claude/CLAUDE.md",)
    subagent_dialect = SubagentDialect(
        client="claude-code",
        fmt=Format.MARKDOWN,
        suffix=".md",
        user_dirs=(".claude/agents",),
        project_dirs=(".claude/agents",),
        keys={
            "description": ("description",),
            "model": ("model",),
            "tools": ("tools",),
            "tools_deny": ("disallowedTools",),
            "max_turns": ("maxTurns",),
            "color": ("color",),
        },
        tools=CLAUDE_TOOLS,
        tools_style="csv",
        model_ok=claude_model,
    )
    skill_dirs = ((".claude/skills",), (".claude/skills",))
    command_codec = CommandCodec(Format.MARKDOWN)
    command_dirs = ((".claude/commands",), (".claude/commands",))
    # dontAsk and auto have no equivalent: parsed as "claude-code:<mode>", never written.
    settings_dialect = SettingsDialect(
        client="claude-code",
        fmt=Format.JSON,
        path=".claude/settings.json",
        model=("model",),
        approval=("permissions", "defaultMode"),
        modes={
            "default": "default",
            "acceptEdits": "auto_edit",
            "plan": "plan",
            "bypassPermissions": "full_access",
        },
    )
    dialect = JsonDialect(
        syntax=EnvSyntax.CLAUDE,
        always_env=True,
        disabled_note="Claude keeps disabled servers in approval lists, not in the server",
    )

    def container(self, file: ConfigFile) -> tuple[str, ...]:
        """Top-level ``mcpServers``, or ``projects[abs].mcpServers`` for local scope."""
        if file.scope is Scope.LOCAL and file.project is not None:
            return ("projects", str(file.project), "mcpServers")
        return ("mcpServers",)

    def discover(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """``~/.claude.json`` (user + one local entry per project) and each ``.mcp.json``."""
        state = home / ".claude.json"
        # Claude keeps every project's prompt history in it too: 15-100 MB after months.
        large = MAX_LARGE_CONFIG_BYTES
        user = ConfigFile(self.client, state, Scope.USER, Format.JSON, _MCP, True, max_bytes=large)
        files = [user]
        for project in projects:
            files.append(dataclasses.replace(user, scope=Scope.LOCAL, project=project))
            files.append(
                ConfigFile(
                    self.client,
                    project / ".mcp.json",
                    Scope.PROJECT,
                    Format.JSON,
                    _MCP,
                    True,
                    project,
                )
            )
        files += self.command_files(home, projects) + self.subagent_files(home, projects)
        return self.with_settings(files, home)

    def capabilities(self) -> Capabilities:
        """Claude has no cwd, timeouts, tool filters, trust or description on a server."""
        return Capabilities(
            self.client,
            {McpServer.kind: _SERVER_FIELDS, **self.entity_capabilities()},
            ("SSE supported", "env syntax ${VAR} and ${VAR:-default}"),
        )
