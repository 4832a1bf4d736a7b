"""Telling a watcher's scan that predates the files it describes from a real observation.

A watcher scans in its own process and hands the report over; by the time the orchestrator
reads it, Synapse may already have written one of that client's files (a new command file,
or a changed settings file). Such a report shows the file absent, or holding its old bytes,
which would read as a deletion or as the client undoing the write. Absorbing it is wrong
either way; the orchestrator rescans the client instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from actors._sync_io import FileScan, ScanReport
from actors._sync_record import FileState
from adapters.files import sha256_hex

__all__ = ["scan_problem", "stale_reason"]


def stale_reason(
    report: ScanReport, files_now: Iterable[str], written: Mapping[str, str]
) -> str | None:
    """Why ``report`` no longer describes its client's files (None: it does).

    Args:
        report: the scan to check.
        files_now: the client's files as discovered now (per-entity files: those that exist).
        written: path → sha256 of the last bytes Synapse wrote there ("" = it deleted it).
    """
    seen = {scan.path: scan for scan in report.files}
    for path in files_now:
        scan = seen.get(path)
        if (scan is None or not scan.present) and os.path.lexists(path):
            return f"{path} exists now but not in the scan"
    for path, sha in written.items():
        scan = seen.get(path)
        if not sha or scan is None or not scan.present or scan.sha256 == sha:
            continue
        try:
            current = sha256_hex(Path(path).read_bytes())
        except OSError:
            continue
        if current == sha:
            return f"{path} was written by Synapse after the scan"
    return None


def scan_problem(scan: FileScan, before: FileState | None) -> str | None:
    """Why this read must not count as the file's content (None = it counts).

    Args:
        scan: the file as just read.
        before: what the orchestrator last knew of it (None: nothing).
    """
    if scan.error is not None:
        return scan.error
    if before is None or not before.had_entities:
        return None
    if not scan.present:
        return "the file vanished; treated as unknown, not as deletions"
    if scan.size == 0 or (not scan.entities and scan.blank):
        return "the file is blank (truncated?); treated as unknown, not as deletions"
    return None
