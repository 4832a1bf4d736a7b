"""OpenCode adapter: mcp key, command array, environment, {env:X}, enabled."""

from __future__ import annotations

from adapters.formats import Format, load
from adapters.opencode import OpenCodeAdapter
from events.client_config import EnvRef, McpServer, Scope, Transport, Value
from tests.contract.test_adapter_contract import AdapterContract


class TestOpenCode(AdapterContract):
    """OpenCode honours the adapter contract."""

    golden = (
        ("home.opencode.jsonc", Scope.USER, ["remhttp", "fs", "another"]),
        ("project.opencode.jsonc", Scope.PROJECT, ["projsrv"]),
    )

    def make_adapter(self) -> OpenCodeAdapter:
        return OpenCodeAdapter()

    def test_command_array_environment_and_enabled(self) -> None:
        """The command array splits into command + args; {env:X} is a reference."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.PROJECT)
        [projsrv] = adapter.parse(file, self.fixture("project.opencode.jsonc"))
        assert isinstance(projsrv, McpServer)
        assert projsrv.command == Value.of("node")
        assert projsrv.args == (Value.of("p.js"),)
        assert projsrv.enabled is False
        assert projsrv.env == {"T": Value.of(EnvRef("MY_TOKEN"))}

    def test_bearer_reference_renders_in_opencode_syntax(self) -> None:
        """A bearer env var becomes an Authorization header with {env:X}."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.USER)
        server = McpServer(
            name="r", transport=Transport.HTTP, url=Value.of("http://a"), bearer_token_env="T"
        )
        data = load(Format.JSONC, adapter.render(file, "", {server.key: server}).text)
        assert data["mcp"]["r"] == {
            "type": "remote",
            "url": "http://a",
            "headers": {"Authorization": "Bearer {env:T}"},
        }
        [back] = adapter.parse(file, adapter.render(file, "", {server.key: server}).text)
        assert back.bearer_token_env == "T"
