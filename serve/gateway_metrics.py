"""Prometheus families for the gateway: counters, amplification, breakers, TTFT, retry budgets.

Built from :meth:`actors.gateway_service.GatewayService.metrics` (a plain dict that crossed an
actor call), so it is a pure function tested without a cluster. Breaker state is a number per
agent, as LiteLLM's ``litellm_deployment_state``: 0 closed, 1 half-open, 2 open, -1 disabled.
Names follow Prometheus conventions: base units (``_seconds``, ``_ratio``), ``_total`` on
counters, and labels drawn from bounded sets only (configured agent names, capabilities).
"""

from __future__ import annotations

from typing import Any

from prometheus_client.core import Metric

from serve.metrics_exposition import counter, gauge, render_families

__all__ = ["BREAKER_STATES", "gateway_families", "render_gateway_metrics"]

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
    ("cache_hits", "Logical requests answered from the response cache."),
)

#: The event writer's figures (``snapshot["events"]``, from the batching sink's ``stats()``).
_EVENT_SERIES = (
    ("written", "synapse_gateway_events_written_total", "Task/Agent events written."),
    ("failed", "synapse_gateway_events_failed_total", "Events that could not be written."),
    ("pending", "synapse_gateway_events_pending", "Events accepted, not yet written."),
)

#: Per-agent gauges: row key, metric name, help, scale from the row's unit to the base unit.
_AGENT_GAUGES = (
    ("error_rate", "synapse_agent_error_ratio", "Failure ratio in the breaker's window.", 1.0),
    (
        "ewma_latency_ms",
        "synapse_agent_latency_ewma_seconds",
        "EWMA of successful attempts' time to first token (or duration when none).",
        0.001,
    ),
    ("in_flight", "synapse_agent_in_flight", "Attempts in flight.", 1.0),
    ("retry_budget_tokens", "synapse_agent_retry_budget_tokens", "Retry budget tokens left.", 1.0),
)


def _agent_families(rows: list[dict[str, Any]]) -> list[Metric]:
    names = [str(r.get("name", "")) for r in rows]
    families = [
        gauge(
            "synapse_agent_breaker_state",
            "Breaker: 0 closed, 1 half-open, 2 open, -1 disabled.",
            ["agent"],
            [
                ((n,), BREAKER_STATES.get(str(r["breaker"]), -1))
                for n, r in zip(names, rows, strict=True)
                if "breaker" in r
            ],
        ),
        counter(
            "synapse_agent_breaker_opened_total",
            "Times the agent's breaker opened since the gateway started.",
            ["agent"],
            [
                ((n,), r["times_opened"])
                for n, r in zip(names, rows, strict=True)
                if "times_opened" in r
            ],
        ),
    ]
    for key, name, help_text, scale in _AGENT_GAUGES:
        samples = [
            ((n,), float(r[key]) * scale)
            for n, r in zip(names, rows, strict=True)
            if r.get(key) is not None
        ]
        families.append(gauge(name, help_text, ["agent"], samples))
    return [f for f in families if f.samples]


def _ttft_families(rows: list[dict[str, Any]]) -> list[Metric]:
    smoothed = [
        ((str(r["agent"]), str(r["capability"])), float(r["srtt_s"]))
        for r in rows
        if r.get("srtt_s") is not None
    ]
    timeouts = [((str(r["agent"]), str(r["capability"])), float(r["rto_s"])) for r in rows]
    families = [
        gauge(
            "synapse_agent_ttft_seconds",
            "Smoothed time to first token (RFC 6298 SRTT) per agent and capability.",
            ["agent", "capability"],
            smoothed,
        ),
        gauge(
            "synapse_agent_ttft_timeout_seconds",
            "Current adaptive time-to-first-token timeout per agent and capability.",
            ["agent", "capability"],
            timeouts,
        ),
    ]
    return [f for f in families if f.samples]


def gateway_families(snapshot: dict[str, Any]) -> list[Metric]:
    """Families for ``{"gateway": counters, "agents": rows, "events": writer, ...}``.

    Args:
        snapshot: :meth:`GatewayService.metrics` output; every part may be missing.

    Returns:
        Counters present in the snapshot, the attempts-per-request ratio (always), the event
        writer's figures, the per-agent gauges and the TTFT estimates.
    """
    counters: dict[str, Any] = snapshot.get("gateway") or {}
    families = [
        counter(f"synapse_gateway_{key}_total", help_text, [], [((), counters[key])])
        for key, help_text in _COUNTERS
        if key in counters
    ]
    requests = float(counters.get("requests") or 0)
    ratio = float(counters.get("attempts") or 0) / requests if requests else 0.0
    families.append(
        gauge(
            "synapse_gateway_attempts_per_request",
            "Upstream attempts per logical request.",
            [],
            [((), ratio)],
        )
    )
    events: dict[str, Any] = snapshot.get("events") or {}
    for key, name, help_text in _EVENT_SERIES:
        if key in events:
            make = counter if name.endswith("_total") else gauge
            families.append(make(name, help_text, [], [((), events[key])]))
    cache: dict[str, Any] = snapshot.get("cache") or {}
    if "entries" in cache:
        families.append(
            gauge("synapse_gateway_cache_entries", "Answers held.", [], [((), cache["entries"])])
        )
    families += _agent_families(snapshot.get("agents") or [])
    families += _ttft_families(snapshot.get("ttft") or [])
    return families


def render_gateway_metrics(snapshot: dict[str, Any]) -> str:
    """Render :func:`gateway_families` of ``snapshot`` as Prometheus text."""
    return render_families(gateway_families(snapshot)).decode()
