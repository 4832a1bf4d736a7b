"""Writing placements: atomic files, skill directories renamed into place, ledger, revert.

Every write is compare-and-swap: a new file or directory must still be absent, an edited
settings file must still hash to what was planned (its exact pre-image is kept 0600 first).
A skill directory is written file by file into a ``.synapse.*`` temp directory beside the
target and then renamed into place, so a client never sees half a skill. Each landed
placement is one :class:`events.placement.SyncPlacement`; revert removes exactly what it
created, and only while it still holds what was written. Personal instruction files synced by
content (:mod:`actors._sync_personal`) go through the same path: an edit keeps its
pre-image, a retired copy is removed only while it holds what was planned, and revert puts
the pre-image back; their merge bases are recorded once the writes land.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from actors._sync_personal import plan_personal
from actors._sync_personal_log import PersonalLog
from actors._sync_place_types import PlacementAction, PlacementPlan
from actors._sync_placement import INSTRUCTIONS, plan_placements
from actors._sync_write import PreimageStore
from actors.lifecycle import raise_alert
from adapters._paths import resolve_under_roots
from adapters._skills import check_relative, skill_digest
from adapters.base import ClientAdapter
from adapters.files import TEMP_PREFIX, atomic_write, read_config, replace_durably
from events.errors import ActorError, AdapterError, WriteConflictError
from events.placement import SyncPlacement, placement_aggregate_id
from events.store import EventStore

__all__ = ["PlacementResult", "Placer"]

_PAGE = 500


@dataclass
class PlacementResult:
    """What one round of placement did."""

    written: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)


def _dir_digest(path: Path) -> str | None:
    """Content digest of a directory as written (regular files only), None when absent."""
    if not path.is_dir() or path.is_symlink():
        return None
    files = {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }
    return skill_digest(files)


def _missing_dirs(path: Path, stop: Path) -> list[Path]:
    """Ancestors of ``path`` that do not exist, below ``stop``, outermost first."""
    out: list[Path] = []
    here = path.parent
    while here != stop and here != here.parent and not here.exists():
        out.append(here)
        here = here.parent
    return out[::-1]


class Placer:
    """Plans, applies and reverts placements for one sync service.

    Args:
        store: the event store (placements and alerts are recorded there).
        roots: directories every read and write must stay under.
        preimages: where exact previous bytes of edited files are kept.
    """

    def __init__(self, store: EventStore, roots: Sequence[Path], preimages: PreimageStore):
        self.store = store
        self.roots = tuple(roots)
        self.preimages = preimages
        self.personal = PersonalLog(store)
        self._owned: dict[str, str] | None = None

    # -- planning ---------------------------------------------------------------------

    def plan(
        self,
        adapters: Mapping[str, ClientAdapter],
        home: Path,
        projects: Sequence[Path],
        kinds: frozenset[str],
        exclude_personal: frozenset[str] = frozenset(),
    ) -> PlacementPlan:
        """The current placement plan; its conflicts and drift are raised as alerts once.

        With instructions synced, it includes the by-content sync of the personal files of
        ``adapters`` not in ``exclude_personal``; their conflicts are recorded (and settled
        when gone), and their bases at once when the files already agree.
        """
        plan = plan_placements(
            adapters, home, projects, self.roots, kinds=kinds, owned=self.owned()
        )
        if not kinds or INSTRUCTIONS in kinds:
            plan = self._with_personal(plan, adapters, home, exclude_personal)
        for finding in plan.findings:
            if finding.kind in ("conflict", "drift", "refused"):
                raise_alert(
                    self.store,
                    alert_id=f"placement:{finding.finding_id}",
                    severity="warning",
                    source="sync:placement",
                    message=f"{finding.subject}: {finding.reason}",
                )
        return plan

    def _with_personal(
        self,
        plan: PlacementPlan,
        adapters: Mapping[str, ClientAdapter],
        home: Path,
        exclude: frozenset[str],
    ) -> PlacementPlan:
        personal = plan_personal(
            {c: a for c, a in adapters.items() if c not in exclude},
            home,
            self.roots,
            bases=self.personal.bases(),
            start=self.personal.start(),
            owned=self.owned(),
            resolutions=self.personal.resolutions(),
        )
        self.personal.record_conflicts(personal.conflicts)
        if not personal.actions and not personal.conflicts:
            self.personal.record_bases(personal.bases)
        taken = {a.path for a in plan.actions}
        actions = [a for a in personal.actions if a.path not in taken]
        findings = personal.findings + [c.as_finding() for c in personal.conflicts]
        return PlacementPlan(
            tuple(sorted([*plan.actions, *actions], key=lambda a: (str(a.path), a.action))),
            tuple(sorted({*plan.findings, *findings}, key=lambda f: (f.subject, f.paths))),
            tuple(personal.bases),
        )

    def open_conflicts(self) -> list[dict[str, Any]]:
        """Open conflicts between personal instruction files (as ``synapse conflicts``)."""
        return self.personal.open_conflicts()

    def owned(self) -> dict[str, str]:
        """Path → hash of every placement not reverted (rebuilt from the log once)."""
        if self._owned is None:
            owned: dict[str, str] = {}
            position = 0
            while page := self.store.read(position, _PAGE):
                for note in page:
                    position = note.id
                    event = self.store.decode(note)
                    if isinstance(event, SyncPlacement.Placed):
                        owned[event.path] = event.sha256
                    elif isinstance(event, SyncPlacement.Reverted):
                        agg: SyncPlacement = self.store.repository.get(event.originator_id)
                        owned.pop(agg.path, None)
            self._owned = owned
        return self._owned

    # -- applying ---------------------------------------------------------------------

    def apply(self, plan: PlacementPlan) -> PlacementResult:
        """Write every action of ``plan``; an action whose target moved on is abandoned."""
        result = PlacementResult()
        for action in plan.actions:
            try:
                created = _missing_dirs(action.path, self._base(action.path))
                ref = self._write(action)
            except WriteConflictError:
                result.abandoned.append(str(action.path))
                continue
            except (AdapterError, OSError) as e:
                raise_alert(
                    self.store,
                    alert_id=f"placement-write:{action.placement_id}",
                    severity="error",
                    source="sync:placement",
                    message=f"placing {action.path} failed: {e}; nothing else was changed",
                )
                result.abandoned.append(str(action.path))
                continue
            self._record(action, ref, created)
            result.written.append(str(action.path))
        missed = set(result.abandoned)
        self.personal.record_bases(b for b in plan.bases if b.path not in missed)
        return result

    def _base(self, path: Path) -> Path:
        return next((r for r in self.roots if path.is_relative_to(r)), path.parent)

    def _write(self, action: PlacementAction) -> str | None:
        if action.action == "copy_skill":
            self._write_dir(action)
            return None
        ref = None
        if action.pre_sha256 is not None:
            snap = read_config(action.path, allowed_roots=self.roots)
            if snap is None or snap.sha256 != action.pre_sha256:
                msg = f"{action.path} changed since it was planned"
                raise WriteConflictError(msg)
            ref = self.preimages.put(snap.data)
        if action.action == "retire_copy":
            action.path.unlink()  # the pre-image is kept: revert puts it back
            return ref
        atomic_write(
            action.path, action.data, expected_sha256=action.pre_sha256, allowed_roots=self.roots
        )
        return ref

    def _write_dir(self, action: PlacementAction) -> None:
        target = action.path
        resolve_under_roots(target, self.roots)
        if _dir_digest(target) != action.pre_sha256 or (
            action.pre_sha256 is None and os.path.lexists(target)
        ):
            msg = f"{target} changed since it was planned"
            raise WriteConflictError(msg)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{target.name}.", dir=target.parent))
        try:
            for rel, data in action.files.items():
                mode = 0o600
                source = action.source / check_relative(rel) if action.source else None
                if source is not None and source.is_file() and source.stat().st_mode & stat.S_IXUSR:
                    mode = 0o700  # scripts stay runnable
                path = temp / check_relative(rel)
                atomic_write(
                    path, data, expected_sha256=None, allowed_roots=self.roots, new_file_mode=mode
                )
            if action.pre_sha256 is not None:
                # Refreshing our own untouched copy: swap the old one out, then drop it.
                old = target.with_name(f"{TEMP_PREFIX}{target.name}.old")
                os.rename(target, old)
                replace_durably(temp, target)
                shutil.rmtree(old)
            else:
                # rename(2) refuses a non-empty target: a skill created meanwhile stays.
                replace_durably(temp, target)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise

    def _record(self, action: PlacementAction, ref: str | None, created: list[Path]) -> None:
        pid = action.placement_id
        self.store.execute(
            SyncPlacement,
            placement_aggregate_id(pid),
            f"place:{pid}",
            lambda agg: None,
            create=lambda command_id: SyncPlacement.place(
                command_id=command_id,
                placement_id=pid,
                action=action.action,
                subject=action.subject,
                path=str(action.path),
                clients=list(action.clients),
                sha256=action.new_sha256,
                pre_sha256=action.pre_sha256,
                pre_image_ref=ref,
                created_dirs=[str(d) for d in created],
            ),
        )
        self.owned()[str(action.path)] = action.new_sha256

    # -- revert -----------------------------------------------------------------------

    def revert(self, placement_id: str) -> list[str] | None:
        """Undo one placement: remove what it created, or restore the settings pre-image.

        Returns:
            The paths changed, or None when no placement has this id.

        Raises:
            ActorError: already reverted, or the target changed since it was placed.
        """
        try:
            agg: SyncPlacement = self.store.repository.get(placement_aggregate_id(placement_id))
        except AggregateNotFoundError:
            return None
        if agg.reverted:
            msg = f"placement {placement_id} was already reverted"
            raise ActorError(msg)
        path = Path(agg.path)
        changed = f"{path} changed since placement {placement_id}; not reverting over it"
        if agg.action == "copy_skill":
            if _dir_digest(path) != agg.sha256:
                raise ActorError(changed)
            shutil.rmtree(path)
        elif agg.action == "retire_copy":
            if os.path.lexists(path) or agg.pre_image_ref is None:
                raise ActorError(changed)
            data = self.preimages.get(agg.pre_image_ref)
            atomic_write(path, data, expected_sha256=None, allowed_roots=self.roots)
        else:
            snap = read_config(path, allowed_roots=self.roots)
            if snap is None or snap.sha256 != agg.sha256:
                raise ActorError(changed)
            if agg.pre_image_ref is None:
                path.unlink()
            else:
                data = self.preimages.get(agg.pre_image_ref)
                atomic_write(path, data, expected_sha256=agg.sha256, allowed_roots=self.roots)
        for directory in reversed(agg.created_dirs):
            try:
                Path(directory).rmdir()  # only when empty: other files stay
            except OSError:
                break
        self.store.execute(SyncPlacement, agg.id, f"revert:{placement_id}", lambda a: a.revert())
        self.owned().pop(agg.path, None)
        return [agg.path]
