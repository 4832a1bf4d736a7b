"""The guard in front of every route: Host, Origin, who is asking, CSRF and security headers.

It is a pure ASGI middleware wrapped around the whole application, so no route, static file,
WebSocket or router added later can escape it. The rules (reliability bar A2–A7):

* ``Host`` must be one of the allowed loopback names with our port (DNS rebinding).
* ``Origin`` must be absent or allow-listed; ``Origin: null`` is refused.
* A credential is required everywhere except the public paths (``/health``, the dashboard's
  pages and static files, which show the login page, and the login route itself):
  ``Authorization: Bearer`` with the per-install token (the CLI, as admin) or a session token
  from ``POST /api/v1/auth/token``, or the HttpOnly ``SameSite=Strict`` session cookie that
  route (or the one-time ``GET /?token=…`` bootstrap) sets.
* Methods outside the safe allow-list (GET, HEAD, OPTIONS) need ``Content-Type:
  application/json``, so neither a form nor a "simple" request can mutate; the one exception
  is the OAuth2 password grant, whose body is a form as OAuth2 specifies. A mutation carried
  by the cookie needs ``X-Synapse-CSRF: 1`` and an allowed ``Origin`` as well: headers a
  cross-site form cannot send.
* The caller's :class:`~serve._sessions.Principal` is left in ``scope["state"]`` for the role
  check (:mod:`serve.auth`); the guard itself decides only *whether* someone is asking.
* Every answer carries CSP, ``nosniff``, ``no-referrer`` and ``no-store``.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import secrets
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qs

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events.errors import UserInputError
from serve._sessions import CLI_PRINCIPAL, Principal, SessionSigner

__all__ = [
    "COOKIE_NAME",
    "CSRF_HEADER",
    "DEFAULT_CSP",
    "LOGIN_PATH",
    "SAFE_METHODS",
    "SecurityGuard",
    "load_or_create_token",
    "loopback_hosts",
    "session_cookie",
]

_log = logging.getLogger(__name__)

COOKIE_NAME = "synapse_session"
#: The header the page adds to every mutation it sends with the cookie (value ``1``).
CSRF_HEADER = "x-synapse-csrf"
#: The OAuth2 password grant: public, and the one route whose mutation body is a form.
LOGIN_PATH = "/api/v1/auth/token"
LOGOUT_PATH = "/api/v1/auth/logout"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_CSP = "default-src 'self'; frame-ancestors 'none'"
_READ_METHODS = frozenset({"GET", "HEAD"})
_PUBLIC_PATHS = frozenset({"/health"})
_FORM = "application/x-www-form-urlencoded"
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
        sessions: checks session tokens (bearer or cookie) and signs the bootstrap cookie.
        public_pages: paths anyone may GET (the dashboard's pages: the login page).
        public_prefixes: path prefixes anyone may GET (``/static/``).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        allowed_hosts: Sequence[str],
        allowed_origins: Sequence[str] = (),
        csp_overrides: Mapping[str, str] | None = None,
        sessions: SessionSigner,
        public_pages: Iterable[str] = (),
        public_prefixes: Sequence[str] = (),
    ) -> None:
        if len(token) < 32:
            msg = "the API token must be at least 32 characters"
            raise ValueError(msg)
        self.app = app
        self._token = token.encode()
        self._sessions = sessions
        self._hosts = frozenset(h.lower() for h in allowed_hosts)
        own = (f"http://{h}" for h in self._hosts)
        self._origins = frozenset(_norm_origin(o) for o in (*allowed_origins, *own))
        self._csp = dict(csp_overrides or {})
        pages = list(public_pages)
        self._pages = frozenset(p for p in pages if ":" not in p)
        # ``/workflows/:id`` (a client route with a parameter): one segment, any value.
        self._page_patterns = tuple(
            re.compile("^" + re.sub(r":\w+", "[^/]+", re.escape(p)) + "$")
            for p in pages
            if ":" in p
        )
        self._prefixes = tuple(public_prefixes)

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
                principal = self._check_token(scope, headers, websocket=True)
            elif await self._bootstrap(scope, headers, send):
                return
            else:
                principal = self._check_token(scope, headers, websocket=False)
                self._check_mutation(scope, headers, principal)
        except _Rejection as rejection:
            await self._reject(scope, send, rejection)
            return
        state = scope.setdefault("state", {})
        state["principal"] = principal
        state["public"] = self._is_public(scope)
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

    def _is_public(self, scope: Scope) -> bool:
        path, method = scope["path"], scope.get("method", "GET")
        if path in _PUBLIC_PATHS or (method == "POST" and path in (LOGIN_PATH, LOGOUT_PATH)):
            return True
        if method not in _READ_METHODS or scope["type"] != "http":
            return False
        return (
            path in self._pages
            or path.startswith(self._prefixes)
            or any(p.match(path) for p in self._page_patterns)
        )

    def _check_token(self, scope: Scope, headers: Headers, *, websocket: bool) -> Principal | None:
        """Return who is asking (None on a public path without a credential)."""
        auth = headers.get("authorization", "")
        scheme, _, presented = auth.partition(" ")
        presented = presented.strip()
        if scheme.lower() == "bearer":
            if hmac.compare_digest(presented.encode(), self._token):
                return CLI_PRINCIPAL
            principal = self._sessions.check(presented, "bearer")
        else:
            principal = self._cookie_principal(headers)
        if principal is not None or self._is_public(scope):
            return principal
        raise _Rejection(401, "unauthorized", "a valid API token or login is required")

    def _cookie_principal(self, headers: Headers) -> Principal | None:
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE_NAME and (found := self._sessions.check(value, "cookie")):
                return found
        return None

    def _check_mutation(self, scope: Scope, headers: Headers, principal: Principal | None) -> None:
        if scope["method"] in SAFE_METHODS:
            return
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if scope["method"] == "POST" and scope["path"] == LOGIN_PATH:
            if media_type != _FORM:
                raise _Rejection(403, "forbidden_content_type", f"the token grant needs {_FORM}")
            return
        if media_type != "application/json":
            raise _Rejection(403, "forbidden_content_type", "mutations need application/json")
        if principal is not None and principal.via == "cookie":
            # The cookie travels with any request the browser makes; these two headers do
            # not (a cross-site form can set neither, and fetch needs our own origin).
            if headers.get(CSRF_HEADER) != "1":
                raise _Rejection(403, "forbidden_csrf", f"a cookie mutation needs {CSRF_HEADER}")
            if len(headers.getlist("origin")) != 1:
                raise _Rejection(403, "forbidden_origin", "a cookie mutation needs an Origin")

    async def _bootstrap(self, scope: Scope, headers: Headers, send: Send) -> bool:
        """Turn ``GET /?token=…`` into an admin session cookie; True when it answered."""
        if scope["method"] != "GET" or scope["path"] != "/":
            return False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "token" not in query:
            return False
        presented = query["token"][0].encode()
        if not hmac.compare_digest(presented, self._token):
            raise _Rejection(401, "unauthorized", "a valid API token is required")
        value, _ = self._sessions.issue_cli()
        cookie = session_cookie(value, max_age=self._sessions.ttl_s)
        await self._send_headers(send, scope, 303, [(b"location", b"/"), (b"set-cookie", cookie)])
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


def session_cookie(value: str, *, max_age: int | None = None) -> bytes:
    """The ``Set-Cookie`` value carrying a session token (empty ``value`` + 0 = clear it)."""
    age = f"; Max-Age={max_age}" if max_age is not None else ""
    return f"{COOKIE_NAME}={value}; HttpOnly; SameSite=Strict; Path=/{age}".encode()


def _norm_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()
