"""The dashboard (a React single-page app), its static assets and the API docs page.

The app is built from ``web/`` into ``serve/static/app`` and committed, so serving it needs no
Node. Pages contain no inline script: everything runs from files under ``/static`` so the
strict CSP (``default-src 'self'``) holds. Data reaches the page only through ``/api/v1`` and
React renders it as text, never as HTML.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from starlette.staticfiles import StaticFiles

__all__ = [
    "APP_DIR",
    "DOCS_ASSETS",
    "DOCS_CSP",
    "SPA_PATHS",
    "STATIC_DIR",
    "dashboard_router",
    "mount_static",
]

STATIC_DIR = Path(__file__).resolve().parent / "static"
APP_DIR = STATIC_DIR / "app"
#: The app's client-side routes (web/src/routes.ts); each answers with the app's index.html so
#: a reload or a shared link lands on the same view. Listed, not a catch-all, so an unknown
#: path (or API route) still answers 404 rather than a page.
#: A ``:name`` segment (React Router's syntax) is a path parameter, answered for any value.
SPA_PATHS = (
    "/",
    "/clients",
    "/events",
    "/conflicts",
    "/approvals",
    "/sync",
    "/sql",
    "/agents",
    "/workflows",
    "/workflows/:id",
    "/logs",
    "/alerts",
)
#: Swagger UI's files, copied from the ``swagger-ui-dist`` npm package into the app's build
#: (web/vite.config.ts), so ``/docs`` works offline and under ``default-src 'self'``.
DOCS_ASSETS = "/static/app/docs"
# Swagger UI sets style attributes at run time, so styles need 'unsafe-inline'; scripts do
# not: the page's own code is /static/docs.js. Its schema and spec images are data: URLs.
DOCS_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'"
)
_DOCS_HTML = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Synapse API</title>
<link rel="icon" type="image/svg+xml" href="/static/app/favicon.svg">
<link rel="stylesheet" href="{DOCS_ASSETS}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{DOCS_ASSETS}/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body>
</html>
"""


def _route_path(path: str) -> str:
    """The FastAPI path of an app route: ``/workflows/:id`` becomes ``/workflows/{id}``."""
    return re.sub(r":(\w+)", r"{\1}", path)


def dashboard_router() -> APIRouter:
    """Build the router for the dashboard's pages (``SPA_PATHS``) and ``GET /docs``."""
    router = APIRouter(include_in_schema=False)

    async def dashboard() -> FileResponse:
        """Serve the dashboard app; it routes on the client from here."""
        return FileResponse(APP_DIR / "index.html", media_type="text/html")

    for path in SPA_PATHS:
        router.add_api_route(_route_path(path), dashboard, methods=["GET"])

    @router.get("/docs")
    async def docs() -> HTMLResponse:
        """Serve Swagger UI (shipped in the build) for ``/openapi.json``."""
        return HTMLResponse(_DOCS_HTML)

    return router


def mount_static(app: FastAPI) -> None:
    """Serve ``serve/static`` under ``/static``."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
