"""Skill placement: every skill visible to every client with skills, copied at most once.

Skills are read from the union of every client's roots and de-duplicated by scope, project,
name and content digest. For each client that supports skills (and is in use), a skill it
cannot already see is planned into the first shared root it reads (``.agents/skills``, then
``.claude/skills``, else its own root) by :func:`adapters._skills.plan_skill`. Clients that
share that root share the one copy. Nothing is ever overwritten or deleted:

* two different skills of one name in one scope are a conflict (no write for that name);
* a target directory that already exists (whatever it holds) is a conflict;
* a hostile name, an escaping symlink or an unreadable skill is refused and reported.

A copy placement made earlier and untouched since (its digest is the one placement wrote)
is not a competing variant: when its source changes, the copy is refreshed, not conflicted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from actors._sync_place_types import Finding, PlacementAction, installed
from adapters._skills import FoundSkill, SkillRoot, dedupe, plan_skill, read_skill
from adapters.base import ClientAdapter
from adapters.files import TEMP_PREFIX
from events.client_config import Placement, Scope
from events.errors import AdapterError, UnsafeInputError

__all__ = ["plan_skills"]

Slot = tuple[Scope, Path | None, str]


def _shown(name: str) -> str:
    return name[:60].encode("unicode_escape").decode()


def _read_roots(
    roots: Sequence[SkillRoot], allowed: Sequence[Path]
) -> tuple[list[FoundSkill], list[Finding]]:
    found: list[FoundSkill] = []
    refused: list[Finding] = []
    for root in roots:
        try:
            entries = sorted(root.path.iterdir()) if root.path.is_dir() else []
        except OSError as e:
            refused.append(Finding("refused", "skill:*", (str(root.path),), (), str(e)))
            continue
        for entry in entries:
            if entry.name.startswith(TEMP_PREFIX) or not (entry / "SKILL.md").is_file():
                continue
            try:
                found.append(read_skill(entry, root, allowed))
            except AdapterError as e:  # hostile, unparsable or unreadable (a FIFO inside)
                subject = f"skill:{_shown(entry.name)}"
                refused.append(Finding("refused", subject, (str(entry),), (), e.message))
    return dedupe(found), refused


def _files_list(skill: FoundSkill) -> str:
    lines = [f"+ {rel} ({len(data)} bytes)" for rel, data in sorted(skill.files.items())]
    return f"copy {skill.dir} ->\n" + "\n".join(lines) + "\n"


def _conflict(name: str, dirs: Sequence[Path], clients: Sequence[str], why: str) -> Finding:
    paths = tuple(sorted({str(d) for d in dirs}))
    return Finding("conflict", f"skill:{name}", paths, tuple(clients), why)


def _variants(
    found: Sequence[FoundSkill], owned: Mapping[str, str]
) -> dict[Slot, list[FoundSkill]]:
    """Group skills by slot; drop copies placement made that another variant supersedes."""
    slots: dict[Slot, list[FoundSkill]] = {}
    for item in found:
        slot = (item.skill.scope, item.root.project, item.skill.name)
        slots.setdefault(slot, []).append(item)
    for slot, items in slots.items():
        ours = [i for i in items if _is_our_copy(i, owned)]
        theirs = [i for i in items if i not in ours]
        if len(theirs) == 1 and ours:
            slots[slot] = theirs  # an untouched copy of ours is refreshed from the source
    return slots


def _is_our_copy(item: FoundSkill, owned: Mapping[str, str]) -> bool:
    return all(owned.get(str(d)) == item.skill.content_sha256 for d in item.locations)


def plan_skills(
    adapters: Mapping[str, ClientAdapter],
    home: Path,
    projects: Sequence[Path],
    allowed: Sequence[Path],
    owned: Mapping[str, str] | None = None,
) -> tuple[list[PlacementAction], list[Finding]]:
    """Plan the copies that make every skill visible to every client with skills.

    Args:
        adapters: the participating clients.
        home: the home directory.
        projects: project roots.
        allowed: directories reads and symlink targets may reach.
        owned: skill directory → digest of copies placement made and has not reverted.

    Returns:
        The copies to make (one per target directory) and the conflicts and refusals.
    """
    owned = owned or {}
    every: dict[Path, SkillRoot] = {}
    for adapter in adapters.values():
        for root in adapter.skill_roots(home, projects):
            every.setdefault(root.path, root)
    found, findings = _read_roots(list(every.values()), allowed)
    readers = {
        client: adapter.skill_roots(home, projects)
        for client, adapter in adapters.items()
        if any(adapter.skill_dirs) and installed(adapter, home)
    }
    targets: dict[Path, PlacementAction] = {}
    for (scope, project, name), variants in sorted(_variants(found, owned).items(), key=str):
        if len(variants) > 1:
            dirs = [d for v in variants for d in v.locations]
            why = f"{len(variants)} different skills are named {name!r}; nothing was copied"
            findings.append(_conflict(name, dirs, list(readers), why))
            continue
        source = variants[0]
        for client, roots in readers.items():
            mine = [r for r in roots if r.scope == scope and r.project == project]
            if not mine:
                continue
            try:
                plan = plan_skill(source, client, mine, found)
            except UnsafeInputError as e:
                findings.append(Finding("refused", f"skill:{name}", (), (client,), e.message))
                continue
            if plan.placement is Placement.SHARED_ROOT or plan.target_dir is None:
                continue
            target = plan.target_dir
            refresh = owned.get(str(target))
            if refresh is not None and not os.path.lexists(target):
                continue  # a person deleted our copy: respect it
            if refresh is None and os.path.lexists(target):
                why = f"{target} exists and holds something else; it was not overwritten"
                findings.append(_conflict(name, [*source.locations, target], [client], why))
                continue
            losses = tuple(f"{client}: {x.field}: {x.reason}" for x in plan.losses)
            first = targets.get(target)
            if first is not None:
                losses = first.losses + losses
                clients = (*first.clients, client)
            else:
                clients = (client,)
            targets[target] = PlacementAction(
                "copy_skill",
                f"skill:{name}",
                target,
                clients,
                f"{', '.join(clients)} cannot see {source.dir}; one copy into {target.parent}",
                refresh,
                source.skill.content_sha256,
                files=source.files,
                source=source.dir,
                losses=losses,
                diff=_files_list(source),
            )
    return list(targets.values()), findings
