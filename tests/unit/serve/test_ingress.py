"""serve.ingress: the environment that turns direct ingress on, and the proxy's port."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from serve import ingress


def test_proxy_mode_asks_for_nothing_and_keeps_the_port() -> None:
    assert ingress.ray_env("proxy", 8765, 9000) == {}
    assert ingress.proxy_port("proxy", 8765) == 8765


def test_direct_mode_pins_the_replica_ports_to_the_configured_ones() -> None:
    env = ingress.ray_env("direct", 8765, 9000)
    assert env["RAY_SERVE_THROUGHPUT_OPTIMIZED"] == "1"
    assert env["RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT"] == "8765"
    assert int(env["RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT"]) == 8765 + ingress.SPARE_PORTS
    assert env["RAY_SERVE_DIRECT_INGRESS_MIN_GRPC_PORT"] == "9000"
    # No 30 s drain on shutdown, and a restarted replica takes its own port back.
    assert env["RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S"] == "0"
    assert env["RAY_SERVE_PORT_QUARANTINE_S"] == "0"
    assert "RAY_SERVE_DIRECT_INGRESS_MIN_GRPC_PORT" not in ingress.ray_env("direct", 8765, None)


@given(
    st.integers(min_value=1024, max_value=60000),
    st.lists(st.integers(min_value=0, max_value=2 * ingress.SPARE_PORTS), max_size=6),
)
def test_the_proxy_takes_the_first_probed_port_outside_every_replica_range(
    port: int, offsets: list[int]
) -> None:
    """Probed ports inside [port, port + SPARE] or [9000, 9000 + SPARE] are skipped."""
    candidates = [port + o for o in offsets] + [9000 + o for o in offsets] + [61000]
    handed = iter(candidates)
    chosen = ingress.proxy_port(
        "direct", port, keep_clear=(9000,), probe=lambda _host: next(handed)
    )
    inside = [
        range(port, port + ingress.SPARE_PORTS + 1),
        range(9000, 9000 + ingress.SPARE_PORTS + 1),
    ]
    assert not any(chosen in r for r in inside)
    assert chosen == next(c for c in candidates if not any(c in r for r in inside))


def test_a_free_port_inside_a_replica_range_is_skipped() -> None:
    """The OS may hand back the port just probed for the replica; the proxy must not take it."""
    handed = iter([8765, 8768, 9003, 40123])  # the replica's own, two spares, then a clear one
    chosen = ingress.proxy_port(
        "direct", 8765, keep_clear=(9000,), probe=lambda _host: next(handed)
    )
    assert chosen == 40123
