"""``monitoring/``: Prometheus accepts the config and rules, each alert fires in Prometheus's own
rule evaluation, and every metric the dashboards and rules use is one Synapse exposes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from serve.gateway_metrics import gateway_families
from serve.metrics import HttpMetrics
from serve.metrics_exposition import render_families
from serve.system_metrics import (
    projector_families,
    runtime_families,
    store_free_family,
    sync_families,
    sync_gauge_families,
)
from tests.unit.monitoring._monitoring import (
    MONITORING,
    dashboard_expressions,
    metric_names,
    prepared_config,
    rule_expressions,
    tool,
)

#: Every part of a scrape present, so every family Synapse can expose is rendered.
FIGURES = {
    "sync_latency": [
        {"label": "codex", "buckets": [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], "count": 1, "sum": 0.07}
    ],
    "task_latency": [
        {"label": "claude", "buckets": [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1], "count": 1, "sum": 0.9}
    ],
    "writes": [("codex", "applied", 3), ("codex", "abandoned", 1)],
    "parse_failures": [("gemini", 2)],
    "files_in_error": [("gemini", 1)],
    "conflicts_open": 1,
    "conflicts_total": 2,
    "actors": [("projector", "running", 1)],
    "workflow_steps": [("done", 4)],
    "workflows": [("completed", 1)],
    "alerts_open": [("warning", 1)],
    "agents_opened": [("claude", 1)],
    "events": 10,
}
SNAPSHOT = {
    "gateway": dict.fromkeys(
        (
            "requests",
            "attempts",
            "successes",
            "failures",
            "retries",
            "fallbacks",
            "timeouts",
            "cache_hits",
        ),
        1,
    ),
    "agents": [
        {
            "name": "claude",
            "breaker": "open",
            "times_opened": 1,
            "error_rate": 0.5,
            "ewma_latency_ms": 900.0,
            "in_flight": 0,
            "retry_budget_tokens": 9.0,
        }
    ],
    "events": {"written": 4, "failed": 0, "pending": 0},
    "cache": {"entries": 1, "chars": 10, "hits": 0},
    "ttft": [{"agent": "claude", "capability": "plan", "srtt_s": 0.4, "rto_s": 2.0}],
}


def _exposition() -> bytes:
    """A whole ``/metrics`` answer, rendered the way the app renders it."""
    http = HttpMetrics()
    http.requests.labels("/health", "GET", "200").inc()
    http.latency.labels("/health", "GET").observe(0.01)
    return http.render(
        render_families(
            projector_families({"position": 9, "head": 10, "lag": 1, "store_ok": True})
            + sync_families(FIGURES)
            + runtime_families(FIGURES)
            + sync_gauge_families({"approvals_waiting": 1, "breakers_open": {"codex": 0}})
            + [store_free_family(10**9)]
            + gateway_families(SNAPSHOT)
        )
    )


def _exposed_names() -> set[str]:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        sample.name
        for family in text_string_to_metric_families(_exposition().decode())
        for sample in family.samples
    }


def test_prometheus_accepts_the_scrape_config_and_the_rules(tmp_path: Path) -> None:
    """``promtool check config`` (with the README's token copy) and ``check rules`` pass."""
    config = prepared_config(tmp_path / "m", "127.0.0.1:8000", "t0ken")
    checked = subprocess.run(
        [tool("promtool"), "check", "config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 1 rule files found" in checked.stdout
    rules = subprocess.run(
        [tool("promtool"), "check", "rules", str(MONITORING / "alerts.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert rules.returncode == 0, rules.stdout + rules.stderr


def test_every_alert_fires_in_prometheus_rule_evaluation() -> None:
    """``promtool test rules``: each alert fires on its input series and stays quiet otherwise."""
    result = subprocess.run(
        [tool("promtool"), "test", "rules", str(MONITORING / "tests" / "alerts_test.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tested = (MONITORING / "tests" / "alerts_test.yml").read_text()
    untested = [name for name, _ in rule_expressions() if f"alertname: {name}" not in tested]
    assert untested == []


def test_the_exposition_follows_prometheus_naming_rules() -> None:
    """``promtool check metrics`` finds nothing to complain about in a full scrape."""
    result = subprocess.run(
        [tool("promtool"), "check", "metrics"],
        input=_exposition(),
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr).decode()
    assert (result.stdout + result.stderr).strip() == b""


@pytest.mark.parametrize("source", ["rules", "dashboards"])
def test_every_metric_used_is_one_synapse_exposes(source: str) -> None:
    """Each name selected by a rule or a dashboard panel is in the rendered exposition."""
    exprs = list(rule_expressions() if source == "rules" else dashboard_expressions())
    assert len(exprs) >= 8
    exposed = _exposed_names()
    missing = sorted(
        f"{where}: {name}" for where, expr in exprs for name in metric_names(expr) - exposed
    )
    assert missing == []


def test_dashboards_are_provisioned_with_the_datasource_they_use() -> None:
    """Each dashboard has a unique uid and every panel queries the provisioned datasource."""
    datasource = (
        MONITORING / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
    ).read_text()
    assert "uid: synapse-prometheus" in datasource
    uids = []
    for path in (MONITORING / "grafana" / "dashboards").glob("*.json"):
        board = json.loads(path.read_text())
        uids.append(board["uid"])
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == "synapse-prometheus", (path.name, panel["title"])
    assert sorted(uids) == ["synapse-gateway", "synapse-runtime", "synapse-sync"]


def test_metric_names_come_from_the_parse_not_the_text() -> None:
    """A name in a label value or a function is not a metric; one inside a subquery is."""
    expr = (
        'histogram_quantile(0.9, sum by (le) (rate(a_bucket{x="b_total"}[5m])))'
        " / max_over_time(c[5m:1m])"
    )
    assert metric_names(expr) == {"a_bucket", "c"}
    assert metric_names("rate(d[$__rate_interval]) > on() group_left e") == {"d", "e"}
