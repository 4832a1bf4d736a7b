"""Qwen Code: ``~/.qwen/settings.json`` and ``.qwen/settings.json`` (JSONC, ``$version: 4``).

A Gemini CLI fork with its own spelling: streamable HTTP is ``httpUrl``, SSE is a bare
``url``, and there is no ``type`` key. Qwen expands ``$VAR`` and ``${VAR}`` but has no
``${VAR:-default}``, so defaults are reported as losses.

Commands are ``commands/**/*.toml`` and ``commands/**/*.md`` (Markdown + YAML frontmatter,
TOML's placeholders). Qwen loads a folder's ``.toml`` files, then its ``.md`` files, and the
last of one name wins: ``x.md`` shadows ``x.toml`` beside it, so sync reads and edits the
``.md`` and leaves the ``.toml`` alone (reported as a loss when ``x.md`` is written). A new
command is still created as ``.toml``, the format every Qwen release reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adapters._agent_tools import QWEN_TOOLS, full_model_id
from adapters._commands import CommandCodec, command_name
from adapters._mcp_json import JsonDialect, McpJsonAdapter
from adapters._settings import SettingsDialect
from adapters._subagents import SubagentDialect
from adapters.base import Capabilities, ConfigFile, Desired, RenderPlan
from adapters.envrefs import EnvSyntax
from adapters.formats import Format
from events.client_config import ClientId, Command, Entity, EntityKey, McpServer, Scope, Transport

__all__ = ["QwenCodeAdapter"]

_COMMAND = frozenset({Command.kind})
#: Qwen's Markdown commands: ``description`` and ``argument-hint`` are the fields it reads;
#: ``disable-model-invocation``, ``when_to_use`` and anything else are kept as its own keys.
_MD_COMMANDS = CommandCodec(
    Format.MARKDOWN, braces=True, front_fields=("description", "argument_hint")
)
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
    command_suffixes = (".toml", ".md")
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

    def command_files(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """Every ``.md`` command, and every ``.toml`` one no ``.md`` of its name shadows."""
        user, project_dirs = self.command_dirs
        roots: list[tuple[Path, Scope, Path | None]] = [(home / r, Scope.USER, None) for r in user]
        roots += [(p / r, Scope.PROJECT, p) for p in projects for r in project_dirs]
        markdown = [
            ConfigFile(self.client, path, scope, Format.MARKDOWN, _COMMAND, False, project)
            for root, scope, project in roots
            if root.is_dir()
            for path in sorted(root.rglob("*.md"))
            if not path.is_dir()
        ]
        shadowed = {f.path.with_suffix(".toml") for f in markdown}
        toml = super().command_files(home, projects)
        return [f for f in toml if f.path not in shadowed] + markdown

    def locate_command(
        self, name: str, scope: Scope, home: Path, project: Path | None = None
    ) -> ConfigFile | None:
        """The ``.md`` file of command ``name`` when there is one (Qwen loads it over the
        ``.toml``), else the existing or new ``.toml``.

        Raises:
            UnsafeInputError: ``name`` could escape the commands directory.
        """
        toml = super().locate_command(name, scope, home, project)
        if toml is None:
            return None
        md = toml.path.with_suffix(".md")
        if not md.is_file():
            return toml
        return ConfigFile(self.client, md, scope, Format.MARKDOWN, _COMMAND, False, project)

    def parse(self, file: ConfigFile, text: str) -> list[Entity]:
        """As :meth:`ClientAdapter.parse`; a ``.md`` command is read as Markdown."""
        if not _is_markdown_command(file):
            return super().parse(file, text)
        if file.path not in self._read:
            self._read.append(file.path)
        return [self._parse_command(_MD_COMMANDS, file, text)]

    def plan(self, file: ConfigFile, text: str, desired: Desired) -> RenderPlan:
        """As :meth:`ClientAdapter.plan`; a ``.md`` command is edited as Markdown, and a
        ``.toml`` it shadows is reported (never written)."""
        if not _is_markdown_command(file):
            return super().plan(file, text, desired)
        plan = self._plan_command(_MD_COMMANDS, file, text, desired)
        shadowed = file.path.with_suffix(".toml")
        if not (plan.edits or plan.delete_file) or not shadowed.is_file():
            return plan
        key = EntityKey(Command.kind, command_name(file.path, ".md"))
        why = f"{shadowed.name} is shadowed by {file.path.name} (Qwen loads the .md); not synced"
        if plan.delete_file:
            why = f"{shadowed.name} is left, and Qwen loads it once {file.path.name} is gone"
        loss = self._loss(key, "file", why)
        return RenderPlan(plan.edits, [*plan.losses, loss], plan.delete_file)

    def capabilities(self) -> Capabilities:
        """Qwen supports cwd, timeout (ms), trust, description and tool filters."""
        return Capabilities(
            self.client,
            {McpServer.kind: _SERVER_FIELDS, **self.entity_capabilities()},
            ("no ${VAR:-default}", "writes settings.json.orig on its own writes"),
        )


def _is_markdown_command(file: ConfigFile) -> bool:
    return file.kinds == _COMMAND and file.path.suffix == ".md"
