"""Configuration of the event store: backend settings, the cipher key file, the library env."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from eventsourcing.utils import get_topic

from events._mapper import OrjsonTranscoder, PydanticMapper
from events.errors import CipherKeyError, StoreUnavailableError

__all__ = ["PostgresConfig", "StoreConfig", "check_writable_dir", "env_for", "load_cipher_key"]


@dataclass(frozen=True)
class PostgresConfig:
    """Connection settings for the PostgreSQL event store."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = field(default="", repr=False)
    dbname: str = "synapse"
    schema: str = ""
    pool_size: int = 5


@dataclass(frozen=True)
class StoreConfig:
    """Which event store to open and how."""

    backend: Literal["sqlite", "postgres", "memory"] = "sqlite"
    sqlite_path: Path | None = None
    postgres: PostgresConfig | None = None
    cipher_key: str | None = field(default=None, repr=False)
    create_table: bool = True
    #: Called with the new head after every append in any process that opens this store
    #: (bootstrap passes a picklable hint to the projector actor).
    on_append: Callable[[int], None] | None = field(default=None, repr=False, compare=False)


def load_cipher_key(path: Path, *, create: bool) -> str:
    """Read (or create) the base64 AES key in ``path``, which must be mode 0600.

    Raises:
        CipherKeyError: the file is missing (and ``create`` is false), readable by others,
            or does not hold a 16/24/32-byte base64 key.
    """
    if not path.exists():
        if not create:
            msg = f"cipher key file {path} does not exist"
            raise CipherKeyError(msg, hint="unset SYNAPSE_ENCRYPT or restore the key file")
        key = base64.b64encode(os.urandom(32)).decode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
        return key
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        msg = f"cipher key file {path} has mode {mode:o}; it must be 0600"
        raise CipherKeyError(msg, hint=f"chmod 600 {path}")
    key = path.read_text().strip()
    try:
        raw = base64.b64decode(key, validate=True)
    except ValueError as exc:
        msg = f"cipher key file {path} is not base64"
        raise CipherKeyError(msg) from exc
    if len(raw) not in (16, 24, 32):
        msg = f"cipher key in {path} is {len(raw)} bytes; expected 16, 24 or 32"
        raise CipherKeyError(msg)
    return key


def env_for(config: StoreConfig) -> dict[str, str]:
    env: dict[str, str] = {
        "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
        "MAPPER_TOPIC": get_topic(PydanticMapper),
        "CREATE_TABLE": "y" if config.create_table else "n",
        "AGGREGATE_CACHE_MAXSIZE": "1000",
    }
    if config.backend == "sqlite":
        if config.sqlite_path is None:
            msg = "the sqlite backend needs sqlite_path"
            raise StoreUnavailableError(msg)
        env["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
        env["SQLITE_DBNAME"] = str(config.sqlite_path)
        env["SQLITE_LOCK_TIMEOUT"] = "10"
    elif config.backend == "postgres":
        pg = config.postgres or PostgresConfig()
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_HOST": pg.host,
            "POSTGRES_PORT": str(pg.port),
            "POSTGRES_USER": pg.user,
            "POSTGRES_PASSWORD": pg.password,
            "POSTGRES_DBNAME": pg.dbname,
            "POSTGRES_POOL_SIZE": str(pg.pool_size),
            # DB functions let followers skip events under concurrent writers.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        }
        if pg.schema:
            env["POSTGRES_SCHEMA"] = pg.schema
    else:
        env["PERSISTENCE_MODULE"] = "eventsourcing.popo"
    if config.cipher_key:
        env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
        env["CIPHER_KEY"] = config.cipher_key
    return env


def check_writable_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        msg = f"cannot create {path}: {exc.strerror}"
        raise StoreUnavailableError(msg, hint="set SYNAPSE_HOME to a writable folder") from exc
    if not os.access(path, os.W_OK):
        msg = f"{path} is not writable"
        raise StoreUnavailableError(msg, hint="set SYNAPSE_HOME to a writable folder")
