"""Cursor: ``~/.cursor/mcp.json`` and ``.cursor/mcp.json`` with ``${env:VAR}`` references.

Commands are plain Markdown in ``~/.cursor/commands`` and ``.cursor/commands``: no frontmatter
and no placeholders (what is typed after ``/name`` follows the text), so only the body syncs
and the rest is reported as lost (:class:`~adapters._commands.CommandCodec` ``plain``).

Project rules (``.cursor/rules/*.mdc``) are read as instruction entities, never written
(:mod:`adapters._cursor_rules`): their globs and on-request activation have no equivalent in
the other clients, which load instructions whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adapters._commands import CommandCodec
from adapters._cursor_rules import RULE_SUFFIX, RULES_DIR, parse_rule
from adapters._mcp_json import JsonDialect, McpJsonAdapter
from adapters._subagents import SubagentDialect
from adapters.base import Capabilities, ConfigFile, Desired, RenderPlan
from adapters.envrefs import EnvSyntax
from adapters.formats import Format
from events.client_config import ClientId, Entity, Instruction, McpServer, Scope

__all__ = ["CursorAdapter"]

_SERVER_FIELDS = frozenset(
    {"transport", "command", "args", "env", "url", "headers", "bearer_token_env"}
)
_RULE = frozenset({Instruction.kind})


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
    command_dirs = ((".cursor/commands",), (".cursor/commands",))
    dialect = JsonDialect(
        syntax=EnvSyntax.CURSOR,
        disabled_note="Cursor toggles servers in its UI, not in mcp.json",
    )

    rule_dirs = ((RULES_DIR, RULE_SUFFIX),)

    def discover(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """The MCP files, the command and agent files in the user and project dirs, and
        each project's rules."""
        files = self.mcp_files(home, projects, ".cursor/mcp.json", ".cursor/mcp.json", Format.JSON)
        files += self.command_files(home, projects) + self.subagent_files(home, projects)
        return files + self.rule_files(projects)

    def rule_files(self, projects: Sequence[Path]) -> list[ConfigFile]:
        """Each project's ``.cursor/rules/*.mdc`` (Cursor keeps user rules in app storage)."""
        return [
            ConfigFile(self.client, path, Scope.PROJECT, Format.MARKDOWN, _RULE, False, p)
            for p in projects
            if (p / RULES_DIR).is_dir()
            for path in sorted((p / RULES_DIR).glob(f"*{RULE_SUFFIX}"))
            if not path.is_dir()
        ]

    def _parse(self, file: ConfigFile, text: str) -> list[Entity]:
        if file.kinds == _RULE:
            return [parse_rule(file.path, text, file.scope)]
        return super()._parse(file, text)

    def _plan(self, file: ConfigFile, text: str, desired: Desired) -> RenderPlan:
        if file.kinds == _RULE:
            return RenderPlan()  # rules are read, never written (module docstring)
        return super()._plan(file, text, desired)

    def capabilities(self) -> Capabilities:
        """Cursor has the basic stdio/remote fields; ``envFile`` stays an extra."""
        return Capabilities(
            self.client,
            {McpServer.kind: _SERVER_FIELDS, **self.entity_capabilities()},
            (
                "env syntax ${env:VAR}",
                "commands are plain Markdown: body only, no placeholders",
                "project rules (.cursor/rules/*.mdc) are read, not synced: globs and "
                "on-request rules have no equivalent in the other clients",
            ),
        )
