"""Cursor adapter: mcpServers with ${env:VAR}."""

from __future__ import annotations

from adapters.cursor import CursorAdapter
from events.client_config import EnvRef, McpServer, Scope, Value
from tests.contract.test_adapter_contract import AdapterContract


class TestCursor(AdapterContract):
    """Cursor honours the adapter contract."""

    golden = (("rulesync.mcp.json", Scope.PROJECT, ["github"]),)

    def make_adapter(self) -> CursorAdapter:
        return CursorAdapter()

    def test_env_colon_syntax_is_a_reference(self) -> None:
        """${env:GITHUB_TOKEN} (as rulesync writes it for Cursor) is an EnvRef."""
        adapter = self.make_adapter()
        [github] = adapter.parse(
            self.file_for(adapter, Scope.PROJECT), self.fixture("rulesync.mcp.json")
        )
        assert isinstance(github, McpServer)
        assert github.env == {"GITHUB_TOKEN": Value.of(EnvRef("GITHUB_TOKEN"))}
