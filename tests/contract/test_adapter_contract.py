"""The behaviour every client adapter must show; each adapter's test class subclasses it."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import pytest

from adapters.base import ClientAdapter, ConfigFile
from adapters.formats import apply_edits
from events.client_config import EnvRef, McpServer, Scope, Value
from events.errors import UnsafeInputError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HOME = Path("/home/user")
PROJECT = Path("/home/user/proj")
PLACEHOLDER = "zzplaceholder"


def sample_server(name: str = "sample") -> McpServer:
    """A stdio server every client can express."""
    return McpServer(
        name=name,
        command=Value.of("node"),
        args=(Value.of("/opt/server.js"), Value.of("--flag")),
        env={"GITHUB_TOKEN": Value.of(EnvRef("GITHUB_TOKEN"))},
    )


class AdapterContract(ABC):
    """Contract tests; subclasses name the adapter and its golden fixtures."""

    #: (fixture file name, scope of the discovered file to read it as, expected server names)
    golden: ClassVar[tuple[tuple[str, Scope, list[str]], ...]]

    @abstractmethod
    def make_adapter(self) -> ClientAdapter:
        """A fresh adapter under test."""

    def encode_name(self, name: str) -> str:
        """How ``name`` is spelled inside the file in place of a bare placeholder."""
        return json.dumps(name)[1:-1]

    def file_for(self, adapter: ClientAdapter, scope: Scope) -> ConfigFile:
        """The discovered file of ``scope`` for the sample project."""
        return next(f for f in adapter.discover(HOME, [PROJECT]) if f.scope is scope)

    def fixture(self, name: str) -> str:
        """Text of a golden fixture of this client."""
        adapter = self.make_adapter()
        return (FIXTURES / str(adapter.client) / name).read_text()

    def test_golden_files_parse_to_expected_servers(self) -> None:
        """Every real CLI-written fixture parses to the servers the CLI wrote."""
        adapter = self.make_adapter()
        for name, scope, expected in self.golden:
            parsed = adapter.parse(self.file_for(adapter, scope), self.fixture(name))
            # A user file may hold opt-in settings too (Codex's top-level ``model``).
            servers = [e for e in parsed if e.kind == McpServer.kind]
            assert [s.name for s in servers] == expected, name
            assert all(s.scope is scope for s in servers)

    def test_unchanged_state_plans_no_edits(self) -> None:
        """Planning the file's own state produces no edits, so nothing is written."""
        adapter = self.make_adapter()
        for name, scope, _ in self.golden:
            file = self.file_for(adapter, scope)
            text = self.fixture(name)
            current = {e.key: e for e in adapter.parse(file, text)}
            plan = adapter.plan(file, text, current)
            assert plan.edits == [], name
            assert plan.losses == [], name
            assert adapter.render(file, text, current).text == text

    def test_new_server_round_trips_through_an_empty_file(self) -> None:
        """A server written into an empty file parses back to the same canonical server."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.USER)
        server = sample_server()
        rendered = adapter.render(file, "", {server.key: server})
        assert rendered.losses == []
        [back] = adapter.parse(file, rendered.text)
        assert back.digest() == server.digest()

    def test_delete_removes_only_the_named_server(self) -> None:
        """Deleting one server leaves every other server of the file unchanged."""
        adapter = self.make_adapter()
        name, scope, names = self.golden[0]
        file = self.file_for(adapter, scope)
        text = self.fixture(name)
        before = [e for e in adapter.parse(file, text) if e.kind == McpServer.kind]
        after_text = adapter.render(file, text, {before[0].key: None}).text
        after = [e for e in adapter.parse(file, after_text) if e.kind == McpServer.kind]
        assert [s.name for s in after] == names[1:]
        assert [s.digest() for s in after] == [s.digest() for s in before[1:]]

    def test_changing_one_field_keeps_extras_and_other_servers(self) -> None:
        """A field-level edit touches one server and keeps its client-only keys."""
        adapter = self.make_adapter()
        tested = 0
        for name, scope, _ in self.golden:
            file = self.file_for(adapter, scope)
            text = self.fixture(name)
            servers = adapter.parse(file, text)
            target = next((s for s in servers if s.command is not None), None)
            if target is None:
                continue
            tested += 1
            changed = target.model_copy(update={"args": (*target.args, Value.of("--new"))})
            plan = adapter.plan(file, text, {target.key: changed})
            assert plan.edits
            assert all(target.name in e.path for e in plan.edits)
            new_text = apply_edits(file.fmt, text, plan.edits)
            after = {s.name: s for s in adapter.parse(file, new_text)}
            assert after[target.name].args == changed.args
            assert after[target.name].extras == target.extras
            for other in servers:
                if other.name != target.name:
                    assert after[other.name] == other
        # A fixture set with no stdio server would make this test check nothing at all.
        name = type(adapter).__name__
        assert tested, f"no golden fixture of {name} holds a server with a command"

    @pytest.mark.parametrize("hostile", ["../etc", "a/b", "nul\x00byte", "x" * 500, ".."])
    def test_hostile_names_are_refused(self, hostile: str) -> None:
        """Names that could escape a path or hide bytes are refused with a clear error."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.USER)
        server = sample_server(PLACEHOLDER)
        text = adapter.render(file, "", {server.key: server}).text
        evil = text.replace(PLACEHOLDER, self.encode_name(hostile))
        with pytest.raises(UnsafeInputError, match="refusing entity"):
            adapter.parse(file, evil)

    def test_repr_names_the_client_and_the_files_read(self) -> None:
        """repr() tells which client the adapter is and which files it has read."""
        adapter = self.make_adapter()
        file = self.file_for(adapter, Scope.USER)
        adapter.parse(file, "")
        assert str(adapter.client) in repr(adapter)
        assert str(file.path) in repr(adapter)

    def test_capabilities_describe_mcp_servers(self) -> None:
        """The support matrix covers MCP servers and their basic fields."""
        caps = self.make_adapter().capabilities()
        assert caps.supports(McpServer.kind, "command")
        assert caps.supports(McpServer.kind, "url")
