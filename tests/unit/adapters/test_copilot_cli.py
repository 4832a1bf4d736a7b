"""Copilot CLI adapter: type local, tools ["*"], disabled list in settings.json."""

from __future__ import annotations

from adapters.copilot_cli import CopilotCliAdapter, disabled_servers
from adapters.formats import Format, load
from events.client_config import McpServer, Scope, Value
from tests.contract.test_adapter_contract import AdapterContract


class TestCopilotCli(AdapterContract):
    """Copilot CLI honours the adapter contract."""

    golden = (("mcp-config.json", Scope.USER, ["ctx", "remhttp", "remsse"]),)

    def make_adapter(self) -> CopilotCliAdapter:
        return CopilotCliAdapter()

    def test_tool_allowlist_and_star(self) -> None:
        """tools ["a","b"] is an allowlist; tools ["*"] means no filter."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.USER)
        servers = {s.name: s for s in adapter.parse(file, self.fixture("mcp-config.json"))}
        assert isinstance(servers["ctx"], McpServer)
        assert servers["ctx"].tools_include == ("a", "b")
        assert servers["ctx"].tool_timeout_ms == 30000
        assert servers["remhttp"].tools_include is None

    def test_new_stdio_server_is_local_with_star_tools(self) -> None:
        """New servers look like `copilot mcp add` output."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.USER)
        server = McpServer(name="s", command=Value.of("npx"))
        data = load(Format.JSON, adapter.render(file, "", {server.key: server}).text)
        assert data["mcpServers"]["s"] == {
            "tools": ["*"],
            "type": "local",
            "command": "npx",
            "args": [],
        }

    def test_disabled_servers_come_from_settings(self) -> None:
        """disabledMcpServers in settings.json lists disabled servers; disabling is a loss."""
        assert disabled_servers(self.fixture("settings.json")) == {"remsse"}
        server = McpServer(name="s", command=Value.of("x"), enabled=False)
        _, losses = self.make_adapter().to_native(server, {})
        assert [loss.field for loss in losses] == ["enabled"]
