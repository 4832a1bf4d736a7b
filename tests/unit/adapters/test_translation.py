"""Cross-client translation: every fixture server into every other client and back."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.base import ClientAdapter
from adapters.registry import load_adapters
from events.client_config import ClientId, EnvRef, McpServer, Scope, Transport, Value

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HOME, PROJECT = Path("/home/user"), Path("/home/user/proj")
ADAPTERS = load_adapters()
SOURCES = [
    (ClientId.CLAUDE_CODE, "home.claude.json"),
    (ClientId.CLAUDE_CODE, "project.mcp.json"),
    (ClientId.CODEX, "home.config.toml"),
    (ClientId.CODEX, "project.config.toml"),
    (ClientId.GEMINI, "home.settings.json"),
    (ClientId.QWEN, "project.settings.json"),
    (ClientId.COPILOT, "mcp-config.json"),
    (ClientId.OPENCODE, "home.opencode.jsonc"),
    (ClientId.OPENCODE, "project.opencode.jsonc"),
    (ClientId.CURSOR, "rulesync.mcp.json"),
    (ClientId.ROVODEV, "rulesync.mcp.json"),
]


def _user_file(adapter: ClientAdapter):  # type: ignore[no-untyped-def]
    return next(f for f in adapter.discover(HOME, [PROJECT]) if f.scope is Scope.USER)


def _servers(client: ClientId, fixture: str) -> list[McpServer]:
    adapter = ADAPTERS[client]
    text = (FIXTURES / str(client) / fixture).read_text()
    return [s for s in adapter.parse(_user_file(adapter), text) if isinstance(s, McpServer)]


@pytest.mark.parametrize("target", list(ClientId))
@pytest.mark.parametrize(("source", "fixture"), SOURCES)
def test_server_survives_translation_modulo_reported_losses(
    source: ClientId, fixture: str, target: ClientId
) -> None:
    """Rendered into another client and re-parsed, a server differs only where a Loss says."""
    adapter = ADAPTERS[target]
    file = _user_file(adapter)
    for server in _servers(source, fixture):
        rendered = adapter.render(file, "", {server.key: server})
        lossy = {loss.field.split(".")[0] for loss in rendered.losses}
        back = {s.name: s for s in adapter.parse(file, rendered.text)}
        if server.name not in back:
            assert lossy, f"{server.name} vanished without a loss"
            continue
        before, after = server.synced(), back[server.name].synced()
        differing = {k for k in before if before[k] != after[k]}
        # bearer_token_env and headers are one concept in two canonical slots
        assert differing <= lossy | ({"headers"} if "bearer_token_env" in lossy else set()), (
            server.name,
            differing,
            rendered.losses,
        )


@pytest.mark.parametrize(
    ("target", "server", "field"),
    [
        (
            ClientId.CODEX,
            McpServer(name="s", transport=Transport.SSE, url=Value.of("http://a/sse")),
            "transport",
        ),
        (
            ClientId.CODEX,
            McpServer(name="s", command=Value.of("x"), env={"K": Value.of(EnvRef("OTHER"))}),
            "env.K",
        ),
        (
            ClientId.QWEN,
            McpServer(name="s", command=Value.of("x"), env={"K": Value.of(EnvRef("K", "d"))}),
            "env.K",
        ),
        (
            ClientId.OPENCODE,
            McpServer(name="s", command=Value.of("x"), tool_timeout_ms=5),
            "tool_timeout_ms",
        ),
    ],
)
def test_known_losses_are_reported(target: ClientId, server: McpServer, field: str) -> None:
    """SSE into Codex, ${OTHER} into Codex, defaults into Qwen … each yield a Loss."""
    adapter = ADAPTERS[target]
    rendered = adapter.render(_user_file(adapter), "", {server.key: server})
    assert field in {loss.field for loss in rendered.losses}


def test_claude_bearer_header_becomes_codex_bearer_var() -> None:
    """Authorization: Bearer ${T} written for Codex uses bearer_token_env_var."""
    claude, codex = ADAPTERS[ClientId.CLAUDE_CODE], ADAPTERS[ClientId.CODEX]
    text = (
        '{"mcpServers": {"r": {"type": "http", "url": "http://a",'
        ' "headers": {"Authorization": "Bearer ${T}"}}}}'
    )
    [server] = claude.parse(_user_file(claude), text)
    out = codex.render(_user_file(codex), "", {server.key: server})
    assert out.losses == []
    assert 'bearer_token_env_var = "T"' in out.text
