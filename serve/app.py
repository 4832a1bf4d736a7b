"""The FastAPI application: a builder, never a module-level app.

``build_app`` is what ``serve/deployments.py`` hands to ``@serve.ingress``; tests call it with a
fake :class:`~serve.services.Services`. Every route, including ones from ``extra_routers``, sits
behind :class:`~serve.security.SecurityGuard` and the role check of :mod:`serve.auth`, so
the only answers without a credential are ``/health``, the login route and the dashboard's
pages and static files (which show the login page).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from serve._api import api_router
from serve._errors import install_error_handlers
from serve._sessions import LoginThrottle, SessionSigner
from serve.auth import auth_router, enforce_role, install_role_errors
from serve.dashboard import DOCS_CSP, SPA_PATHS, dashboard_router, mount_static
from serve.logs_api import logs_router
from serve.metrics import HttpMetrics, MetricsMiddleware
from serve.ops_api import ops_api_router
from serve.schemas import ComponentHealth, HealthReport
from serve.security import SecurityGuard
from serve.services import Services
from serve.sse import SseSettings
from serve.users import UserStore

__all__ = ["build_app"]


def _ops_router(services: Services, metrics: HttpMetrics) -> APIRouter:
    router = APIRouter(tags=["ops"])

    @router.get("/health", response_model=HealthReport)
    async def health() -> JSONResponse:
        """Report each component; 503 when the event store is down. Needs no token."""
        try:
            report = await services.health()
        except Exception as e:  # noqa: BLE001 - health must answer, whatever broke
            report = HealthReport(
                components={"store": ComponentHealth(status="down", detail=type(e).__name__)}
            )
        body = {"status": report.status, **report.model_dump(mode="json")}
        return JSONResponse(body, status_code=503 if report.is_store_down else 200)

    @router.get("/metrics", response_class=Response)
    async def prometheus() -> Response:
        """Prometheus exposition: HTTP metrics plus whatever the actors report."""
        text = metrics.render(await services.metrics_text())
        return Response(text, media_type=CONTENT_TYPE_LATEST)

    return router


def build_app(
    services: Services,
    *,
    token: str,
    allowed_hosts: Sequence[str],
    allowed_origins: Sequence[str] = (),
    extra_routers: Sequence[APIRouter] = (),
    sse: SseSettings = SseSettings(),  # noqa: B008 - frozen dataclass, safe default
    sessions: SessionSigner | None = None,
    throttle: LoginThrottle | None = None,
    logs_dir: Path | None = None,
) -> FastAPI:
    """Build the HTTP API, dashboard and docs over ``services``.

    Args:
        services: the backend (Ray handles in production, fakes in tests).
        token: the per-install bearer token (see ``load_or_create_token``).
        allowed_hosts: exact ``Host`` values accepted (see ``loopback_hosts``).
        allowed_origins: extra browser origins accepted besides our own.
        extra_routers: more routes (sync, agents); they get the same guard.
        sse: tuning for event streams.
        sessions: signs and checks login sessions over the users file (default: no users,
            a key of this process only, so only the install token gets in).
        throttle: the failed-login backoff (default: a fresh one).
        logs_dir: ``$SYNAPSE_HOME/logs`` on this host, served by ``GET /api/v1/logs``
            (None: that route answers an empty page).

    Returns:
        The application.
    """
    if sessions is None:
        sessions = SessionSigner(secrets.token_bytes(32), UserStore(None))
    app = FastAPI(
        title="Synapse",
        version="1",
        docs_url=None,  # our own /docs page, without inline script
        redoc_url=None,
        dependencies=[Depends(enforce_role)],
    )
    metrics = HttpMetrics()
    app.include_router(_ops_router(services, metrics))
    # ``is None``, not ``or``: an empty throttle has len() 0 and would read as false.
    app.include_router(auth_router(sessions, LoginThrottle() if throttle is None else throttle))
    app.include_router(api_router(services, sse))
    app.include_router(ops_api_router(services))
    app.include_router(logs_router(logs_dir))
    for router in extra_routers:
        app.include_router(router)
    app.include_router(dashboard_router())
    mount_static(app)
    install_error_handlers(app)
    install_role_errors(app)
    # add_middleware prepends, so the guard added last is the outermost layer.
    app.add_middleware(MetricsMiddleware, metrics=metrics, routes=app.router.routes)
    app.add_middleware(
        SecurityGuard,
        token=token,
        allowed_hosts=allowed_hosts,
        allowed_origins=allowed_origins,
        csp_overrides={"/docs": DOCS_CSP},
        sessions=sessions,
        public_pages=SPA_PATHS,
        public_prefixes=("/static/",),
    )
    return app
