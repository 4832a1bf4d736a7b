"""Login with the OAuth2 password grant, sessions, the backoff, and who did what (audit).

Real users file (cheap argon2 parameters), the in-process app, fake clocks for expiry and
backoff (no sleeps), and for the audit a real event store with the in-process sync services.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.exceptions import StarletteDeprecationWarning

from serve._sessions import LoginThrottle, SessionSigner
from serve.app import build_app
from serve.security import loopback_hosts
from serve.users import Role, UserStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "t" * 8 + "-test-token-0123456789abcdefghijklmnop"
PORT = 8765
OWN = f"http://127.0.0.1:{PORT}"
HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class Clock:
    """A clock that moves only when told."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def users(tmp_path: Path) -> UserStore:
    """A real users file with an operator, alice."""
    store = UserStore(tmp_path / "home" / "users.json", HASHER)
    store.add("alice", Role.OPERATOR, "correct horse")
    return store


@pytest.fixture
def clock() -> Clock:
    """Wall clock of the sessions and monotonic clock of the backoff, both fake."""
    return Clock()


@pytest.fixture
def signer(users: UserStore, clock: Clock) -> SessionSigner:
    """Sessions signed with a fixed key over ``users``."""
    return SessionSigner(b"s" * 32, users, clock=clock, ttl_s=3600)


@pytest.fixture
def web(fake: Any, signer: SessionSigner, clock: Clock) -> Iterator[TestClient]:
    """The in-process app with login, on 127.0.0.1."""
    app = build_app(
        fake,
        token=TOKEN,
        allowed_hosts=loopback_hosts(PORT),
        sessions=signer,
        throttle=LoginThrottle(clock=clock, free=3, base_s=2.0, max_s=60.0, max_keys=100),
    )
    with TestClient(app, base_url=OWN) as client:
        yield client


def _login(web: TestClient, user: str = "alice", password: str = "correct horse") -> Any:  # noqa: S107 - a test password
    form = {"grant_type": "password", "username": user, "password": password}
    return web.post("/api/v1/auth/token", data=form)


def test_users_file_is_0600_and_holds_only_an_argon2_hash(users: UserStore) -> None:
    """The password is stored as an argon2id hash in a 0600 file, never in clear."""
    assert users.path is not None
    assert users.path.stat().st_mode & 0o777 == 0o600
    text = users.path.read_text()
    assert "correct horse" not in text
    assert "$argon2id$" in text
    assert users.verify("alice", "correct horse") is not None
    assert users.verify("alice", "wrong horse") is None
    assert users.verify("nobody", "correct horse") is None


def test_password_grant_issues_a_token_and_an_httponly_strict_cookie(web: TestClient) -> None:
    """A good form login answers an OAuth2 bearer token and sets it as the session cookie;
    the cookie then reads, and the token works as a bearer header."""
    response = _login(web)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert (body["user"], body["role"]) == ("alice", "operator")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Max-Age=3600" in cookie
    assert response.headers["cache-control"] == "no-store"
    me = web.get("/api/v1/auth/me")  # the TestClient keeps the cookie
    assert me.json()["user"] == "alice"
    assert me.json()["via"] == "cookie"
    web.cookies.clear()
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert web.get("/api/v1/auth/me", headers=bearer).json()["via"] == "bearer"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "username": "alice", "password": "nope"}, "invalid_grant"),
        ({"grant_type": "password", "username": "ghost", "password": "x" * 9}, "invalid_grant"),
        ({"grant_type": "client_credentials", "username": "alice"}, "unsupported_grant_type"),
        ({"grant_type": "password", "username": "alice"}, "invalid_request"),
    ],
)
def test_a_bad_grant_is_an_oauth2_error_and_sets_no_cookie(
    web: TestClient, form: dict[str, str], error: str
) -> None:
    """Wrong password, unknown user, another grant type or a missing field: 400 with the
    RFC 6749 error code, no cookie, no token."""
    response = web.post("/api/v1/auth/token", data=form)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert "set-cookie" not in response.headers


def test_failed_logins_back_off_per_user_and_per_address(web: TestClient, clock: Clock) -> None:
    """After three failures the next try waits 2 s (429 + Retry-After, even with the right
    password), then 4 s after one more failure; time passing lets the right password in. The
    address is counted too: guessing another user's password from it is held back as well."""
    for _ in range(3):
        assert _login(web, password="wrong").status_code == 400
    assert _login(web, password="wrong").status_code == 400  # the 4th failure starts a wait
    held = _login(web)
    assert held.status_code == 429
    assert held.json()["error"] == "slow_down"
    assert held.headers["retry-after"] == "2", (held.headers, held.text)
    clock.now += 2
    assert _login(web, password="wrong").status_code == 400
    assert _login(web).headers["retry-after"] == "4"
    # the address, not only the name: another user from here waits as well
    assert _login(web, user="bob", password="whatever1").status_code == 429
    clock.now += 4
    assert _login(web).status_code == 200


def test_the_backoff_remembers_a_bounded_number_of_keys(clock: Clock) -> None:
    """A flood of distinct names cannot grow the throttle's memory past its bound."""
    throttle = LoginThrottle(clock=clock, max_keys=50)
    for i in range(1000):
        throttle.failed(f"user{i}", f"10.0.{i // 250}.{i % 250}")
    assert len(throttle) == 50


def test_a_session_expires_after_its_lifetime(web: TestClient, clock: Clock) -> None:
    """One hour after login the cookie and the token no longer authenticate."""
    token = _login(web).json()["access_token"]
    clock.now += 3599
    assert web.get("/api/v1/head").status_code == 200
    clock.now += 2
    assert web.get("/api/v1/head").status_code == 401
    web.cookies.clear()
    assert web.get("/api/v1/head", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_forged_or_tampered_token_is_refused(web: TestClient, signer: SessionSigner) -> None:
    """A token signed with another key, or with its payload changed, is no credential."""
    other = SessionSigner(b"x" * 32, signer.users)
    forged, _ = other.issue("alice", Role.ADMIN, 1)
    good, _ = signer.issue("alice", Role.OPERATOR, 1)
    body, _, signature = good.partition(".")
    admin_body, _, _ = forged.partition(".")
    for token in (forged, f"{admin_body}.{signature}", f"{body}.{signature[:-2]}AA"):
        response = web.get("/api/v1/head", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_passwd_role_change_and_removal_end_older_sessions(
    web: TestClient, users: UserStore
) -> None:
    """A session stops working when its user's password or role changes, or the user goes."""
    _login(web)
    assert web.get("/api/v1/head").status_code == 200
    users.set_password("alice", "another horse")
    assert web.get("/api/v1/head").status_code == 401
    _login(web, password="another horse")
    users.set_role("alice", Role.VIEWER)
    assert web.get("/api/v1/head").status_code == 401
    assert _login(web, password="another horse").json()["role"] == "viewer"
    users.remove("alice")
    assert web.get("/api/v1/head").status_code == 401


def test_logout_revokes_the_session_and_clears_the_cookie(web: TestClient) -> None:
    """After logout the same token is refused, even replayed as a bearer header."""
    token = _login(web).json()["access_token"]
    headers = {"Origin": OWN, "X-Synapse-CSRF": "1"}
    response = web.post("/api/v1/auth/logout", headers=headers, json={})
    assert response.status_code == 204
    assert "Max-Age=0" in response.headers["set-cookie"]
    web.cookies.clear()
    assert web.get("/api/v1/head", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_the_install_token_is_the_cli_as_admin(web: TestClient) -> None:
    """The per-install token keeps working for the CLI: it acts as ``cli`` with the admin role."""
    me = web.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert (me["user"], me["role"], me["via"]) == ("cli", "admin", "token")


def test_no_answer_or_log_line_holds_the_password(
    web: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The password is never echoed back: not in an answer, not in a log record."""
    canary = "Canary-Passw0rd-4c1e"
    answers = [_login(web, password=canary).text, _login(web, user=canary, password=canary).text]
    answers.append(_login(web).text)
    assert all(canary not in text for text in answers)
    assert canary not in caplog.text


def test_reserved_and_malformed_names_and_short_passwords_are_refused(users: UserStore) -> None:
    """``cli`` names the install token's caller; names are simple; passwords ≥ 8 chars."""
    from events.errors import UserInputError

    for name in ("cli", "Alice", "a/b", "", "x" * 40):
        with pytest.raises(UserInputError):
            users.add(name, Role.VIEWER, "long enough")
    with pytest.raises(UserInputError, match="at least"):
        users.add("bob", Role.VIEWER, "short")
    with pytest.raises(UserInputError, match="already exists"):
        users.add("alice", Role.VIEWER, "long enough")
    assert [u.name for u in users.users()] == ["alice"]
