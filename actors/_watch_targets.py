"""What a client watcher watches: its config files, its entity folders, and stand-ins.

Pure path logic (no watchdog): :class:`ClientConfigFilter` decides which file events count;
:func:`entity_dirs` lists the folders whose files are entities (commands, subagents, skills);
:func:`instruction_paths` the project instruction files (``AGENTS.md``, ``CLAUDE.md`` …) whose
edits re-run placement, and :func:`personal_paths` the user-level ones (``~/.claude/CLAUDE.md``
…) whose edits re-run the by-content instruction sync;
:func:`watch_plan` maps every wanted folder to the folder to watch now: itself when it exists,
else its nearest existing ancestor (non-recursive), so its creation is noticed without ever
creating a client's folder.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from adapters.base import ClientAdapter
from adapters.files import TEMP_PREFIX

__all__ = [
    "NOISE",
    "ClientConfigFilter",
    "EntityDir",
    "entity_dirs",
    "instruction_paths",
    "personal_paths",
    "watch_plan",
]

#: Files clients churn that never hold synced config (clients.md §6.7).
NOISE = (
    f"{TEMP_PREFIX}*",
    "*.tmp",
    "*.orig",
    "*.lock",
    ".mcp-writer.*",
    "*.bak",
    "*~",
    ".#*",
    "*.swp",
)


@dataclass(frozen=True)
class EntityDir:
    """A folder whose files (ending in ``suffix``) are entities of one kind.

    Attributes:
        path: the folder (it may not exist yet).
        suffix: file-name suffix of an entity file (``""`` = any file).
        recursive: files in sub-folders count too (namespaced commands, skill folders).
    """

    path: Path
    suffix: str
    recursive: bool

    def holds(self, path: Path) -> bool:
        """Whether ``path`` is an entity file of this folder."""
        if not path.name.endswith(self.suffix):
            return False
        if self.recursive:
            return path != self.path and path.is_relative_to(self.path)
        return path.parent == self.path


def entity_dirs(
    adapter: ClientAdapter, home: Path, projects: Sequence[Path], kinds: frozenset[str]
) -> list[EntityDir]:
    """The client's entity folders for the synced ``kinds`` (empty = every kind)."""

    def wanted(kind: str) -> bool:
        return not kinds or kind in kinds

    dirs: list[EntityDir] = []
    codec = adapter.command_codec
    if codec is not None and wanted("command"):
        user, project_dirs = adapter.command_dirs
        for suffix in adapter.command_suffixes or (codec.suffix,):
            dirs += [EntityDir(home / rel, suffix, True) for rel in user]
            dirs += [EntityDir(p / rel, suffix, True) for p in projects for rel in project_dirs]
    dialect = adapter.subagent_dialect
    if dialect is not None and wanted("subagent"):
        deep = dialect.nested  # OpenCode's agents in sub-folders (``team/reviewer.md``)
        dirs += [EntityDir(home / rel, dialect.suffix, deep) for rel in dialect.user_dirs]
        dirs += [
            EntityDir(p / rel, dialect.suffix, deep)
            for p in projects
            for rel in dialect.project_dirs
        ]
    if wanted("skill"):
        dirs += [EntityDir(root.path, "", True) for root in adapter.skill_roots(home, projects)]
    if wanted("instruction"):  # Cursor's .cursor/rules/*.mdc, read as instructions
        dirs += [
            EntityDir(p / rel, suffix, False) for p in projects for rel, suffix in adapter.rule_dirs
        ]
    return dirs


def instruction_paths(
    adapter: ClientAdapter, projects: Sequence[Path], kinds: frozenset[str]
) -> list[Path]:
    """Each project's instruction files this client reads, plus ``AGENTS.md`` (the canonical
    one placement starts from), when instructions are synced (empty ``kinds`` = all)."""
    if kinds and "instruction" not in kinds:
        return []
    names = dict.fromkeys(("AGENTS.md", *adapter.instruction_files))
    return [p / name for p in projects for name in names]


def personal_paths(adapter: ClientAdapter, home: Path, kinds: frozenset[str]) -> list[Path]:
    """The client's personal instruction files (and those it may load beside them), when
    instructions are synced (empty ``kinds`` = all)."""
    if kinds and "instruction" not in kinds:
        return []
    return [home / rel for rel in adapter.user_instruction_files]


def _with_resolved(dirs: Iterable[EntityDir]) -> list[EntityDir]:
    out: dict[EntityDir, None] = {}
    for d in dirs:
        out[d] = None
        # A symlinked folder reports events under its target path.
        out[EntityDir(d.path.resolve(), d.suffix, d.recursive)] = None
    return list(out)


class ClientConfigFilter:
    """Let through events on config files and entity files, never noise or our temp files.

    Args:
        paths: the config files (as named and as resolved through symlinks).
        dirs: entity folders whose matching files count too.
    """

    def __init__(self, paths: Sequence[Path], dirs: Sequence[EntityDir] = ()) -> None:
        self.paths = {str(p) for p in paths}
        self.dirs = _with_resolved(dirs)

    def __call__(self, change: object, path: str) -> bool:
        """Return True when ``path`` should trigger a rescan."""
        name = os.path.basename(path)
        if any(fnmatch.fnmatch(name, pattern) for pattern in NOISE):
            return False
        if path in self.paths:
            return True
        candidate = Path(path)
        return any(d.holds(candidate) for d in self.dirs)


def _nearest_existing(path: Path, bounds: Sequence[Path]) -> Path | None:
    """The closest existing ancestor of ``path`` inside one of ``bounds`` (or None)."""
    for parent in path.parents:
        if not any(parent == b or parent.is_relative_to(b) for b in bounds):
            return None
        if parent.is_dir():
            return parent
    return None


def watch_plan(wanted: Iterable[tuple[Path, bool]], bounds: Sequence[Path]) -> dict[str, bool]:
    """Folder to watch → recursive, for each wanted ``(folder, recursive)``.

    A missing folder is stood in for by its nearest existing ancestor within ``bounds``,
    watched non-recursively (its children's creation is all that matters); with none inside
    the bounds it is left to the periodic rescan.
    """
    plan: dict[str, bool] = {}
    for folder, recursive in wanted:
        if folder.is_dir():
            key = str(folder)
            plan[key] = plan.get(key, False) or recursive
            continue
        ancestor = _nearest_existing(folder, bounds)
        if ancestor is not None:
            plan.setdefault(str(ancestor), False)
    return plan
