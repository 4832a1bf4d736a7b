"""Write BENCHMARKS.md from the JSON results in benchmarks/out/."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from benchmarks._harness import OUT

ROOT = Path(__file__).resolve().parents[1]
INTRO = """# Benchmarks

Measured by `./run bench` (`python -m benchmarks`), which writes `benchmarks/out/*.json` and
regenerates this file. Every figure is the **median of several runs** (the runs are listed);
where a raw-library floor exists it was measured **in the same run** on the same data, and the
ratio is ours ÷ floor for rates, floor ÷ ours for durations (1.0 = as fast as the raw library).
Tests never assert wall-clock times; these numbers are the only speed claims.
"""


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


#: Which issue each suite measures, for the glance table.
_ISSUE = {
    "store": "spine",
    "projections": "spine",
    "sync": "sync",
    "gateway": "gateway",
    "claude_state": "sync",
}
#: Figures of the same run quoted next to a target, to show what bounds it.
_CONTEXT = {
    "Synapse added latency p50, c=16": (
        "Ray Serve floor added latency p50, c=16",
        "Serve + agent actor floor added latency p50, c=16",
        "Synapse-shape floor added latency p50, c=16",
        "LiteLLM Router added latency p50, c=16",
    ),
    "Synapse added latency p99, c=16": (
        "Ray Serve floor added latency p99, c=16",
        "Serve + agent actor floor added latency p99, c=16",
        "Synapse-shape floor added latency p99, c=16",
    ),
    "edit→visible in 7 other clients, p50": ("rulesync",),
}
_TARGET = re.compile(r"^\s*(<=|>=)\s*([\d,.]+)")


def verdict(target: str, median: float) -> str:
    """``met`` / ``**missed**`` for a target such as ``"<= 100"`` or ``">= 3,000"``."""
    m = _TARGET.match(target)
    if m is None:
        return "—"
    bound = float(m.group(2).replace(",", ""))
    ok = median <= bound if m.group(1) == "<=" else median >= bound
    return "met" if ok else "**missed**"


def _context(name: str, figures: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{f['name']}: {_fmt(f['median'])} {f['unit']}"
        for prefix in _CONTEXT.get(name, ())
        for f in figures
        if f["name"].startswith(prefix)
    )


def glance(suites: dict[str, dict[str, Any]]) -> list[str]:
    """The "targets at a glance" table: every figure with a target, met or missed."""
    lines = [
        "## Targets at a glance",
        "",
        "Generated from the sections below (each suite's own run and machine line).",
        "",
        "| issue | figure | target | measured | | floor / context (same run) |",
        "|---|---|---|---|---|---|",
    ]
    for suite, data in suites.items():
        for f in data["figures"]:
            if not f["target"]:
                continue
            floor = f"{f['floor_name']}: {_fmt(f['floor_median'])}" if f["floor_runs"] else ""
            context = "; ".join(x for x in (floor, _context(f["name"], data["figures"])) if x)
            lines.append(
                f"| {_ISSUE.get(suite, suite)} | {f['name']} | {f['target']} | "
                f"{_fmt(f['median'])} {f['unit']} | {verdict(f['target'], f['median'])} | "
                f"{context or '—'} |"
            )
    return [*lines, ""]


def _suite(name: str, data: dict[str, Any]) -> list[str]:
    m = data["machine"]
    lines = [
        f"## {name}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}; Python {m['python']}; "
        f"{m['os']}; commit {m['commit']}; {m['date']}; "
        f"1-min load average at the end of the suite {m.get('load_average', '?')}.",
        "",
        "| figure | median | target | runs | floor (same run) | ratio | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in data["figures"]:
        runs = ", ".join(_fmt(r) for r in f["runs"])
        floor = f"{f['floor_name']}: {_fmt(f['floor_median'])}" if f["floor_runs"] else "—"
        ratio = f"{f['ratio']:.2f}" if f["ratio"] is not None else "—"
        lines.append(
            f"| {f['name']} | **{_fmt(f['median'])} {f['unit']}** | {f['target'] or '—'} | "
            f"{runs} | {floor} | {ratio} | {f['note']} |"
        )
    return [*lines, ""]


def write_report(extra: str = "") -> Path:
    """Regenerate BENCHMARKS.md from every suite's JSON."""
    suites = {path.stem: json.loads(path.read_text()) for path in sorted(OUT.glob("*.json"))}
    parts = [INTRO, *glance(suites)]
    for name, data in suites.items():
        parts.extend(_suite(name, data))
    if extra:
        parts.append(extra)
    target = ROOT / "BENCHMARKS.md"
    target.write_text("\n".join(parts))
    return target
