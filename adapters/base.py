"""The plug-in contract every client adapter implements.

An adapter is pure: it maps paths (``discover``), text → canonical entities (``parse``) and
(text, desired entities) → a list of surgical edits plus a loss report (``plan``). It never
reads the environment, watches files or writes to disk; callers do the I/O.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from adapters._commands import CommandCodec, command_name
from adapters._prompts import PromptEntry
from adapters._settings import SettingsDialect, parse_settings, plan_settings
from adapters._skills import SKILL_FIELDS, SkillRoot
from adapters._subagents import SubagentCodec, SubagentDialect
from adapters.files import MAX_CONFIG_BYTES, check_entity_name
from adapters.formats import Edit, Format, apply_edits, load
from events.client_config import (
    DEFAULT_FINGERPRINT_KEY,
    ClientId,
    Command,
    Entity,
    EntityKey,
    Loss,
    McpServer,
    Scope,
    Setting,
    Skill,
    Subagent,
    unsafe_name_reason,
)
from events.errors import ConfigParseError, UnsafeInputError

__all__ = [
    "Capabilities",
    "ClientAdapter",
    "ConfigFile",
    "Desired",
    "RenderPlan",
    "Rendered",
]

_COMMAND = frozenset({Command.kind})
_SUBAGENT = frozenset({Subagent.kind})
_SETTING = frozenset({Setting.kind})

#: Target state handed to :meth:`ClientAdapter.plan`: ``None`` deletes the entity.
Desired = Mapping[EntityKey, Entity | None]


@dataclass(frozen=True)
class ConfigFile:
    """One place a client reads configuration from.

    Attributes:
        client: the client that reads it.
        path: absolute path (it may not exist yet).
        scope: user, project or local.
        fmt: the file format.
        kinds: entity kinds this file can hold (``"mcp_server"``, ``"command"`` …).
        strict_json: comments would break the client; never emit them.
        project: the project this file belongs to (``None`` for user scope).
        entry: the index entry naming and describing the command this file holds, when the
            name and description live outside it (Rovo Dev saved prompts).
        max_bytes: the largest size Synapse reads and parses: 1 MiB unless the adapter opts
            the file into :data:`adapters.files.MAX_LARGE_CONFIG_BYTES` (``~/.claude.json``).
    """

    client: ClientId
    path: Path
    scope: Scope
    fmt: Format
    kinds: frozenset[str]
    strict_json: bool
    project: Path | None = None
    entry: PromptEntry | None = None
    max_bytes: int = MAX_CONFIG_BYTES


@dataclass(frozen=True)
class RenderPlan:
    """Edits that bring a file to the desired state, and what could not be expressed."""

    edits: list[Edit] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)
    #: The whole file should be removed (one-entity-per-file kinds such as commands).
    delete_file: bool = False


@dataclass(frozen=True)
class Rendered:
    """The new file text and the losses incurred producing it."""

    text: str
    losses: list[Loss]
    delete_file: bool = False


@dataclass(frozen=True)
class Capabilities:
    """Which canonical fields a client can express, per entity kind."""

    client: ClientId
    kinds: Mapping[str, frozenset[str]]
    notes: tuple[str, ...] = ()

    def supports(self, kind: str, field_name: str) -> bool:
        """Whether ``field_name`` of entity ``kind`` survives a write into this client."""
        return field_name in self.kinds.get(kind, frozenset())


class ClientAdapter(ABC):
    """Translate one client's files to and from the canonical model.

    Args:
        fingerprint_key: HMAC key used to fingerprint literal secrets found while parsing.
    """

    client: ClassVar[ClientId]
    display_name: ClassVar[str]
    #: Command file codec, if the client has commands.
    command_codec: ClassVar[CommandCodec | None] = None
    #: Command folders (under home, under a project), each in the client's lookup order: the
    #: first is where new commands go; the others (a legacy name such as OpenCode's
    #: ``command/``) are read, and a command found there is edited where it is.
    command_dirs: ClassVar[tuple[tuple[str, ...], tuple[str, ...]]] = ((), ())
    #: Every command file suffix the client loads (empty: just ``command_codec``'s), for the
    #: watcher: Qwen reads ``.md`` commands beside its ``.toml`` ones.
    command_suffixes: ClassVar[tuple[str, ...]] = ()
    #: Subagent file format and locations, if the client has subagents.
    subagent_dialect: ClassVar[SubagentDialect | None] = None
    #: Skill roots (under home, under a project), in the client's lookup order.
    skill_dirs: ClassVar[tuple[tuple[str, ...], tuple[str, ...]]] = ((), ())
    #: Project folders of per-file rules read as instruction entities, with their file
    #: suffix (Cursor: ``(".cursor/rules", ".mdc")``); watched, never written.
    rule_dirs: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: Project instruction files the client reads, highest priority first (clients.md §3.3).
    instruction_files: ClassVar[tuple[str, ...]] = ("AGENTS.md",)
    #: The personal (user-level) instruction file, under home, then the others the client
    #: may load beside or instead of it (clients.md §3.3); empty: none a file can reach.
    user_instruction_files: ClassVar[tuple[str, ...]] = ()
    #: Where the opt-in settings (model, approval mode) live, if the client has any.
    settings_dialect: ClassVar[SettingsDialect | None] = None

    def reads_agents_md(self) -> bool:
        """Whether ``AGENTS.md`` reaches this client without a copy or a shim."""
        return "AGENTS.md" in self.instruction_files

    def __init__(self, fingerprint_key: bytes = DEFAULT_FINGERPRINT_KEY) -> None:
        self.fingerprint_key = fingerprint_key
        self._read: list[Path] = []

    def __repr__(self) -> str:
        files = ", ".join(str(p) for p in self._read) or "no files read"
        return f"{type(self).__name__}({self.client}: {files})"

    @abstractmethod
    def discover(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """Files this client reads that exist, plus the canonical places it would create.

        Args:
            home: the user's home directory.
            projects: absolute project roots to look in.
        """

    def parse(self, file: ConfigFile, text: str) -> list[Entity]:
        """Translate ``text`` of ``file`` into canonical entities.

        Raises:
            ConfigParseError: the text is not valid for this file.
            UnsafeInputError: an entity name is hostile (``../``, NUL, oversize).
        """
        if file.path not in self._read:
            self._read.append(file.path)
        if self.command_codec is not None and file.kinds == _COMMAND:
            return [self._parse_command(self.command_codec, file, text)]
        if self.subagent_dialect is not None and file.kinds == _SUBAGENT:
            return [SubagentCodec(self.subagent_dialect).parse(file.path, text, file.scope)]
        entities = self._parse(file, text) if file.kinds - _SETTING else []
        dialect = self.settings_dialect
        if dialect is not None and Setting.kind in file.kinds:
            entities += parse_settings(dialect, self._load_mapping(file, text))
        return entities

    def _parse_command(self, codec: CommandCodec, file: ConfigFile, text: str) -> Command:
        entry = file.entry
        if entry is None:
            return codec.parse(file.path, text, file.scope, str(self.client))
        if entry.problem:
            raise UnsafeInputError(f"{file.path}: refusing prompt {entry.name!r}: {entry.problem}")
        return codec.parse(
            file.path,
            text,
            file.scope,
            str(self.client),
            name=entry.name,
            description=entry.description,
        )

    @abstractmethod
    def _parse(self, file: ConfigFile, text: str) -> list[Entity]:
        """Adapter-specific half of :meth:`parse`."""

    def plan(self, file: ConfigFile, text: str, desired: Desired) -> RenderPlan:
        """Compute the minimal field-level edits that make ``file`` hold ``desired``.

        Entities not named in ``desired`` are left alone; unchanged ones yield no edits.
        """
        if self.command_codec is not None and file.kinds == _COMMAND:
            return self._plan_command(self.command_codec, file, text, desired)
        if self.subagent_dialect is not None and file.kinds == _SUBAGENT:
            return self._plan_subagent(self.subagent_dialect, file, text, desired)
        plan = self._plan(file, text, desired) if file.kinds - _SETTING else RenderPlan()
        dialect = self.settings_dialect
        if dialect is None or Setting.kind not in file.kinds:
            return plan
        data = self._load_mapping(file, text)
        edits, losses = plan_settings(dialect, data, desired)
        return RenderPlan([*plan.edits, *edits], [*plan.losses, *losses], plan.delete_file)

    @abstractmethod
    def _plan(self, file: ConfigFile, text: str, desired: Desired) -> RenderPlan:
        """Adapter-specific half of :meth:`plan` (MCP settings files)."""

    def _plan_command(
        self, codec: CommandCodec, file: ConfigFile, text: str, desired: Desired
    ) -> RenderPlan:
        current = self._parse_command(codec, file, text) if text else None
        name = command_name(file.path, codec.suffix) if file.entry is None else file.entry.name
        key = EntityKey(Command.kind, name)
        if key not in desired:
            return RenderPlan()
        wanted = desired[key]
        if wanted is not None and not isinstance(wanted, Command):
            raise TypeError(f"{key} must be a Command")
        result = codec.plan(key, current, wanted, str(self.client), text)
        losses = [self._loss(key, f, why) for f, why in result.losses]
        return RenderPlan(result.edits, losses, result.delete_file)

    def _plan_subagent(
        self, dialect: SubagentDialect, file: ConfigFile, text: str, desired: Desired
    ) -> RenderPlan:
        codec = SubagentCodec(dialect)
        if text.strip():
            name = codec.parse(file.path, text, file.scope).name
        else:
            name = dialect.name_of(file.path)
        key = EntityKey(Subagent.kind, name)
        if key not in desired:
            return RenderPlan()
        wanted = desired[key]
        if wanted is not None and not isinstance(wanted, Subagent):
            raise TypeError(f"{key} must be a Subagent")
        result = codec.plan(file.path, text, wanted)
        losses = [self._loss(key, f, why) for f, why in result.losses]
        return RenderPlan(result.edits, losses, result.delete_file)

    def subagent_files(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """Existing subagent files under this client's user and project agent dirs."""
        d = self.subagent_dialect
        if d is None:
            return []
        dirs: list[tuple[Path, Scope, Path | None]]
        dirs = [(home / rel, Scope.USER, None) for rel in d.user_dirs]
        dirs += [(p / rel, Scope.PROJECT, p) for p in projects for rel in d.project_dirs]
        return [
            self._subagent_file(path, scope, project)
            for root, scope, project in dirs
            if root.is_dir()
            for path in sorted((root.rglob if d.nested else root.glob)(f"*{d.suffix}"))
            # Not ``is_file()``: a FIFO in place of an agent must be scanned (and refused),
            # not skipped, or the agent would read as deleted.
            if not path.is_dir()
        ]

    def locate_subagent(
        self, name: str, scope: Scope, home: Path, project: Path | None = None
    ) -> ConfigFile | None:
        """Where this client keeps subagent ``name``: an existing file, else the first dir.

        Raises:
            UnsafeInputError: ``name`` could escape the agents directory, or names a
                sub-folder (``team/reviewer``) in a client that keeps agents in one folder.
        """
        d = self.subagent_dialect
        if d is None:
            return None
        if "/" in name and not d.nested:
            raise UnsafeInputError(
                f"refusing subagent {name[:40]!r}: {self.client} has no agent sub-folders"
            )
        for segment in name.split("/"):
            check_entity_name(segment)
        reason = unsafe_name_reason(name, allow_slash=d.nested)
        if reason:
            raise UnsafeInputError(f"refusing subagent {name[:40]!r}: {reason}")
        base, rels = (home, d.user_dirs) if project is None else (project, d.project_dirs)
        paths = [base / rel / f"{name}{d.suffix}" for rel in rels]
        path = next((p for p in paths if p.is_file()), paths[0])
        return self._subagent_file(path, scope, project)

    def _subagent_file(self, path: Path, scope: Scope, project: Path | None) -> ConfigFile:
        assert self.subagent_dialect is not None
        fmt = self.subagent_dialect.fmt
        return ConfigFile(self.client, path, scope, fmt, _SUBAGENT, False, project)

    def skill_roots(self, home: Path, projects: Sequence[Path]) -> list[SkillRoot]:
        """The skill roots this client reads (user roots, then each project's), in order."""
        user, project_dirs = self.skill_dirs
        roots = [SkillRoot(home / rel, rel, Scope.USER) for rel in user]
        roots += [
            SkillRoot(p / rel, rel, Scope.PROJECT, p) for p in projects for rel in project_dirs
        ]
        return roots

    def with_settings(self, files: list[ConfigFile], home: Path) -> list[ConfigFile]:
        """``files`` with the user settings file: added, or the user MCP file marked.

        Settings are user scope only: project settings files are trust-sensitive.
        """
        d = self.settings_dialect
        if d is None:
            return files
        if d.path is None:
            return [
                dataclasses.replace(f, kinds=f.kinds | _SETTING)
                if f.scope is Scope.USER and McpServer.kind in f.kinds
                else f
                for f in files
            ]
        strict = d.fmt is Format.JSON
        return [*files, ConfigFile(self.client, home / d.path, Scope.USER, d.fmt, _SETTING, strict)]

    def entity_capabilities(self) -> dict[str, frozenset[str]]:
        """Command, subagent and skill fields this client supports (absent kinds: none)."""
        kinds: dict[str, frozenset[str]] = {}
        if self.command_codec is not None:
            kinds[Command.kind] = self.command_codec.supported
        if self.subagent_dialect is not None:
            kinds[Subagent.kind] = self.subagent_dialect.supported
        if any(self.skill_dirs):
            kinds[Skill.kind] = SKILL_FIELDS
        if self.settings_dialect is not None:  # for settings: the setting names it has
            kinds[Setting.kind] = frozenset(self.settings_dialect.keys)
        return kinds

    def entity_notes(self) -> tuple[str, ...]:
        """Capability notes for the kinds this client lacks."""
        notes = () if self.subagent_dialect is not None else ("no subagents",)
        return notes + (() if any(self.skill_dirs) else ("no skills",))

    def mcp_files(
        self, home: Path, projects: Sequence[Path], user: str, project: str, fmt: Format
    ) -> list[ConfigFile]:
        """The MCP config at ``home/user`` plus ``<project>/project`` for each project.

        Strict JSON files (comments are errors) are exactly the ``Format.JSON`` ones.
        """
        kinds = frozenset({McpServer.kind})
        strict = fmt is Format.JSON
        files = [ConfigFile(self.client, home / user, Scope.USER, fmt, kinds, strict)]
        files += [
            ConfigFile(self.client, p / project, Scope.PROJECT, fmt, kinds, strict, p)
            for p in projects
        ]
        return files

    def command_files(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """Existing command files under every command dir this client reads (both scopes)."""
        if self.command_codec is None:
            return []
        user, project_dirs = self.command_dirs
        roots: list[tuple[Path, Scope, Path | None]] = [(home / r, Scope.USER, None) for r in user]
        roots += [(p / r, Scope.PROJECT, p) for p in projects for r in project_dirs]
        suffix = self.command_codec.suffix
        return [
            self._command_file(path, scope, project)
            for root, scope, project in roots
            if root.is_dir()
            for path in sorted(root.rglob(f"*{suffix}"))
            if not path.is_dir()
        ]

    def locate_command(
        self, name: str, scope: Scope, home: Path, project: Path | None = None
    ) -> ConfigFile | None:
        """Where this client keeps command ``name``: its existing file in any command dir of
        the scope, else the file to create in the first (current) dir; ``None``: no commands.

        Raises:
            UnsafeInputError: ``name`` could escape the commands directory.
        """
        if self.command_codec is None:
            return None
        reason = unsafe_name_reason(name, allow_slash=True)
        if reason:
            raise UnsafeInputError(f"refusing command {name[:40]!r}: {reason}")
        user, project_dirs = self.command_dirs
        base, rels = (home, user) if project is None else (project, project_dirs)
        paths = [base / rel / f"{name}{self.command_codec.suffix}" for rel in rels]
        if not paths:
            return None
        path = next((p for p in paths if p.is_file()), paths[0])
        return self._command_file(path, scope, project)

    def _command_file(self, path: Path, scope: Scope, project: Path | None) -> ConfigFile:
        assert self.command_codec is not None
        fmt = self.command_codec.fmt
        return ConfigFile(self.client, path, scope, fmt, _COMMAND, False, project)

    def companion_of(self, file: ConfigFile) -> Path | None:
        """The file that must change together with ``file`` (None: ``file`` stands alone).

        Rovo Dev lists each saved prompt's content file in ``prompts.yml``: creating,
        describing or deleting a prompt edits that index too (:meth:`render_companion`).
        """
        del file
        return None

    def render_companion(self, file: ConfigFile, text: str, wanted: Entity | None) -> str:
        """The companion's ``text``, surgically edited to describe ``wanted`` (None: gone).

        Raises:
            ConfigParseError: the companion's text is invalid.
            UnsafeInputError: it holds a hostile entry.
        """
        del file, wanted
        return text

    def render(self, file: ConfigFile, text: str, desired: Desired) -> Rendered:
        """Apply :meth:`plan` to ``text``."""
        plan = self.plan(file, text, desired)
        if plan.delete_file:
            new = ""
        else:
            # No edits: the text as is (an empty new file is not valid JSON to edit).
            new = apply_edits(file.fmt, text, plan.edits) if plan.edits else text
        return Rendered(new, plan.losses, plan.delete_file)

    @abstractmethod
    def capabilities(self) -> Capabilities:
        """The field support matrix for this client."""

    # Helpers shared by the concrete adapters.

    def _load_mapping(self, file: ConfigFile, text: str) -> Mapping[str, Any]:
        """Load ``text`` and insist the document is a mapping (empty text → ``{}``)."""
        if not text.strip():
            return {}
        data = load(file.fmt, text)
        if not isinstance(data, Mapping):
            raise ConfigParseError(f"{file.path}: top level must be an object")
        return data

    def _loss(self, key: EntityKey, field_name: str, reason: str) -> Loss:
        return Loss(client=str(self.client), entity_key=key, field=field_name, reason=reason)

    @staticmethod
    def _checked_name(name: object, file: ConfigFile, *, allow_slash: bool = False) -> str:
        """Return ``name`` if it is safe, else raise :class:`UnsafeInputError`."""
        if not isinstance(name, str):
            raise ConfigParseError(f"{file.path}: entity name {name!r} is not a string")
        reason = unsafe_name_reason(name, allow_slash=allow_slash)
        if reason:
            shown = name[:40].encode("unicode_escape").decode()
            raise UnsafeInputError(f"{file.path}: refusing entity {shown!r}: {reason}")
        return name
