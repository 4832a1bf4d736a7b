"""OpenCode resolves what Synapse wrote to its global config (``opencode debug config``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.opencode import OpenCodeAdapter
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

#: The value OpenCode must substitute for ``{env:ORACLE_REF}``.
TOKEN_VALUE = "resolved-by-opencode"


def opencode_mcp(sandbox: Sandbox, opencode: Path) -> dict[str, dict[str, Any]]:
    """The ``mcp`` section of OpenCode's resolved, merged config."""
    done = sandbox.run(opencode, "debug", "config", extra_env={TOKEN_VAR: TOKEN_VALUE})
    assert done.returncode == 0, strip_ansi(done.stderr)
    config = json.loads(done.stdout)
    mcp: dict[str, dict[str, Any]] = config.get("mcp", {})
    return mcp


def opencode_add(sandbox: Sandbox, opencode: Path, *args: str) -> None:
    """Let the real CLI write its own config (``opencode mcp add …``, stdin closed)."""
    done = sandbox.run(opencode, "mcp", "add", *args)
    assert done.returncode == 0, strip_ansi(done.stderr)


def assert_synapse_servers(seen: dict[str, dict[str, Any]]) -> None:
    """OpenCode sees both servers; ``{env:ORACLE_REF}`` is substituted from the environment."""
    stdio, http = seen[STDIO_NAME], seen[HTTP_NAME]
    assert stdio["type"] == "local"
    assert stdio["command"] == [STDIO_COMMAND, *STDIO_ARGS]
    assert stdio["environment"] == {TOKEN_VAR: TOKEN_VALUE, LITERAL_ENV[0]: LITERAL_ENV[1]}
    assert stdio.get("enabled", True) is True
    assert http["type"] == "remote"
    assert http["url"] == DEAD_URL
    # debug config redacts header values ("***"); the header must still be there.
    assert set(http["headers"]) == {"Authorization"}
    assert http["headers"]["Authorization"] in {"***", f"Bearer {TOKEN_VALUE}"}


def test_opencode_resolves_what_synapse_wrote(cli_for: CliFor, sandbox: Sandbox) -> None:
    """A fresh opencode.jsonc from Synapse is valid, and its {env:X} references resolve."""
    opencode = cli_for(ClientId.OPENCODE)
    rendered = write_with_synapse(OpenCodeAdapter(), sandbox.home, desired_of(canonical_servers()))
    assert rendered.losses == []

    seen = opencode_mcp(sandbox, opencode)

    assert set(seen) == {STDIO_NAME, HTTP_NAME}
    assert_synapse_servers(seen)


def test_opencode_still_loads_its_own_servers_after_a_synapse_edit(
    cli_for: CliFor, sandbox: Sandbox
) -> None:
    """Synapse edits a CLI-written opencode.jsonc; OpenCode's own servers resolve unchanged."""
    opencode = cli_for(ClientId.OPENCODE)
    opencode_add(sandbox, opencode, "theirs", "--env", "A=1", "--", "/bin/false", "x")
    opencode_add(sandbox, opencode, "theirhttp", "--url", DEAD_URL)
    before = opencode_mcp(sandbox, opencode)
    assert set(before) == {"theirs", "theirhttp"}

    write_with_synapse(
        OpenCodeAdapter(),
        sandbox.home,
        desired_of(canonical_servers(), deleted=("theirhttp",)),
    )
    after = opencode_mcp(sandbox, opencode)

    assert set(after) == {"theirs", STDIO_NAME, HTTP_NAME}
    assert after["theirs"] == before["theirs"]
    assert_synapse_servers(after)

    opencode_add(sandbox, opencode, "later", "--", "/bin/false")
    again = opencode_mcp(sandbox, opencode)
    assert set(again) == {"theirs", "later", STDIO_NAME, HTTP_NAME}
    assert {k: again[k] for k in after} == after
