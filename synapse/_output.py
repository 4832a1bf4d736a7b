"""Terminal output helpers for the CLI: tables, CSV/JSON rows and a progress bar."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

__all__ = ["ProgressBar", "format_rows"]

MAX_CELL = 60


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, separators=(",", ":"))
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def format_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    """Render query rows as an aligned table, CSV or JSON lines."""
    if fmt == "json":
        return "".join(
            json.dumps(dict(zip(columns, row, strict=True)), default=_json_default) + "\n"
            for row in rows
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(
                [("'" + c if c[:1] in ("=", "+", "-", "@") else c) for c in map(_cell, row)]
            )
        return buf.getvalue()
    cells = [[_cell(v) for v in row] for row in rows]
    cells = [[c if len(c) <= MAX_CELL else c[: MAX_CELL - 1] + "…" for c in row] for row in cells]
    widths = [len(c) for c in columns]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    out = [line.rstrip(), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"


class ProgressBar:
    """A one-line progress bar on stderr (silent when stderr is not a terminal)."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        """Show ``done`` of ``total``."""
        if not self.enabled or total <= 0:
            return
        pct = min(100, int(done * 100 / total))
        if pct == self._last:
            return
        self._last = pct
        filled = pct * 30 // 100
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(f"\r{self.label} [{bar}] {pct:3d}% {done:,}/{total:,}")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled and self._last >= 0:
            self.stream.write("\n")
            self.stream.flush()
