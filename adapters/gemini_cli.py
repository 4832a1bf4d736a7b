"""Gemini CLI: ``~/.gemini/settings.json`` and ``.gemini/settings.json`` (JSONC).

Gemini expands ``$VAR``/``${VAR}``/``${VAR:-def}`` in *every* settings string, so literal
``$`` text written here is reported as a loss. HTTP servers are written as ``url`` +
``type: "http"``; the legacy ``httpUrl`` is read and replaced when that server changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adapters._agent_tools import GEMINI_TOOLS, gemini_model
from adapters._commands import CommandCodec
from adapters._mcp_json import JsonDialect, McpJsonAdapter
from adapters._settings import SettingsDialect
from adapters._subagents import SubagentDialect
from adapters.base import Capabilities, ConfigFile
from adapters.envrefs import EnvSyntax
from adapters.formats import Edit, Format, load
from events.client_config import ClientId, McpServer, Transport

__all__ = ["GeminiCliAdapter", "point_context_at_agents_md"]

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


def point_context_at_agents_md(settings_text: str) -> list[Edit]:
    """Edits making Gemini read ``AGENTS.md`` (``context.fileName``) instead of a copy.

    Returns ``[]`` when AGENTS.md is already named. A string or legacy top-level
    ``contextFileName`` is kept as a second entry so nothing the user chose is lost.
    """
    data = load(Format.JSONC, settings_text) if settings_text.strip() else {}
    context = data.get("context") if isinstance(data, dict) else None
    current = context.get("fileName") if isinstance(context, dict) else None
    if current is None and isinstance(data, dict):
        current = data.get("contextFileName")
    names = [current] if isinstance(current, str) else list(current or ["GEMINI.md"])
    if "AGENTS.md" in names:
        return []
    return [Edit(("context", "fileName"), ["AGENTS.md", *names])]


class GeminiCliAdapter(McpJsonAdapter):
    """Gemini CLI's MCP configuration."""

    client = ClientId.GEMINI
    display_name = "Gemini CLI"
    instruction_files = ("GEMINI.md",)
    user_instruction_files = (".gemini/GEMINI.md", ".gemini/AGENTS.md")
    # Gemini's agent schema is .strict(): any other frontmatter key invalidates the agent.
    subagent_dialect = SubagentDialect(
        client="gemini",
        fmt=Format.MARKDOWN,
        suffix=".md",
        user_dirs=(".gemini/agents",),
        project_dirs=(".gemini/agents",),
        keys={
            "description": ("description",),
            "model": ("model",),
            "tools": ("tools",),
            "max_turns": ("max_turns",),
            "temperature": ("temperature",),
        },
        tools=GEMINI_TOOLS,
        model_ok=gemini_model,
        allowed_keys=frozenset(
            {"kind", "name", "description", "display_name", "tools", "mcp_servers", "model"}
            | {"temperature", "max_turns", "timeout_mins"}
        ),
    )
    skill_dirs = ((".gemini/skills", ".agents/skills"), (".gemini/skills", ".agents/skills"))
    command_codec = CommandCodec(Format.TOML)
    command_dirs = ((".gemini/commands",), (".gemini/commands",))
    settings_dialect = SettingsDialect(
        client="gemini",
        fmt=Format.JSONC,
        path=None,
        model=("model", "name"),
        approval=("general", "defaultApprovalMode"),
        modes={"default": "default", "auto_edit": "auto_edit", "plan": "plan"},
    )
    dialect = JsonDialect(
        syntax=EnvSyntax.GEMINI,
        stdio_type=None,
        untyped_url=Transport.SSE,
        optional=_OPTIONAL,
        disabled_note="Gemini keeps disabled servers in mcp.excluded / the enablement file",
    )

    def discover(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """User settings plus each project's ``.gemini/settings.json``."""
        files = self.mcp_files(
            home, projects, ".gemini/settings.json", ".gemini/settings.json", Format.JSONC
        )
        files += self.command_files(home, projects) + self.subagent_files(home, projects)
        return self.with_settings(files, home)

    def capabilities(self) -> Capabilities:
        """Gemini supports cwd, timeout (ms), trust, description and tool filters."""
        return Capabilities(
            self.client,
            {McpServer.kind: _SERVER_FIELDS, **self.entity_capabilities()},
            ("project settings ignored in untrusted folders", "$ expanded in every string"),
        )
