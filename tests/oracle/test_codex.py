"""Codex CLI loads exactly what Synapse wrote to ``~/.codex/config.toml`` (``mcp list --json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.codex import CodexAdapter
from events.client_config import ClientId
from tests.oracle._clis import DEAD_URL, CliFor, Sandbox
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


def codex_servers(sandbox: Sandbox, codex: Path) -> dict[str, dict[str, Any]]:
    """What Codex itself loads: ``codex mcp list --json`` keyed by server name."""
    done = sandbox.run(codex, "mcp", "list", "--json")
    assert done.returncode == 0, done.stderr
    return {entry["name"]: entry for entry in json.loads(done.stdout)}


def codex_add(sandbox: Sandbox, codex: Path, *args: str) -> None:
    """Let the real CLI write its own config (``codex mcp add …``)."""
    done = sandbox.run(codex, "mcp", "add", *args)
    assert done.returncode == 0, done.stderr


def assert_synapse_servers(seen: dict[str, dict[str, Any]]) -> None:
    """Codex sees both canonical servers with the right command, args, url and env names."""
    stdio, http = seen[STDIO_NAME], seen[HTTP_NAME]
    assert stdio["enabled"] is True
    assert stdio["transport"]["type"] == "stdio"
    assert stdio["transport"]["command"] == STDIO_COMMAND
    assert stdio["transport"]["args"] == list(STDIO_ARGS)
    assert stdio["transport"]["env"] == dict([LITERAL_ENV])
    assert stdio["transport"]["env_vars"] == [TOKEN_VAR]
    assert http["transport"]["type"] == "streamable_http"
    assert http["transport"]["url"] == DEAD_URL
    assert http["transport"]["bearer_token_env_var"] == TOKEN_VAR
    assert not http["transport"]["http_headers"]


def test_codex_loads_what_synapse_wrote(cli_for: CliFor, sandbox: Sandbox) -> None:
    """A fresh config.toml from Synapse lists exactly the two servers, env refs as env_vars."""
    codex = cli_for(ClientId.CODEX)
    rendered = write_with_synapse(CodexAdapter(), sandbox.home, desired_of(canonical_servers()))
    assert rendered.losses == []

    seen = codex_servers(sandbox, codex)

    assert set(seen) == {STDIO_NAME, HTTP_NAME}
    assert_synapse_servers(seen)


def test_codex_still_loads_its_own_servers_after_a_synapse_edit(
    cli_for: CliFor, sandbox: Sandbox
) -> None:
    """Synapse adds and removes servers in a CLI-written file; Codex's others load unchanged."""
    codex = cli_for(ClientId.CODEX)
    codex_add(sandbox, codex, "theirs", "--env", "A=1", "--", "/bin/false", "x")
    codex_add(sandbox, codex, "theirhttp", "--url", DEAD_URL, "--bearer-token-env-var", "T")
    before = codex_servers(sandbox, codex)

    adapter = CodexAdapter()
    write_with_synapse(
        adapter, sandbox.home, desired_of(canonical_servers(), deleted=("theirhttp",))
    )
    after = codex_servers(sandbox, codex)

    assert set(after) == {"theirs", STDIO_NAME, HTTP_NAME}
    assert after["theirs"] == before["theirs"]
    assert_synapse_servers(after)

    codex_add(sandbox, codex, "later", "--", "/bin/false")
    again = codex_servers(sandbox, codex)
    assert set(again) == {"theirs", "later", STDIO_NAME, HTTP_NAME}
    assert {k: again[k] for k in after} == after
