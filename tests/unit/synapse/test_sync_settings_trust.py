"""Per-project trust in ``sync.toml``: ``projects`` entries may be tables with ``trust``."""

from __future__ import annotations

from pathlib import Path

import pytest

from events.errors import UserInputError
from synapse.settings import SYNC_FILE, SyncSettings, load_settings, load_sync_settings


def load(tmp_path: Path, text: str) -> SyncSettings:
    settings = load_settings({}, home=tmp_path / "synapse")
    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / SYNC_FILE).write_text(text)
    return load_sync_settings(settings, {})


def folders(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    return a, b


def test_a_plain_path_and_a_trusted_table_mix_in_one_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`["~/a", {path = "~/b", trust = "auto"}]`: both are projects, only b is trusted, and the
    engine policy trusts b's project scope only."""
    monkeypatch.setenv("HOME", str(tmp_path))
    a, b = folders(tmp_path)
    sync = load(tmp_path, 'projects = ["~/a", {path = "~/b", trust = "auto"}]')
    assert sync.projects == (a.resolve(), b.resolve())
    assert sync.trusted_projects == (b.resolve(),)
    policy = sync.policy(["claude-code", "cursor"])
    assert policy.trusts(f"project:{b.resolve()}")
    assert not policy.trusts(f"project:{a.resolve()}")
    assert not policy.trusts(f"local:{b.resolve()}")
    assert policy.as_dict()["trusted_projects"] == [str(b.resolve())]


def test_array_of_tables_reads_the_same(tmp_path: Path) -> None:
    """`[[projects]]` tables, `trust` defaulting to "ask"."""
    a, b = folders(tmp_path)
    sync = load(
        tmp_path, f'[[projects]]\npath = "{a}"\n\n[[projects]]\npath = "{b}"\ntrust = "auto"\n'
    )
    assert sync.projects == (a.resolve(), b.resolve())
    assert sync.trusted_projects == (b.resolve(),)


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ('{path = "%s", trust = "yes"}', 'projects[0].trust: must be "ask" or "auto"'),
        ('{path = "%s", trusted = "auto"}', "projects[0]: unknown key 'trusted'"),
        ('{trust = "auto"}', "projects[0]: needs a path"),
        ('{path = "%s/missing", trust = "auto"}', "is not an existing folder"),
    ],
)
def test_a_bad_entry_is_an_error_naming_the_key(tmp_path: Path, entry: str, named: str) -> None:
    """A wrong trust value, an unknown key, no path or a missing folder: one clear error."""
    text = "projects = [" + (entry % tmp_path if "%s" in entry else entry) + "]"
    with pytest.raises(UserInputError) as info:
        load(tmp_path, text)
    assert named in info.value.message
    assert info.value.hint


def test_trusted_projects_is_not_a_key_of_its_own(tmp_path: Path) -> None:
    """Trust is said in the projects entry; a top-level `trusted_projects` is refused."""
    a, _ = folders(tmp_path)
    with pytest.raises(UserInputError) as info:
        load(tmp_path, f'trusted_projects = ["{a}"]')
    assert "trusted_projects" in info.value.message
    assert 'trust = "auto"' in info.value.message
