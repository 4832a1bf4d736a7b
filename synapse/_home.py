"""Tightening an existing ``$SYNAPSE_HOME`` at every start (reliability bar: secrets at rest).

A home made by an older Synapse, copied with ``cp -r`` or restored from a backup can hold the
event log, the API token or the keys readable by other users. Every start puts the modes back:
the folder and its sub-folders 0700, every file Synapse keeps there 0600. Symlinks are left
alone (``chmod`` would follow them out of the home), and so are files Synapse does not own.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["ModeChange", "tighten_home"]

#: Files directly in the home that hold the log, read models, keys or token.
_SECRET_FILES: Final = ("token", "fingerprint.key", "cipher.key", "auth.key", "users.json")
#: Prefixes of the store files and their companions (-wal, -shm, -journal, .wal, .tmp).
_STORE_PREFIXES: Final = ("events.sqlite", "projections.duckdb")
#: Folders whose whole content is private (pre-images hold client files byte for byte).
_PRIVATE_DIRS: Final = ("preimages", "logs", "exports")


@dataclass(frozen=True)
class ModeChange:
    """One path whose permission bits were narrowed."""

    path: Path
    old: int
    new: int

    def __str__(self) -> str:
        return f"{self.path} {self.old:04o} -> {self.new:04o}"


def _owned(home: Path) -> Iterator[tuple[Path, int]]:
    """Every path to tighten with the mode it should have (at most)."""
    yield home, 0o700
    for entry in sorted(home.iterdir()):
        if entry.name in _SECRET_FILES or entry.name.startswith(_STORE_PREFIXES):
            yield entry, 0o600
        elif entry.name in _PRIVATE_DIRS:
            yield entry, 0o700
            for inner in sorted(entry.rglob("*")):
                yield inner, 0o700 if inner.is_dir() and not inner.is_symlink() else 0o600


def tighten_home(home: Path) -> list[ModeChange]:
    """Narrow the modes of ``home`` and what Synapse keeps in it; return what changed.

    Only permission bits beyond the target are removed (a 0400 token stays 0400).

    Args:
        home: an existing ``$SYNAPSE_HOME``.
    """
    changes: list[ModeChange] = []
    for path, ceiling in _owned(home):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            continue
        old = stat.S_IMODE(info.st_mode)
        new = old & ceiling
        if new != old:
            path.chmod(new)
            changes.append(ModeChange(path, old, new))
    return changes
