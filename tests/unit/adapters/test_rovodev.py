"""Rovo Dev adapter: "transport" key, mcp.mcpConfigPath in config.yml."""

from __future__ import annotations

from adapters.formats import Format, load
from adapters.rovodev import RovoDevAdapter, mcp_config_path
from events.client_config import EnvRef, McpServer, Scope, Transport, Value
from tests.contract.test_adapter_contract import AdapterContract


class TestRovoDev(AdapterContract):
    """Rovo Dev honours the adapter contract."""

    golden = (("rulesync.mcp.json", Scope.PROJECT, ["github"]),)

    def make_adapter(self) -> RovoDevAdapter:
        return RovoDevAdapter()

    def test_transport_key(self) -> None:
        """The transport is read from and written to "transport", not "type"."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.PROJECT)
        [github] = adapter.parse(file, self.fixture("rulesync.mcp.json"))
        assert isinstance(github, McpServer)
        assert github.env == {"GITHUB_TOKEN": Value.of(EnvRef("GITHUB_TOKEN"))}
        sse = McpServer(name="s", transport=Transport.SSE, url=Value.of("http://a/sse"))
        data = load(Format.JSON, adapter.render(file, "", {sse.key: sse}).text)
        assert data["mcpServers"]["s"] == {"url": "http://a/sse", "transport": "sse"}

    def test_mcp_config_path_is_read_from_config_yml(self) -> None:
        """config.yml names the MCP file Rovo Dev actually reads."""
        assert mcp_config_path(self.fixture("rulesync.config.yml")) == ".rovodev/mcp.json"
        assert mcp_config_path("") is None
