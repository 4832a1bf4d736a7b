"""Instruction placement: ``AGENTS.md`` is canonical; point or shim, never merge text.
Clients that read ``AGENTS.md`` get nothing. Gemini (and Qwen when its ``context.fileName``
leaves it out) get ``AGENTS.md`` added to ``context.fileName`` by a surgical JSONC edit, in
the project's settings when those name context files (they override), else in the user's
(Gemini ignores project settings in untrusted folders). Claude gets a ``CLAUDE.md`` holding
``@AGENTS.md`` when it has none, and a drift finding when its own file does not import it:
people's prose is never edited.

This is project scope only. Personal (user-level) files are synced by content
(:mod:`actors._sync_personal`), never copied whole or pointed at here, so the two never act
on the same file and no client gets a copy plus a pointer to the same text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from actors._sync_place_types import Finding, PlacementAction, file_diff, installed
from adapters.base import ClientAdapter
from adapters.files import read_config, sha256_hex
from adapters.formats import Format, apply_edits, load
from adapters.gemini_cli import point_context_at_agents_md
from events.errors import AdapterError

__all__ = ["AGENTS_MD", "IMPORTERS", "POINTERS", "SHIM", "context_names", "plan_instructions"]

AGENTS_MD = "AGENTS.md"
#: The whole content of a shim: Claude inlines the imported file in place of the line.
SHIM = b"@AGENTS.md\n"
#: Clients whose own instruction file can import ``AGENTS.md`` (their files, in a project).
IMPORTERS: dict[str, tuple[str, ...]] = {"claude-code": ("CLAUDE.md", ".claude/CLAUDE.md")}
#: Clients told which files to read by ``context.fileName``: settings path, default names.
POINTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "gemini": (".gemini/settings.json", ("GEMINI.md",)),
    "qwen": (".qwen/settings.json", ("QWEN.md", AGENTS_MD)),
}
_IMPORT = re.compile(r"^[ \t]*@(?:\./)?AGENTS\.md[ \t]*$", re.MULTILINE)


def _read_text(path: Path, roots: Sequence[Path]) -> tuple[str, str] | None:
    """``(text, sha256)`` of a file, or None when absent.

    Raises:
        AdapterError: unreadable, out of the roots, binary or not UTF-8.
    """
    snap = read_config(path, allowed_roots=roots)
    if snap is None:
        return None
    try:
        return snap.data.decode("utf-8"), snap.sha256
    except UnicodeDecodeError as e:
        raise AdapterError(f"{path}: not UTF-8") from e


def context_names(text: str) -> list[str] | None:
    """The names in ``context.fileName`` (or legacy ``contextFileName``); None when unset."""
    data = load(Format.JSONC, text) if text.strip() else {}
    if not isinstance(data, dict):
        return None
    context = data.get("context")
    value = context.get("fileName") if isinstance(context, dict) else None
    value = data.get("contextFileName") if value is None else value
    if value is None:
        return None
    return [value] if isinstance(value, str) else [str(v) for v in value]


class _Planner:
    """Collects instruction actions and findings, one target file at most once."""

    def __init__(self, home: Path, roots: Sequence[Path]) -> None:
        self.home = home
        self.roots = roots
        self.actions: dict[Path, PlacementAction] = {}
        self.findings: dict[str, Finding] = {}

    def find(self, finding: Finding) -> None:
        self.findings.setdefault(finding.finding_id, finding)

    def add(self, action: PlacementAction) -> None:
        first = self.actions.get(action.path)
        if first is None:
            self.actions[action.path] = action
        elif not set(action.clients) <= set(first.clients):
            clients = tuple(dict.fromkeys((*first.clients, *action.clients)))
            self.actions[action.path] = PlacementAction(
                first.action,
                first.subject,
                first.path,
                clients,
                first.reason,
                first.pre_sha256,
                first.new_sha256,
                first.data,
                losses=first.losses,
                diff=first.diff,
            )

    def shim(self, client: str, own: Sequence[Path], line: str = f"@{AGENTS_MD}") -> None:
        """Create ``own[0]`` holding ``line``, or report the client's own file as drift."""
        shim = f"{line}\n".encode()
        pattern = (
            _IMPORT
            if line == f"@{AGENTS_MD}"
            else re.compile(rf"^[ \t]*{re.escape(line)}[ \t]*$", re.M)
        )
        present = [p for p in own if p.exists() or p.is_symlink()]
        if not present:
            self.add(
                PlacementAction(
                    "create_shim",
                    "instructions",
                    own[0],
                    (client,),
                    f"{client} has no {own[0].name}; a one-line import reads {line[1:]}",
                    None,
                    sha256_hex(shim),
                    shim,
                    diff=file_diff(own[0], "", shim.decode()),
                )
            )
            return
        for path in present:
            try:
                current = _read_text(path, self.roots)
            except AdapterError as e:
                self.find(Finding("refused", "instructions", (str(path),), (client,), e.message))
                continue
            if current is not None and pattern.search(current[0]):
                return
        reason = (
            f"{present[0].name} exists and does not import {line[1:]}; {client} does not "
            f"read it next to its own. Add a line '{line}' (your text is not edited)"
        )
        self.find(Finding("drift", "instructions", tuple(map(str, present)), (client,), reason))

    def point(self, client: str, project: Path | None) -> None:
        """Add ``AGENTS.md`` to ``context.fileName`` where the client takes it from."""
        rel, default = POINTERS[client]
        candidates = ([project / rel] if project is not None else []) + [self.home / rel]
        target, current, names = candidates[-1], None, list(default)
        for path in candidates:
            try:
                read = _read_text(path, self.roots)
                found = context_names(read[0]) if read is not None else None
            except AdapterError as e:
                self.find(Finding("refused", "instructions", (str(path),), (client,), e.message))
                return
            if found is not None or path == candidates[-1]:
                # A project file that names context files overrides the user file.
                target, current, names = path, read, found if found is not None else names
                break
        if AGENTS_MD in names:
            return
        text = current[0] if current is not None else ""
        new = apply_edits(Format.JSONC, text, point_context_at_agents_md(text))
        self.add(
            PlacementAction(
                "point_context",
                "instructions",
                target,
                (client,),
                f"{client} reads {', '.join(names)}; context.fileName now names {AGENTS_MD} too",
                current[1] if current is not None else None,
                sha256_hex(new.encode()),
                new.encode(),
                diff=file_diff(target, text, new),
            )
        )


def plan_instructions(
    adapters: Mapping[str, ClientAdapter],
    home: Path,
    projects: Sequence[Path],
    roots: Sequence[Path],
    owned: Mapping[str, str] | None = None,
) -> tuple[list[PlacementAction], list[Finding]]:
    """Plan how each project's ``AGENTS.md`` reaches every client.

    Only projects that have an ``AGENTS.md`` are considered: placement never invents
    instructions.

    Args:
        adapters: the participating clients.
        home: the home directory.
        projects: project roots.
        roots: directories reads may reach.
        owned: path → hash of files placement wrote (those copies may follow the source).

    Returns:
        The writes, and the drift and refusals found.
    """
    planner = _Planner(home, roots)
    for project in projects:
        if not (project / AGENTS_MD).is_file():
            continue
        for client, adapter in adapters.items():
            if not installed(adapter, home):
                continue
            if client in POINTERS:
                planner.point(client, project)
            elif client in IMPORTERS:
                planner.shim(client, [project / rel for rel in IMPORTERS[client]])
            elif not adapter.reads_agents_md():
                reason = f"{client} neither reads nor imports {AGENTS_MD}"
                planner.find(
                    Finding("unreachable", "instructions", (str(project),), (client,), reason)
                )
    return list(planner.actions.values()), list(planner.findings.values())
