"""Loopback-only bind unless asked (A1), and Ray's token auth kept on with a 0600 token (A8)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from actors.supervision import secure_ray_token
from events.errors import UserInputError
from synapse.bootstrap import require_ray_token_auth
from synapse.cli import main
from synapse.settings import (
    is_loopback_host,
    load_settings,
    ray_auth_mode,
    remote_bind_warning,
)

REMOTE_HOSTS = ["0.0.0.0", "::", "192.168.1.20", "my-laptop.lan", "127.0.0.1.evil.example"]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_binds_load_without_a_flag_or_warning(host: str, tmp_path: Path) -> None:
    """Every loopback spelling is accepted as is and needs no warning."""
    settings = load_settings({"SYNAPSE_HTTP_HOST": host}, home=tmp_path)
    assert settings.http_host == host
    assert remote_bind_warning(settings) is None


@pytest.mark.parametrize("host", REMOTE_HOSTS)
def test_non_loopback_bind_without_the_flag_is_refused(host: str, tmp_path: Path) -> None:
    """SYNAPSE_HTTP_HOST=0.0.0.0 (or any LAN name) alone stops at settings load, with a hint."""
    assert not is_loopback_host(host)
    with pytest.raises(UserInputError, match="not a loopback address") as info:
        load_settings({"SYNAPSE_HTTP_HOST": host}, home=tmp_path)
    assert info.value.hint is not None
    assert "SYNAPSE_ALLOW_REMOTE=1" in info.value.hint


@pytest.mark.parametrize("opt_in", [{"SYNAPSE_ALLOW_REMOTE": "1"}, {}])
def test_non_loopback_bind_with_the_flag_loads_and_warns(
    opt_in: dict[str, str], tmp_path: Path
) -> None:
    """The env variable or the explicit override opts in; the bind then carries a warning."""
    overrides = {} if opt_in else {"allow_remote": True}
    env = {"SYNAPSE_HTTP_HOST": "0.0.0.0", **opt_in}
    settings = load_settings(env, home=tmp_path, **overrides)
    assert settings.allow_remote
    warning = remote_bind_warning(settings)
    assert warning is not None
    assert "0.0.0.0" in warning
    assert "token" in warning


def test_up_refuses_a_remote_bind_with_one_error_and_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`synapse up` with a LAN bind and no flag exits 2 before starting anything."""
    monkeypatch.setenv("SYNAPSE_HTTP_HOST", "0.0.0.0")
    monkeypatch.delenv("SYNAPSE_ALLOW_REMOTE", raising=False)
    assert main(["up", "--home", str(tmp_path / "home")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line]
    assert err[0].startswith("error: SYNAPSE_HTTP_HOST=0.0.0.0 is not a loopback address")
    assert err[1].startswith("hint: ")
    assert not (tmp_path / "home").exists()


def test_up_allow_remote_flag_opts_in_and_prints_the_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`synapse up --allow-remote` passes the bind check and warns on stderr.

    RAY_AUTH_MODE=disabled makes `up` stop right after, before Ray or any file is touched.
    """
    monkeypatch.setenv("SYNAPSE_HTTP_HOST", "0.0.0.0")
    monkeypatch.delenv("SYNAPSE_ALLOW_REMOTE", raising=False)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    assert main(["up", "--allow-remote", "--home", str(tmp_path / "home")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line]
    assert err[0].startswith("warning: the HTTP API listens on 0.0.0.0")
    assert err[1].startswith("error: RAY_AUTH_MODE=disabled")


@pytest.mark.parametrize("mode", ["disabled", "DISABLED", " disabled "])
def test_ray_with_token_auth_disabled_is_refused(mode: str) -> None:
    """RAY_AUTH_MODE=disabled would open Ray's job API to anyone: refused with a hint."""
    with pytest.raises(UserInputError, match="RAY_AUTH_MODE=disabled") as info:
        require_ray_token_auth(ray_auth_mode({"RAY_AUTH_MODE": mode}))
    assert info.value.hint is not None


@pytest.mark.parametrize("env", [{}, {"RAY_AUTH_MODE": "token"}])
def test_ray_token_mode_or_the_default_is_accepted(env: dict[str, str]) -> None:
    """Token mode, or Ray's own default (token for a local cluster), passes."""
    require_ray_token_auth(ray_auth_mode(env))


def test_ray_token_files_are_forced_to_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ray writes ~/.ray/auth_token 0644; both it and RAY_AUTH_TOKEN_PATH end up 0600."""
    home = tmp_path / "home"
    default = home / ".ray" / "auth_token"
    named = tmp_path / "elsewhere" / "token"
    for path in (default, named):
        path.parent.mkdir(parents=True)
        path.write_text("ray-token\n")
        path.chmod(0o644)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(named))
    secure_ray_token()
    for path in (default, named):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text() == "ray-token\n"
