"""The error hierarchy of Synapse.

Every error Synapse raises on purpose derives from :class:`SynapseError`, which lives here in
the lowest layer so that every package can import it::

    SynapseError
    ├── StoreError                     events/: the event log
    │   ├── StoreUnavailableError      disk full, unwritable home, database down (HTTP 503)
    │   ├── CipherKeyError             missing or wrong event-body key (fails closed)
    │   ├── ConcurrencyError           expected aggregate version did not match
    │   ├── DurabilityError            SQLite not in WAL + synchronous=FULL
    │   └── BackupError                a backup failed or a restore was refused (nothing changed)
    ├── AdapterError                   adapters/: reading and writing client files
    │   ├── ConfigParseError
    │   ├── UnsafeInputError           hostile names, symlink escapes, oversize, binary
    │   └── WriteConflictError         file changed between read and write (compare-and-swap)
    ├── ProjectionError                projections/: DuckDB read models
    │   └── QueryRejectedError         the read-only SQL guard said no (HTTP 400)
    ├── ActorError                     actors/: supervision, agents, workflows
    └── UserInputError                 synapse/: a user mistake; the CLI prints one line + hint
"""

from __future__ import annotations

__all__ = [
    "ActorError",
    "AdapterError",
    "BackupError",
    "CipherKeyError",
    "ConcurrencyError",
    "ConfigParseError",
    "DurabilityError",
    "ProjectionError",
    "QueryRejectedError",
    "StoreError",
    "StoreUnavailableError",
    "SynapseError",
    "UnsafeInputError",
    "UserInputError",
    "WriteConflictError",
]


class SynapseError(Exception):
    """Base of every error Synapse raises on purpose.

    Args:
        message: one line a user can act on.
        hint: optional next step, printed by the CLI after the message.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class StoreError(SynapseError):
    """The event log could not do what was asked."""


class StoreUnavailableError(StoreError):
    """The event log cannot be written right now (disk full, unwritable, server down)."""


class CipherKeyError(StoreError):
    """The event-body cipher key is missing, malformed or does not decrypt the log."""


class ConcurrencyError(StoreError):
    """An append's expected aggregate version did not match the stored version."""


class DurabilityError(StoreError):
    """The SQLite store is not configured for durable commits (WAL + synchronous=FULL)."""


class BackupError(StoreError):
    """A backup could not be taken, or a restore was refused (nothing was changed)."""


class AdapterError(SynapseError):
    """A client configuration file could not be read, translated or written."""


class ConfigParseError(AdapterError):
    """A client file is not valid in its format (JSON, JSONC, TOML, YAML, frontmatter)."""


class UnsafeInputError(AdapterError):
    """Input was refused for safety: hostile names, symlink escapes, oversize or binary files."""


class WriteConflictError(AdapterError):
    """A target file changed between our read and our write; nothing was overwritten."""


class ProjectionError(SynapseError):
    """A DuckDB read model could not be built or queried."""


class QueryRejectedError(ProjectionError):
    """A SQL query was refused by the read-only guard or failed to run."""


class ActorError(SynapseError):
    """An actor, agent or workflow could not do what was asked."""


class UserInputError(SynapseError):
    """A user mistake (bad argument, unknown name); shown as one line and a hint."""
