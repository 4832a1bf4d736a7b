"""Scanning client files into engine values, and rendering engine values back into files.

The sync engine compares plain JSON values. This module is the bridge: it reads a client's
files safely (:func:`adapters.files.read_config`), parses them with the client's adapter and
turns each entity into an *engine value*: the fields every client can express (so a lossless
round trip compares equal), plus the entity's scope, qualified by the project of the file it
came from (``project:/abs/root``; :func:`file_scope`), so equal names in two projects are two
entities. Fields outside that set stay per client:
a write starts from the target's own entity and only replaces the synced fields.

Nothing here holds file text beyond one call: scan results carry hashes and values (secrets
are :class:`~events.client_config.SecretLiteral` fingerprints), never content.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actors._parse_cache import ParseCache
from actors._sync_values import Slot, qualified_scope, scope_kind
from adapters import envrefs
from adapters._commands import CommandCodec
from adapters.base import ClientAdapter, ConfigFile
from adapters.envrefs import EnvSyntax
from adapters.files import find_case_collisions, read_config
from adapters.formats import Format
from events.client_config import (
    Command,
    Entity,
    EntityKey,
    Instruction,
    McpServer,
    Scope,
    Setting,
    Subagent,
)
from events.errors import AdapterError
from projections.redact import mask_credentials

__all__ = [
    "PARSE_CACHE",
    "SYNC_FIELDS",
    "FileScan",
    "ScanReport",
    "entity_from_value",
    "entity_value",
    "file_scope",
    "friendly_fields",
    "project",
    "scan_client",
    "scan_file",
    "synced_files",
]

#: Per kind, the canonical fields that sync: those every built-in client expresses (plus the
#: transport, which decides which of them apply). Other fields stay with each client.
#: Commands: TOML commands (Gemini, Qwen) have no argument hint, model or tool list; Cursor's
#: plain Markdown has no description either (an edit there keeps the one last written).
#: Subagents: Codex and Cursor have no tool lists, and a model id means something only to
#: its own family (``sonnet`` vs ``gemini-2.5-pro``), so the model stays per client.
#: Settings: the one value (opt-in; the user picks clients whose model names fit).
#: Instructions: Cursor's rules, read (and shown) with their text; no client is written.
SYNC_FIELDS: Mapping[str, tuple[str, ...]] = {
    McpServer.kind: ("transport", "command", "args", "env", "url", "headers", "bearer_token_env"),
    Command.kind: ("description", "body"),
    Subagent.kind: ("description", "prompt"),
    Setting.kind: ("value",),
    Instruction.kind: ("body_markdown",),
}
_TYPES: Mapping[str, type[McpServer | Command | Subagent | Setting]] = {
    McpServer.kind: McpServer,
    Command.kind: Command,
    Subagent.kind: Subagent,
    Setting.kind: Setting,
}
#: Engine-value spelling of fields whose canonical name looks like a secret's key (events
#: redact values under such keys, which would corrupt the value on replay).
_ALIASES = {"bearer_token_env": "bearer_env"}
_MAX_ERROR = 300
#: The last parse of every file this process scanned: an unchanged file is not parsed again.
PARSE_CACHE = ParseCache()
#: A stand-in path for parsing a hand-written command body.
_RESOLVED = Path("commands/resolved.md")

Value = dict[str, Any]
Key = tuple[str, str]


@dataclass(frozen=True)
class FileScan:
    """What one read of one client file found (hashes and values only, never text).

    Attributes:
        client: the client.
        path: the path as the client names it.
        scope: user, project or local.
        present: the file exists.
        sha256: hash of the bytes read ("" when absent or unreadable).
        size: bytes read.
        error: why the file could not be used (None when it parsed).
        entities: engine values by ``(kind, name)``.
        blank: the file holds nothing but whitespace.
    """

    client: str
    path: str
    scope: str
    present: bool
    sha256: str = ""
    size: int = 0
    error: str | None = None
    entities: dict[Key, Value] = field(default_factory=dict)
    blank: bool = False


@dataclass(frozen=True)
class ScanReport:
    """One scan of all of one client's files."""

    client: str
    scan_id: str
    files: tuple[FileScan, ...]

    @property
    def entities(self) -> dict[Key, Value]:
        """Every entity found, across the files (the first file wins a duplicate name)."""
        out: dict[Key, Value] = {}
        for scan in self.files:
            for key, value in scan.entities.items():
                out.setdefault(key, value)
        return out

    @property
    def slots(self) -> dict[Slot, Value]:
        """Every entity found, by ``(key, scope)``: one name in two projects is two slots
        (the first file of a scope wins a duplicate name within it)."""
        out: dict[Slot, Value] = {}
        for scan in self.files:
            for key, value in scan.entities.items():
                out.setdefault((key, str(value.get("scope", scan.scope))), value)
        return out


def file_scope(cfg: ConfigFile) -> str:
    """The slot scope of ``cfg``'s entities: ``user``, ``project:/root`` or ``local:/root``."""
    project = None if cfg.project is None else str(cfg.project)
    return qualified_scope(str(cfg.scope), project)


def entity_value(entity: Entity, *, scope: str | None = None) -> Value:
    """Return the engine value of ``entity``: its synced fields and its scope.

    Args:
        entity: the canonical entity.
        scope: the slot scope (the project-qualified one of the entity's file, see
            :func:`file_scope`); by default the entity's bare scope.
    """
    fields = SYNC_FIELDS.get(entity.kind, ())
    synced = entity.synced()
    value: Value = {"scope": str(entity.scope) if scope is None else scope}
    for name in fields:
        if name in synced:
            value[_ALIASES.get(name, name)] = synced[name]
    return value


def entity_from_value(
    key: Key, value: Value, *, scope: str, current: Entity | None = None
) -> Entity:
    """Build the entity to write: ``current`` (the target's own copy) with the synced fields
    of ``value`` laid over it, or a new entity from ``value`` alone.

    ``scope`` may be a slot scope (``project:/root``); the entity gets its kind (``project``).

    Raises:
        AdapterError: the kind is not one this module can rebuild.
    """
    cls = _TYPES.get(key[0])
    if cls is None:
        msg = f"cannot write entities of kind {key[0]!r}"
        raise AdapterError(msg)
    reverse = {alias: name for name, alias in _ALIASES.items()}
    fields = {reverse.get(k, k): v for k, v in value.items() if k != "scope"}
    base: dict[str, Any] = {} if current is None else current.model_dump(mode="json")
    return cls.model_validate({**base, **fields, "name": key[1], "scope": scope_kind(scope)})


def friendly_fields(value: Value) -> Value:
    """Accept plain strings where the canonical model wants templates (``${VAR}`` syntax).

    Lets a person resolve a conflict with ``{"command": "npx", "args": ["-y", "x"]}``, or a
    command's with ``{"body": "Review $ARGUMENTS"}`` (Claude's Markdown placeholders).
    """

    def template(item: Any) -> Any:
        if isinstance(item, str):
            return envrefs.parse(item, EnvSyntax.CLAUDE).model_dump(mode="json")
        return item

    out = dict(value)
    for name in ("command", "url", "cwd"):
        if name in out:
            out[name] = template(out[name])
    if isinstance(out.get("args"), list):
        out["args"] = [template(a) for a in out["args"]]
    for name in ("env", "headers"):
        if isinstance(out.get(name), dict):
            out[name] = {k: template(v) for k, v in out[name].items()}
    if isinstance(out.get("body"), str):
        # An empty frontmatter first, so a body that starts with "---" stays body.
        text = "---\n---\n" + out["body"]
        parsed = CommandCodec(Format.MARKDOWN).parse(_RESOLVED, text, Scope.USER, "")
        out["body"] = parsed.model_dump(mode="json")["body"]
    return out


def _clean_error(error: BaseException) -> str:
    """One line about a failed read; credential-shaped text is masked, length capped."""
    text = " ".join(str(error).split())[:_MAX_ERROR]
    return f"{type(error).__name__}: {mask_credentials(text)}"


def _parse(adapter: ClientAdapter, cfg: ConfigFile, data: bytes, kinds: frozenset[str]) -> Any:
    text = data.decode("utf-8")
    entities = [e for e in adapter.parse(cfg, text) if not kinds or e.kind in kinds]
    collisions = find_case_collisions(e.name for e in entities)
    if collisions:
        first, second = collisions[0]
        msg = f"entity names {first!r} and {second!r} differ only by case"
        raise AdapterError(msg)
    scope = file_scope(cfg)
    return {tuple(e.key): entity_value(e, scope=scope) for e in entities}


def scan_file(
    adapter: ClientAdapter, cfg: ConfigFile, roots: Sequence[Path], kinds: frozenset[str]
) -> FileScan:
    """Read and parse one file; every failure becomes ``error``, never an exception.

    The file is always read and hashed; its parse is reused from :data:`PARSE_CACHE` when
    the same adapter last parsed the same bytes at the same path. A FIFO, socket or device
    in a client's folder is refused without blocking ("not a regular file (fifo)"), and an
    unreadable file says why ("permission denied"): either is an error, never an absence.
    """
    client, path, scope = str(cfg.client), str(cfg.path), str(cfg.scope)
    try:
        snap = read_config(cfg.path, allowed_roots=roots, max_bytes=cfg.max_bytes)
    except (AdapterError, OSError) as e:
        return FileScan(client, path, scope, True, error=_clean_error(e))
    if snap is None:
        return FileScan(client, path, scope, False)
    # The slot scope, not the bare one: Claude's local scopes of two projects share a file.
    # The index entry too: a prompt's description lives there, not in the file's bytes.
    cache_key = (type(adapter), client, path, file_scope(cfg), tuple(sorted(kinds)), cfg.entry)
    cached = PARSE_CACHE.get(cache_key, snap.sha256)
    if cached is not None:
        entities = {(kind, name): value for kind, name, value in cached}
    else:
        try:
            entities = _parse(adapter, cfg, snap.data, kinds)
        except (AdapterError, ValueError, RecursionError, TypeError) as e:
            # UnicodeDecodeError is a ValueError; pydantic's ValidationError too.
            error = _clean_error(e)
            return FileScan(client, path, scope, True, snap.sha256, len(snap.data), error)
        PARSE_CACHE.put(cache_key, snap.sha256, [[k[0], k[1], v] for k, v in entities.items()])
    blank = not snap.data.strip()
    return FileScan(client, path, scope, True, snap.sha256, len(snap.data), None, entities, blank)


def synced_files(
    adapter: ClientAdapter, home: Path, projects: Sequence[Path], kinds: frozenset[str]
) -> list[ConfigFile]:
    """The client's files that can hold a synced kind (discovered, existing or not)."""
    files = adapter.discover(home, projects)
    return [f for f in files if not kinds or f.kinds & kinds]


def scan_client(
    adapter: ClientAdapter,
    home: Path,
    *,
    projects: Sequence[Path] = (),
    roots: Sequence[Path],
    kinds: frozenset[str],
    scan_id: str | None = None,
) -> ScanReport:
    """Scan every synced file of one client.

    Args:
        adapter: the client's adapter.
        home: the home directory whose configs are scanned.
        projects: project roots to include.
        roots: directories reads must stay under.
        kinds: entity kinds to keep (empty = all).
        scan_id: the scan's id (a fresh one by default).
    """
    files = tuple(
        scan_file(adapter, cfg, roots, kinds)
        for cfg in synced_files(adapter, home, projects, kinds)
    )
    return ScanReport(str(adapter.client), scan_id or uuid.uuid4().hex, files)


def project(adapter: ClientAdapter, cfg: ConfigFile, key: Key, value: Value) -> Value | None:
    """Return what ``value`` reads back as once written into ``cfg``'s client (None = it
    cannot be written there at all).

    A lossy target (Codex cannot expand ``${X}`` in args; a secret cannot be copied) holds
    a different value than the one written; comparing an observation with this projection
    tells "the client still holds our write" from "someone edited it". A one-per-file
    entity (command, subagent) is rendered into an empty file of its own name.
    """
    dialect = adapter.subagent_dialect
    named = dialect is not None and dialect.name_key is not None
    if key[0] == Subagent.kind and named and cfg.kinds == {Subagent.kind}:
        assert dialect is not None
        # A new agent file takes its name from the file name; the target's own file may
        # be named otherwise (``name:`` in the frontmatter), so render into a namesake.
        # (Where the path is the name, OpenCode's ``team/reviewer``, it already is one.)
        cfg = dataclasses.replace(cfg, path=cfg.path.with_name(f"{key[1]}{dialect.suffix}"))
    try:
        entity = entity_from_value(key, value, scope=str(cfg.scope))
        if cfg.entry is not None:
            # Name and description are read from the index entry the write also makes.
            description = getattr(entity, "description", None)
            entry = dataclasses.replace(cfg.entry, name=key[1], description=description)
            cfg = dataclasses.replace(cfg, entry=entry)
        rendered = adapter.render(cfg, "", {EntityKey(*key): entity})
        if rendered.delete_file or not rendered.text.strip():
            return None
        for parsed in adapter.parse(cfg, rendered.text):
            if tuple(parsed.key) == key:
                return entity_value(parsed, scope=file_scope(cfg))
    except (AdapterError, ValueError):
        return None
    return None
