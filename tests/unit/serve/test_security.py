"""The localhost surface guard on the whole in-process app: Host, token, CSRF, streams, WS.

Reliability bar A2–A5 (recipe R-9). Every route the app has, including the static files, the
token bootstrap, the event stream, task streams and the sync and agent routers, is checked by
enumerating ``app.routes``, so a route added later is covered without editing this file; so
is every mutating route against each role (viewer, operator, admin).
"""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import APIRouter, FastAPI, WebSocket
from starlette.exceptions import StarletteDeprecationWarning
from starlette.routing import Mount
from starlette.types import Message
from starlette.websockets import WebSocketDisconnect

from events.errors import UserInputError
from serve._sessions import SessionSigner
from serve._task_streams import TaskStreams
from serve.agent_services import AgentServices
from serve.agents_api import agents_router
from serve.app import build_app
from serve.dashboard import SPA_PATHS, STATIC_DIR
from serve.security import COOKIE_NAME, load_or_create_token, loopback_hosts
from serve.services import Services
from serve.sync_api import sync_router
from serve.sync_services import SyncServices
from serve.users import Role, UserStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "t" * 8 + "-test-token-0123456789abcdefghijklmnop"
PORT = 8765
OWN = f"127.0.0.1:{PORT}"
BAD_HOSTS = [
    f"evil.example:{PORT}",
    f"127.0.0.1.evil.example:{PORT}",
    f"localhost.evil:{PORT}",
    "127.0.0.1.evil.example",
    "localhost.evil",
    "127.0.0.1:1",  # our name, someone else's port
]
BAD_ORIGINS = ["http://evil.example", "null", f"http://{OWN}.evil.example", "https://localhost"]
# after=0: a stream the guard wrongly let through ends at once instead of waiting for news.
STREAMS = ["/api/v1/events/stream?after=0&max_events=1", "/api/v1/tasks/r1/stream"]
#: One real file under /static (whichever the dashboard build ships first).
STATIC_FILE = "/static/" + next(
    p.relative_to(STATIC_DIR).as_posix() for p in sorted(STATIC_DIR.rglob("*")) if p.is_file()
)


def inert(cls: Any) -> Any:
    """An implementation of the ABC ``cls`` whose every method fails: the guard answers first."""

    def refuse(*_: object, **__: object) -> Any:
        msg = "the guard let a refused request reach the services"
        raise AssertionError(msg)

    methods = dict.fromkeys(getattr(cls, "__abstractmethods__", ()), refuse)
    return type(f"Inert{cls.__name__}", (cls,), methods)()


def _ws_router() -> APIRouter:
    router = APIRouter()

    @router.websocket("/ws/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    return router


@pytest.fixture
def app(fake: Any) -> FastAPI:
    """The whole app: core routes, sync and agent routers, and a WebSocket route."""
    return build_app(
        fake,
        token=TOKEN,
        allowed_hosts=loopback_hosts(PORT),
        extra_routers=[
            sync_router(inert(SyncServices)),
            agents_router(inert(AgentServices), TaskStreams()),
            _ws_router(),
        ],
    )


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    """A client on 127.0.0.1:PORT that sends no credentials by itself."""
    with TestClient(app, base_url=f"http://{OWN}", follow_redirects=False) as client:
        yield client


def _http_routes(routes: Iterable[Any]) -> Iterator[tuple[str, frozenset[str]]]:
    """(path, methods) of every HTTP route, through included routers.

    FastAPI ≥0.16x keeps an included router as one lazy entry whose routes come from
    ``effective_route_contexts()``; older versions list plain ``APIRoute`` objects.
    """
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            yield from _http_routes(route.effective_route_contexts())
        elif isinstance(route, Mount):
            yield STATIC_FILE, frozenset({"GET"})
        elif getattr(route, "methods", None) and isinstance(getattr(route, "path", None), str):
            yield route.path, frozenset(route.methods)


def _requests(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) for every HTTP route of ``app``; path parameters filled with ``1``."""
    out = [("GET", f"/?token={TOKEN}")]  # the token bootstrap
    for path, methods in _http_routes(app.routes):
        filled = re.sub(r"\{[^}]+\}", "1", path)
        out += [(method, filled) for method in sorted(methods) if (method, filled) not in out]
    return out


def _all_requests() -> list[tuple[str, str]]:
    return _requests(
        build_app(
            inert(Services),
            token=TOKEN,
            allowed_hosts=loopback_hosts(PORT),
            extra_routers=[
                sync_router(inert(SyncServices)),
                agents_router(inert(AgentServices), TaskStreams()),
            ],
        )
    )


ROUTES = _all_requests()
#: What an anonymous visitor may reach: the probe, the login route (and logout, which only
#: clears a cookie), and the dashboard's pages and static files, which show the login page.
PUBLIC = {("GET", "/health"), ("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/logout")}
PUBLIC |= {("GET", re.sub(r":\w+", "1", path)) for path in (*SPA_PATHS, STATIC_FILE)}
PROTECTED = [r for r in ROUTES if r not in PUBLIC and "token=" not in r[1]]


def _bearer(**extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}", **extra}


def _json(**extra: str) -> dict[str, str]:
    return _bearer(**{"Content-Type": "application/json", **extra})


def _error(response: Any) -> str:
    """The guard's error code (a HEAD answer has no body, so it is taken as given)."""
    if response.request.method == "HEAD":
        return "(no body)"
    return str(response.json()["error"])


def test_the_route_table_covers_static_bootstrap_streams_and_routers() -> None:
    """The enumeration really reaches the routes the bar names, so coverage cannot shrink."""
    paths = {path for _, path in ROUTES}
    assert {"/", "/health", STATIC_FILE, f"/?token={TOKEN}"} <= paths
    assert {"/api/v1/events/stream", "/api/v1/tasks/1/stream", "/api/v1/sync/plan"} <= paths
    assert {method for method, _ in ROUTES} >= {"GET", "POST"}


# -- A2: Host allow-list --------------------------------------------------------------


@pytest.mark.parametrize("host", BAD_HOSTS)
def test_foreign_host_is_refused_on_every_route(web: TestClient, fake: Any, host: str) -> None:
    """DNS rebinding: any Host but a loopback name with our port → 403, even with the token."""
    for method, path in ROUTES:
        response = web.request(method, path, headers=_json(Host=host), content=b"{}")
        assert response.status_code == 403, (method, path)
        assert _error(response) in ("forbidden_host", "(no body)"), (method, path)
        assert "set-cookie" not in response.headers
    assert fake.polls == 0


@pytest.mark.parametrize("host", loopback_hosts(PORT))
def test_each_loopback_host_with_our_port_is_accepted(web: TestClient, host: str) -> None:
    """localhost, 127.0.0.1 and [::1] with our port pass (the positive control)."""
    response = web.get("/api/v1/head", headers=_bearer(Host=host))
    assert response.status_code == 200


async def _raw_status(app: FastAPI, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    """Call the ASGI app directly, so the Host header can be absent or doubled."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path.split("?")[0],
        "raw_path": path.split("?")[0].encode(),
        "query_string": path.partition("?")[2].encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", PORT),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


@pytest.mark.parametrize("path", ["/health", "/", f"/?token={TOKEN}", STATIC_FILE, STREAMS[0]])
@pytest.mark.parametrize("hosts", [[], [OWN, "evil.example"], [OWN, OWN]])
def test_missing_or_repeated_host_is_refused(app: FastAPI, path: str, hosts: list[str]) -> None:
    """No Host header, or more than one, is refused like a foreign one."""
    headers = [(b"host", h.encode()) for h in hosts]
    headers.append((b"authorization", f"Bearer {TOKEN}".encode()))
    assert asyncio.run(_raw_status(app, path, headers)) == 403


# -- A3: the token --------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Bearer " + "x" * len(TOKEN), TOKEN])
def test_every_route_but_the_public_ones_needs_a_credential(
    web: TestClient, fake: Any, authorization: str | None
) -> None:
    """Without a credential (a wrong token, or one without "Bearer") every route is 401 but
    /health, the login route and the pages and files that show the login page."""
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    for method, path in PROTECTED:
        response = web.request(method, path, headers=headers, content=b"{}")
        assert response.status_code == 401, (method, path)
        assert _error(response) in ("unauthorized", "(no body)"), (method, path)
    assert fake.polls == 0


def test_health_needs_no_token(web: TestClient) -> None:
    """/health is the one public route (a liveness probe has no token)."""
    assert web.get("/health").status_code == 200


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/health", {}), ("/api/v1/head", {}), ("/api/v1/head", _bearer()), (STATIC_FILE, _bearer())],
)
def test_every_answer_carries_the_security_headers(
    web: TestClient, path: str, headers: dict[str, str]
) -> None:
    """Served or refused, every answer has a strict CSP, nosniff and no framing (A7)."""
    response = web.get(path, headers=headers)
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "access-control-allow-origin" not in response.headers


def test_static_files_are_served_with_the_token(web: TestClient) -> None:
    """The static file the table uses is real: with the token it is served (control)."""
    assert web.get(STATIC_FILE, headers=_bearer()).status_code == 200


def test_api_token_file_is_created_0600_and_a_readable_one_is_refused(tmp_path: Path) -> None:
    """The per-install token is ≥256 bits in a 0600 file; a group-readable file is refused."""
    path = tmp_path / "home" / "token"
    token = load_or_create_token(path)
    assert len(token) >= 43
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_token(path) == token
    path.chmod(0o640)
    with pytest.raises(UserInputError, match="readable by other users"):
        load_or_create_token(path)


def _cookie(web: TestClient) -> str:
    response = web.get(f"/?token={TOKEN}")
    assert response.status_code == 303
    set_cookie = response.headers["set-cookie"]
    assert "HttpOnly" in set_cookie
    assert "SameSite=Strict" in set_cookie
    return str(set_cookie).split(";")[0]


def test_bootstrap_with_a_wrong_token_sets_no_cookie(web: TestClient) -> None:
    """The one-time URL with a wrong token is 401 and sets nothing."""
    response = web.get("/?token=" + "x" * len(TOKEN))
    assert response.status_code == 401
    assert "set-cookie" not in response.headers


# -- A4: CSRF -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
def test_mutation_needs_application_json(web: TestClient, content_type: str) -> None:
    """A "simple" cross-site POST (text/plain, form) cannot mutate, even with the token."""
    headers = _bearer(**({"Content-Type": content_type} if content_type else {}))
    response = web.post("/api/v1/sql", headers=headers, content=b'{"query": "select 1"}')
    assert response.status_code == 403
    assert _error(response) == "forbidden_content_type"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "PROPFIND", "PURGE"])
def test_only_safe_methods_skip_the_mutation_rules(web: TestClient, method: str) -> None:
    """Safe methods are an allow-list: DELETE, PATCH and unknown methods are mutations too."""
    response = web.request(method, "/api/v1/sql", headers=_bearer(), content=b"x")
    assert response.status_code == 403
    assert _error(response) == "forbidden_content_type"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("origin", BAD_ORIGINS)
def test_mutations_from_a_foreign_origin_are_refused(
    web: TestClient, method: str, origin: str
) -> None:
    """DELETE/PATCH/PUT/POST from an evil page (or Origin: null) → 403, token or not."""
    response = web.request(method, "/api/v1/sync/plan", headers=_json(Origin=origin), content=b"{}")
    assert response.status_code == 403
    assert _error(response) == "forbidden_origin"


def test_our_own_origin_may_mutate(web: TestClient) -> None:
    """The dashboard's own origin with the token and JSON runs the mutation (control)."""
    response = web.post(
        "/api/v1/sql",
        headers=_json(Origin=f"http://{OWN}"),
        json={"query": "select 1 as one"},
    )
    assert response.status_code == 200
    assert response.json()["rows"] == [[1]]


def test_the_session_cookie_alone_cannot_mutate(web: TestClient) -> None:
    """The cookie reads by itself; a mutation with it needs the CSRF header and an Origin."""
    cookie = _cookie(web)
    assert web.get("/api/v1/head", headers={"Cookie": cookie}).status_code == 200
    for extra in ({}, {"Origin": f"http://{OWN}"}, {"X-Synapse-CSRF": "1"}):
        response = web.post(
            "/api/v1/sql",
            headers={"Cookie": cookie, "Content-Type": "application/json", **extra},
            json={"query": "select 1"},
        )
        assert response.status_code == 403, extra
        assert _error(response) in ("forbidden_csrf", "forbidden_origin")


# -- A5: the live streams and WebSockets ----------------------------------------------


@pytest.mark.parametrize("path", STREAMS)
@pytest.mark.parametrize("origin", BAD_ORIGINS)
def test_streams_refuse_a_foreign_origin_even_with_the_cookie(
    web: TestClient, fake: Any, path: str, origin: str
) -> None:
    """An evil page's EventSource (cookie sent along) gets 403, not the event feed."""
    cookie = _cookie(web)
    response = web.get(path, headers={"Cookie": cookie, "Origin": origin})
    assert response.status_code == 403
    assert _error(response) == "forbidden_origin"
    assert fake.polls == 0


@pytest.mark.parametrize("path", STREAMS)
def test_streams_need_a_credential(web: TestClient, fake: Any, path: str) -> None:
    """Without cookie or token the streams answer 401 and nothing is polled."""
    response = web.get(path, headers={"Origin": f"http://{OWN}"})
    assert response.status_code == 401
    assert fake.polls == 0


def test_event_stream_with_the_cookie_streams_redacted_events(web: TestClient, fake: Any) -> None:
    """Same-origin with the cookie streams (control), with secrets masked by key and shape."""
    by_key, by_shape = "hunter2-plain-words", "ghp_" + "C4nary0Secret1Value2Xyz3456789abcd"
    fake.events[0] = fake.events[0].model_copy(
        update={"body": {"api_key": by_key, "note": f"see {by_shape}", "n": 1}}
    )
    cookie = _cookie(web)
    response = web.get(
        "/api/v1/events/stream?after=0&max_events=1",
        headers={"Cookie": cookie, "Origin": f"http://{OWN}"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "id: 1" in response.text
    assert '"n":1' in response.text
    assert by_key not in response.text
    assert by_shape not in response.text


def test_task_stream_route_is_reached_with_credentials(web: TestClient) -> None:
    """With the token, the task stream route itself answers (404: no such stream)."""
    response = web.get(STREAMS[1], headers=_bearer())
    assert response.status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {TOKEN}", "Origin": "http://evil.example"},
        {"Authorization": f"Bearer {TOKEN}", "Origin": "null"},
        {"Authorization": f"Bearer {TOKEN}", "Host": "evil.example"},
        {"Origin": f"http://{OWN}"},
    ],
)
def test_websocket_handshake_is_checked_and_closed_1008(
    web: TestClient, headers: dict[str, str]
) -> None:
    """A cross-origin, foreign-Host or token-less WebSocket is closed with 1008."""
    sent = {"Host": OWN, **headers}
    with (
        pytest.raises(WebSocketDisconnect) as info,
        web.websocket_connect("/ws/echo", headers=sent),
    ):
        pass
    assert info.value.code == 1008


def test_websocket_with_the_token_is_accepted(web: TestClient) -> None:
    """The positive control for the handshake checks (our Host, our Origin, the token)."""
    headers = _bearer(Host=OWN, Origin=f"http://{OWN}")
    with web.websocket_connect("/ws/echo", headers=headers) as ws:
        assert ws.receive_text() == "hello"


def test_no_cookie_is_named_like_ours_without_the_bootstrap(web: TestClient) -> None:
    """A forged cookie with our name but not our value is not a credential."""
    response = web.get("/api/v1/head", headers={"Cookie": f"{COOKIE_NAME}=forged"})
    assert response.status_code == 401


# -- roles: every mutating route, walked with each role ---------------------------------

#: POST routes that only read (the query travels in the body): any role.
READ_POSTS = {"/api/v1/sql", "/api/v1/exports", "/api/v1/sync/plan"}
#: What an operator may do besides reading: resolve, approve, apply, revert, resume, tasks,
#: acknowledge alerts and workflows (but not the execute lane, nor anything undeclared: those
#: are admin's).
OPERATOR_POSTS = {
    "/api/v1/sync/apply",
    "/api/v1/sync/revert/1",
    "/api/v1/sync/approve-deletions/1",
    "/api/v1/sync/approvals/1/1",
    "/api/v1/sync/resume/1",
    "/api/v1/conflicts/1/resolve",
    "/api/v1/tasks",
    "/api/v1/claude/plan",
    "/api/v1/claude/code",
    "/api/v1/gemini/analyze",
    "/api/v1/gemini/review",
    "/api/v1/workflow",
    "/api/v1/workflows/1/reject",
    "/api/v1/alerts/1/acknowledge",
}
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PEOPLE = {"vera": Role.VIEWER, "otto": Role.OPERATOR, "ada": Role.ADMIN}


@pytest.fixture
def signer(tmp_path: Path) -> SessionSigner:
    """Sessions over a real users file holding one user per role."""
    users = UserStore(tmp_path / "users.json", CHEAP_HASHER)
    for name, role in PEOPLE.items():
        users.add(name, role, f"{name}-password")
    return SessionSigner(b"k" * 32, users)


@pytest.fixture
def roles_web(signer: SessionSigner, fake: Any) -> Iterator[TestClient]:
    """The whole app (inert sync and agent services) with login sessions."""
    app = build_app(
        fake,
        token=TOKEN,
        allowed_hosts=loopback_hosts(PORT),
        extra_routers=[
            sync_router(inert(SyncServices)),
            agents_router(inert(AgentServices), TaskStreams()),
        ],
        sessions=signer,
    )
    with TestClient(app, base_url=f"http://{OWN}", follow_redirects=False) as client:
        yield client


def _as(signer: SessionSigner, name: str) -> dict[str, str]:
    value, _ = signer.issue(name, PEOPLE[name], 1)
    return {"Authorization": f"Bearer {value}", "Content-Type": "application/json"}


def _refused_for_role(response: Any) -> bool:
    return response.status_code == 403 and bool(response.json().get("error") == "forbidden_role")


MUTATING = [r for r in PROTECTED if r[0] not in ("GET", "HEAD", "OPTIONS")]


def test_the_role_walk_covers_every_declared_route() -> None:
    """The tables name only routes the app has, and the walk reaches them all."""
    paths = {path for _, path in MUTATING}
    assert paths >= READ_POSTS | OPERATOR_POSTS
    assert "/api/v1/codex/execute" in paths - READ_POSTS - OPERATOR_POSTS


@pytest.mark.parametrize("name", sorted(PEOPLE))
def test_each_role_reaches_exactly_its_mutating_routes(
    roles_web: TestClient, signer: SessionSigner, name: str
) -> None:
    """Viewer: only the read-only POSTs; operator: those plus the operator routes; admin:
    every route (anything undeclared is admin's, so a new route fails closed)."""
    allowed = {
        "vera": READ_POSTS,
        "otto": READ_POSTS | OPERATOR_POSTS,
        "ada": {path for _, path in MUTATING},
    }[name]
    headers = _as(signer, name)
    for method, path in MUTATING:
        response = roles_web.request(method, path, headers=headers, content=b"{}")
        assert response.status_code != 401, (name, method, path)
        assert _refused_for_role(response) == (path not in allowed), (name, method, path)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/tasks", {"capability": "execute", "prompt": "x", "argv": ["ls"]}),
        ("/api/v1/workflow", {"prompt": "x", "approval_required": False}),
    ],
)
def test_the_execute_lane_is_admin_only_whatever_the_route(
    roles_web: TestClient, signer: SessionSigner, path: str, body: dict[str, Any]
) -> None:
    """An operator may run tasks and gated workflows, but not a command (execute) nor a
    workflow that reaches execute without the approval gate; an admin may."""
    assert _refused_for_role(roles_web.post(path, headers=_as(signer, "otto"), json=body))
    assert not _refused_for_role(roles_web.post(path, headers=_as(signer, "ada"), json=body))


# -- the page's cookie session -----------------------------------------------------------


def _login_cookie(web: TestClient, name: str = "otto") -> str:
    response = web.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": name, "password": f"{name}-password"},
    )
    assert response.status_code == 200, response.text
    return str(response.headers["set-cookie"]).split(";")[0]


def test_a_cookie_mutation_with_the_csrf_header_json_and_our_origin_runs(
    roles_web: TestClient,
) -> None:
    """The page's way: cookie + X-Synapse-CSRF: 1 + JSON + our Origin mutates (control)."""
    headers = {"Cookie": _login_cookie(roles_web), "X-Synapse-CSRF": "1", "Origin": f"http://{OWN}"}
    response = roles_web.post("/api/v1/sql", headers=headers, json={"query": "select 1 as one"})
    assert response.status_code == 200
    bad = {**headers, "X-Synapse-CSRF": "yes"}
    response = roles_web.post("/api/v1/sql", headers=bad, json={"query": "select 1"})
    assert _error(response) == "forbidden_csrf"


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data"])
def test_the_token_route_takes_exactly_a_form(web: TestClient, content_type: str) -> None:
    """The one form-bodied mutation is the OAuth2 grant, and it takes nothing but a form."""
    response = web.post(
        "/api/v1/auth/token",
        headers={"Content-Type": content_type},
        content=b"grant_type=password&username=a&password=b",
    )
    assert response.status_code == 403
    assert _error(response) == "forbidden_content_type"


def test_the_token_route_refuses_a_foreign_origin(roles_web: TestClient) -> None:
    """A cross-site login form (login CSRF) is refused like any foreign-origin request."""
    response = roles_web.post(
        "/api/v1/auth/token",
        headers={"Origin": "http://evil.example"},
        data={"grant_type": "password", "username": "otto", "password": "otto-password"},
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_an_anonymous_visitor_gets_the_login_page_and_nothing_else(web: TestClient) -> None:
    """/ answers the app shell (whose Login view is all it shows without a session); the
    data, the docs and the OpenAPI schema all need a credential."""
    page = web.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for path in ("/api/v1/head", "/api/v1/auth/me", "/docs", "/openapi.json", "/metrics"):
        assert web.get(path).status_code == 401, path


def test_a_mutating_route_that_declares_no_role_is_admin_only(
    signer: SessionSigner, fake: Any
) -> None:
    """A route added later without a role fails closed: admin's for mutations, anyone's to
    read."""
    router = APIRouter()

    @router.post("/api/v1/something-new")
    async def something_new() -> dict[str, bool]:
        return {"done": True}

    @router.get("/api/v1/something-new")
    async def read_something_new() -> dict[str, bool]:
        return {"read": True}

    app = build_app(
        fake,
        token=TOKEN,
        allowed_hosts=loopback_hosts(PORT),
        extra_routers=[router],
        sessions=signer,
    )
    with TestClient(app, base_url=f"http://{OWN}") as client:
        for name in ("vera", "otto"):
            response = client.post("/api/v1/something-new", headers=_as(signer, name), json={})
            assert _refused_for_role(response), name
            assert client.get("/api/v1/something-new", headers=_as(signer, name)).status_code == 200
        assert client.post("/api/v1/something-new", headers=_as(signer, "ada"), json={}).json() == {
            "done": True
        }
