"""Typed settings: the only place Synapse reads the environment (and its policy files).

Every knob is ``SYNAPSE_<NAME>`` (e.g. ``SYNAPSE_HOME``, ``SYNAPSE_STORE``); values reach the
other packages as constructor arguments from :mod:`synapse.bootstrap`. The sync policy lives
in ``$SYNAPSE_HOME/sync.toml`` (:func:`load_sync_settings`), a few keys overridable from the
environment.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import tomlkit
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from tomlkit.exceptions import TOMLKitError

from actors._sync_breaker import BreakerLimits
from actors.audit_exporter import AuditPolicy, tables_of
from actors.sync_engine import ConflictRule, Direction, Policy
from adapters.files import write_durably
from adapters.registry import BUILTIN_ENTRY_POINTS
from events.client_config import SETTING_NAMES, ClientId, Setting
from events.errors import UserInputError
from projections.s3_target import S3Config

__all__ = [
    "SYNC_FILE",
    "Settings",
    "SyncKind",
    "SyncSettings",
    "is_loopback_host",
    "load_settings",
    "load_sync_settings",
    "ray_auth_mode",
    "remote_bind_warning",
    "s3_config",
]


class Settings(BaseModel):
    """Synapse settings, filled from ``SYNAPSE_*`` environment variables."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    home: Path = Field(default_factory=lambda: Path.home() / ".synapse")
    store: Literal["sqlite", "postgres"] = "sqlite"
    encrypt: bool = False
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    pg_password: SecretStr = SecretStr("")
    pg_dbname: str = "synapse"
    http_host: str = "127.0.0.1"
    http_port: int = 8765
    #: ``direct``: the API replica listens on ``http_port`` itself (Serve's direct ingress);
    #: ``proxy``: through Serve's proxy actor, one process hop more (see serve/ingress.py).
    serve_ingress: Literal["direct", "proxy"] = "direct"
    #: A non-loopback ``http_host`` is refused unless this is set (reliability bar A1).
    allow_remote: bool = False
    ray_address: str = ""
    namespace: str = "synapse"
    poll_interval_s: float = 1.0
    sql_row_limit: int = 10_000
    sql_timeout_s: float = 10.0
    #: None = take ``mode`` from ``sync.toml`` (default observe); set, it wins over the file.
    mode: Literal["observe", "apply"] | None = None
    sync_home: Path | None = None
    #: Scheduled audit export (README "Audit exports"): target folder or ``s3://bucket/prefix``;
    #: every ``audit_interval_s`` seconds (0: only on demand); comma-separated tables.
    audit_target: str = ""
    audit_interval_s: float = Field(default=0.0, ge=0)
    audit_tables: str = "events"
    audit_format: Literal["csv", "ndjson", "parquet"] = "parquet"

    def audit_policy(self) -> AuditPolicy | None:
        """The audit export policy, or None when no target is configured."""
        if not self.audit_target:
            return None
        return AuditPolicy(
            target=self.audit_target,
            tables=tables_of(self.audit_tables) or ("events",),
            interval_s=self.audit_interval_s,
            fmt=self.audit_format,
        )

    @property
    def event_db(self) -> Path:
        """Path of the SQLite event store."""
        return self.home / "events.sqlite"

    @property
    def duckdb_path(self) -> Path:
        """Path of the DuckDB projections file."""
        return self.home / "projections.duckdb"

    @property
    def token_path(self) -> Path:
        """Path of the per-install API token (0600)."""
        return self.home / "token"

    @property
    def users_path(self) -> Path:
        """Path of the local users and their argon2 password hashes (0600)."""
        return self.home / "users.json"

    @property
    def session_key_path(self) -> Path:
        """Path of the key that signs login sessions (0600)."""
        return self.home / "auth.key"

    @property
    def cipher_key_path(self) -> Path:
        """Path of the event-body cipher key (0600)."""
        return self.home / "cipher.key"

    @property
    def exports_dir(self) -> Path:
        """Default folder for exports."""
        return self.home / "exports"

    @property
    def sync_path(self) -> Path:
        """Path of the sync policy file."""
        return self.home / SYNC_FILE


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build :class:`Settings` from ``SYNAPSE_*`` variables plus explicit overrides.

    Raises:
        UserInputError: a variable has a value of the wrong type.
    """
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name in Settings.model_fields:
        raw = env.get(f"SYNAPSE_{name.upper()}")
        if raw is not None and raw != "":
            values[name] = raw
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        msg = f"invalid setting SYNAPSE_{where.upper()}: {first['msg']}"
        raise UserInputError(msg) from exc
    _check_bind(settings)
    return settings.model_copy(update={"home": settings.home.expanduser().resolve()})


def is_loopback_host(host: str) -> bool:
    """True when ``host`` (a name or an address, ``[::1]`` allowed) is this machine only."""
    name = host.strip().lower().removeprefix("[").removesuffix("]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # any other name may resolve to a LAN address


def _check_bind(settings: Settings) -> None:
    """Refuse a non-loopback HTTP bind unless ``allow_remote`` says it is wanted."""
    if settings.allow_remote or is_loopback_host(settings.http_host):
        return
    msg = (
        f"SYNAPSE_HTTP_HOST={settings.http_host} is not a loopback address: the API would be"
        " reachable from other machines"
    )
    hint = (
        "keep the default 127.0.0.1, or opt in with SYNAPSE_ALLOW_REMOTE=1"
        " (or `synapse up --allow-remote`); the API token stays required"
    )
    raise UserInputError(msg, hint=hint)


def remote_bind_warning(settings: Settings) -> str | None:
    """The startup warning for an opted-in non-loopback bind; None on loopback."""
    if is_loopback_host(settings.http_host):
        return None
    return (
        f"the HTTP API listens on {settings.http_host}, reachable beyond this machine"
        " (SYNAPSE_ALLOW_REMOTE); every request still needs the API token and an allowed Host"
    )


def ray_auth_mode(environ: Mapping[str, str] | None = None) -> str:
    """Ray's ``RAY_AUTH_MODE`` as set for this process ("" when unset: Ray's default)."""
    env = os.environ if environ is None else environ
    return env.get("RAY_AUTH_MODE", "").strip().lower()


def s3_config(environ: Mapping[str, str] | None = None) -> S3Config:
    """How exports reach S3-compatible storage: the usual AWS variables (pyarrow's own
    convention, passed through and never stored) and ``SYNAPSE_S3_ENDPOINT``."""
    return S3Config.from_environ(os.environ if environ is None else environ)


# -- the sync policy file ---------------------------------------------------------------

SYNC_FILE = "sync.toml"
_CLIENTS = tuple(str(c) for c in ClientId)


class SyncKind(StrEnum):
    """The entity kinds sync knows."""

    MCP_SERVER = "mcp_server"
    COMMAND = "command"
    INSTRUCTION = "instruction"
    SUBAGENT = "subagent"
    SKILL = "skill"
    SETTING = "setting"


_KINDS = tuple(str(k) for k in SyncKind)
#: Settings are opt-in: the kind is in effect only when ``[settings]`` names some.
_DEFAULT_KINDS = tuple(k for k in SyncKind if k is not SyncKind.SETTING)

#: Written on first use: every key commented out, so the defaults below apply.
SYNC_TEMPLATE = f"""\
# Synapse sync policy. Uncomment a key to change it; `synapse sync status` shows the result.
# Environment overrides: SYNAPSE_MODE, SYNAPSE_SYNC_CLIENTS, SYNAPSE_SYNC_KINDS (comma
# separated) and SYNAPSE_SYNC_PROJECTS (paths separated by "{os.pathsep}").

# Clients that take part (empty = all): {", ".join(_CLIENTS)}
# clients = []
# Entity kinds to sync: {", ".join(_KINDS)}
# kinds = ["mcp_server", "command", "subagent", "skill", "instruction"]
# "two-way", or "one-way" with `source` the one client every other copies
# direction = "two-way"
# source = "claude-code"
# How conflicts are settled: "manual", "source-priority" (earlier in `priority` wins), "newest"
# conflict = "manual"
# priority = ["claude-code", "codex"]
# Entity names to sync / never to sync (shell patterns, e.g. "github*")
# include = []
# exclude = []
# "observe" plans only (apply with `synapse sync apply`); "apply" writes on every change
# mode = "observe"
# Project roots (absolute, existing) whose project-scope files are synced too. A project MCP
# server's new or changed command/args/url waits for `synapse sync approve ID`; an entry with
# trust = "auto" lets its project's servers through (recorded and alerted; never user scope)
# projects = ["~/src/my-project", {{path = "~/src/my-own-repo", trust = "auto"}}]
# More deletions than this from one client at once wait for `synapse conflicts`
# max_deletions = 3
# Clients whose personal instruction file (~/.claude/CLAUDE.md, ~/.gemini/GEMINI.md, ...)
# is kept out of the by-content instruction sync (the "instruction" kind syncs them all)
# exclude_personal = ["gemini"]
# Write-rate breaker: more than write_cap writes to one file in write_window_s seconds stops
# writing it until `synapse sync resume CLIENT` or breaker_cooldown_s (0 = resume only)
# write_cap = 20
# write_window_s = 60
# breaker_cooldown_s = 900

# Opt-in client settings, user scope only: setting -> the clients it flows among (none by
# default). Trust, approval lists and hooks are never synced; full-access approval modes
# (bypassPermissions, yolo, autopilot) are never written. OpenCode models are provider/model:
# list clients whose model names fit each other.
# [settings]
# model = ["claude-code", "copilot"]
# approval_mode = ["claude-code", "gemini", "qwen"]
"""


def _setting_support() -> dict[str, frozenset[str]]:
    """Built-in client → the settings its adapter can sync (read off the adapter classes)."""
    out: dict[str, frozenset[str]] = {}
    for ep in BUILTIN_ENTRY_POINTS:
        dialect = ep.load().settings_dialect
        out[ep.name] = frozenset() if dialect is None else frozenset(dialect.keys)
    return out


class SyncSettings(BaseModel):
    """The sync policy: ``sync.toml`` plus environment overrides (see :data:`SYNC_TEMPLATE`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    clients: tuple[ClientId, ...] = ()
    kinds: tuple[SyncKind, ...] = _DEFAULT_KINDS
    direction: Direction = Direction.TWO_WAY
    source: ClientId | None = None
    conflict: ConflictRule = ConflictRule.MANUAL
    priority: tuple[ClientId, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    mode: Literal["observe", "apply"] = "observe"
    projects: tuple[Path, ...] = ()
    #: The ``projects`` whose entry says ``trust = "auto"`` (filled from them; not a key).
    trusted_projects: tuple[Path, ...] = Field(default=(), exclude=True)
    max_deletions: int = Field(default=3, ge=0)
    write_cap: int = Field(default=20, ge=1)
    write_window_s: float = Field(default=60.0, gt=0)
    breaker_cooldown_s: float = Field(default=900.0, ge=0)
    settings: dict[str, tuple[ClientId, ...]] = Field(default_factory=dict)
    exclude_personal: tuple[ClientId, ...] = ()

    @field_validator("settings")
    @classmethod
    def _known_settings(
        cls, settings: dict[str, tuple[ClientId, ...]]
    ) -> dict[str, tuple[ClientId, ...]]:
        support = _setting_support()
        for name, clients in settings.items():
            if name not in SETTING_NAMES:
                msg = f"unknown setting {name!r} (known: {', '.join(SETTING_NAMES)})"
                raise ValueError(msg)
            lacking = [str(c) for c in clients if name not in support.get(str(c), frozenset())]
            if lacking:
                able = sorted(c for c, names in support.items() if name in names)
                msg = f"{name}: {', '.join(lacking)} cannot sync it (clients that can: "
                raise ValueError(msg + f"{', '.join(able)})")
        return {name: tuple(dict.fromkeys(clients)) for name, clients in settings.items()}

    @model_validator(mode="before")
    @classmethod
    def _project_entries(cls, raw: Any) -> Any:
        """Accept ``projects`` entries as a path or ``{path = "...", trust = "ask"|"auto"}``."""
        if not isinstance(raw, Mapping):
            return raw
        if "trusted_projects" in raw:
            msg = 'trusted_projects: unknown key; write {path = "...", trust = "auto"} in projects'
            raise ValueError(msg)
        entries = raw.get("projects")
        if not isinstance(entries, list | tuple):
            return raw  # absent, or the field's own check names what is wrong
        paths: list[object] = []
        trusted: list[object] = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                paths.append(entry)
                continue
            where = f"projects[{i}]"
            unknown = sorted(set(entry) - {"path", "trust"})
            if unknown:
                msg = f"{where}: unknown key {unknown[0]!r} (known: path, trust)"
                raise ValueError(msg)
            if "path" not in entry:
                msg = f'{where}: needs a path, e.g. {{path = "~/src/x", trust = "auto"}}'
                raise ValueError(msg)
            trust = entry.get("trust", "ask")
            if trust not in ("ask", "auto"):
                msg = f'{where}.trust: must be "ask" or "auto", not {trust!r}'
                raise ValueError(msg)
            paths.append(entry["path"])
            if trust == "auto":
                trusted.append(entry["path"])
        return {**raw, "projects": paths, "trusted_projects": trusted}

    @field_validator("projects", "trusted_projects")
    @classmethod
    def _projects_exist(cls, projects: tuple[Path, ...]) -> tuple[Path, ...]:
        out = []
        for raw in projects:
            path = raw.expanduser()
            if not path.is_absolute():
                msg = f"project {str(raw)!r} is not an absolute path"
                raise ValueError(msg)
            if not path.is_dir():
                msg = f"project {str(raw)!r} is not an existing folder"
                raise ValueError(msg)
            out.append(path.resolve())
        return tuple(dict.fromkeys(out))

    @model_validator(mode="after")
    def _direction_has_source(self) -> SyncSettings:
        clients = self.clients or _CLIENTS
        if self.direction is Direction.ONE_WAY and self.source is None:
            msg = 'source: direction = "one-way" needs a source client'
            raise ValueError(msg)
        if self.source is not None and self.direction is not Direction.ONE_WAY:
            msg = 'source: a source is used only with direction = "one-way"'
            raise ValueError(msg)
        if self.source is not None and self.source not in clients:
            msg = f"source: {self.source!r} is not one of the synced clients"
            raise ValueError(msg)
        return self

    def policy(self, available: Sequence[str]) -> Policy:
        """The engine policy over the clients both configured and ``available``."""
        wanted = {str(c) for c in self.clients}
        clients = tuple(str(c) for c in available if not wanted or str(c) in wanted)
        groups = {n: frozenset(str(c) for c in cs) for n, cs in self.settings.items() if cs}
        kinds = {str(k) for k in self.kinds}
        if groups and "kinds" not in self.model_fields_set:
            kinds.add(Setting.kind)  # opting a setting in is enough; explicit kinds still win
        return Policy(
            clients,
            kinds=frozenset(kinds),
            settings=groups,
            direction=self.direction,
            source=None if self.source is None else str(self.source),
            conflict_rule=self.conflict,
            priority=tuple(str(c) for c in self.priority),
            include=self.include,
            exclude=self.exclude,
            mode=self.mode,
            max_deletions=self.max_deletions,
            trusted_projects=frozenset(str(p) for p in self.trusted_projects),
            exclude_personal=frozenset(str(c) for c in self.exclude_personal),
        )

    def breaker_limits(self) -> BreakerLimits:
        """The write-rate breaker's limits."""
        return BreakerLimits(self.write_cap, self.write_window_s, self.breaker_cooldown_s)


def _env_overrides(env: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for key in ("clients", "kinds"):
        raw = env.get(f"SYNAPSE_SYNC_{key.upper()}", "")
        if raw.strip():
            values[key] = [part.strip() for part in raw.split(",") if part.strip()]
    raw = env.get("SYNAPSE_SYNC_PROJECTS", "")
    if raw.strip():
        values["projects"] = [part for part in raw.split(os.pathsep) if part]
    return values


def load_sync_settings(
    settings: Settings, environ: Mapping[str, str] | None = None, *, create: bool = True
) -> SyncSettings:
    """Read ``sync.toml`` (writing the commented template first when ``create``), then apply
    the environment overrides and ``settings.mode``.

    Raises:
        UserInputError: the file is not TOML, or a key has a bad value (the key is named).
    """
    env = os.environ if environ is None else environ
    path = settings.sync_path
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Durable (temp, fsync, rename, fsync dir) and never over a file made meanwhile.
        with contextlib.suppress(FileExistsError):
            write_durably(path, SYNC_TEMPLATE.encode("utf-8"), overwrite=False)
    hint = f"edit {path} (delete it to get the commented defaults back)"
    raw: dict[str, object] = {}
    if path.exists():
        try:
            raw = tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
        except (TOMLKitError, OSError, UnicodeDecodeError) as exc:
            raise UserInputError(f"{path} is not valid TOML: {exc}", hint=hint) from exc
    overrides = _env_overrides(env)
    raw.update(overrides)
    if settings.mode is not None:
        raw["mode"] = settings.mode
    try:
        return SyncSettings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if not isinstance(p, int))
        problem = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            known = [k for k in SyncSettings.model_fields if k != "trusted_projects"]
            problem = f"unknown key (known: {', '.join(known)})"
        origin = f"SYNAPSE_SYNC_{where.upper()}" if where in overrides else str(path)
        msg = f"{origin}: {where + ': ' if where else ''}{problem}"
        raise UserInputError(msg, hint=hint) from exc
