"""The guard in front of every route: Host, Origin, token, CSRF and security headers.

It is a pure ASGI middleware wrapped around the whole application, so no route, static file,
WebSocket or router added later can escape it. The rules (reliability bar A2–A7):

* ``Host`` must be one of the allowed loopback names with our port (DNS rebinding).
* ``Origin`` must be absent or allow-listed; ``Origin: null`` is refused.
* A per-install token is required everywhere except ``/health``: ``Authorization: Bearer``,
  or, for GET/HEAD only, the HttpOnly cookie set by the one-time ``GET /?token=…`` bootstrap.
* Methods outside the safe allow-list (GET, HEAD, OPTIONS) need the header token and
  ``Content-Type: application/json``, so neither a form nor a "simple" request can mutate.
* Every answer carries CSP, ``nosniff``, ``no-referrer`` and ``no-store``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qs

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events.errors import UserInputError

__all__ = [
    "COOKIE_NAME",
    "DEFAULT_CSP",
    "SAFE_METHODS",
    "SecurityGuard",
    "load_or_create_token",
    "loopback_hosts",
]

_log = logging.getLogger(__name__)

COOKIE_NAME = "synapse_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_CSP = "default-src 'self'; frame-ancestors 'none'"
_COOKIE_METHODS = frozenset({"GET", "HEAD"})
_PUBLIC_PATHS = frozenset({"/health"})
_SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
)
_WS_POLICY_VIOLATION = 1008


def loopback_hosts(port: int) -> tuple[str, ...]:
    """Return the ``Host`` values a loopback-bound server on ``port`` should accept.

    Args:
        port: the TCP port the server listens on.

    Returns:
        ``localhost``, ``127.0.0.1`` and ``[::1]`` with the port (and bare when it is 80).
    """
    names = ("localhost", "127.0.0.1", "[::1]")
    hosts = tuple(f"{name}:{port}" for name in names)
    return hosts + names if port == 80 else hosts


def load_or_create_token(path: Path) -> str:
    """Read the per-install API token, creating it (0600, exclusively) on first use.

    Args:
        path: the token file.

    Returns:
        The token, ≥256 bits from :func:`secrets.token_urlsafe`.

    Raises:
        UserInputError: the file is readable by group or others, or holds no usable token.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return _read_token(path)
    try:
        os.fchmod(fd, 0o600)  # the umask can only remove bits, but be explicit
        os.write(fd, token.encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    return token


def _read_token(path: Path) -> str:
    mode = path.lstat().st_mode
    if not stat.S_ISREG(mode):
        raise UserInputError(f"token file {path} is not a regular file")
    if mode & 0o077:
        raise UserInputError(
            f"token file {path} is readable by other users", hint=f"chmod 600 {path}"
        )
    token = path.read_text(encoding="utf-8").strip()
    if len(token) < 32:
        raise UserInputError(f"token file {path} holds no usable token", hint=f"delete {path}")
    return token


def _cookie_value(token: str) -> str:
    # The cookie is derived from, not equal to, the token: a leaked cookie cannot be replayed
    # as the bearer header that mutations need.
    return hmac.new(token.encode(), b"synapse-session-cookie-v1", hashlib.sha256).hexdigest()


class _Rejection(Exception):
    """Why the guard refused a request."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail


class SecurityGuard:
    """ASGI middleware enforcing the localhost surface rules on HTTP and WebSocket scopes.

    Args:
        app: the wrapped application.
        token: the per-install bearer token.
        allowed_hosts: exact ``Host`` header values accepted (see :func:`loopback_hosts`).
        allowed_origins: extra ``Origin`` values accepted besides ``http://<allowed host>``.
        csp_overrides: path → Content-Security-Policy for pages that need a looser one.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        allowed_hosts: Sequence[str],
        allowed_origins: Sequence[str] = (),
        csp_overrides: Mapping[str, str] | None = None,
    ) -> None:
        if len(token) < 32:
            msg = "the API token must be at least 32 characters"
            raise ValueError(msg)
        self.app = app
        self._token = token.encode()
        self._cookie = _cookie_value(token).encode()
        self._hosts = frozenset(h.lower() for h in allowed_hosts)
        own = (f"http://{h}" for h in self._hosts)
        self._origins = frozenset(_norm_origin(o) for o in (*allowed_origins, *own))
        self._csp = dict(csp_overrides or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then pass it on with security headers added to the answer."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            self._check_host(headers)
            self._check_origin(headers)
            if scope["type"] == "websocket":
                self._check_token(scope, headers, websocket=True)
            elif await self._bootstrap(scope, headers, send):
                return
            else:
                self._check_token(scope, headers, websocket=False)
                self._check_mutation(scope, headers)
        except _Rejection as rejection:
            await self._reject(scope, send, rejection)
            return
        await self._forward(scope, receive, send)

    def _check_host(self, headers: Headers) -> None:
        hosts = headers.getlist("host")
        if len(hosts) != 1 or hosts[0].lower() not in self._hosts:
            raise _Rejection(403, "forbidden_host", "Host header is not allowed")

    def _check_origin(self, headers: Headers) -> None:
        origins = headers.getlist("origin")
        if not origins:
            return
        if len(origins) != 1 or _norm_origin(origins[0]) not in self._origins:
            raise _Rejection(403, "forbidden_origin", "Origin is not allowed")

    def _check_token(self, scope: Scope, headers: Headers, *, websocket: bool) -> None:
        if scope["path"] in _PUBLIC_PATHS:
            return
        auth = headers.get("authorization", "")
        scheme, _, presented = auth.partition(" ")
        presented_token = presented.strip().encode()
        if scheme.lower() == "bearer" and hmac.compare_digest(presented_token, self._token):
            return
        method = "GET" if websocket else scope["method"]
        if method in _COOKIE_METHODS and self._has_cookie(headers):
            return
        raise _Rejection(401, "unauthorized", "a valid API token is required")

    def _has_cookie(self, headers: Headers) -> bool:
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE_NAME and hmac.compare_digest(value.encode(), self._cookie):
                return True
        return False

    def _check_mutation(self, scope: Scope, headers: Headers) -> None:
        if scope["method"] in SAFE_METHODS:
            return
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise _Rejection(403, "forbidden_content_type", "mutations need application/json")

    async def _bootstrap(self, scope: Scope, headers: Headers, send: Send) -> bool:
        """Turn ``GET /?token=…`` into the session cookie; True when it answered."""
        if scope["method"] != "GET" or scope["path"] != "/":
            return False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "token" not in query:
            return False
        presented = query["token"][0].encode()
        if not hmac.compare_digest(presented, self._token):
            raise _Rejection(401, "unauthorized", "a valid API token is required")
        cookie = f"{COOKIE_NAME}={self._cookie.decode()}; HttpOnly; SameSite=Strict; Path=/"
        await self._send_headers(
            send, scope, 303, [(b"location", b"/"), (b"set-cookie", cookie.encode())]
        )
        await send({"type": "http.response.body", "body": b""})
        return True

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def secured_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = self._with_security(scope, message.get("headers", []))
            await send(message)

        try:
            await self.app(scope, receive, secured_send)
        except Exception:  # noqa: BLE001 - last resort: answer 500 without a traceback
            # Log the traceback for the operator; the client only learns that it failed.
            _log.exception("unhandled error serving %s", scope.get("path"))
            if scope["type"] == "http" and not started:
                await self._reject(scope, send, _Rejection(500, "internal", "internal error"))

    async def _reject(self, scope: Scope, send: Send, rejection: _Rejection) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": _WS_POLICY_VIOLATION})
            return
        body = orjson.dumps({"error": rejection.error, "detail": rejection.detail})
        extra = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        if rejection.status == 401:
            extra.append((b"www-authenticate", b"Bearer"))
        await self._send_headers(send, scope, rejection.status, extra)
        await send({"type": "http.response.body", "body": body})

    async def _send_headers(
        self, send: Send, scope: Scope, status: int, headers: list[tuple[bytes, bytes]]
    ) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": self._with_security(scope, headers),
            }
        )

    def _with_security(
        self, scope: Scope, headers: Iterable[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
        result = [(k, v) for k, v in headers if k.lower() != b"content-security-policy"]
        present = {k.lower() for k, _ in result}
        csp = self._csp.get(scope.get("path", ""), DEFAULT_CSP)
        result.append((b"content-security-policy", csp.encode()))
        result.extend((k, v) for k, v in _SECURITY_HEADERS if k not in present)
        return result


def _norm_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()
