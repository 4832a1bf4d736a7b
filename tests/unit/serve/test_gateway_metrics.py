"""Gateway metrics as Prometheus text, from a GatewayService.metrics() snapshot."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from serve.gateway_metrics import render_gateway_metrics

SNAPSHOT = {
    "gateway": {"requests": 10, "attempts": 12, "successes": 9, "failures": 1, "retries": 2},
    "agents": [
        {
            "name": "a",
            "breaker": "closed",
            "error_rate": 0.0,
            "in_flight": 1,
            "retry_budget_tokens": 9.5,
        },
        {"name": 'we"ird', "breaker": "open", "error_rate": 0.5, "in_flight": 0},
        {"name": "off", "breaker": "disabled", "error_rate": 0.0, "in_flight": 0},
    ],
    "events": {"written": 40, "batches": 9, "failed": 1, "pending": 3},
}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_counters_ratio_and_agent_gauges_parse() -> None:
    """The text parses as Prometheus; counters, the amplification and per-agent gauges appear."""
    samples = _samples(render_gateway_metrics(SNAPSHOT))
    assert samples[("synapse_gateway_requests_total", ())] == 10
    assert samples[("synapse_gateway_attempts_per_request", ())] == 1.2
    assert samples[("synapse_agent_breaker_state", (("agent", "a"),))] == 0
    assert samples[("synapse_agent_breaker_state", (("agent", 'we"ird'),))] == 2
    assert samples[("synapse_agent_breaker_state", (("agent", "off"),))] == -1
    assert samples[("synapse_agent_retry_budget_tokens", (("agent", "a"),))] == 9.5
    assert samples[("synapse_gateway_events_failed_total", ())] == 1
    assert samples[("synapse_gateway_events_pending", ())] == 3


def test_an_empty_snapshot_still_renders_the_ratio() -> None:
    """With no traffic the attempts-per-request gauge is 0 and nothing else is invented."""
    samples = _samples(render_gateway_metrics({}))
    assert samples == {("synapse_gateway_attempts_per_request", ()): 0.0}
