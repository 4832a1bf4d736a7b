"""The oracles are not vacuous: each client CLI refuses or drops a malformed server entry.

Without this control a CLI that ignored its config file entirely would let every oracle test
pass for the wrong reason. Each case writes a broken ``broken`` server the way a careless
writer might, and the CLI must either fail or not list it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from events.client_config import ClientId
from tests.oracle._clis import CliFor, Sandbox, strip_ansi

pytestmark = pytest.mark.oracle


@dataclass(frozen=True)
class Broken:
    """A malformed user config for one client and the read-only command that loads it."""

    client: ClientId
    path: str
    text: str
    oracle: tuple[str, ...]


CASES = [
    pytest.param(
        Broken(
            ClientId.CODEX,
            ".codex/config.toml",
            '[mcp_servers.broken]\ncommand = "/bin/false"\nargs = "--not-a-list"\n',
            ("mcp", "list", "--json"),
        ),
        id="codex-args-not-a-list",
    ),
    pytest.param(
        Broken(
            ClientId.OPENCODE,
            ".config/opencode/opencode.jsonc",
            '{"mcp": {"broken": {"type": "local", "command": "/bin/false"}}}',
            ("debug", "config"),
        ),
        id="opencode-command-not-an-array",
    ),
    pytest.param(
        Broken(
            ClientId.COPILOT,
            ".copilot/mcp-config.json",
            '{"mcpServers": {"broken": {"type": "http", "url": "not a url"}}}',
            ("mcp", "list", "--json"),
        ),
        id="copilot-invalid-url",
    ),
    pytest.param(
        Broken(
            ClientId.GEMINI,
            ".gemini/settings.json",
            '{"mcpServers": {"broken": {"command": "/bin/false"}',
            ("mcp", "list"),
        ),
        id="gemini-truncated-json",
    ),
    pytest.param(
        Broken(
            ClientId.QWEN,
            ".qwen/settings.json",
            '{"mcpServers": {"broken": {"command": "/bin/false"}',
            ("mcp", "list"),
        ),
        id="qwen-truncated-json",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_cli_rejects_or_drops_a_malformed_server(
    cli_for: CliFor, sandbox: Sandbox, case: Broken
) -> None:
    """The client's own oracle fails, or lists no ``broken`` server, for a malformed file."""
    cli = cli_for(case.client)
    path = sandbox.home / case.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(case.text)

    done = sandbox.run(cli, *case.oracle)

    listed = strip_ansi(done.stdout + done.stderr)
    assert done.returncode != 0 or "broken" not in listed, listed
