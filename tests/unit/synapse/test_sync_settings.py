"""The sync policy file ``sync.toml``: defaults, validation naming the key, env overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.sync_engine import ConflictRule, Direction
from events.errors import UserInputError
from synapse.settings import (
    SYNC_FILE,
    SyncSettings,
    load_settings,
    load_sync_settings,
)

CLIENTS = ["claude-code", "codex", "gemini", "qwen"]


def load(tmp_path: Path, text: str | None = None, env: dict[str, str] | None = None, **kw: object):  # type: ignore[no-untyped-def]
    settings = load_settings({}, home=tmp_path / "synapse", **kw)
    if text is not None:
        settings.home.mkdir(parents=True, exist_ok=True)
        (settings.home / SYNC_FILE).write_text(text)
    return load_sync_settings(settings, env or {})


def error_of(tmp_path: Path, text: str) -> UserInputError:
    with pytest.raises(UserInputError) as info:
        load(tmp_path, text)
    return info.value


def test_first_use_writes_a_commented_template_that_means_the_defaults(tmp_path: Path) -> None:
    """No file: the commented template is written, and reading it gives the defaults."""
    sync = load(tmp_path)
    path = tmp_path / "synapse" / SYNC_FILE
    assert path.exists()
    assert "# projects = " in path.read_text()
    assert sync == SyncSettings()
    policy = sync.policy(CLIENTS)
    assert policy.clients == tuple(CLIENTS)
    assert policy.kinds == frozenset({"mcp_server", "command", "subagent", "skill", "instruction"})
    assert policy.mode == "observe"
    assert policy.conflict_rule is ConflictRule.MANUAL


def test_every_key_reaches_the_policy(tmp_path: Path) -> None:
    """A full file becomes the engine policy, projects resolved and absolute."""
    project = tmp_path / "proj"
    project.mkdir()
    sync = load(
        tmp_path,
        f"""
clients = ["codex", "gemini"]
kinds = ["mcp_server", "command"]
direction = "one-way"
source = "codex"
conflict = "source-priority"
priority = ["codex", "gemini"]
include = ["git*"]
exclude = ["secret*"]
mode = "apply"
projects = ["{project}"]
max_deletions = 0
write_cap = 5
write_window_s = 10
breaker_cooldown_s = 0
""",
    )
    policy = sync.policy(CLIENTS)
    assert policy.clients == ("codex", "gemini")
    assert policy.kinds == frozenset({"mcp_server", "command"})
    assert (policy.direction, policy.source) == (Direction.ONE_WAY, "codex")
    assert policy.conflict_rule is ConflictRule.SOURCE_PRIORITY
    assert policy.priority == ("codex", "gemini")
    assert (policy.include, policy.exclude) == (("git*",), ("secret*",))
    assert (policy.mode, policy.max_deletions) == ("apply", 0)
    assert sync.projects == (project.resolve(),)
    limits = sync.breaker_limits()
    assert (limits.max_writes, limits.window_s, limits.cooldown_s) == (5, 10, 0)
    assert policy.as_dict()["direction"] == "one-way"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('clients = ["vim"]', "clients"),
        ('kinds = ["macro"]', "kinds"),
        ('conflict = "loudest"', "conflict"),
        ('mode = "yolo"', "mode"),
        ("max_deletions = -1", "max_deletions"),
        ('projects = ["relative/dir"]', "projects"),
        ('projects = ["/definitely/not/here"]', "projects"),
        ('direction = "one-way"', "source"),
        ('source = "codex"', "source"),
        ('direction = "one-way"\nsource = "codex"\nclients = ["gemini"]', "source"),
        ('colour = "blue"', "colour"),
    ],
)
def test_a_bad_value_is_a_user_error_naming_the_key(tmp_path: Path, text: str, named: str) -> None:
    """Each bad key gives one UserInputError naming the file and the key, with a hint."""
    err = error_of(tmp_path, text)
    assert SYNC_FILE in err.message
    assert named in err.message
    assert err.hint
    assert "edit" in err.hint


def test_invalid_toml_is_a_user_error(tmp_path: Path) -> None:
    """A syntax error is reported as invalid TOML with the file named."""
    err = error_of(tmp_path, "clients = [")
    assert "not valid TOML" in err.message


def test_tilde_projects_are_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``~/x`` names a project under the home directory."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "work").mkdir()
    sync = load(tmp_path, 'projects = ["~/work"]')
    assert sync.projects == ((tmp_path / "work").resolve(),)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    """SYNAPSE_SYNC_* variables and an explicit mode win over the file."""
    project = tmp_path / "p"
    project.mkdir()
    sync = load(
        tmp_path,
        'clients = ["codex"]\nmode = "apply"',
        env={
            "SYNAPSE_SYNC_CLIENTS": "gemini, qwen",
            "SYNAPSE_SYNC_KINDS": "skill",
            "SYNAPSE_SYNC_PROJECTS": str(project),
        },
        mode="observe",
    )
    assert sync.clients == ("gemini", "qwen")
    assert sync.kinds == ("skill",)
    assert sync.projects == (project.resolve(),)
    assert sync.mode == "observe"


def test_mode_from_the_file_when_the_environment_is_silent(tmp_path: Path) -> None:
    """Without SYNAPSE_MODE the file's mode applies."""
    assert load(tmp_path, 'mode = "apply"').mode == "apply"


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    """A bad SYNAPSE_SYNC_CLIENTS is blamed on the variable, not on the file."""
    with pytest.raises(UserInputError) as info:
        load(tmp_path, env={"SYNAPSE_SYNC_CLIENTS": "vim"})
    assert info.value.message.startswith("SYNAPSE_SYNC_CLIENTS: clients:")


def test_an_unknown_key_lists_the_known_ones(tmp_path: Path) -> None:
    """A typo'd key is called unknown and the known keys are listed."""
    err = error_of(tmp_path, "max_deletion = 2")
    assert "unknown key" in err.message
    assert "max_deletions" in err.message
