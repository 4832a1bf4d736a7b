"""Routes from the agents config choose the balancer and the agents per capability."""

from __future__ import annotations

import pytest

from actors.agent_stream import Capability
from actors.agents.config import AgentConfig, AgentsConfig, RouteConfig
from actors.gateway.config import GatewayConfig
from actors.gateway_service import with_routes
from events.errors import ActorError


def _agents(**routes: RouteConfig) -> AgentsConfig:
    agents = tuple(
        AgentConfig(name=n, backend="scripted", capabilities=tuple(Capability))
        for n in ("a", "b", "c")
    )
    return AgentsConfig(agents=agents, routes={Capability(k): v for k, v in routes.items()})


def test_routes_set_balancer_and_members_per_capability() -> None:
    """A review route with least_response_time over [b, c] reaches the router config."""
    config = with_routes(
        GatewayConfig(),
        _agents(review=RouteConfig(strategy="least_response_time", agents=("b", "c"))),
    )
    assert config.route_balancers == {"review": "least_response_time"}
    assert config.route_agents == {"review": ("b", "c")}


def test_weighted_means_smooth_weighted_and_empty_list_means_all() -> None:
    """The default 'weighted' strategy maps to smooth weighted round robin; no list = all."""
    config = with_routes(GatewayConfig(), _agents(plan=RouteConfig()))
    assert config.route_balancers == {"plan": "smooth_weighted"}
    assert "plan" not in config.route_agents


def test_unknown_strategy_is_a_clear_error() -> None:
    """A typo in a route's strategy fails at start with the valid names."""
    with pytest.raises(ActorError, match="unknown strategy"):
        with_routes(GatewayConfig(), _agents(code=RouteConfig(strategy="fastest")))
