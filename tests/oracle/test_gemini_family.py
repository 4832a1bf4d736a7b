"""Gemini CLI and Qwen Code list what Synapse wrote to their user ``settings.json``.

Their only MCP oracle is ``mcp list``, a human-readable listing that health-checks servers.
The configs therefore name only ``/bin/false`` and a dead loopback URL. Gemini, run from an
untrusted folder, lists user servers as "Disabled" without spawning them; Qwen spawns
``/bin/false``, which exits at once. The listing shows name, command line or URL and
transport, but not env, so env names are checked by the Codex/OpenCode/Copilot oracles only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.base import ClientAdapter
from adapters.gemini_cli import GeminiCliAdapter
from adapters.qwen_code import QwenCodeAdapter
from events.client_config import ClientId
from tests.oracle._clis import DEAD_URL, CliFor, Sandbox, strip_ansi
from tests.oracle._synapse import (
    HTTP_NAME,
    STDIO_ARGS,
    STDIO_COMMAND,
    STDIO_NAME,
    canonical_servers,
    desired_of,
    write_with_synapse,
)

pytestmark = pytest.mark.oracle

#: ``✗ name: /bin/false -x (stdio) - Disconnected`` / ``○ name: http://… (http) - Disabled``.
_LINE = re.compile(r"^\S+\s+(?P<name>[^\s:]+): (?P<target>.+) \((?P<transport>[a-z]+)\) - \S")


@dataclass(frozen=True)
class Listed:
    """One server line of ``mcp list``: the command line or URL, and the transport."""

    target: str
    transport: str


@dataclass(frozen=True)
class Family:
    """One client of the Gemini family: its adapter and how its CLI adds servers."""

    client: ClientId
    adapter: type[ClientAdapter]
    #: ``mcp add`` options placing a server in the user settings file.
    user_scope: tuple[str, ...]


FAMILY = [
    pytest.param(Family(ClientId.GEMINI, GeminiCliAdapter, ("-s", "user")), id="gemini"),
    pytest.param(Family(ClientId.QWEN, QwenCodeAdapter, ("-s", "user")), id="qwen"),
]


def listed(sandbox: Sandbox, cli: Path) -> dict[str, Listed]:
    """Parse ``mcp list`` tolerantly: every line shaped like a server entry, by name.

    Gemini prints the listing on stderr, Qwen on stdout; both streams are read.
    """
    done = sandbox.run(cli, "mcp", "list")
    text = strip_ansi(done.stdout + "\n" + done.stderr)
    assert done.returncode == 0, text
    assert "Error in" not in text, text
    return {
        m["name"]: Listed(m["target"], m["transport"])
        for line in text.splitlines()
        if (m := _LINE.match(line.strip()))
    }


def cli_add(sandbox: Sandbox, cli: Path, family: Family, *args: str) -> None:
    """Let the real CLI write its own user settings (``mcp add -s user …``)."""
    done = sandbox.run(cli, "mcp", "add", *family.user_scope, *args)
    assert done.returncode == 0, strip_ansi(done.stderr)


def assert_synapse_servers(seen: dict[str, Listed]) -> None:
    """The CLI shows the stdio command line and the HTTP URL with the right transports."""
    assert seen[STDIO_NAME] == Listed(" ".join((STDIO_COMMAND, *STDIO_ARGS)), "stdio")
    assert seen[HTTP_NAME] == Listed(DEAD_URL, "http")


@pytest.mark.parametrize("family", FAMILY)
def test_cli_lists_what_synapse_wrote(cli_for: CliFor, sandbox: Sandbox, family: Family) -> None:
    """A fresh settings.json from Synapse parses, and the CLI lists exactly the two servers."""
    cli = cli_for(family.client)
    rendered = write_with_synapse(family.adapter(), sandbox.home, desired_of(canonical_servers()))
    assert rendered.losses == []

    seen = listed(sandbox, cli)

    assert set(seen) == {STDIO_NAME, HTTP_NAME}
    assert_synapse_servers(seen)


@pytest.mark.parametrize("family", FAMILY)
def test_cli_still_lists_its_own_servers_after_a_synapse_edit(
    cli_for: CliFor, sandbox: Sandbox, family: Family
) -> None:
    """Synapse edits a CLI-written settings.json; the CLI's own servers list unchanged."""
    cli = cli_for(family.client)
    cli_add(sandbox, cli, family, "-e", "A=1", "theirs", "/bin/false", "x")
    cli_add(sandbox, cli, family, "-t", "http", "theirhttp", DEAD_URL)
    before = listed(sandbox, cli)
    assert set(before) == {"theirs", "theirhttp"}

    write_with_synapse(
        family.adapter(), sandbox.home, desired_of(canonical_servers(), deleted=("theirhttp",))
    )
    after = listed(sandbox, cli)

    assert set(after) == {"theirs", STDIO_NAME, HTTP_NAME}
    assert after["theirs"] == before["theirs"]
    assert_synapse_servers(after)

    cli_add(sandbox, cli, family, "later", "/bin/false")
    again = listed(sandbox, cli)
    assert set(again) == {"theirs", "later", STDIO_NAME, HTTP_NAME}
    assert {k: again[k] for k in after} == after
