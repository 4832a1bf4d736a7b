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
            "ewma_latency_ms": 250.0,
            "times_opened": 3,
        },
        {"name": 'we"ird', "breaker": "open", "error_rate": 0.5, "in_flight": 0},
        {"name": "off", "breaker": "disabled", "error_rate": 0.0, "in_flight": 0},
    ],
    "events": {"written": 40, "batches": 9, "failed": 1, "pending": 3},
    "ttft": [
        {"agent": "a", "capability": "plan", "srtt_s": 0.4, "rto_s": 1.6},
        {"agent": "a", "capability": "code", "srtt_s": None, "rto_s": 30.0},
    ],
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
    assert samples[("synapse_gateway_events_written_total", ())] == 40


def test_agent_figures_are_in_base_units_with_bounded_labels() -> None:
    """Latency in seconds, failure as a ratio, breaker openings a counter, TTFT per capability
    (an estimate only once measured; the timeout always)."""
    samples = _samples(render_gateway_metrics(SNAPSHOT))
    assert samples[("synapse_agent_latency_ewma_seconds", (("agent", "a"),))] == 0.25
    assert samples[("synapse_agent_error_ratio", (("agent", 'we"ird'),))] == 0.5
    assert samples[("synapse_agent_breaker_opened_total", (("agent", "a"),))] == 3
    plan = (("agent", "a"), ("capability", "plan"))
    code = (("agent", "a"), ("capability", "code"))
    assert samples[("synapse_agent_ttft_seconds", plan)] == 0.4
    assert ("synapse_agent_ttft_seconds", code) not in samples
    assert samples[("synapse_agent_ttft_timeout_seconds", code)] == 30.0


def test_an_empty_snapshot_still_renders_the_ratio() -> None:
    """With no traffic the attempts-per-request gauge is 0 and nothing else is invented."""
    samples = _samples(render_gateway_metrics({}))
    assert samples == {("synapse_gateway_attempts_per_request", ()): 0.0}
