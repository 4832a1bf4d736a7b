"""The generated "targets at a glance" table of BENCHMARKS.md."""

from __future__ import annotations

from typing import Any

from benchmarks._report import glance, verdict


def _figure(name: str, median: float, target: str = "", unit: str = "ms") -> dict[str, Any]:
    return {
        "name": name,
        "unit": unit,
        "median": median,
        "target": target,
        "floor_runs": [],
        "floor_name": "",
        "floor_median": None,
    }


def test_verdict_reads_both_directions_and_thousands_separators() -> None:
    """An upper bound is met at or below it, a lower bound at or above it."""
    assert verdict("<= 100", 100.0) == "met"
    assert verdict("<= 100", 100.5) == "**missed**"
    assert verdict(">= 3,000", 3000.0) == "met"
    assert verdict(">= 40,000", 39_999.0) == "**missed**"
    assert verdict("<= 30 (1M)", 17.9) == "met"
    assert verdict("", 1.0) == "—"


def test_glance_lists_only_targeted_figures_with_their_context() -> None:
    """Figures without a target stay out; a gateway target quotes the Serve floor beside it."""
    suites = {
        "gateway": {
            "figures": [
                _figure("Synapse added latency p50, c=16", 210.0, "<= 5"),
                _figure("Ray Serve floor added latency p50, c=16", 79.4),
                _figure("direct upstream latency p50, c=16", 46.9),
            ]
        },
        "store": {"figures": [_figure("append", 3849.0, ">= 3,000", "events/s")]},
    }
    table = "\n".join(glance(suites))
    assert "| gateway | Synapse added latency p50, c=16 | <= 5 | 210 ms | **missed** |" in table
    assert "Ray Serve floor added latency p50, c=16: 79.40 ms" in table
    assert "| spine | append | >= 3,000 | 3,849 events/s | met |" in table
    assert "direct upstream" not in table
