"""The dashboard app as Python serves it: the committed build of web/, behind the guard."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from serve.dashboard import APP_DIR, DOCS_ASSETS, SPA_PATHS, STATIC_DIR
from serve.security import COOKIE_NAME

REPO = Path(__file__).resolve().parents[3]
_JS = {"text/javascript", "application/javascript"}


class _Assets(HTMLParser):
    """Collects script and stylesheet references, and any inline script body."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self._in_script = True
            if found.get("src"):
                self.scripts.append(str(found["src"]))
        if tag == "link" and found.get("rel") == "stylesheet":
            self.styles.append(str(found["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)


def _parse(html: str) -> _Assets:
    parser = _Assets()
    parser.feed(html)
    return parser


def _logged_in(client: Any, token: str) -> Any:
    bootstrap = client.get(f"/?token={token}", follow_redirects=False)
    assert bootstrap.status_code == 303
    assert COOKIE_NAME in bootstrap.headers["set-cookie"]
    return client


def test_token_url_logs_in_and_every_view_url_serves_the_app(client: Any, token: str) -> None:
    """The one-time token URL sets the cookie; each client-side route answers the app (to an
    anonymous visitor too: its Login view), while the data needs the cookie."""
    assert client.get("/api/v1/head").status_code == 401
    _logged_in(client, token)
    built = (APP_DIR / "index.html").read_text()
    for path in SPA_PATHS:
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert page.text == built
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        assert page.headers["x-content-type-options"] == "nosniff"


def test_the_page_has_no_inline_script_and_its_assets_load_with_their_types(
    client: Any,
    token: str,
) -> None:
    """Scripts and styles are same-origin files with JS/CSS types (CSP and nosniff hold)."""
    _logged_in(client, token)
    assets = _parse(client.get("/").text)
    assert assets.inline == []
    assert assets.scripts
    assert assets.styles
    for src in assets.scripts:
        assert src.startswith("/static/app/assets/"), src
        answer = client.get(src)
        assert answer.status_code == 200
        assert answer.headers["content-type"].split(";")[0] in _JS
        assert answer.headers["content-security-policy"].startswith("default-src 'self'")
    for href in assets.styles:
        answer = client.get(href)
        assert answer.status_code == 200
        assert answer.headers["content-type"].split(";")[0] == "text/css"


def test_unknown_paths_are_not_answered_with_the_app(client: Any, token: str) -> None:
    """Only the listed views fall back to the app; anything else (and the API) stays 404."""
    _logged_in(client, token)
    assert client.get("/nope").status_code == 404
    assert client.get("/api/v1/nope").status_code == 404
    assert client.get("/events/extra").status_code == 404


def test_served_views_match_the_apps_routes() -> None:
    """SPA_PATHS lists exactly the routes web/src/routes.ts declares (no view without a URL)."""
    routes = (REPO / "web" / "src" / "routes.ts").read_text()
    block = routes.split("export const ROUTES = {", 1)[1].split("}", 1)[0]
    declared = re.findall(r':\s*"([^"]+)"', block)
    assert sorted(declared) == sorted(SPA_PATHS)


def test_the_committed_bundle_ships_no_source_maps_and_no_cdn() -> None:
    """The build is self-contained: no source maps, no off-site script or style URLs."""
    files = [p for p in APP_DIR.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix == ".map"]
    for page in files:
        if page.suffix in {".html", ".css"}:
            assert not re.search(r"""(src|href)=["']?https?://""", page.read_text()), page


def test_the_approvals_sync_and_sql_views_have_their_own_urls(client: Any, token: str) -> None:
    """/approvals, /sync and /sql answer the app, so a reload or a shared link lands there."""
    _logged_in(client, token)
    built = (APP_DIR / "index.html").read_text()
    for path in ("/approvals", "/sync", "/sql"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.text == built


def test_docs_load_only_same_origin_assets_under_a_strict_csp(client: Any, token: str) -> None:
    """/docs ships Swagger UI itself: same-origin files, no inline script, no CDN in its CSP."""
    _logged_in(client, token)
    page = client.get("/docs")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert csp.startswith("default-src 'self'")
    assert "http" not in csp
    assert "script-src" not in csp  # scripts fall back to default-src 'self'
    assets = _parse(page.text)
    assert assets.inline == []
    assert assets.scripts == [f"{DOCS_ASSETS}/swagger-ui-bundle.js", "/static/docs.js"]
    assert assets.styles == [f"{DOCS_ASSETS}/swagger-ui.css"]
    for src in assets.scripts:
        answer = client.get(src)
        assert answer.status_code == 200, src
        assert answer.headers["content-type"].split(";")[0] in _JS
    for href in assets.styles:
        answer = client.get(href)
        assert answer.status_code == 200, href
        assert answer.headers["content-type"].split(";")[0] == "text/css"
    bundle = client.get(f"{DOCS_ASSETS}/swagger-ui-bundle.js").text
    assert "SwaggerUIBundle" in bundle
    assert "/openapi.json" in (STATIC_DIR / "docs.js").read_text()


def test_a_shared_link_with_a_parameter_shows_the_login_page_to_an_anonymous_visitor(
    client: Any,
) -> None:
    """``/workflows/:id`` is a page: anyone gets the app (its Login view) for one segment of
    any value, never for a deeper path, and the data behind it still needs a credential."""
    built = (APP_DIR / "index.html").read_text()
    page = client.get("/workflows/wf-20261207-abc")
    assert page.status_code == 200
    assert page.text == built
    assert client.get("/workflows/wf-1/steps").status_code in (401, 404)
    assert client.get("/api/v1/workflows/wf-1").status_code == 401
