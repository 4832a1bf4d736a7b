"""Write BENCHMARKS.md from the JSON results in benchmarks/out/."""

from __future__ import annotations

import json
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
    parts = [INTRO]
    for path in sorted(OUT.glob("*.json")):
        parts.extend(_suite(path.stem, json.loads(path.read_text())))
    if extra:
        parts.append(extra)
    target = ROOT / "BENCHMARKS.md"
    target.write_text("\n".join(parts))
    return target
