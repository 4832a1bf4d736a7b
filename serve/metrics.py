"""Prometheus metrics for the HTTP surface, in a registry owned by one app.

A registry per app (not the process-global one) keeps several apps in one process, such as
tests, from colliding on metric names, and keeps Ray's own metrics out of our exposition.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serve._routes import Endpoint, endpoints

__all__ = [
    "HttpMetrics",
    "MetricsMiddleware",
    "route_template",
]

_UNMATCHED = "<unmatched>"


class HttpMetrics:
    """Request counters and latency histograms labelled by route template and status."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "synapse_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "synapse_http_request_duration_seconds",
            "Time from request to the end of the answer, by route template and method.",
            ("route", "method"),
            registry=self.registry,
        )

    def render(self, extra: bytes | None = None) -> bytes:
        """Return the exposition text, with ``extra`` text from other processes appended."""
        text = generate_latest(self.registry)
        if extra:
            text += extra if extra.endswith(b"\n") else extra + b"\n"
        return text


def route_template(table: list[Endpoint], path: str) -> str:
    """Return the path template of the route that would serve ``path``.

    Templates, never raw paths, become labels so that arbitrary URLs cannot blow up the
    number of time series.
    """
    for endpoint in table:
        if endpoint.regex.match(path):
            return endpoint.path
    return _UNMATCHED


class MetricsMiddleware:
    """ASGI middleware recording every HTTP request, rejected ones included.

    Args:
        app: the wrapped application.
        metrics: where to record.
        routes: the app's routes, used only to find templates.
    """

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics, routes: list[BaseRoute]) -> None:
        self.app = app
        self._metrics = metrics
        self._routes = routes
        self._table: list[Endpoint] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request and count it under its route template and final status."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            if self._table is None:  # routes are complete once the app serves
                self._table = endpoints(self._routes)
            route = route_template(self._table, scope["path"])
            method = scope["method"]
            self._metrics.requests.labels(route, method, str(status)).inc()
            self._metrics.latency.labels(route, method).observe(time.perf_counter() - start)
