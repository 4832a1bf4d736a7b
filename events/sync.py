"""Aggregates and domain events of client-config sync.

Two aggregates:

* :class:`ClientFile`, one per client file (id ``aggregate_id("client-file", "client:path")``):
  discovered, observed (file hash and entity digests), failed to parse, vanished.
* :class:`SyncLedger`, one per entity (id ``aggregate_id("entity", "kind:name")``): what each
  client changed, what the engine planned, wrote, held back or found in conflict.

Events carry digests and *redacted* values only. The values the sync engine hands over are
already canonical (secrets are env references), and :func:`redact` is the belt to those braces:
every value-bearing event runs its value through it, so a literal token that slipped through
an adapter never reaches the append-only log.

What a person causes (a resolution, an approval or rejection, a revert, the writes of an
applied plan) carries ``actor``: the user who did it (see :mod:`events.audit`); None for
automatic sync and for events recorded before users existed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, JsonValue, field_validator

from events.domain import Aggregate
from events.store import aggregate_id

__all__ = [
    "REDACTED",
    "ClientFile",
    "PlannedWrite",
    "SyncLedger",
    "client_file_id",
    "ledger_id",
    "redact",
]

#: What a redacted literal secret is replaced with.
REDACTED = "<redacted>"

_SECRET_WORDS = ("token", "secret", "password", "passwd", "apikey", "api_key", "credential")
#: Maps whose every value is potentially secret (MCP ``env`` and ``headers``).
_SECRET_MAPS = frozenset({"env", "headers", "environment", "http_headers"})
_SECRET_HEADER_WORDS = ("authorization", "cookie")


_REFERENCE = re.compile(r"\$\{[^}]*\}|\{env:[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
_AUTH_SCHEMES = frozenset({"", "bearer", "basic", "token"})


def _is_reference(value: str) -> bool:
    """Env references (``${VAR}``, ``$VAR``, ``{env:VAR}``) name a secret but do not hold it.

    ``Bearer ${TOKEN}`` is a reference too: nothing but an auth scheme is left around it.
    """
    if not _REFERENCE.search(value):
        return False
    return _REFERENCE.sub("", value).strip().lower() in _AUTH_SCHEMES


def _is_secret_key(key: str) -> bool:
    lowered = key.lower().replace("-", "_")
    return any(word in lowered for word in (*_SECRET_WORDS, *_SECRET_HEADER_WORDS))


def redact(value: Any, *, _inside_secret_map: bool = False) -> Any:
    """Return ``value`` with literal secret strings replaced by :data:`REDACTED`.

    A string is treated as secret when its key looks like one (``token``, ``api_key``,
    ``Authorization``…) or when it sits in an ``env`` / ``headers`` map, unless it is an env
    reference. Structure and every other value are kept, so digests of clean values are stable.

    Args:
        value: a JSON-like value (dicts, lists, scalars).

    Returns:
        A redacted copy (the input is not modified).
    """
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            secret_slot = _inside_secret_map or _is_secret_key(str(key))
            if isinstance(item, str) and secret_slot and not _is_reference(item):
                out[key] = REDACTED
            else:
                out[key] = redact(item, _inside_secret_map=str(key).lower() in _SECRET_MAPS)
        return out
    if isinstance(value, list):
        return [redact(item, _inside_secret_map=_inside_secret_map) for item in value]
    return value


def client_file_id(client: str, path: str) -> Any:
    """Return the aggregate id of one client's file."""
    return aggregate_id("client-file", f"{client}:{path}")


def ledger_id(kind: str, name: str) -> Any:
    """Return the aggregate id of one entity's sync ledger."""
    return aggregate_id("entity", f"{kind}:{name}")


class ClientFile(Aggregate):
    """One configuration file of one client, as the watcher last saw it."""

    class Discovered(Aggregate.Created):
        """The watcher found the file."""

        client: str
        path: str
        scope: str

    class Observed(Aggregate.Event):
        """The file was read and parsed; entity digests keyed ``kind:name``."""

        sha256: str
        entity_digests: dict[str, str]
        size: int

        def apply(self, aggregate: ClientFile) -> None:
            """Remember the last good read."""
            aggregate.sha256 = self.sha256
            aggregate.entity_digests = dict(self.entity_digests)
            aggregate.parse_error = None
            aggregate.parse_error_since = None
            aggregate.present = True

    class ParseFailed(Aggregate.Event):
        """The file could not be parsed; the last good read stays in force."""

        error: str

        def apply(self, aggregate: ClientFile) -> None:
            """Record the error without touching the last good read; the first failure
            since the last good read dates the error."""
            if aggregate.parse_error is None:
                aggregate.parse_error_since = self.timestamp
            aggregate.parse_error = self.error

    class Vanished(Aggregate.Event):
        """The file is gone."""

        def apply(self, aggregate: ClientFile) -> None:
            """Mark the file absent."""
            aggregate.present = False

    def __init__(self, client: str, path: str, scope: str) -> None:
        self.client = client
        self.path = path
        self.scope = scope
        self.sha256: str | None = None
        self.entity_digests: dict[str, str] = {}
        self.parse_error: str | None = None
        #: When the file was first seen failing since its last good read.
        self.parse_error_since: datetime | None = None
        self.present = True

    @classmethod
    def discover(cls, client: str, path: str, scope: str, *, command_id: str) -> ClientFile:
        """Create the aggregate for a newly found file."""
        return cls._create(
            cls.Discovered,
            id=client_file_id(client, path),
            command_id=command_id,
            client=client,
            path=path,
            scope=scope,
        )

    def observe(self, sha256: str, entity_digests: dict[str, str], size: int) -> None:
        """Record a successful read (a no-op when the file hash is unchanged and it parsed
        last time: a file put back to its last good bytes after an error is observed)."""
        if sha256 != self.sha256 or not self.present or self.parse_error is not None:
            self.trigger_event(
                self.Observed, sha256=sha256, entity_digests=entity_digests, size=size
            )

    def fail_parse(self, error: str) -> None:
        """Record a parse failure."""
        self.trigger_event(self.ParseFailed, error=error)

    def vanish(self) -> None:
        """Record that the file disappeared."""
        if self.present:
            self.trigger_event(self.Vanished)


class PlannedWrite(BaseModel):
    """One write of a sync plan: which client gets which entity digest (None = delete)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client: str
    scope: str = "user"
    digest: str | None


def _redacted(value: dict[str, JsonValue] | None) -> dict[str, JsonValue] | None:
    return None if value is None else redact(value)


class SyncLedger(Aggregate):
    """The sync history of one entity across every client.

    State rebuilt from the events: per scope and client the last observed digest and the last
    synced base digest (set by applied writes), open conflicts, suspected and held deletions,
    and every value seen, by digest, so a replay can reproduce the engine's state.
    """

    class Opened(Aggregate.Created):
        """The first fact about this entity was recorded."""

        kind: str
        name: str

    class EntityChanged(Aggregate.Event):
        """A client's copy of the entity changed (as seen by scan ``scan_id``)."""

        client: str
        scan_id: str
        scope: str = "user"
        digest: str
        value_redacted: dict[str, JsonValue]

        _redact = field_validator("value_redacted")(redact)

        def apply(self, aggregate: SyncLedger) -> None:
            """Record what the client now holds."""
            aggregate.seen[(self.scope, self.client)] = self.digest
            aggregate.values[self.digest] = dict(self.value_redacted)
            aggregate.suspected.pop((self.scope, self.client), None)

    class DeletionSuspected(Aggregate.Event):
        """A complete scan lacked the entity; a second scan must confirm before it counts."""

        client: str
        scan_id: str
        scope: str = "user"

        def apply(self, aggregate: SyncLedger) -> None:
            """Remember the first scan that lacked the entity."""
            aggregate.suspected[(self.scope, self.client)] = self.scan_id

    class EntityRemoved(Aggregate.Event):
        """Two complete scans of a client lacked the entity: a confirmed deletion."""

        client: str
        scan_id: str = ""
        scope: str = "user"

        def apply(self, aggregate: SyncLedger) -> None:
            """Record the client as not holding the entity."""
            aggregate.seen[(self.scope, self.client)] = None
            aggregate.suspected.pop((self.scope, self.client), None)

    class SyncPlanned(Aggregate.Event):
        """The engine planned writes for this entity (part of plan ``plan_hash``)."""

        plan_hash: str
        writes: list[PlannedWrite]

    class WritePlanned(Aggregate.Event):
        """Intent: write ``digest`` into ``path`` if it still hashes to ``pre_sha256``.

        Recorded (durably) before any file is touched, so a restart can settle a write a
        crash interrupted: ``new_sha256`` is what the file holds if the write landed ("" = it
        deleted the file); ``temp_paths`` every temp file the write may create (its own, its
        pre-image's, its companion's), the only ones a restart removes. ``companion_*`` name
        the second file written with ``path`` (a Rovo Dev prompt's ``prompts.yml``). The
        fields after ``pre_sha256`` came in version 2: a version 1 intent is upcast to their
        defaults (``new_sha256`` None: the outcome cannot be told from the file).
        """

        class_version: ClassVar[int] = 2

        client: str
        path: str
        scope: str = "user"
        digest: str | None
        pre_sha256: str | None
        new_sha256: str | None = None
        temp_paths: tuple[str, ...] = ()
        companion_path: str | None = None
        companion_pre_sha256: str | None = None
        companion_sha256: str = ""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 named neither the planned hash nor the temp files."""
            state.update(
                new_sha256=None,
                temp_paths=(),
                companion_path=None,
                companion_pre_sha256=None,
                companion_sha256="",
            )

        def apply(self, aggregate: SyncLedger) -> None:
            """Remember the intent until its outcome arrives."""
            aggregate.planned[(self.client, self.path)] = (self.scope, self.digest)

    class WriteApplied(Aggregate.Event):
        """Outcome: the write landed; ``digest`` is the client's new sync base.

        ``companion_*`` name a second file written with ``path`` (a Rovo Dev prompt's
        ``prompts.yml``): its new hash and its pre-image, so a revert restores both.
        """

        class_version: ClassVar[int] = 2

        client: str
        path: str
        sha256: str
        pre_image_ref: str | None
        scope: str = "user"
        digest: str | None = None
        companion_path: str | None = None
        companion_sha256: str = ""
        companion_pre_image_ref: str | None = None
        actor: str | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 had no companion file."""
            state.update(companion_path=None, companion_sha256="", companion_pre_image_ref=None)

        def apply(self, aggregate: SyncLedger) -> None:
            """Move the client's base (and its copy) to the written digest."""
            aggregate.planned.pop((self.client, self.path), None)
            aggregate.base[(self.scope, self.client)] = self.digest
            aggregate.seen[(self.scope, self.client)] = self.digest

    class WriteAbandoned(Aggregate.Event):
        """Outcome: the write did not land (target changed, disk full…)."""

        client: str
        path: str
        reason: str
        actor: str | None = None

        def apply(self, aggregate: SyncLedger) -> None:
            """Forget the intent."""
            aggregate.planned.pop((self.client, self.path), None)

    class ConflictDetected(Aggregate.Event):
        """Clients changed the entity to different values; nothing was written."""

        conflict_id: str
        scope: str = "user"
        sides: dict[str, str | None]
        base_digest: str | None

        def apply(self, aggregate: SyncLedger) -> None:
            """Open the conflict."""
            aggregate.conflicts[self.conflict_id] = dict(self.sides)
            aggregate.conflict_scopes[self.conflict_id] = self.scope

    class ConflictResolved(Aggregate.Event):
        """A conflict (or a held change) was settled by a person or a rule."""

        conflict_id: str
        resolution: str
        chosen_client: str | None
        scope: str = "user"
        digest: str | None = None
        value_redacted: dict[str, JsonValue] | None = None
        actor: str | None = None

        _redact = field_validator("value_redacted")(_redacted)

        def apply(self, aggregate: SyncLedger) -> None:
            """Close every open conflict of the slot and remember a hand-made value."""
            for cid, scope in list(aggregate.conflict_scopes.items()):
                if cid == self.conflict_id or scope == self.scope:
                    aggregate.conflicts.pop(cid, None)
                    aggregate.conflict_scopes.pop(cid, None)
            aggregate.held = {k: v for k, v in aggregate.held.items() if k[0] != self.scope}
            if self.digest is not None and self.value_redacted is not None:
                aggregate.values[self.digest] = dict(self.value_redacted)

    class ChangeApproved(Aggregate.Event):
        """A change (``digest``; None = a deletion) from ``client`` was let through.

        ``by`` is ``person`` (``synapse sync approve``) or ``trust`` (the project's
        ``trust = "auto"``: still recorded, and alerted, since it runs new code).
        """

        approval_id: str
        client: str | None
        scope: str = "user"
        digest: str | None
        reason: str = ""
        by: str = "person"
        actor: str | None = None

        def apply(self, aggregate: SyncLedger) -> None:
            """A released deletion is no longer held."""
            if self.client is not None:
                aggregate.held.pop((self.scope, self.client), None)

    class ChangeRejected(Aggregate.Event):
        """A person refused to spread a change (``digest``; None = a deletion, kept).

        A rejected value is not asked about again until its client holds another one.
        """

        approval_id: str
        client: str | None
        scope: str = "user"
        digest: str | None
        reason: str = ""
        actor: str | None = None

        def apply(self, aggregate: SyncLedger) -> None:
            """A refused deletion is no longer held."""
            if self.client is not None:
                aggregate.held.pop((self.scope, self.client), None)

    class TranslationLossy(Aggregate.Event):
        """A target client cannot express ``field`` of the entity."""

        client: str
        field: str
        reason: str

    class DeletionHeld(Aggregate.Event):
        """A deletion from ``client`` waits for approval (too many at once)."""

        client: str
        reason: str
        scope: str = "user"

        def apply(self, aggregate: SyncLedger) -> None:
            """Mark the deletion as held."""
            aggregate.held[(self.scope, self.client)] = self.reason

    class ChangeReverted(Aggregate.Event):
        """A previous write was reverted to its pre-image."""

        write_id: str
        actor: str | None = None

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        self.seen: dict[tuple[str, str], str | None] = {}
        self.base: dict[tuple[str, str], str | None] = {}
        self.values: dict[str, dict[str, JsonValue]] = {}
        self.suspected: dict[tuple[str, str], str] = {}
        self.held: dict[tuple[str, str], str] = {}
        self.conflicts: dict[str, dict[str, str | None]] = {}
        self.conflict_scopes: dict[str, str] = {}
        self.planned: dict[tuple[str, str], tuple[str, str | None]] = {}

    @classmethod
    def open(cls, kind: str, name: str, *, command_id: str) -> SyncLedger:
        """Create the ledger of entity ``kind``/``name``."""
        return cls._create(
            cls.Opened, id=ledger_id(kind, name), command_id=command_id, kind=kind, name=name
        )

    def record(self, event_class: type[Aggregate.Event], **fields: Any) -> None:
        """Append one of this ledger's events (the engine decides; the ledger records)."""
        if event_class is self.ConflictDetected and fields["conflict_id"] in self.conflicts:
            return
        if event_class is self.DeletionHeld and (
            self.held.get((fields.get("scope", "user"), fields["client"])) == fields["reason"]
        ):
            return
        self.trigger_event(event_class, **fields)
