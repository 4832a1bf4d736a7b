"""The canonical, client-neutral model of AI-client configuration.

Adapters translate each client's files *into* these value objects and render them back out.
Every entity is a frozen pydantic model with a :attr:`key` (``EntityKey(kind, name)``) and a
stable :meth:`digest` over its synced content, so "did it change?" is a hash comparison.

Values that may carry secrets are structured, never raw strings: a :class:`Value` is a
template of literal text (:class:`Lit`), environment references (:class:`EnvRef`) and
:class:`SecretLiteral` placeholders. A ``SecretLiteral`` holds only a keyed fingerprint of the
secret (see :func:`fingerprint`), so the canonical model, its JSON and every event built from
it never contain a secret value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.dataclasses import dataclass

__all__ = [
    "APPROVAL_MODES",
    "DEFAULT_FINGERPRINT_KEY",
    "SETTING_NAMES",
    "ArgPlaceholder",
    "ArgsPlaceholder",
    "ClientId",
    "Command",
    "Entity",
    "EntityKey",
    "EnvRef",
    "FilePlaceholder",
    "Instruction",
    "Lit",
    "Loss",
    "McpServer",
    "Placement",
    "Scope",
    "SecretLiteral",
    "Setting",
    "ShellPlaceholder",
    "Skill",
    "Subagent",
    "Transport",
    "Value",
    "fingerprint",
    "setting_refusal",
    "unsafe_name_reason",
]

#: Fingerprint key for tests and throwaway use; production passes a per-install key.
DEFAULT_FINGERPRINT_KEY = b"synapse-default-fingerprint-key"

_MAX_NAME = 128
_NAME_SEGMENT = re.compile(r"^[A-Za-z0-9_@+][A-Za-z0-9_.@+ -]*$")


def fingerprint(secret: str, key: bytes = DEFAULT_FINGERPRINT_KEY) -> str:
    """Return a keyed, non-reversible fingerprint of a secret value.

    Args:
        secret: the secret text; it is never stored.
        key: the HMAC key; keyed so that short secrets cannot be brute-forced offline.

    Returns:
        The first 16 hex digits of HMAC-SHA256(key, secret).
    """
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()[:16]


def unsafe_name_reason(name: str, *, allow_slash: bool = False) -> str | None:
    """Say why an entity name is unsafe to use as a key or path, or ``None`` if it is fine.

    Args:
        name: the entity name as found in a client file.
        allow_slash: accept ``/`` between segments (namespaced commands such as ``git/commit``).
    """
    if not name or len(name) > _MAX_NAME:
        return f"name must be 1..{_MAX_NAME} characters"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "name contains control characters"
    segments = name.split("/") if allow_slash else [name]
    for segment in segments:
        if segment in {"", ".", ".."} or not _NAME_SEGMENT.match(segment):
            return f"name segment {segment!r} is not a plain identifier"
    return None


class Scope(StrEnum):
    """Where a setting applies: the user's home, a shared project file, or a personal one."""

    USER = "user"
    PROJECT = "project"
    LOCAL = "local"


class ClientId(StrEnum):
    """The AI clients Synapse keeps in sync."""

    CLAUDE_CODE = "claude-code"
    CODEX = "codex"
    GEMINI = "gemini"
    QWEN = "qwen"
    ROVODEV = "rovodev"
    COPILOT = "copilot"
    OPENCODE = "opencode"
    CURSOR = "cursor"


class Transport(StrEnum):
    """How an MCP server is reached; ``http`` is streamable HTTP."""

    STDIO = "stdio"
    HTTP = "http"
    SSE = "sse"


@dataclass(frozen=True)
class Lit:
    """Literal text inside a :class:`Value` or a command body."""

    text: str
    kind: Literal["lit"] = "lit"


@dataclass(frozen=True)
class EnvRef:
    """A reference to an environment variable, with an optional fallback default."""

    name: str
    default: str | None = None
    kind: Literal["env"] = "env"


@dataclass(frozen=True)
class SecretLiteral:
    """A literal secret found in a file, known only by its keyed :func:`fingerprint`."""

    fingerprint: str
    kind: Literal["secret"] = "secret"


Part = Annotated[Lit | EnvRef | SecretLiteral, Field(discriminator="kind")]


class Value(BaseModel):
    """A string template: literal parts, env references and secret placeholders.

    Adjacent literals are merged and empty literals dropped, so equal templates compare equal.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    parts: tuple[Part, ...] = ()

    @field_validator("parts")
    @classmethod
    def _normalise(cls, parts: tuple[Part, ...]) -> tuple[Part, ...]:
        out: list[Part] = []
        for part in parts:
            if isinstance(part, Lit):
                if not part.text:
                    continue
                if out and isinstance(out[-1], Lit):
                    out[-1] = Lit(out[-1].text + part.text)
                    continue
            out.append(part)
        return tuple(out)

    @classmethod
    def of(cls, *parts: Lit | EnvRef | SecretLiteral | str) -> Value:
        """Build a value; plain strings become :class:`Lit` parts."""
        return cls(parts=tuple(Lit(p) if isinstance(p, str) else p for p in parts))

    @property
    def is_literal(self) -> bool:
        """Whether the value is plain text with no references or secrets."""
        return all(isinstance(p, Lit) for p in self.parts)

    @property
    def text(self) -> str:
        """The literal text; only meaningful when :attr:`is_literal`."""
        return "".join(p.text for p in self.parts if isinstance(p, Lit))


class EntityKey(NamedTuple):
    """Identity of an entity inside one client file: its kind and its name."""

    kind: str
    name: str


class Loss(BaseModel):
    """Something a target client cannot express, reported instead of silently dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client: str
    entity_key: EntityKey
    field: str
    reason: str


class _Entity(BaseModel):
    """Common shape: a name, a scope, per-client extras, a key and a content digest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ClassVar[str]
    #: Fields that describe placement or per-client state, not synced content.
    unsynced: ClassVar[frozenset[str]] = frozenset({"scope", "extras"})
    name_allows_slash: ClassVar[bool] = False

    name: str
    scope: Scope = Scope.USER
    #: client id → unknown or client-only keys, round-tripped untouched into that client.
    extras: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        reason = unsafe_name_reason(name, allow_slash=cls.name_allows_slash)
        if reason:
            raise ValueError(reason)
        return name

    @property
    def key(self) -> EntityKey:
        """The entity's identity inside a file."""
        return EntityKey(self.kind, self.name)

    def synced(self) -> dict[str, Any]:
        """The JSON form of the fields that sync across clients."""
        return self.model_dump(mode="json", exclude=set(self.unsynced))

    def digest(self) -> str:
        """Stable SHA-256 of the synced content (placement and per-client state excluded)."""
        blob = json.dumps(self.synced(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


class McpServer(_Entity):
    """One MCP server. Timeouts are milliseconds; ``trust`` stays per client, never synced."""

    kind: ClassVar[str] = "mcp_server"
    unsynced: ClassVar[frozenset[str]] = frozenset({"scope", "extras", "trust"})

    transport: Transport = Transport.STDIO
    command: Value | None = None
    args: tuple[Value, ...] = ()
    env: dict[str, Value] = Field(default_factory=dict)
    cwd: Value | None = None
    url: Value | None = None
    headers: dict[str, Value] = Field(default_factory=dict)
    #: ``Authorization: Bearer ${X}`` is always stored here, never as a header.
    bearer_token_env: str | None = None
    enabled: bool = True
    startup_timeout_ms: int | None = None
    tool_timeout_ms: int | None = None
    tools_include: tuple[str, ...] | None = None
    tools_exclude: tuple[str, ...] | None = None
    trust: bool | None = Field(default=None, json_schema_extra={"synced": False})
    description: str | None = None

    @model_validator(mode="after")
    def _bearer_header_to_field(self) -> McpServer:
        # One canonical spelling, so Codex's bearer_token_env_var and another client's
        # "Authorization: Bearer ${X}" header compare equal.
        for header, value in self.headers.items():
            parts = value.parts
            if (
                header.lower() == "authorization"
                and self.bearer_token_env is None
                and len(parts) == 2
                and parts[0] == Lit("Bearer ")
                and isinstance(parts[1], EnvRef)
                and parts[1].default is None
            ):
                rest = {k: v for k, v in self.headers.items() if k != header}
                object.__setattr__(self, "headers", rest)
                object.__setattr__(self, "bearer_token_env", parts[1].name)
                break
        return self


@dataclass(frozen=True)
class ArgsPlaceholder:
    """All arguments of a command invocation (``$ARGUMENTS`` / ``{{args}}``)."""

    kind: Literal["args"] = "args"


@dataclass(frozen=True)
class ArgPlaceholder:
    """One positional argument (``$1``), 1-based."""

    n: int
    kind: Literal["arg"] = "arg"


@dataclass(frozen=True)
class ShellPlaceholder:
    """Shell output injected into a prompt (``!`cmd``` / ``!{cmd}``)."""

    command: str
    kind: Literal["shell"] = "shell"


@dataclass(frozen=True)
class FilePlaceholder:
    """File contents injected into a prompt (``@path`` / ``@{path}``)."""

    path: str
    kind: Literal["file"] = "file"


BodyPart = Annotated[
    Lit | ArgsPlaceholder | ArgPlaceholder | ShellPlaceholder | FilePlaceholder,
    Field(discriminator="kind"),
]


class Command(_Entity):
    """A slash command; ``name`` is namespaced with ``/`` (``git/commit``)."""

    kind: ClassVar[str] = "command"
    name_allows_slash: ClassVar[bool] = True

    description: str | None = None
    argument_hint: str | None = None
    body: tuple[BodyPart, ...] = ()
    model: str | None = None
    allowed_tools: tuple[str, ...] | None = None


class Instruction(_Entity):
    """An instruction (memory) file such as ``AGENTS.md``; ``name`` is its role, e.g. ``root``."""

    kind: ClassVar[str] = "instruction"

    body_markdown: str = ""
    #: The file the owning client reads for this role (``CLAUDE.md``, ``AGENTS.md`` …).
    file_name: str | None = None


class Subagent(_Entity):
    """A subagent: a named system prompt with optional model, tool lists and limits.

    Tool references use the canonical vocabulary (``read``, ``edit``, ``write``, ``bash``,
    ``grep``, ``glob``, ``ls``, ``webfetch``, ``websearch``, ``mcp:server/tool``); a tool with
    no canonical name is kept as ``"<client>:<native name>"``.
    """

    kind: ClassVar[str] = "subagent"
    #: OpenCode names an agent in a sub-folder by its path (``team/reviewer``).
    name_allows_slash: ClassVar[bool] = True

    description: str = ""
    prompt: str = ""
    model: str | None = None
    #: Allowed tools (``None``: the client's default, usually all tools).
    tools: tuple[str, ...] | None = None
    tools_deny: tuple[str, ...] | None = None
    max_turns: int | None = None
    temperature: float | None = None
    color: str | None = None


class Placement(StrEnum):
    """How a skill reaches a client: its own copy, a symlink, or a root the client shares."""

    COPY = "copy"
    SYMLINK = "symlink"
    SHARED_ROOT = "shared_root"


class Skill(_Entity):
    """A skill directory (``SKILL.md`` plus files), identified by its content digest.

    The frontmatter fields are the Agent Skills core; every other byte of the directory
    (client-only frontmatter keys, scripts, references) is covered by ``content_sha256``.
    """

    kind: ClassVar[str] = "skill"
    unsynced: ClassVar[frozenset[str]] = frozenset({"scope", "extras", "root", "placement"})

    description: str = ""
    license: str | None = None
    compatibility: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    allowed_tools: tuple[str, ...] | None = None
    #: SHA-256 over the directory's sorted relative paths and bytes.
    content_sha256: str = ""
    #: The skills root the directory was found in, e.g. ``.agents/skills``.
    root: str = ".agents/skills"
    placement: Placement = Placement.COPY


#: The client settings Synapse can sync (opt-in, user scope only).
SETTING_NAMES = ("model", "approval_mode")
#: Canonical approval modes: ask (``default``), auto-approve edits, plan, and full access.
APPROVAL_MODES = ("default", "auto_edit", "plan", "full_access")
#: Approval modes parsed (so the ledger knows) but never written into any client.
_NEVER_WRITTEN = frozenset({"full_access"})
#: A client-native value with no canonical equivalent: ``<client>:<native>``.
_NATIVE = re.compile(r"^[a-z][a-z-]*:\S.*$")
_MAX_SETTING = 256


def setting_refusal(name: str, value: str | None) -> str | None:
    """Say why setting ``name`` = ``value`` must never be written into a client, or ``None``.

    Full-access approval modes (bypass, yolo, autopilot) are never synced, and a native value
    with no canonical equivalent (``claude-code:dontAsk``) has nowhere else to go.
    """
    if name != "approval_mode" or value is None:
        return None
    if value in _NEVER_WRITTEN:
        return "full-access approval modes are never synced"
    if value not in APPROVAL_MODES:
        return f"approval mode {value!r} has no equivalent in other clients"
    return None


class Setting(_Entity):
    """One opt-in client setting: ``model`` (a free model id) or ``approval_mode``.

    ``approval_mode`` values are canonical (:data:`APPROVAL_MODES`) or, when a client's mode
    has no equivalent, ``"<client>:<native>"`` (kept so the ledger knows; never written
    elsewhere, see :func:`setting_refusal`). Neither is a secret; no fingerprint is needed.
    """

    kind: ClassVar[str] = "setting"

    value: str

    @field_validator("name")
    @classmethod
    def _known_name(cls, name: str) -> str:
        if name not in SETTING_NAMES:
            raise ValueError(f"unknown setting {name!r} (known: {', '.join(SETTING_NAMES)})")
        return name

    @model_validator(mode="after")
    def _valid_value(self) -> Setting:
        text = self.value
        if not text.strip() or len(text) > _MAX_SETTING:
            raise ValueError(f"setting {self.name} must be 1..{_MAX_SETTING} characters")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
            raise ValueError(f"setting {self.name} contains control characters")
        if self.name == "approval_mode" and text not in APPROVAL_MODES and not _NATIVE.match(text):
            raise ValueError(f"unknown approval mode {text!r}")
        return self


Entity = McpServer | Command | Instruction | Subagent | Skill | Setting
