"""Gemini CLI: ``~/.gemini/settings.json`` and ``.gemini/settings.json`` (JSONC).

Gemini expands ``$VAR``/``${VAR}``/``${VAR:-def}`` in *every* settings string, so literal
``$`` text written here is reported as a loss. HTTP servers are written as ``url`` +
``type: "http"``; the legacy ``httpUrl`` is read and replaced when that server changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adapters._commands import CommandCodec
from adapters._mcp_json import JsonDialect, McpJsonAdapter
from adapters.base import Capabilities, ConfigFile
from adapters.envrefs import EnvSyntax
from adapters.formats import Format
from events.client_config import ClientId, McpServer, Scope, Transport

__all__ = ["GeminiCliAdapter"]

_MCP = frozenset({McpServer.kind})
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


class GeminiCliAdapter(McpJsonAdapter):
    """Gemini CLI's MCP configuration."""

    client = ClientId.GEMINI
    display_name = "Gemini CLI"
    command_codec = CommandCodec(Format.TOML)
    command_dirs = (".gemini/commands", ".gemini/commands")
    dialect = JsonDialect(
        syntax=EnvSyntax.GEMINI,
        stdio_type=None,
        untyped_url=Transport.SSE,
        optional=_OPTIONAL,
        disabled_note="Gemini keeps disabled servers in mcp.excluded / the enablement file",
    )

    def discover(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """User settings plus each project's ``.gemini/settings.json``."""
        files = [
            ConfigFile(
                self.client,
                home / ".gemini" / "settings.json",
                Scope.USER,
                Format.JSONC,
                _MCP,
                False,
            )
        ]
        files += [
            ConfigFile(
                self.client,
                p / ".gemini" / "settings.json",
                Scope.PROJECT,
                Format.JSONC,
                _MCP,
                False,
                p,
            )
            for p in projects
        ]
        return files + self.command_files(home, projects)

    def capabilities(self) -> Capabilities:
        """Gemini supports cwd, timeout (ms), trust, description and tool filters."""
        return Capabilities(
            self.client,
            {McpServer.kind: _SERVER_FIELDS},
            ("project settings ignored in untrusted folders", "$ expanded in every string"),
        )
