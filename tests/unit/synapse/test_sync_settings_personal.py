"""``exclude_personal`` in ``sync.toml``: which clients' personal instruction files stay out."""

from __future__ import annotations

from pathlib import Path

import pytest

from events.errors import UserInputError
from synapse.settings import SYNC_FILE, SYNC_TEMPLATE, load_settings, load_sync_settings


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    settings = load_settings({}, home=tmp_path / "synapse")
    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / SYNC_FILE).write_text(text)
    return load_sync_settings(settings, {})


def test_exclude_personal_reaches_the_policy(tmp_path: Path) -> None:
    """``exclude_personal = ["gemini"]`` keeps Gemini's personal file out of the sync."""
    sync = load(tmp_path, 'exclude_personal = ["gemini"]\n')
    assert sync.policy(["claude-code", "gemini"]).exclude_personal == frozenset({"gemini"})
    assert load(tmp_path, "").policy(["gemini"]).exclude_personal == frozenset()


def test_an_unknown_client_in_exclude_personal_is_a_user_error(tmp_path: Path) -> None:
    """A misspelt client is refused with the key named, not silently ignored."""
    with pytest.raises(UserInputError) as info:
        load(tmp_path, 'exclude_personal = ["gemni"]\n')
    assert "exclude_personal" in info.value.message


def test_the_template_documents_the_key(tmp_path: Path) -> None:
    """The commented template shows the key with an example."""
    assert '# exclude_personal = ["gemini"]' in SYNC_TEMPLATE
