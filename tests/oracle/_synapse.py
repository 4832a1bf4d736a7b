"""The Synapse side of an oracle test: canonical servers and writing them with an adapter."""

from __future__ import annotations

from pathlib import Path

from adapters.base import ClientAdapter, ConfigFile, Desired, Rendered
from events.client_config import EntityKey, EnvRef, McpServer, Transport, Value
from tests.oracle._clis import DEAD_URL

__all__ = [
    "HTTP_NAME",
    "LITERAL_ENV",
    "STDIO_ARGS",
    "STDIO_COMMAND",
    "STDIO_NAME",
    "TOKEN_VAR",
    "canonical_servers",
    "desired_of",
    "user_file",
    "write_with_synapse",
]

STDIO_NAME = "synapse-stdio"
HTTP_NAME = "synapse-http"
#: A command that exists everywhere and does nothing if a CLI decides to spawn it.
STDIO_COMMAND = "/bin/false"
STDIO_ARGS = ("--port", "9", "--label=oracle")
#: The env var both servers reference (stdio env and HTTP bearer token).
TOKEN_VAR = "ORACLE_REF"
#: A literal, non-secret env entry.
LITERAL_ENV = ("LOG_LEVEL", "debug")


def canonical_servers() -> list[McpServer]:
    """A stdio server (args, an env reference, a literal env) and an HTTP server (bearer ref)."""
    stdio = McpServer(
        name=STDIO_NAME,
        transport=Transport.STDIO,
        command=Value.of(STDIO_COMMAND),
        args=tuple(Value.of(a) for a in STDIO_ARGS),
        env={
            TOKEN_VAR: Value.of(EnvRef(TOKEN_VAR)),
            LITERAL_ENV[0]: Value.of(LITERAL_ENV[1]),
        },
    )
    http = McpServer(
        name=HTTP_NAME,
        transport=Transport.HTTP,
        url=Value.of(DEAD_URL),
        bearer_token_env=TOKEN_VAR,
    )
    return [stdio, http]


def desired_of(
    servers: list[McpServer], deleted: tuple[str, ...] = ()
) -> dict[EntityKey, McpServer | None]:
    """Target state: ``servers`` present, the names in ``deleted`` removed."""
    desired: dict[EntityKey, McpServer | None] = {s.key: s for s in servers}
    desired.update({EntityKey(McpServer.kind, name): None for name in deleted})
    return desired


def user_file(adapter: ClientAdapter, home: Path) -> ConfigFile:
    """The adapter's user-scope MCP file under ``home``."""
    return next(f for f in adapter.discover(home, []) if McpServer.kind in f.kinds)


def write_with_synapse(adapter: ClientAdapter, home: Path, desired: Desired) -> Rendered:
    """Render ``desired`` into the adapter's user file (editing what is there) and write it."""
    file = user_file(adapter, home)
    existing = file.path.read_text() if file.path.exists() else ""
    rendered = adapter.render(file, existing, desired)
    file.path.parent.mkdir(parents=True, exist_ok=True)
    file.path.write_text(rendered.text)
    return rendered
