"""Claude Code adapter: ~/.claude.json (user + local scope) and .mcp.json."""

from __future__ import annotations

from adapters.claude_code import ClaudeCodeAdapter
from adapters.formats import Format, load
from events.client_config import EnvRef, McpServer, Scope, SecretLiteral, Transport, Value
from tests.contract.test_adapter_contract import PROJECT, AdapterContract


class TestClaudeCode(AdapterContract):
    """Claude Code honours the adapter contract."""

    golden = (
        ("project.mcp.json", Scope.PROJECT, ["fs-proj", "jsonsrv"]),
        ("home.claude.json", Scope.USER, ["fs-user", "loophttp"]),
        ("home.claude.json", Scope.LOCAL, ["localonly"]),
        ("project.mcp.json.v2.1.330", Scope.PROJECT, ["existing", "newsrv"]),
    )

    def make_adapter(self) -> ClaudeCodeAdapter:
        return ClaudeCodeAdapter()

    def test_env_reference_is_structured(self) -> None:
        """${MY_TOKEN} in .mcp.json becomes an EnvRef, not a string."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.PROJECT)
        servers = {s.name: s for s in adapter.parse(file, self.fixture("project.mcp.json"))}
        assert isinstance(servers["jsonsrv"], McpServer)
        assert servers["jsonsrv"].env == {"TOKEN": Value.of(EnvRef("MY_TOKEN"))}

    def test_literal_header_secret_is_fingerprinted(self) -> None:
        """The X-Api-Key literal is a SecretLiteral and never appears in the model JSON."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.USER)
        servers = {s.name: s for s in adapter.parse(file, self.fixture("home.claude.json"))}
        loop = servers["loophttp"]
        assert loop.transport is Transport.HTTP
        [part] = loop.headers["X-Api-Key"].parts
        assert isinstance(part, SecretLiteral)
        assert '"abc"' not in loop.model_dump_json()

    def test_local_scope_edits_go_under_the_project_key(self) -> None:
        """A local-scope server is written to projects[abs].mcpServers, not the top level."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.LOCAL)
        server = McpServer(name="mine", command=Value.of("x"))
        plan = adapter.plan(file, self.fixture("home.claude.json"), {server.key: server})
        assert [e.path for e in plan.edits] == [("projects", str(PROJECT), "mcpServers", "mine")]

    def test_unknown_key_survives_a_change_to_another_field(self) -> None:
        """myUnknown in the 2.1.330 fixture is kept when the server's args change."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.PROJECT)
        text = self.fixture("project.mcp.json.v2.1.330")
        existing = next(s for s in adapter.parse(file, text) if s.name == "existing")
        assert existing.extras == {"claude-code": {"myUnknown": "keep"}}
        changed = existing.model_copy(update={"args": (Value.of("b.js"),)})
        plan = adapter.plan(file, text, {existing.key: changed})
        assert [e.path for e in plan.edits] == [("mcpServers", "existing", "args")]
        data = load(Format.JSON, adapter.render(file, text, {existing.key: changed}).text)
        assert data["mcpServers"]["existing"]["myUnknown"] == "keep"
        assert data["otherTop"] == 1

    def test_stdio_server_gets_type_and_empty_env_like_the_cli(self) -> None:
        """New stdio servers are written as `claude mcp add` writes them."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.PROJECT)
        server = McpServer(name="s", command=Value.of("uvx"), args=(Value.of("git"),))
        data = load(Format.JSON, adapter.render(file, "", {server.key: server}).text)
        assert data == {
            "mcpServers": {"s": {"type": "stdio", "command": "uvx", "args": ["git"], "env": {}}}
        }
