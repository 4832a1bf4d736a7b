"""Print the HTTP API's OpenAPI schema, from the app built in this process (no server, no Ray).

The routers are the ones ``serve/deployments.py`` mounts; their services are stand-ins that
are never called, because building the schema only reads the routes' signatures and models.
``web/scripts/gen-api.sh`` turns the output into ``web/src/api/schema.d.ts``.
"""

from __future__ import annotations

import json
import sys
from typing import Any, cast

from serve.agent_services import AgentServices
from serve.agents_api import agents_router
from serve.app import build_app
from serve.security import loopback_hosts
from serve.services import Services
from serve.sync_api import sync_router
from serve.sync_services import SyncServices


class _NeverCalled:
    """Stands in for a backend; any use means the schema dump ran a route, which it must not."""

    def __getattr__(self, name: str) -> Any:
        msg = f"the schema dump touched the backend ({name})"
        raise AssertionError(msg)


def main() -> None:
    """Write the schema as sorted, indented JSON to stdout."""
    backend = _NeverCalled()
    app = build_app(
        cast(Services, backend),
        token="schema-dump-" + "x" * 32,
        allowed_hosts=loopback_hosts(8000),
        extra_routers=[
            agents_router(cast(AgentServices, backend)),
            sync_router(cast(SyncServices, backend)),
        ],
    )
    sys.stdout.write(json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
