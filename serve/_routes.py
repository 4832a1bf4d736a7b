"""Enumerate an app's effective routes.

FastAPI ≥0.16x keeps included routers as lazy ``_IncludedRouter`` entries in ``app.routes``
instead of flattening them, so code that needs every endpoint (metrics labels, the route-guard
tests) must walk them through :func:`fastapi.routing.iter_route_contexts`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Mount

__all__ = ["Endpoint", "endpoints"]


@dataclass(frozen=True)
class Endpoint:
    """One reachable route: its path template, methods, regex and whether it is a mount."""

    path: str
    methods: frozenset[str]
    regex: re.Pattern[str]
    is_mount: bool


def endpoints(routes: Sequence[BaseRoute]) -> list[Endpoint]:
    """Return every effective route under ``routes``, included routers flattened."""
    found = []
    for ctx in iter_route_contexts(routes):
        regex = getattr(ctx, "path_regex", None)
        if regex is None:
            continue
        is_mount = isinstance(ctx.original_route, Mount)
        path = ctx.path if is_mount else (ctx.path_format or ctx.path)
        found.append(Endpoint(str(path), frozenset(ctx.methods or ()), regex, is_mount))
    return found
