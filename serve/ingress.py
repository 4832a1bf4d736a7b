"""How requests reach the API replica: straight in (direct ingress) or through Serve's proxy.

By default Ray Serve puts a proxy actor in front of every app: client → proxy → replica, one
more process, one more serialisation each way and, on a small machine, one more process
competing for the cores. Ray ≥ 2.56 can let the ingress replica listen itself ("throughput
optimized" Serve, with direct ingress). BENCHMARKS.md measures both paths in one run with a
Serve app that only forwards to the upstream (on 2 cores at 16 concurrent requests the proxy
path added several times the direct path's latency).

Serve reads these switches from environment variables when its controller and replicas
import their constants, so :func:`ray_env` hands them to the job's ``runtime_env`` (Serve's
processes inherit it); nothing else in Ray needs them. The replica takes its ports from a
small range that starts at the configured port, so the configured port is the replica's own.
Serve still starts its proxy, so :func:`proxy_port` moves that one to a free loopback port
(both bind the same host; the API guard checks Host, Origin and the token on either).

Where the app is reachable is then read back from Serve's own routing table
(:func:`serve.deployments.routed_port`) instead of assumed: a cluster this process did not
configure (``synapse up`` joining someone else's ``ray start``) keeps its proxy, and the URL
is still right.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Final, Literal

__all__ = ["SPARE_PORTS", "Ingress", "free_port", "proxy_port", "ray_env"]

Ingress = Literal["direct", "proxy"]

#: Ports after the configured one a replica may take when it is busy (another app's replica,
#: such as the benchmark's forward-only app, or a port held by something else).
SPARE_PORTS: Final = 8


def ray_env(ingress: Ingress, http_port: int, grpc_port: int | None) -> dict[str, str]:
    """Environment variables that make Serve's replicas listen on ``http_port`` themselves.

    Args:
        ingress: ``"direct"`` to switch direct ingress on; ``"proxy"`` returns nothing.
        http_port: the HTTP port the API must answer on.
        grpc_port: the gRPC port, or None when gRPC is off.
    """
    if ingress != "direct":
        return {}
    env = {
        "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
        "RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT": str(http_port),
        "RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT": str(http_port + SPARE_PORTS),
        # Ray's default holds a stopping replica 30 s for an external load balancer to notice;
        # there is none here, and `synapse down` should not wait for it.
        "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "0",
        # A restarted replica takes its port back at once instead of the next one.
        "RAY_SERVE_PORT_QUARANTINE_S": "0",
    }
    if grpc_port is not None:
        env["RAY_SERVE_DIRECT_INGRESS_MIN_GRPC_PORT"] = str(grpc_port)
        env["RAY_SERVE_DIRECT_INGRESS_MAX_GRPC_PORT"] = str(grpc_port + SPARE_PORTS)
    return env


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS reports free on ``host`` right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def proxy_port(
    ingress: Ingress,
    port: int,
    host: str = "127.0.0.1",
    *,
    keep_clear: tuple[int, ...] = (),
    probe: Callable[[str], int] = free_port,
) -> int:
    """The port to give Serve's proxy: ``port`` itself, or a free one when the replica takes it.

    The free port is never in a replica's range (``port`` or any of ``keep_clear`` and the
    :data:`SPARE_PORTS` after each): a port just probed free may be one of those, and a proxy
    sitting on it would push the replica off the configured port.
    """
    if ingress != "direct":
        return port
    ranges = [range(p, p + SPARE_PORTS + 1) for p in (port, *keep_clear)]
    while True:  # ends: the OS hands out ports across a range far wider than ours
        free = probe(host)
        if not any(free in r for r in ranges):
            return free
