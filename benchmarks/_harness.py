"""Shared benchmark harness: repeated runs, medians, machine description, JSON results."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"


@dataclass
class Figure:
    """One measured figure with its raw-library floor (when there is one)."""

    name: str
    unit: str
    runs: list[float]
    target: str = ""
    floor_name: str = ""
    floor_runs: list[float] = field(default_factory=list)
    higher_is_better: bool = True
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def floor_median(self) -> float | None:
        return statistics.median(self.floor_runs) if self.floor_runs else None

    @property
    def ratio(self) -> float | None:
        """Ours / floor (for rates), or floor / ours... always "fraction of the floor"."""
        floor = self.floor_median
        if not floor:
            return None
        return self.median / floor if self.higher_is_better else floor / self.median

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data |= {"median": self.median, "floor_median": self.floor_median, "ratio": self.ratio}
        return data


def machine() -> dict[str, Any]:
    """Describe the machine the figures were measured on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        mem = "?"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "commit": commit,
        "load_average": round(os.getloadavg()[0], 2),
        "date": time.strftime("%Y-%m-%d"),
    }


def repeat(fn: Callable[[], float], runs: int) -> list[float]:
    """Call ``fn`` (which returns one measurement) ``runs`` times."""
    return [fn() for _ in range(runs)]


def save(suite: str, figures: list[Figure]) -> Path:
    """Write the suite's figures to ``benchmarks/out/<suite>.json`` and print a summary."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{suite}.json"
    payload = {"machine": machine(), "figures": [f.to_json() for f in figures]}
    path.write_text(json.dumps(payload, indent=2))
    for f in figures:
        floor = f" | floor {f.floor_name}: {f.floor_median:,.1f}" if f.floor_runs else ""
        ratio = f" | ratio {f.ratio:.2f}" if f.ratio is not None else ""
        print(f"{suite:10s} {f.name:48s} {f.median:>12,.1f} {f.unit}{floor}{ratio}")
    return path
