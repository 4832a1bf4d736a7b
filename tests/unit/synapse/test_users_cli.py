"""`synapse users`: offline user management on a real home, with audit events and no secret
anywhere but the argon2 hash in the 0600 users file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from synapse import bootstrap
from synapse.cli import main
from synapse.settings import load_settings

PASSWORD = "Canary-Passw0rd-9f3a"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Synapse home (nothing running)."""
    monkeypatch.setenv("SYNAPSE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def _user_events(home: Path) -> list[tuple[str, dict[str, object]]]:
    store = bootstrap.open_store(load_settings(home=home))
    try:
        return [
            (n.topic, store.decode_body(n))
            for n in store.read(0, 1000)
            if n.topic.startswith("events.user:")
        ]
    finally:
        store.close_quietly()


def test_add_list_passwd_role_remove_round_trip(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each verb changes the users file and records one event saying who did what."""
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["users", "add", "bob", "--role", "viewer"]) == 0
    assert main(["users", "list", "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert json.loads(out[-1]) == [{"name": "bob", "role": "viewer", "generation": 1}]
    _stdin(monkeypatch, "another-password\n")
    assert main(["users", "passwd", "bob"]) == 0
    assert main(["users", "role", "bob", "operator"]) == 0
    assert main(["users", "remove", "bob"]) == 0
    assert main(["users", "list"]) == 0
    assert "no users yet" in capsys.readouterr().out
    kinds = [topic.rsplit(".", 1)[1] for topic, _ in _user_events(home)]
    assert kinds == ["Added", "PasswordChanged", "RoleChanged", "Removed"]
    _, changed = _user_events(home)[2]
    assert (changed["old"], changed["role"]) == ("viewer", "operator")


def test_the_password_lives_only_as_an_argon2_hash_in_a_0600_file(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No byte of the home but users.json's argon2 hash relates to the password: not the
    event log, not its events (no hash there either)."""
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["users", "add", "ada", "--role", "admin"]) == 0
    users = home / "users.json"
    assert users.stat().st_mode & 0o777 == 0o600
    assert "$argon2id$" in users.read_text()
    for path in home.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    assert all("argon2" not in json.dumps(body) for _, body in _user_events(home))


def test_a_password_is_never_an_argument(home: Path) -> None:
    """There is no way to give the password on the command line (``ps`` shows argv)."""
    with pytest.raises(SystemExit) as info:
        main(["users", "add", "bob", "--role", "viewer", PASSWORD])
    assert info.value.code == 2
    assert not (home / "users.json").exists()


@pytest.mark.parametrize(
    ("argv", "stdin", "error"),
    [
        (["users", "add", "Bob!", "--role", "viewer"], "long-enough\n", "invalid user name"),
        (["users", "add", "cli", "--role", "admin"], "long-enough\n", "reserved"),
        (["users", "add", "bob", "--role", "viewer"], "short\n", "at least 8"),
        (["users", "add", "bob", "--role", "viewer"], "", "no password on standard input"),
        (["users", "remove", "ghost"], "", "no user named 'ghost'"),
        (["users", "passwd", "ghost"], "long-enough\n", "no user named 'ghost'"),
    ],
)
def test_mistakes_are_one_error_line_and_a_hint_and_change_nothing(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
    error: str,
) -> None:
    """Bad names, reserved names, short or missing passwords and unknown users: exit 2,
    ``error:`` then ``hint:`` (or the error alone), no users file written, no event."""
    _stdin(monkeypatch, stdin)
    assert main(argv) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line]
    assert err[0].startswith("error: ")
    assert error in err[0]
    assert len(err) <= 2
    assert not (home / "users.json").exists()
    assert _user_events(home) == []


def test_adding_an_existing_user_is_refused_and_keeps_the_old_password(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second ``add`` of the same name leaves the first user's hash as it was."""
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["users", "add", "bob", "--role", "viewer"]) == 0
    before = (home / "users.json").read_bytes()
    _stdin(monkeypatch, "other-password\n")
    assert main(["users", "add", "bob", "--role", "admin"]) == 2
    assert (home / "users.json").read_bytes() == before
