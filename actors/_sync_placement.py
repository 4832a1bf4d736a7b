"""Placement planning: make every skill and ``AGENTS.md`` reach every client (pure; no Ray).

Sync merges *values* (MCP servers); placement makes *files* visible. It never merges text,
never overwrites something it did not write and never deletes what a person wrote:

* Skills (:mod:`actors._sync_place_skills`): one copy into the first shared root each client
  reads, only where the client cannot already see the same content; same name with other
  content is a conflict.
* Instructions (:mod:`actors._sync_place_docs`): ``AGENTS.md`` is canonical; Gemini and Qwen
  are pointed at it through ``context.fileName``, Claude gets a ``@AGENTS.md`` shim only when
  it has no ``CLAUDE.md``.

The planner only reads; :mod:`actors._sync_place_apply` writes what it returns. It runs for
the kinds ``skill`` and ``instruction`` of the sync policy (an empty kind set means all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from actors._sync_place_docs import plan_instructions
from actors._sync_place_skills import plan_skills
from actors._sync_place_types import Finding, PlacementAction, PlacementPlan
from adapters.base import ClientAdapter

__all__ = [
    "INSTRUCTIONS",
    "SKILLS",
    "Finding",
    "PlacementAction",
    "PlacementPlan",
    "plan_placements",
]

#: Policy kinds that switch placement on.
SKILLS = "skill"
INSTRUCTIONS = "instruction"


def plan_placements(
    adapters: Mapping[str, ClientAdapter],
    home: Path,
    projects: Sequence[Path],
    roots: Sequence[Path],
    *,
    kinds: frozenset[str] = frozenset(),
    owned: Mapping[str, str] | None = None,
) -> PlacementPlan:
    """Plan every placement for ``adapters`` under ``home`` and ``projects``.

    Args:
        adapters: the participating clients, by id.
        home: the home directory.
        projects: project roots.
        roots: directories reads (and symlink targets) may reach.
        kinds: the sync policy's kinds; ``skill`` / ``instruction`` enable each part
            (empty: both).
        owned: path → hash of what placement wrote there and has not reverted (lets an
            untouched copy follow its source instead of counting as a conflict).

    Returns:
        The actions (each target at most once, in a stable order) and the findings.
    """
    actions: list[PlacementAction] = []
    findings: list[Finding] = []
    if not kinds or SKILLS in kinds:
        more, found = plan_skills(adapters, home, projects, roots, owned)
        actions += more
        findings += found
    if not kinds or INSTRUCTIONS in kinds:
        more, found = plan_instructions(adapters, home, projects, roots, owned)
        actions += more
        findings += found
    unique = {f.finding_id: f for f in findings}
    return PlacementPlan(
        tuple(sorted(actions, key=lambda a: (str(a.path), a.action))),
        tuple(sorted(unique.values(), key=lambda f: (f.subject, f.paths))),
    )
