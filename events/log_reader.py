"""Reading the structured logs back: every process's files, rotated ones too, by time.

Each ``<role>.jsonl`` and its rotations ``<role>.jsonl.N`` are one process's records in time
order (oldest rotation first); :func:`read_logs` merges those chains by ``ts`` and filters
them. :class:`LogFollower` returns the lines written since its last poll. Strings are masked
again on the way out, so a line some other writer put there cannot leak a secret either.
"""

from __future__ import annotations

import heapq
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from events.logs import format_ts
from events.secrets import mask

__all__ = ["LEVELS", "LogFilter", "LogFollower", "log_chains", "read_logs"]

LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_ROTATED = re.compile(r"^(?P<stem>.+)\.jsonl(?:\.(?P<n>\d+))?$")


@dataclass(frozen=True)
class LogFilter:
    """Which lines to keep.

    Attributes:
        actor: a role (``gateway``), or a role prefix before ``:`` (``watcher`` keeps every
            watcher); None keeps all.
        level: the lowest level kept (``WARNING`` keeps warnings and errors).
        since: keep lines at or after this moment (naive = UTC).
    """

    actor: str | None = None
    level: str | None = None
    since: datetime | None = None
    _since_ts: str | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.since is not None:
            moment = self.since if self.since.tzinfo else self.since.replace(tzinfo=UTC)
            object.__setattr__(self, "_since_ts", format_ts(moment))

    def keeps(self, line: dict[str, Any]) -> bool:
        """Whether ``line`` passes every condition."""
        actor = str(line.get("actor", ""))
        if (
            self.actor is not None
            and actor != self.actor
            and not actor.startswith(f"{self.actor}:")
        ):
            return False
        if self.level is not None:
            wanted = logging.getLevelName(self.level.upper())
            got = logging.getLevelName(str(line.get("level", "")).upper())
            if isinstance(wanted, int) and (not isinstance(got, int) or got < wanted):
                return False
        return self._since_ts is None or str(line.get("ts", "")) >= self._since_ts


def log_chains(log_dir: Path) -> dict[str, list[Path]]:
    """Each role's files under ``log_dir``, oldest first (``.N`` … ``.1``, then current)."""
    chains: dict[str, list[tuple[int, Path]]] = {}
    if not log_dir.is_dir():
        return {}
    for path in log_dir.iterdir():
        m = _ROTATED.match(path.name)
        if m is None or not path.is_file():
            continue
        chains.setdefault(m["stem"], []).append((int(m["n"] or 0), path))
    return {stem: [p for _, p in sorted(files, reverse=True)] for stem, files in chains.items()}


def _masked(line: dict[str, Any]) -> dict[str, Any]:
    return {k: mask(v) if isinstance(v, str) else v for k, v in line.items()}


def _parse(text: str) -> dict[str, Any] | None:
    try:
        line = json.loads(text)
    except ValueError:
        return None  # a torn last line or a foreign file: skipped, never fatal
    return _masked(line) if isinstance(line, dict) and "ts" in line else None


def _lines(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    for path in paths:
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                for text in handle:
                    line = _parse(text)
                    if line is not None:
                        yield line
        except FileNotFoundError:
            continue  # rotated away between listing and opening


def read_logs(log_dir: Path, where: LogFilter | None = None) -> Iterator[dict[str, Any]]:
    """Every kept line under ``log_dir``, all processes merged in time order."""
    where = where or LogFilter()
    chains = [_lines(paths) for paths in log_chains(log_dir).values()]
    merged = heapq.merge(*chains, key=lambda line: str(line["ts"]))
    return (line for line in merged if where.keeps(line))


class LogFollower:
    """Returns the lines appended since the last :meth:`poll` (for ``synapse logs -f``).

    Starts at the current end of each file. When a file rotated since the last poll, the
    rest of the file it was reading is taken from its new ``.N`` name, then every newer
    rotation and the new file from their start.
    """

    def __init__(self, log_dir: Path, where: LogFilter | None = None) -> None:
        self.log_dir = log_dir
        self.where = where or LogFilter()
        self._seen: dict[str, tuple[int, int]] = {}  # role -> (inode, offset) of its file
        for stem, chain in log_chains(log_dir).items():
            info = chain[-1].stat()
            self._seen[stem] = (info.st_ino, info.st_size)

    def poll(self) -> list[dict[str, Any]]:
        """New kept lines of every process since the last poll, in time order."""
        fresh: list[dict[str, Any]] = []
        for stem, chain in log_chains(self.log_dir).items():
            try:
                fresh += self._poll_chain(stem, chain)
            except FileNotFoundError:
                continue  # rotated while we read: the next poll picks it up
        fresh.sort(key=lambda line: str(line["ts"]))
        return [line for line in fresh if self.where.keeps(line)]

    def _poll_chain(self, stem: str, chain: list[Path]) -> list[dict[str, Any]]:
        inodes = [path.stat().st_ino for path in chain]
        inode, offset = self._seen.get(stem, (inodes[-1], 0))
        start = inodes.index(inode) if inode in inodes else len(chain) - 1
        if inode not in inodes:
            offset = 0
        lines: list[dict[str, Any]] = []
        end = 0
        for i in range(start, len(chain)):
            got, end = self._read(chain[i], offset if i == start else 0)
            lines += got
        self._seen[stem] = (inodes[-1], end)
        return lines

    @staticmethod
    def _read(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Complete lines of ``path`` from ``offset``; a partial last line waits."""
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read()
        complete = data[: data.rfind(b"\n") + 1]
        lines = [_parse(t) for t in complete.decode("utf-8", "replace").splitlines()]
        return [line for line in lines if line is not None], offset + len(complete)
