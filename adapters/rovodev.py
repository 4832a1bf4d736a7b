"""Atlassian Rovo Dev: ``~/.rovodev/mcp.json`` and the project ``.rovodev/mcp.json``.

Servers use ``"transport": "stdio|http|sse"`` instead of ``type``. Rovo Dev reads only the
file named by ``mcp.mcpConfigPath`` in ``config.yml`` (default: the global file), so a
project file is inert unless that key points at it; :func:`mcp_config_path` reads the key.

Saved prompts are commands: ``.rovodev/prompts.yml`` names and describes each one, its body
is the Markdown ``content_file`` (:mod:`adapters._prompts`). Each content file is a command
file whose :attr:`~adapters.base.ConfigFile.entry` carries the name and description; the
index is scanned too, only to validate it (a hostile entry is a scan error, never a
deletion), and is the companion every prompt write edits with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from adapters._agent_tools import ROVODEV_TOOLS, full_model_id
from adapters._commands import CommandCodec
from adapters._mcp_json import JsonDialect, McpJsonAdapter
from adapters._prompt_files import INDEX_KIND, UNLISTED_KIND, prompt_files
from adapters._prompts import (
    PromptEntry,
    content_file_for,
    delete_entry,
    read_entries,
    upsert_entry,
)
from adapters._settings import SettingsDialect
from adapters._subagents import SubagentDialect
from adapters.base import Capabilities, ConfigFile
from adapters.envrefs import EnvSyntax
from adapters.formats import Format, apply_edits, load
from events.client_config import ClientId, Command, Entity, McpServer, Scope, unsafe_name_reason
from events.errors import UnsafeInputError

__all__ = ["RovoDevAdapter", "mcp_config_path"]

_SERVER_FIELDS = frozenset(
    {"transport", "command", "args", "env", "url", "headers", "bearer_token_env"}
)
_COMMAND = frozenset({Command.kind})


def mcp_config_path(config_yml_text: str) -> str | None:
    """The ``mcp.mcpConfigPath`` value of a Rovo Dev ``config.yml``, if set."""
    data = load(Format.YAML, config_yml_text) if config_yml_text.strip() else {}
    mcp = data.get("mcp") if isinstance(data, dict) else None
    path = mcp.get("mcpConfigPath") if isinstance(mcp, dict) else None
    return path if isinstance(path, str) else None


class RovoDevAdapter(McpJsonAdapter):
    """Rovo Dev's MCP configuration, subagents and saved prompts."""

    client = ClientId.ROVODEV
    display_name = "Rovo Dev"
    instruction_files = ("AGENTS.md", "AGENTS.local.md")
    user_instruction_files = (".rovodev/AGENTS.md",)
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
    command_codec = CommandCodec(Format.MARKDOWN, plain=True, detached_description=True)
    #: Watched for edits; which files are prompts is decided by ``prompts.yml``.
    command_dirs = ((".rovodev/prompts",), (".rovodev/prompts",))
    # Rovo Dev does not document interpolation; ${VAR} is what other tools write.
    dialect = JsonDialect(
        syntax=EnvSyntax.CLAUDE,
        type_key="transport",
        disabled_note="Rovo Dev has no per-server disabled flag",
    )

    def discover(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """The MCP files, each ``prompts.yml`` (existing or not: it is watched) with its
        content files, and the subagents."""
        files = self.mcp_files(
            home, projects, ".rovodev/mcp.json", ".rovodev/mcp.json", Format.JSON
        )
        for base, scope, project in _bases(home, projects):
            found = prompt_files(self.client, base, scope, project)
            files += [found.index, *found.listed, *found.unlisted]
        return self.with_settings(files + self.subagent_files(home, projects), home)

    def command_files(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """The content files of the prompts each ``prompts.yml`` lists."""
        return [f for b in _bases(home, projects) for f in prompt_files(self.client, *b).listed]

    def locate_command(
        self, name: str, scope: Scope, home: Path, project: Path | None = None
    ) -> ConfigFile | None:
        """The content file of prompt ``name``: the one its index entry names, else
        ``.rovodev/prompts/<name>.md`` for a new prompt (listed in the index when written),
        spaces in the name made ``-`` in the file name (:func:`content_file_for`).

        Raises:
            UnsafeInputError: ``name`` could escape the prompts folder.
        """
        reason = unsafe_name_reason(name, allow_slash=True)
        if reason:
            raise UnsafeInputError(f"refusing prompt {name[:40]!r}: {reason}")
        base = home if project is None else project
        listed = prompt_files(self.client, base, scope, project).listed
        own = next((f for f in listed if f.entry is not None and f.entry.name == name), None)
        if own is not None:
            return own  # the prompt exists: it is edited where its entry points
        # A new prompt never takes a content file another entry of the index already uses.
        content = content_file_for(name, [f.entry.content_file for f in listed if f.entry])
        entry = PromptEntry(name, None, content)
        path = base / ".rovodev" / content
        return ConfigFile(
            self.client, path, scope, Format.MARKDOWN, _COMMAND, False, project, entry
        )

    def _parse(self, file: ConfigFile, text: str) -> list[Entity]:
        if INDEX_KIND in file.kinds:
            if file.entry is not None and file.entry.problem:
                raise UnsafeInputError(f"{file.path}: {file.entry.problem}")
            read_entries(text, file.path)  # validation only: the prompts are their files
            return []
        if UNLISTED_KIND in file.kinds:
            return []  # observed for its hash only: Rovo Dev does not read it
        return super()._parse(file, text)

    def companion_of(self, file: ConfigFile) -> Path | None:
        """A prompt's content file goes with its ``prompts.yml``."""
        if file.entry is None:
            return None
        depth = len(PurePosixPath(file.entry.content_file).parts)
        return file.path.parents[depth - 1] / "prompts.yml"

    def render_companion(self, file: ConfigFile, text: str, wanted: Entity | None) -> str:
        """``prompts.yml`` with the prompt's entry added, re-described or removed."""
        index = self.companion_of(file)
        if file.entry is None or index is None:
            raise ValueError(f"{file.path} is not a saved prompt's content file")
        entries = read_entries(text, index)
        if wanted is None:
            edits = delete_entry(entries, file.entry.name)
        else:
            description = wanted.description if isinstance(wanted, Command) else None
            edits = upsert_entry(entries, file.entry.name, description, file.entry.content_file)
        return apply_edits(Format.YAML, text, edits)

    def capabilities(self) -> Capabilities:
        """Rovo Dev has the basic stdio/remote fields."""
        return Capabilities(
            self.client,
            {McpServer.kind: _SERVER_FIELDS, **self.entity_capabilities()},
            (
                "project mcp.json needs mcp.mcpConfigPath in config.yml",
                "saved prompts are plain Markdown: body and description, no placeholders",
                *self.entity_notes(),
            ),
        )


def _bases(home: Path, projects: Sequence[Path]) -> list[tuple[Path, Scope, Path | None]]:
    return [(home, Scope.USER, None), *((p, Scope.PROJECT, p) for p in projects)]
