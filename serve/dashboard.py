"""The dashboard page, its static assets and the API docs page.

Pages contain no inline script: everything runs from files under ``/static`` so the strict
CSP (``default-src 'self'``) holds. Data reaches the page only through ``/api/v1`` and is
written with ``textContent``, never as HTML.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from starlette.staticfiles import StaticFiles

__all__ = ["DOCS_CSP", "STATIC_DIR", "dashboard_router", "mount_static"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
_SWAGGER = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
# Swagger UI comes from its CDN; the page's own code is /static/docs.js (no inline script).
DOCS_CSP = (
    "default-src 'self'; script-src 'self' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data:; "
    "frame-ancestors 'none'"
)
_DOCS_HTML = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Synapse API</title>
<link rel="stylesheet" href="{_SWAGGER}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{_SWAGGER}/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body>
</html>
"""


def dashboard_router() -> APIRouter:
    """Build the router for ``GET /`` (the dashboard) and ``GET /docs`` (Swagger UI)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def dashboard() -> FileResponse:
        """Serve the dashboard page."""
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @router.get("/docs")
    async def docs() -> HTMLResponse:
        """Serve Swagger UI for ``/openapi.json``."""
        return HTMLResponse(_DOCS_HTML)

    return router


def mount_static(app: FastAPI) -> None:
    """Serve ``serve/static`` under ``/static``."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
