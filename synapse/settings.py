"""Typed settings: the only place Synapse reads the environment.

Every knob is ``SYNAPSE_<NAME>`` (e.g. ``SYNAPSE_HOME``, ``SYNAPSE_STORE``); values reach the
other packages as constructor arguments from :mod:`synapse.bootstrap`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from events.errors import UserInputError

__all__ = ["Settings", "load_settings"]


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
    allow_remote: bool = False
    ray_address: str = ""
    namespace: str = "synapse"
    poll_interval_s: float = 1.0
    sql_row_limit: int = 10_000
    sql_timeout_s: float = 10.0
    mode: Literal["observe", "apply"] = "observe"
    sync_home: Path | None = None

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
    def cipher_key_path(self) -> Path:
        """Path of the event-body cipher key (0600)."""
        return self.home / "cipher.key"

    @property
    def exports_dir(self) -> Path:
        """Default folder for exports."""
        return self.home / "exports"


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
    return settings.model_copy(update={"home": settings.home.expanduser().resolve()})
