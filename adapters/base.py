"""The plug-in contract every client adapter implements.

An adapter is pure: it maps paths (``discover``), text → canonical entities (``parse``) and
(text, desired entities) → a list of surgical edits plus a loss report (``plan``). It never
reads the environment, watches files or writes to disk; callers do the I/O.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from adapters.formats import Edit, Format, apply_edits, load
from events.client_config import (
    DEFAULT_FINGERPRINT_KEY,
    ClientId,
    Entity,
    EntityKey,
    Loss,
    Scope,
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
    """

    client: ClientId
    path: Path
    scope: Scope
    fmt: Format
    kinds: frozenset[str]
    strict_json: bool
    project: Path | None = None


@dataclass(frozen=True)
class RenderPlan:
    """Edits that bring a file to the desired state, and what could not be expressed."""

    edits: list[Edit] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)


@dataclass(frozen=True)
class Rendered:
    """The new file text and the losses incurred producing it."""

    text: str
    losses: list[Loss]


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
        return self._parse(file, text)

    @abstractmethod
    def _parse(self, file: ConfigFile, text: str) -> list[Entity]:
        """Adapter-specific half of :meth:`parse`."""

    @abstractmethod
    def plan(self, file: ConfigFile, text: str, desired: Desired) -> RenderPlan:
        """Compute the minimal field-level edits that make ``file`` hold ``desired``.

        Entities not named in ``desired`` are left alone; unchanged ones yield no edits.
        """

    def render(self, file: ConfigFile, text: str, desired: Desired) -> Rendered:
        """Apply :meth:`plan` to ``text``."""
        plan = self.plan(file, text, desired)
        return Rendered(apply_edits(file.fmt, text, plan.edits), plan.losses)

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
