"""``[settings]`` in sync.toml: opt-in per setting, validated with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from events.errors import UserInputError
from synapse.settings import (
    SYNC_FILE,
    SYNC_TEMPLATE,
    SyncSettings,
    load_settings,
    load_sync_settings,
)

CLIENTS = ["claude-code", "codex", "gemini", "qwen", "copilot"]


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> SyncSettings:
    """Load ``text`` as sync.toml."""
    settings = load_settings({}, home=tmp_path / "synapse")
    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / SYNC_FILE).write_text(text)
    return load_sync_settings(settings, env or {})


def error_of(tmp_path: Path, text: str) -> str:
    """The message of the error loading ``text`` raises."""
    with pytest.raises(UserInputError) as info:
        load(tmp_path, text)
    return info.value.message


def test_settings_are_off_by_default() -> None:
    """No [settings]: the setting kind is not in effect and no setting is named."""
    policy = SyncSettings().policy(CLIENTS)
    assert "setting" not in policy.kinds
    assert policy.settings == {}


def test_opting_a_setting_in_brings_the_kind_and_its_clients(tmp_path: Path) -> None:
    """[settings] model = [...] puts the setting kind in effect with exactly those clients."""
    sync = load(tmp_path, '[settings]\nmodel = ["claude-code", "copilot"]\napproval_mode = []\n')
    policy = sync.policy(CLIENTS)
    assert "setting" in policy.kinds
    assert "mcp_server" in policy.kinds
    assert policy.settings == {"model": frozenset({"claude-code", "copilot"})}


def test_explicit_kinds_without_setting_win(tmp_path: Path) -> None:
    """kinds listed by hand without "setting" keep settings off, even when opted in."""
    sync = load(tmp_path, 'kinds = ["mcp_server"]\n[settings]\nmodel = ["claude-code", "codex"]\n')
    assert sync.policy(CLIENTS).kinds == frozenset({"mcp_server"})


def test_unknown_setting_name_is_a_clear_error(tmp_path: Path) -> None:
    """A setting Synapse does not sync is named, with the known ones."""
    message = error_of(tmp_path, '[settings]\ntrust = ["claude-code"]\n')
    assert "settings: unknown setting 'trust' (known: model, approval_mode)" in message


def test_unknown_client_is_a_clear_error(tmp_path: Path) -> None:
    """A misspelt client names the key it sits under."""
    message = error_of(tmp_path, '[settings]\nmodel = ["claude"]\n')
    assert "settings.model" in message
    assert "claude-code" in message


def test_a_client_without_the_setting_is_a_clear_error(tmp_path: Path) -> None:
    """Codex has no approval mode Synapse can sync: opting it in is refused, naming who can."""
    message = error_of(tmp_path, '[settings]\napproval_mode = ["claude-code", "codex"]\n')
    assert "approval_mode: codex cannot sync it" in message
    assert "claude-code, copilot, gemini, qwen" in message


def test_the_template_documents_settings_and_still_means_the_defaults(tmp_path: Path) -> None:
    """The commented template shows [settings] and loads as the defaults (nothing opted in)."""
    assert "# [settings]" in SYNC_TEMPLATE
    assert "# approval_mode = [" in SYNC_TEMPLATE
    assert load(tmp_path, SYNC_TEMPLATE) == SyncSettings()
