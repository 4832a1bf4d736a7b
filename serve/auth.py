"""Login (the OAuth2 password grant), logout, ``me``, and the role every route needs.

Roles are declared on the routes: ``@router.post(..., **needs(Role.OPERATOR))`` puts
``x-synapse-role`` into the route's OpenAPI entry, and :func:`enforce_role` (an app-wide
dependency) checks it against the principal the guard found. A route that declares nothing
needs **viewer** for GET/HEAD and **admin** for anything else, so a route added later without
thought fails closed. The same dependency marks the request's user as the acting user of the
commands it runs (:mod:`events.audit`), which is how every event a person causes names them.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.requests import HTTPConnection

from events.audit import set_actor
from serve._sessions import LoginThrottle, Principal, SessionSigner
from serve.security import SAFE_METHODS, session_cookie
from serve.users import MAX_PASSWORD, Role

__all__ = [
    "ROLE_KEY",
    "ForbiddenRoleError",
    "MeAnswer",
    "TokenAnswer",
    "auth_router",
    "enforce_role",
    "ensure_role",
    "install_role_errors",
    "needs",
    "principal_of",
    "route_role",
]

#: The OpenAPI extension naming the role a route needs.
ROLE_KEY = "x-synapse-role"
_MAX_FORM = 4096
_FORM_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type", "username", "password"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["password"]},
                        "username": {"type": "string"},
                        "password": {"type": "string", "format": "password"},
                    },
                }
            }
        },
    }
}


class TokenAnswer(BaseModel):
    """A successful password grant (RFC 6749 §5.1, plus who it is for)."""

    model_config = ConfigDict(extra="forbid")
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    user: str
    role: Role


class MeAnswer(BaseModel):
    """Who the credential of this request belongs to."""

    model_config = ConfigDict(extra="forbid")
    user: str
    role: Role
    via: str
    expires_at: int | None = None


class ForbiddenRoleError(Exception):
    """The caller's role does not allow this route (HTTP 403 ``forbidden_role``)."""

    def __init__(self, needed: Role, what: str) -> None:
        super().__init__(f"{what} needs the {needed} role")
        self.detail = str(self)


def needs(role: Role) -> dict[str, Any]:
    """Route keyword arguments declaring that the route needs ``role``."""
    return {"openapi_extra": {ROLE_KEY: str(role)}}


def route_role(route: object, method: str) -> Role:
    """The role ``route`` needs for ``method`` (undeclared: viewer to read, admin otherwise)."""
    declared = (getattr(route, "openapi_extra", None) or {}).get(ROLE_KEY)
    if declared is not None:
        return Role(declared)
    return Role.VIEWER if method in SAFE_METHODS else Role.ADMIN


def principal_of(connection: HTTPConnection) -> Principal | None:
    """The principal the guard found for this request (None on a public path)."""
    principal = connection.scope.get("state", {}).get("principal")
    return principal if isinstance(principal, Principal) else None


def ensure_role(connection: HTTPConnection, needed: Role, what: str) -> None:
    """Refuse the request unless its principal has ``needed`` (for body-dependent rules).

    Raises:
        ForbiddenRoleError: it has not.
    """
    principal = principal_of(connection)
    if principal is None or not principal.role.allows(needed):
        raise ForbiddenRoleError(needed, what)


async def enforce_role(connection: HTTPConnection) -> None:
    """App-wide dependency: the route's role against the principal; sets the acting user.

    Async on purpose: it runs in the request's own task, so the acting user it sets is the
    one the endpoint (and the threads and tasks it starts) sees.

    Raises:
        ForbiddenRoleError: the principal's role is below the route's.
    """
    principal = principal_of(connection)
    set_actor(principal.name if principal is not None else None)
    if connection.scope.get("state", {}).get("public"):
        return
    method = connection.scope.get("method", "GET")
    needed = route_role(connection.scope.get("route"), method)
    ensure_role(connection, needed, f"{method} {connection.scope.get('path', '')}")


def install_role_errors(app: FastAPI) -> None:
    """Answer :class:`ForbiddenRoleError` as 403 ``forbidden_role``."""

    async def forbidden(_request: Request, exc: Exception) -> JSONResponse:
        detail = exc.detail if isinstance(exc, ForbiddenRoleError) else "forbidden"
        return JSONResponse({"error": "forbidden_role", "detail": detail}, 403)

    app.add_exception_handler(ForbiddenRoleError, forbidden)


def _oauth_error(status: int, error: str, description: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status, headers)


def auth_router(sessions: SessionSigner, throttle: LoginThrottle) -> APIRouter:
    """Build ``/api/v1/auth/{token,logout,me}``.

    Args:
        sessions: issues, checks and revokes session tokens over the users file.
        throttle: the failed-login backoff.
    """
    router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

    @router.post("/token", response_model=TokenAnswer, openapi_extra=_FORM_SCHEMA)
    async def token(request: Request) -> JSONResponse:
        """OAuth2 password grant: a form with ``grant_type=password``, ``username`` and
        ``password``. Answers a short-lived token and sets it as the HttpOnly session
        cookie; 400 ``invalid_grant`` for a wrong name or password, 429 while backing off."""
        body = await request.body()
        if len(body) > _MAX_FORM:
            return _oauth_error(400, "invalid_request", "the form is too large")
        try:
            form = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=8)
        except (UnicodeDecodeError, ValueError):
            return _oauth_error(400, "invalid_request", "the form could not be read")
        fields = {k: v[0] for k, v in form.items() if len(v) == 1}
        if fields.get("grant_type") != "password":
            return _oauth_error(400, "unsupported_grant_type", "only grant_type=password")
        name, password = fields.get("username", ""), fields.get("password", "")
        if not name or not password or len(password) > MAX_PASSWORD or len(name) > 64:
            return _oauth_error(400, "invalid_request", "give username and password")
        address = request.client.host if request.client else "unknown"
        wait = throttle.wait_s(name, address)
        if wait > 0:
            retry = str(math.ceil(wait))
            return _oauth_error(
                429,
                "slow_down",
                f"too many failed logins; retry in {retry} s",
                **{"Retry-After": retry},
            )
        # argon2 takes tens of milliseconds and 64 MiB: off the event loop.
        user = await asyncio.to_thread(sessions.users.verify, name, password)
        if user is None:
            throttle.failed(name, address)
            return _oauth_error(400, "invalid_grant", "wrong user name or password")
        throttle.succeeded(name)
        value, _ = sessions.issue(user.name, user.role, user.generation)
        answer = TokenAnswer(
            access_token=value, expires_in=sessions.ttl_s, user=user.name, role=user.role
        )
        response = JSONResponse(answer.model_dump(mode="json"))
        response.headers["set-cookie"] = session_cookie(value, max_age=sessions.ttl_s).decode()
        return response

    @router.post("/logout", status_code=204, response_class=Response)
    async def logout(request: Request) -> Response:
        """End this session (its token stops working) and clear the cookie."""
        principal = principal_of(request)
        if principal is not None:
            sessions.revoke(principal)
        response = Response(status_code=204)
        response.headers["set-cookie"] = session_cookie("", max_age=0).decode()
        return response

    @router.get("/me", response_model=MeAnswer)
    async def me(request: Request) -> MeAnswer:
        """Who this request's credential belongs to, their role and when the session ends."""
        principal = principal_of(request)
        assert principal is not None  # the guard let no credential-less request through
        return MeAnswer(
            user=principal.name,
            role=principal.role,
            via=principal.via,
            expires_at=principal.expires_at,
        )

    return router
