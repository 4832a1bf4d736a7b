"""Qwen Code adapter: httpUrl for HTTP, url for SSE, no ${VAR:-default}."""

from __future__ import annotations

from adapters.formats import Format, load
from adapters.qwen_code import QwenCodeAdapter
from events.client_config import EnvRef, McpServer, Scope, Transport, Value
from tests.contract.test_adapter_contract import AdapterContract


class TestQwenCode(AdapterContract):
    """Qwen Code honours the adapter contract."""

    golden = (
        ("home.settings.json", Scope.USER, ["c1"]),
        ("project.settings.json", Scope.PROJECT, ["fsproj"]),
        ("migrated-from-v1.settings.json", Scope.USER, ["a", "c1"]),
    )

    def make_adapter(self) -> QwenCodeAdapter:
        return QwenCodeAdapter()

    def test_remote_spellings(self) -> None:
        """HTTP is written as httpUrl and SSE as a bare url, both without type."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.USER)
        http = McpServer(name="h", transport=Transport.HTTP, url=Value.of("http://a/mcp"))
        sse = McpServer(name="s", transport=Transport.SSE, url=Value.of("http://a/sse"))
        text = adapter.render(file, "", {http.key: http, sse.key: sse}).text
        assert load(Format.JSONC, text)["mcpServers"] == {
            "h": {"httpUrl": "http://a/mcp"},
            "s": {"url": "http://a/sse"},
        }
        assert {s.name: s.transport for s in adapter.parse(file, text)} == {
            "h": Transport.HTTP,
            "s": Transport.SSE,
        }

    def test_default_is_a_loss(self) -> None:
        """${VAR:-def} cannot be written for Qwen."""
        server = McpServer(name="s", command=Value.of("x"), env={"A": Value.of(EnvRef("A", "d"))})
        _, losses = self.make_adapter().to_native(server, {})
        assert [loss.field for loss in losses] == ["env.A"]
