"""Gemini CLI adapter: JSONC settings, url + type, httpUrl legacy, $VAR everywhere."""

from __future__ import annotations

from adapters.formats import Format, load
from adapters.gemini_cli import GeminiCliAdapter
from events.client_config import McpServer, Scope, SecretLiteral, Transport, Value
from tests.contract.test_adapter_contract import AdapterContract


class TestGeminiCli(AdapterContract):
    """Gemini CLI honours the adapter contract."""

    golden = (
        ("home.settings.json", Scope.USER, ["remhttp", "remsse", "fsuser"]),
        ("project.settings.json", Scope.PROJECT, ["fsproj"]),
    )

    def make_adapter(self) -> GeminiCliAdapter:
        return GeminiCliAdapter()

    def test_optional_fields_and_transports(self) -> None:
        """timeout, trust, description and tool filters are read; sse vs http kept apart."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.USER)
        servers = {s.name: s for s in adapter.parse(file, self.fixture("home.settings.json"))}
        fsuser = servers["fsuser"]
        assert isinstance(fsuser, McpServer)
        assert (fsuser.tool_timeout_ms, fsuser.trust, fsuser.description) == (
            30000,
            True,
            "my user srv",
        )
        assert fsuser.tools_include == ("a", "b")
        assert servers["remsse"].transport is Transport.SSE
        assert servers["remhttp"].transport is Transport.HTTP
        assert isinstance(servers["remhttp"].headers["Authorization"].parts[0], SecretLiteral)

    def test_legacy_http_url_is_replaced_when_the_url_changes(self) -> None:
        """Changing an httpUrl server writes url + type and removes httpUrl."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.USER)
        text = '{"mcpServers": {"h": {"httpUrl": "http://a/mcp", "keep": 1}}}'
        [h] = adapter.parse(file, text)
        assert h.transport is Transport.HTTP
        changed = h.model_copy(update={"url": Value.of("http://b/mcp")})
        data = load(Format.JSONC, adapter.render(file, text, {h.key: changed}).text)
        assert data["mcpServers"]["h"] == {"url": "http://b/mcp", "type": "http", "keep": 1}

    def test_literal_dollar_is_reported_as_lossy(self) -> None:
        """Gemini would expand $HOME inside a literal argument, so the write reports it."""
        adapter = self.make_adapter()
        server = McpServer(name="s", command=Value.of("echo"), args=(Value.of("pa$word"),))
        _, losses = adapter.to_native(server, {})
        assert [loss.field for loss in losses] == ["args"]

    def test_trust_is_never_copied_into_another_server(self) -> None:
        """trust is per client: a desired trust=True does not reach a new Gemini entry."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.USER)
        server = McpServer(name="s", command=Value.of("x"), trust=True)
        data = load(Format.JSONC, adapter.render(file, "", {server.key: server}).text)
        assert "trust" not in data["mcpServers"]["s"]


def test_context_file_name_is_pointed_at_agents_md() -> None:
    """Gemini is made to read AGENTS.md by naming it, keeping GEMINI.md, never copying."""
    from adapters.formats import Edit
    from adapters.gemini_cli import point_context_at_agents_md

    assert point_context_at_agents_md("{}") == [
        Edit(("context", "fileName"), ["AGENTS.md", "GEMINI.md"])
    ]
    assert point_context_at_agents_md('{"context": {"fileName": ["AGENTS.md"]}}') == []
    assert point_context_at_agents_md('{"contextFileName": "X.md"}') == [
        Edit(("context", "fileName"), ["AGENTS.md", "X.md"])
    ]
