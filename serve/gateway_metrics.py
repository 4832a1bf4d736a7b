"""Prometheus text for the gateway: counters, amplification, breakers and retry budgets.

Rendered from :meth:`actors.gateway_service.GatewayService.metrics` (a plain dict that
crossed an actor call), so it is a pure function tested without a cluster. Breaker state is
a number per agent, as LiteLLM's ``litellm_deployment_state``: 0 closed, 1 half-open,
2 open, -1 disabled.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BREAKER_STATES", "render_gateway_metrics"]

BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2, "disabled": -1}

_COUNTERS = (
    ("requests", "Logical requests received."),
    ("attempts", "Upstream attempts made (retries, fallbacks and hedges included)."),
    ("successes", "Logical requests answered by an agent or the cache."),
    ("failures", "Logical requests no rung could serve."),
    ("degraded", "Logical requests answered with the degraded default."),
    ("retries", "Retries scheduled by the router."),
    ("fallbacks", "Moves to another agent."),
    ("timeouts", "Attempts ended by a TTFT, idle or total timeout."),
)

#: The event writer's figures (``snapshot["events"]``, from the batching sink's ``stats()``).
_EVENT_SERIES = (
    ("written", "synapse_gateway_events_written_total", "counter", "Task/Agent events written."),
    (
        "failed",
        "synapse_gateway_events_failed_total",
        "counter",
        "Events that could not be written.",
    ),
    ("pending", "synapse_gateway_events_pending", "gauge", "Events accepted, not yet written."),
)

_AGENT_GAUGES = (
    ("breaker", "agent_breaker_state", "Breaker: 0 closed, 1 half-open, 2 open, -1 disabled."),
    ("error_rate", "agent_error_rate", "Failure rate in the breaker's window."),
    ("ewma_latency_ms", "agent_ewma_latency_ms", "EWMA latency of successful attempts."),
    ("in_flight", "agent_in_flight", "Attempts in flight."),
    ("retry_budget_tokens", "agent_retry_budget_tokens", "Retry budget tokens left."),
)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_gateway_metrics(snapshot: dict[str, Any]) -> str:
    """Render ``{"gateway": counters, "agents": rows, "events": writer}`` as Prometheus text."""
    counters: dict[str, Any] = snapshot.get("gateway") or {}
    rows: list[dict[str, Any]] = snapshot.get("agents") or []
    lines: list[str] = []
    for key, help_text in _COUNTERS:
        if key in counters:
            name = f"synapse_gateway_{key}_total"
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
            lines.append(f"{name} {float(counters[key]):g}")
    requests = float(counters.get("requests") or 0)
    ratio = float(counters.get("attempts") or 0) / requests if requests else 0.0
    name = "synapse_gateway_attempts_per_request"
    lines += [f"# HELP {name} Upstream attempts per logical request.", f"# TYPE {name} gauge"]
    lines.append(f"{name} {ratio:.6g}")
    events: dict[str, Any] = snapshot.get("events") or {}
    for key, name, kind, help_text in _EVENT_SERIES:
        if key in events:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
            lines.append(f"{name} {float(events[key]):g}")
    for key, metric, help_text in _AGENT_GAUGES:
        samples = []
        for row in rows:
            if key not in row:
                continue
            value = row[key]
            if key == "breaker":
                value = BREAKER_STATES.get(str(value), -1)
            samples.append(
                f'synapse_{metric}{{agent="{_label(str(row.get("name", "")))}"}} {float(value):g}'
            )
        if samples:
            name = f"synapse_{metric}"
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", *samples]
    return "\n".join(lines) + "\n"
