"""Copilot CLI loads what Synapse wrote to ``~/.copilot/mcp-config.json`` (``mcp list --json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.copilot_cli import CopilotCliAdapter
from events.client_config import ClientId
from tests.oracle._clis import DEAD_URL, CliFor, Sandbox, strip_ansi
from tests.oracle._synapse import (
    HTTP_NAME,
    LITERAL_ENV,
    STDIO_ARGS,
    STDIO_COMMAND,
    STDIO_NAME,
    TOKEN_VAR,
    canonical_servers,
    desired_of,
    write_with_synapse,
)

pytestmark = pytest.mark.oracle


def copilot_servers(sandbox: Sandbox, copilot: Path) -> dict[str, dict[str, Any]]:
    """What Copilot itself loads: ``copilot mcp list --json`` (``mcpServers`` by name)."""
    done = sandbox.run(copilot, "mcp", "list", "--json")
    assert done.returncode == 0, strip_ansi(done.stderr)
    assert "Skipping invalid MCP server" not in done.stderr
    servers: dict[str, dict[str, Any]] = json.loads(done.stdout)["mcpServers"]
    return servers


def copilot_add(sandbox: Sandbox, copilot: Path, *args: str) -> None:
    """Let the real CLI write its own config (``copilot mcp add …``)."""
    done = sandbox.run(copilot, "mcp", "add", *args)
    assert done.returncode == 0, strip_ansi(done.stderr)


def assert_synapse_servers(seen: dict[str, dict[str, Any]]) -> None:
    """Copilot sees both servers, from the user file, with ``${VAR}`` references kept."""
    stdio, http = seen[STDIO_NAME], seen[HTTP_NAME]
    assert (stdio["type"], stdio["source"], stdio["enabled"]) == ("local", "user", True)
    assert stdio["command"] == STDIO_COMMAND
    assert stdio["args"] == list(STDIO_ARGS)
    assert stdio["env"] == {TOKEN_VAR: f"${{{TOKEN_VAR}}}", LITERAL_ENV[0]: LITERAL_ENV[1]}
    assert (http["type"], http["source"], http["enabled"]) == ("http", "user", True)
    assert http["url"] == DEAD_URL
    assert http["headers"] == {"Authorization": f"Bearer ${{{TOKEN_VAR}}}"}


def test_copilot_loads_what_synapse_wrote(cli_for: CliFor, sandbox: Sandbox) -> None:
    """A fresh mcp-config.json from Synapse lists exactly the two servers as valid entries."""
    copilot = cli_for(ClientId.COPILOT)
    rendered = write_with_synapse(
        CopilotCliAdapter(), sandbox.home, desired_of(canonical_servers())
    )
    assert rendered.losses == []

    seen = copilot_servers(sandbox, copilot)

    assert set(seen) == {STDIO_NAME, HTTP_NAME}
    assert_synapse_servers(seen)


def test_copilot_still_loads_its_own_servers_after_a_synapse_edit(
    cli_for: CliFor, sandbox: Sandbox
) -> None:
    """Synapse edits a CLI-written mcp-config.json; Copilot's own servers load unchanged."""
    copilot = cli_for(ClientId.COPILOT)
    copilot_add(sandbox, copilot, "theirs", "--env", "A=1", "--", "/bin/false", "x")
    copilot_add(sandbox, copilot, "--transport", "http", "theirhttp", DEAD_URL)
    before = copilot_servers(sandbox, copilot)
    assert set(before) == {"theirs", "theirhttp"}

    write_with_synapse(
        CopilotCliAdapter(),
        sandbox.home,
        desired_of(canonical_servers(), deleted=("theirhttp",)),
    )
    after = copilot_servers(sandbox, copilot)

    assert set(after) == {"theirs", STDIO_NAME, HTTP_NAME}
    assert after["theirs"] == before["theirs"]
    assert_synapse_servers(after)

    copilot_add(sandbox, copilot, "later", "--", "/bin/false")
    again = copilot_servers(sandbox, copilot)
    assert set(again) == {"theirs", "later", STDIO_NAME, HTTP_NAME}
    assert {k: again[k] for k in after} == after
