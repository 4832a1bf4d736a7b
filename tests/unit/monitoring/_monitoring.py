"""What the monitoring tests share: the files of ``monitoring/`` and the metric names in them.

Metric names are read out of each PromQL expression by parsing it (``promql-parser``), not by
pattern matching, so a name inside a label matcher or a string is not mistaken for a metric.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

MONITORING = Path(__file__).resolve().parents[3] / "monitoring"

#: Grafana's built-in interval variables, replaced as Grafana would before PromQL parses.
_GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}


def tool(name: str) -> str:
    """The path of a Prometheus binary; fails (never skips) when it is not installed."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: apt-get install prometheus (.ci/run installs it)")
    return found


def rule_expressions() -> Iterator[tuple[str, str]]:
    """(alert name, expr) of every rule in ``alerts.yml``."""
    doc = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    for group in doc["groups"]:
        for rule in group["rules"]:
            yield rule.get("alert") or rule["record"], rule["expr"]


def dashboard_expressions() -> Iterator[tuple[str, str]]:
    """("dashboard: panel", expr) of every target of every Grafana dashboard."""
    for path in sorted((MONITORING / "grafana" / "dashboards").glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                yield f"{path.stem}: {panel['title']}", target["expr"]


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects."""
    for variable, value in _GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    names: set[str] = set()
    _walk(promql_parser.parse(expr), names)
    return names


def _walk(node: Any, names: set[str]) -> None:
    kind = type(node).__name__
    if kind == "VectorSelector":
        if node.name:
            names.add(node.name)
        return
    if kind == "MatrixSelector":
        _walk(node.vector_selector, names)
        return
    for child in ("lhs", "rhs", "expr", "param"):
        if hasattr(node, child) and getattr(node, child) is not None:
            _walk(getattr(node, child), names)
    for arg in getattr(node, "args", None) or []:
        _walk(arg, names)


def prepared_config(into: Path, target: str, token: str, *, interval: str = "15s") -> Path:
    """A copy of ``monitoring/`` whose Synapse job scrapes ``target`` with ``token``.

    Only what the README tells a user to edit changes: the target, the token file beside the
    config, and (for tests) the intervals; the Ray job is dropped when no Ray file exists.
    """
    shutil.copytree(MONITORING, into, dirs_exist_ok=True)
    config = yaml.safe_load((into / "prometheus.yml").read_text())
    config["global"]["scrape_interval"] = interval
    config["global"]["evaluation_interval"] = interval
    jobs = []
    for job in config["scrape_configs"]:
        if job["job_name"] == "synapse":
            job["static_configs"] = [{"targets": [target]}]
            jobs.append(job)
    config["scrape_configs"] = jobs
    (into / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    token_file = into / "synapse.token"
    token_file.write_text(token + "\n")
    os.chmod(token_file, 0o600)
    return into / "prometheus.yml"
