"""Codex adapter: TOML, no interpolation, env passed through keys, seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.codex import CodexAdapter, is_project_trusted
from adapters.formats import Format, load
from events.client_config import EnvRef, Lit, McpServer, Scope, SecretLiteral, Transport, Value
from tests.contract.test_adapter_contract import PROJECT, AdapterContract


class TestCodex(AdapterContract):
    """Codex honours the adapter contract."""

    golden = (
        ("home.config.toml", Scope.USER, ["withenv", "remote", "projadd"]),
        ("project.config.toml", Scope.PROJECT, ["projsrv", "projhttp"]),
        ("after-mcp-add-comments-dropped.toml", Scope.USER, ["existing", "newsrv"]),
        ("rulesync.config.toml", Scope.PROJECT, ["github"]),
    )

    def make_adapter(self) -> CodexAdapter:
        return CodexAdapter()

    def encode_name(self, name: str) -> str:
        return '"' + name.replace("\x00", "\\u0000") + '"'

    def parsed(self, fixture: str, scope: Scope = Scope.USER) -> dict[str, McpServer]:
        adapter = self.make_adapter()
        servers = adapter.parse(self.file_for(adapter, scope), self.fixture(fixture))
        return {s.name: s for s in servers if isinstance(s, McpServer)}

    def test_env_vars_and_env_headers_become_references(self) -> None:
        """env_vars, env_http_headers and seconds map onto the canonical fields."""
        servers = self.parsed("project.config.toml", Scope.PROJECT)
        projsrv, projhttp = servers["projsrv"], servers["projhttp"]
        assert projsrv.env == {"HOME_TOKEN": Value.of(EnvRef("HOME_TOKEN"))}
        assert (projsrv.startup_timeout_ms, projsrv.tool_timeout_ms) == (20_000, 60_000)
        assert projsrv.tools_include == ("a",)
        assert projhttp.transport is Transport.HTTP
        assert projhttp.headers == {
            "X-Static": Value.of("v"),
            "X-From-Env": Value.of(EnvRef("MY_ENV")),
        }

    def test_bearer_and_secret_literal(self) -> None:
        """bearer_token_env_var is canonical; API_KEY=secret123 is only a fingerprint."""
        servers = self.parsed("home.config.toml")
        assert servers["remote"].bearer_token_env == "MY_TOKEN"
        withenv = servers["withenv"]
        assert isinstance(withenv.env["API_KEY"].parts[0], SecretLiteral)
        assert withenv.env["OTHER"] == Value.of("1")
        assert "secret123" not in withenv.model_dump_json()

    def test_rulesync_literal_dollar_brace_stays_literal(self) -> None:
        """Codex never expands ${X}, so rulesync's value is literal text, not a reference."""
        github = self.parsed("rulesync.config.toml", Scope.PROJECT)["github"]
        [part] = github.env["GITHUB_TOKEN"].parts
        assert isinstance(part, SecretLiteral | Lit)

    def test_claude_style_references_are_translated_or_reported(self) -> None:
        """K=${K} → env_vars; Bearer ${T} → bearer var; K=${OTHER} and defaults are losses."""
        adapter = self.make_adapter()
        server = McpServer(
            name="s",
            command=Value.of("node"),
            env={
                "K": Value.of(EnvRef("K")),
                "O": Value.of(EnvRef("OTHER")),
                "D": Value.of(EnvRef("D", "x")),
            },
        )
        native, losses = adapter.to_native(server, {})
        assert native is not None
        assert native["env_vars"] == ["K"]
        assert "env" not in native
        assert sorted(loss.field for loss in losses) == ["env.D", "env.O"]

    def test_sse_is_not_expressible(self) -> None:
        """An SSE server is skipped with a loss rather than written as HTTP."""
        adapter = self.make_adapter()
        server = McpServer(name="s", transport=Transport.SSE, url=Value.of("http://x/sse"))
        plan = adapter.plan(self.file_for(adapter, Scope.USER), "", {server.key: server})
        assert plan.edits == []
        assert [loss.field for loss in plan.losses] == ["transport"]

    def test_milliseconds_render_as_seconds(self) -> None:
        """20000 ms is written as 20, 1500 ms as 1.5."""
        adapter = self.make_adapter()
        server = McpServer(
            name="s", command=Value.of("x"), startup_timeout_ms=20_000, tool_timeout_ms=1500
        )
        native, _ = adapter.to_native(server, {})
        assert native is not None
        assert (native["startup_timeout_sec"], native["tool_timeout_sec"]) == (20, 1.5)

    def test_dotted_names_are_separate_path_segments(self) -> None:
        """A server called a.b stays one key (the TOML writer quotes it)."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.USER)
        server = McpServer(name="a.b", command=Value.of("x"))
        text = adapter.render(file, "", {server.key: server}).text
        assert load(Format.TOML, text)["mcp_servers"]["a.b"]["command"] == "x"
        assert [s.name for s in adapter.parse(file, text)] == ["a.b"]

    @pytest.mark.parametrize(("trusted", "expected"), [("trusted", True), ("untrusted", False)])
    def test_project_trust_is_read_from_the_user_config(self, trusted: str, expected: bool) -> None:
        """Codex reads the project file only when the user config trusts the project."""
        text = f'[projects."{PROJECT}"]\ntrust_level = "{trusted}"\n'
        assert is_project_trusted(text, PROJECT) is expected


def test_custom_prompts_are_neither_read_nor_written_and_say_why(tmp_path: Path) -> None:
    """Codex 0.117.0 removed custom prompts: ``~/.codex/prompts/*.md`` is not a command
    source or target, and the capability notes tell the user so."""
    prompt = tmp_path / ".codex/prompts/review.md"
    prompt.parent.mkdir(parents=True)
    prompt.write_text("Review $ARGUMENTS\n")
    adapter = CodexAdapter()
    assert prompt not in {f.path for f in adapter.discover(tmp_path, [])}
    assert adapter.locate_command("review", Scope.USER, tmp_path) is None
    assert any("0.117" in note for note in adapter.capabilities().notes)
