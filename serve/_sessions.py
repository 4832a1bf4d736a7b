"""Who is asking: signed session tokens, the principal, and the failed-login backoff.

A session token is ``base64url(json payload) "." base64url(HMAC-SHA256(key, payload))`` with
the per-install key in ``$SYNAPSE_HOME/auth.key`` (0600). The payload names the user, their
role and generation when it was issued, its expiry and a random id (so logout can revoke it).
It is checked again against the users file on every request, so a removed user, a changed
password or a new role ends every session issued before, at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from serve.users import Role, UserStore

__all__ = [
    "CLI_PRINCIPAL",
    "SESSION_TTL_S",
    "LoginThrottle",
    "Principal",
    "SessionSigner",
]

#: How long a session token (and its cookie) lives.
SESSION_TTL_S = 3600
_REVOKED_MAX = 10_000


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request.

    Attributes:
        name: the user name, or ``cli`` for the per-install token.
        role: what they may do.
        via: ``token`` (the install token), ``bearer`` (a session token as a header) or
            ``cookie`` (the browser's session cookie; mutations need the CSRF header too).
        expires_at: Unix time the session ends (None for the install token).
        session_id: the token's id (None for the install token).
    """

    name: str
    role: Role
    via: str
    expires_at: int | None = None
    session_id: str | None = None


#: The per-install token's principal: the CLI, with every right.
CLI_PRINCIPAL = Principal("cli", Role.ADMIN, "token")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Issues and checks session tokens.

    Args:
        key: the signing key (≥32 bytes).
        users: the users file, consulted on every check.
        clock: Unix time now (tests pass a fake one).
        ttl_s: lifetime of a new token.
    """

    def __init__(
        self,
        key: bytes,
        users: UserStore,
        *,
        clock: Callable[[], float] = time.time,
        ttl_s: int = SESSION_TTL_S,
    ) -> None:
        if len(key) < 32:
            msg = "the session key must be at least 32 bytes"
            raise ValueError(msg)
        self._key = hashlib.sha256(b"synapse-session-v1" + key).digest()
        self.users = users
        self._clock = clock
        self.ttl_s = ttl_s
        # Revoked token ids until they would have expired anyway (bounded, oldest first out).
        self._revoked: OrderedDict[str, int] = OrderedDict()

    def issue(self, name: str, role: Role, generation: int) -> tuple[str, int]:
        """Return a token for ``name`` and its expiry (Unix time)."""
        expires = int(self._clock()) + self.ttl_s
        payload = {"sub": name, "role": str(role), "gen": generation, "exp": expires}
        payload["jti"] = secrets.token_urlsafe(12)
        body = _b64(orjson.dumps(payload))
        return f"{body}.{self._sign(body)}", expires

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def check(self, token: str, via: str) -> Principal | None:
        """Return the principal a token stands for, or None when it is not (or no longer) valid.

        The role is the user's current one; a token is refused once expired, revoked, or
        issued before the user's password or role changed.
        """
        payload = self._payload(token)
        if payload is None:
            return None
        jti = str(payload.get("jti", ""))
        if jti in self._revoked:
            return None
        name, generation = str(payload.get("sub", "")), payload.get("gen")
        if name == CLI_PRINCIPAL.name and generation == 0:
            return Principal(name, Role.ADMIN, via, int(payload["exp"]), jti)
        user = self.users.get(name)
        if user is None or generation != user.generation:
            return None
        return Principal(user.name, user.role, via, int(payload["exp"]), jti)

    def issue_cli(self) -> tuple[str, int]:
        """A session for whoever holds the install token (the ``/?token=`` bootstrap)."""
        return self.issue(CLI_PRINCIPAL.name, Role.ADMIN, 0)

    def _payload(self, token: str) -> dict[str, Any] | None:
        body, dot, signature = token.partition(".")
        if not dot or len(token) > 1024:
            return None
        if not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        try:
            payload = orjson.loads(_unb64(body))
        except (ValueError, orjson.JSONDecodeError):
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
            return None
        return payload if payload["exp"] > self._clock() else None

    def revoke(self, principal: Principal) -> None:
        """End ``principal``'s session before it expires (logout)."""
        if principal.session_id is None or principal.expires_at is None:
            return
        now = self._clock()
        while self._revoked and (
            len(self._revoked) >= _REVOKED_MAX or next(iter(self._revoked.values())) < now
        ):
            self._revoked.popitem(last=False)
        self._revoked[principal.session_id] = principal.expires_at


class LoginThrottle:
    """Exponential backoff after failed logins, per user name and per client address.

    After ``free`` failures in a row for a key, the next attempt must wait ``base_s`` seconds,
    doubling with each further failure up to ``max_s``; while a key waits, attempts are
    refused without looking at the password. A success clears the user's count (not the
    address's: one good password does not launder a guessing address). Memory is bounded:
    at most ``max_keys`` keys, the least recently failed dropped first.

    Args:
        clock: monotonic seconds (tests pass a fake one).
        free: failures allowed before the first wait.
        base_s: the first wait.
        max_s: the longest wait.
        max_keys: keys remembered.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        free: int = 3,
        base_s: float = 1.0,
        max_s: float = 300.0,
        max_keys: int = 4096,
    ) -> None:
        self._clock = clock
        self._free, self._base_s, self._max_s, self._max_keys = free, base_s, max_s, max_keys
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._failures)

    @staticmethod
    def _keys(user: str, address: str) -> tuple[str, str]:
        return f"user:{user[:64]}", f"addr:{address[:64]}"

    def wait_s(self, user: str, address: str) -> float:
        """Seconds until ``user`` from ``address`` may try again (0 = now)."""
        now = self._clock()
        waits = [self._failures.get(k, (0, 0.0))[1] - now for k in self._keys(user, address)]
        return max(0.0, *waits)

    def failed(self, user: str, address: str) -> None:
        """Count one failed attempt against the user and the address."""
        now = self._clock()
        for key in self._keys(user, address):
            count = self._failures.pop(key, (0, 0.0))[0] + 1
            over = count - self._free
            wait = 0.0 if over <= 0 else min(self._max_s, self._base_s * 2 ** (over - 1))
            self._failures[key] = (count, now + wait)
            while len(self._failures) > self._max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, user: str) -> None:
        """Forget the user's failures."""
        self._failures.pop(self._keys(user, "")[0], None)
