"""Cursor: ``~/.cursor/mcp.json`` and ``.cursor/mcp.json`` with ``${env:VAR}`` references.

Commands are plain Markdown in ``~/.cursor/commands`` and ``.cursor/commands``: no frontmatter
and no placeholders (what is typed after ``/name`` follows the text), so only the body syncs
and the rest is reported as lost (:class:`~adapters._commands.CommandCodec` ``plain``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adapters._commands import CommandCodec
from adapters._mcp_json import JsonDialect, McpJsonAdapter
from adapters._subagents import SubagentDialect
from adapters.base import Capabilities, ConfigFile
from adapters.envrefs import EnvSyntax
from adapters.formats import Format
from events.client_config import ClientId, McpServer

__all__ = ["CursorAdapter"]

_SERVER_FIELDS = frozenset(
    {"transport", "command", "args", "env", "url", "headers", "bearer_token_env"}
)


class CursorAdapter(McpJsonAdapter):
    """Cursor's MCP configuration (IDE and ``cursor-agent``)."""

    client = ClientId.CURSOR
    display_name = "Cursor"
    instruction_files = ("AGENTS.md", ".cursorrules")
    subagent_dialect = SubagentDialect(
        client="cursor",
        fmt=Format.MARKDOWN,
        suffix=".md",
        user_dirs=(".cursor/agents",),
        project_dirs=(".cursor/agents",),
        keys={"description": ("description",), "model": ("model",)},
    )
    skill_dirs = ((".cursor/skills",), (".cursor/skills",))
    command_codec = CommandCodec(Format.MARKDOWN, plain=True)
    command_dirs = (".cursor/commands", ".cursor/commands")
    dialect = JsonDialect(
        syntax=EnvSyntax.CURSOR,
        disabled_note="Cursor toggles servers in its UI, not in mcp.json",
    )

    def discover(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """The MCP files, plus the command and agent files in the user and project dirs."""
        files = self.mcp_files(home, projects, ".cursor/mcp.json", ".cursor/mcp.json", Format.JSON)
        return files + self.command_files(home, projects) + self.subagent_files(home, projects)

    def capabilities(self) -> Capabilities:
        """Cursor has the basic stdio/remote fields; ``envFile`` stays an extra."""
        return Capabilities(
            self.client,
            {McpServer.kind: _SERVER_FIELDS, **self.entity_capabilities()},
            ("env syntax ${env:VAR}", "commands are plain Markdown: body only, no placeholders"),
        )
