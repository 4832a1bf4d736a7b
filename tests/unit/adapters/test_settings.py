"""Opt-in settings (model, approval mode): parse, surgical plan and refusals, per client."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import ClientAdapter, ConfigFile
from adapters.claude_code import ClaudeCodeAdapter
from adapters.codex import CodexAdapter
from adapters.copilot_cli import CopilotCliAdapter
from adapters.cursor import CursorAdapter
from adapters.formats import Format
from adapters.gemini_cli import GeminiCliAdapter
from adapters.opencode import OpenCodeAdapter
from adapters.qwen_code import QwenCodeAdapter
from adapters.rovodev import RovoDevAdapter
from events.client_config import APPROVAL_MODES, EntityKey, McpServer, Scope, Setting, Value

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HOME = Path("/home/user")
PROJECT = Path("/home/user/proj")
MODEL = EntityKey("setting", "model")
MODE = EntityKey("setting", "approval_mode")
REFUSED = "full-access approval modes are never synced"

#: client adapter, fixture, expected {setting name: canonical value}
CASES: list[tuple[ClientAdapter, str, dict[str, str]]] = [
    (
        ClaudeCodeAdapter(),
        "settings/claude.settings.json",
        {"model": "opus", "approval_mode": "auto_edit"},
    ),
    (
        GeminiCliAdapter(),
        "settings/gemini.settings.json",
        {"model": "gemini-2.5-pro", "approval_mode": "auto_edit"},
    ),
    (
        QwenCodeAdapter(),
        "settings/qwen.settings.json",
        {"model": "qwen3-coder-plus", "approval_mode": "auto_edit"},
    ),
    (
        CopilotCliAdapter(),
        "settings/copilot.settings.json",
        {"model": "claude-sonnet-4.5", "approval_mode": "plan"},
    ),
    (CodexAdapter(), "codex/home.config.toml", {"model": "gpt-5-codex"}),
    (OpenCodeAdapter(), "settings/opencode.jsonc", {"model": "anthropic/claude-sonnet-4-5"}),
    (RovoDevAdapter(), "settings/rovodev.config.yml", {"model": "auto"}),
]
IDS = [str(a.client) for a, _, _ in CASES]
WITH_MODES = [a for a, _, _ in CASES if a.settings_dialect and a.settings_dialect.approval]


def settings_file(adapter: ClientAdapter) -> ConfigFile:
    """The one discovered file of ``adapter`` that holds settings."""
    [file] = [f for f in adapter.discover(HOME, [PROJECT]) if "setting" in f.kinds]
    return file


def settings_of(adapter: ClientAdapter, text: str) -> dict[str, str]:
    """Setting name → value parsed from ``text`` of the client's settings file."""
    file = settings_file(adapter)
    return {e.name: e.value for e in adapter.parse(file, text) if isinstance(e, Setting)}


def setting(name: str, value: str) -> Setting:
    """A user-scope setting."""
    return Setting(name=name, value=value)


@pytest.mark.parametrize(("adapter", "fixture", "expected"), CASES, ids=IDS)
def test_fixture_parses_to_its_settings(
    adapter: ClientAdapter, fixture: str, expected: dict[str, str]
) -> None:
    """Each client's settings file yields exactly its model and approval mode, canonical."""
    text = (FIXTURES / fixture).read_text()
    assert settings_of(adapter, text) == expected


@pytest.mark.parametrize(("adapter", "fixture", "expected"), CASES, ids=IDS)
def test_unchanged_settings_leave_the_file_byte_identical(
    adapter: ClientAdapter, fixture: str, expected: dict[str, str]
) -> None:
    """Planning the file's own settings yields no edits and the very same bytes."""
    file = settings_file(adapter)
    text = (FIXTURES / fixture).read_text()
    desired = {EntityKey("setting", n): setting(n, v) for n, v in expected.items()}
    plan = adapter.plan(file, text, desired)
    assert plan.edits == []
    assert plan.losses == []
    assert adapter.render(file, text, desired).text == text


@pytest.mark.parametrize(("adapter", "fixture", "expected"), CASES, ids=IDS)
def test_a_model_edit_changes_only_that_value(
    adapter: ClientAdapter, fixture: str, expected: dict[str, str]
) -> None:
    """A new model replaces exactly the old model's text: comments, order, hooks, permission
    lists and unknown keys are untouched."""
    file = settings_file(adapter)
    text = (FIXTURES / fixture).read_text()
    new = adapter.render(file, text, {MODEL: setting("model", "zz-new-model")})
    assert new.losses == []
    assert new.text == text.replace(expected["model"], "zz-new-model", 1)


@pytest.mark.parametrize(
    ("adapter", "fixture", "old", "new", "mode"),
    [
        (ClaudeCodeAdapter(), "settings/claude.settings.json", "acceptEdits", "plan", "plan"),
        (
            GeminiCliAdapter(),
            "settings/gemini.settings.json",
            '"auto_edit"',
            '"default"',
            "default",
        ),
        (QwenCodeAdapter(), "settings/qwen.settings.json", "auto-edit", "plan", "plan"),
        (CopilotCliAdapter(), "settings/copilot.settings.json", "plan", "interactive", "default"),
    ],
    ids=["claude-code", "gemini", "qwen", "copilot"],
)
def test_an_approval_edit_changes_only_that_value(
    adapter: ClientAdapter, fixture: str, old: str, new: str, mode: str
) -> None:
    """An approval mode is written in the client's own spelling, in place."""
    file = settings_file(adapter)
    text = (FIXTURES / fixture).read_text()
    rendered = adapter.render(file, text, {MODE: setting("approval_mode", mode)})
    assert rendered.losses == []
    assert rendered.text == text.replace(f'"{old.strip(chr(34))}"', f'"{new.strip(chr(34))}"', 1)


@pytest.mark.parametrize("adapter", WITH_MODES, ids=lambda a: str(a.client))
@pytest.mark.parametrize("existing", [True, False], ids=["existing-file", "new-file"])
def test_full_access_is_never_written(adapter: ClientAdapter, *, existing: bool) -> None:
    """Writing full_access yields a refusal loss and leaves the file untouched."""
    file = settings_file(adapter)
    fixture = next(f for a, f, _ in CASES if a.client == adapter.client)
    text = (FIXTURES / fixture).read_text() if existing else ""
    rendered = adapter.render(file, text, {MODE: setting("approval_mode", "full_access")})
    assert rendered.text == text
    assert [(loss.field, loss.reason) for loss in rendered.losses] == [("value", REFUSED)]


@pytest.mark.parametrize(
    ("adapter", "text"),
    [
        (ClaudeCodeAdapter(), '{"permissions": {"defaultMode": "bypassPermissions"}}'),
        (QwenCodeAdapter(), '{"tools": {"approvalMode": "yolo"}}'),
        (CopilotCliAdapter(), '{"defaultMode": "autopilot"}'),
    ],
    ids=["claude-code", "qwen", "copilot"],
)
def test_full_access_modes_are_parsed_as_full_access(adapter: ClientAdapter, text: str) -> None:
    """Bypass, yolo and autopilot are known to the ledger as full_access."""
    assert settings_of(adapter, text) == {"approval_mode": "full_access"}


def test_untranslatable_claude_mode_is_kept_native_and_not_written_elsewhere() -> None:
    """Claude's dontAsk has no equivalent: it parses as claude-code:dontAsk, and writing it
    into Gemini is a loss that leaves Gemini's file untouched."""
    claude = ClaudeCodeAdapter()
    parsed = settings_of(claude, '{"permissions": {"defaultMode": "dontAsk"}}')
    assert parsed == {"approval_mode": "claude-code:dontAsk"}
    gemini = GeminiCliAdapter()
    text = (FIXTURES / "settings/gemini.settings.json").read_text()
    desired = {MODE: setting("approval_mode", "claude-code:dontAsk")}
    rendered = gemini.render(settings_file(gemini), text, desired)
    assert rendered.text == text
    assert "no equivalent" in rendered.losses[0].reason


def test_copilot_has_no_auto_edit_mode() -> None:
    """auto_edit into Copilot is a loss; the file keeps its own mode."""
    copilot = CopilotCliAdapter()
    text = (FIXTURES / "settings/copilot.settings.json").read_text()
    rendered = copilot.render(
        settings_file(copilot), text, {MODE: setting("approval_mode", "auto_edit")}
    )
    assert rendered.text == text
    assert rendered.losses[0].reason == "copilot has no approval mode 'auto_edit'"


def test_codex_approval_mode_is_not_supported() -> None:
    """Codex's approval_policy does not map: approval_mode is a capability it lacks."""
    codex = CodexAdapter()
    text = (FIXTURES / "codex/home.config.toml").read_text()
    rendered = codex.render(settings_file(codex), text, {MODE: setting("approval_mode", "plan")})
    assert rendered.text == text
    assert "no approval_mode setting" in rendered.losses[0].reason
    assert codex.capabilities().kinds["setting"] == frozenset({"model"})
    assert not codex.capabilities().supports("setting", "approval_mode")


def test_cursor_has_no_settings() -> None:
    """Cursor keeps no syncable setting: no file of its own holds the kind."""
    cursor = CursorAdapter()
    assert all("setting" not in f.kinds for f in cursor.discover(HOME, [PROJECT]))
    assert "setting" not in cursor.capabilities().kinds


def test_settings_files_are_user_scope_only() -> None:
    """Project settings files are trust-sensitive: only user files carry the setting kind."""
    for adapter, _, _ in CASES:
        files = [f for f in adapter.discover(HOME, [PROJECT]) if "setting" in f.kinds]
        assert [f.scope for f in files] == [Scope.USER], adapter.client


def test_claude_settings_file_is_strict_json_of_its_own() -> None:
    """Claude's settings.json is strict JSON holding only settings (MCP is in .claude.json)."""
    file = settings_file(ClaudeCodeAdapter())
    assert file.path == HOME / ".claude/settings.json"
    assert file.strict_json
    assert file.kinds == {"setting"}


def test_claude_new_settings_file_is_valid_strict_json_without_comments() -> None:
    """Creating Claude's settings.json writes plain JSON holding just the two keys."""
    claude = ClaudeCodeAdapter()
    desired = {MODEL: setting("model", "sonnet"), MODE: setting("approval_mode", "plan")}
    text = claude.render(settings_file(claude), "", desired).text
    assert "//" not in text
    assert settings_of(claude, text) == {"model": "sonnet", "approval_mode": "plan"}


def test_deleting_a_setting_removes_only_its_key() -> None:
    """A removed setting deletes that one key; the permission lists stay."""
    claude = ClaudeCodeAdapter()
    text = (FIXTURES / "settings/claude.settings.json").read_text()
    new = claude.render(settings_file(claude), text, {MODE: None}).text
    assert "defaultMode" not in new
    assert '"Bash(git diff:*)"' in new
    assert '"Read(./.env)"' in new
    assert settings_of(claude, new) == {"model": "opus"}


def test_a_shared_file_takes_a_server_and_a_setting_in_one_plan() -> None:
    """Gemini's settings.json holds servers and settings: one plan edits both, keeps the rest."""
    gemini = GeminiCliAdapter()
    file = settings_file(gemini)
    assert file.kinds == {"mcp_server", "setting"}
    text = (FIXTURES / "settings/gemini.settings.json").read_text()
    server = McpServer(name="added", command=Value.of("npx"))
    desired = {server.key: server, MODEL: setting("model", "gemini-2.5-flash")}
    new = gemini.render(file, text, desired).text
    parsed = {e.key: e for e in gemini.parse(file, new)}
    assert parsed[server.key].digest() == server.digest()
    assert parsed[MODEL] == setting("model", "gemini-2.5-flash")
    assert "// Gemini user settings: this comment must survive a settings sync" in new
    assert '"trust": true' in new


def test_codex_model_is_added_at_top_level_before_tables() -> None:
    """A new Codex model lands as a top-level key, not inside the last table."""
    codex = CodexAdapter()
    text = '[mcp_servers.fs]\ncommand = "node"\n'
    new = codex.render(settings_file(codex), text, {MODEL: setting("model", "o3")}).text
    assert settings_of(codex, new) == {"model": "o3"}
    assert [s.name for s in codex.parse(settings_file(codex), new) if s.kind == "mcp_server"] == [
        "fs"
    ]


def test_odd_values_are_skipped_not_fatal() -> None:
    """A non-string model or an unknown native mode never fails the file's servers."""
    gemini = GeminiCliAdapter()
    text = '{"model": {"name": 42}, "mcpServers": {"fs": {"command": "node"}}}'
    parsed = gemini.parse(settings_file(gemini), text)
    assert [e.key for e in parsed] == [EntityKey("mcp_server", "fs")]


@pytest.mark.parametrize("adapter", WITH_MODES, ids=lambda a: str(a.client))
@pytest.mark.parametrize("mode", APPROVAL_MODES)
def test_approval_modes_round_trip_through_an_empty_file(adapter: ClientAdapter, mode: str) -> None:
    """Every writable canonical mode a client has reads back as itself; the others are
    losses with nothing written."""
    file = settings_file(adapter)
    rendered = adapter.render(file, "", {MODE: setting("approval_mode", mode)})
    assert adapter.settings_dialect is not None
    if mode in adapter.settings_dialect.writable_modes:
        assert rendered.losses == []
        assert settings_of(adapter, rendered.text) == {"approval_mode": mode}
    else:
        assert rendered.text == ""
        assert len(rendered.losses) == 1


_MODEL_IDS = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_characters="\x7f"),
    min_size=1,
    max_size=40,
).filter(str.strip)


@given(model=_MODEL_IDS, index=st.integers(0, len(CASES) - 1))
def test_any_model_id_round_trips_through_each_client(model: str, index: int) -> None:
    """A model id written into a client's fixture reads back unchanged (Hypothesis)."""
    adapter, fixture, _ = CASES[index]
    file = settings_file(adapter)
    text = (FIXTURES / fixture).read_text()
    new = adapter.render(file, text, {MODEL: setting("model", model)}).text
    assert settings_of(adapter, new)["model"] == model


def test_discovered_formats_match_the_clients() -> None:
    """Claude and Copilot settings are strict JSON, Rovo Dev's YAML, Codex's TOML."""
    formats = {str(a.client): settings_file(a).fmt for a, _, _ in CASES}
    assert formats["claude-code"] is Format.JSON
    assert formats["copilot"] is Format.JSON
    assert formats["rovodev"] is Format.YAML
    assert formats["codex"] is Format.TOML
    assert formats["gemini"] is Format.JSONC


@pytest.mark.parametrize(
    "adapter_cls",
    [
        ClaudeCodeAdapter,
        CodexAdapter,
        CopilotCliAdapter,
        GeminiCliAdapter,
        OpenCodeAdapter,
        QwenCodeAdapter,
        RovoDevAdapter,
    ],
)
def test_settings_dialect_names_its_own_client(adapter_cls: type[ClientAdapter]) -> None:
    """Losses and unmapped native values are tagged with the dialect's client id, which
    must be the adapter's own."""
    dialect = adapter_cls.settings_dialect
    assert dialect is not None
    assert dialect.client == str(adapter_cls.client)
