"""Where by-content instruction sync keeps its bases and conflicts: the event store.

A thin layer over :class:`events.instructions.InstructionSync`: read the group's bases and
open conflicts, record bases once files are in sync, open conflicts the planner found and
settle those it no longer finds, and record what a person chose for one: a client's version
or a Markdown text (:mod:`actors._sync_personal` is the pure planner).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from actors._sync_personal import USER, BaseNote, InstructionConflict
from actors._sync_personal_text import ChosenText, chosen_text
from actors._sync_values import canonical_hash
from events.errors import ActorError
from events.instructions import InstructionSync, instruction_sync_id
from events.store import EventStore

__all__ = ["PersonalLog"]


class PersonalLog:
    """The ``user`` group's record in ``store``."""

    def __init__(self, store: EventStore, group: str = USER) -> None:
        self.store = store
        self.group = group
        self._id = instruction_sync_id(group)

    def state(self) -> InstructionSync | None:
        """The group's aggregate, or None before its first sync."""
        try:
            agg: InstructionSync = self.store.load(self._id)
        except AggregateNotFoundError:
            return None
        return agg

    def bases(self) -> dict[str, tuple[str, list[str]]]:
        """path → (hash, block digests) of each file when last in sync."""
        agg = self.state()
        return {} if agg is None else {p: (b[1], b[2]) for p, b in agg.bases.items()}

    def start(self) -> list[str] | None:
        """The group's latest base (None: never synced)."""
        agg = self.state()
        return None if agg is None else agg.latest

    def resolutions(self) -> dict[str, str | ChosenText]:
        """conflict id → the client a person chose, or the text they gave (the later)."""
        agg = self.state()
        if agg is None:
            return {}
        chosen: dict[str, str | ChosenText] = dict(agg.resolutions)
        chosen.update({cid: ChosenText(text) for cid, text in agg.texts.items()})
        return chosen

    def _run(self, command_id: str, action: Any) -> None:
        self.store.execute(
            InstructionSync,
            self._id,
            command_id,
            action,
            create=lambda cid: InstructionSync.start(self.group, command_id=cid),
        )

    def record_bases(self, notes: Iterable[BaseNote]) -> None:
        """Record each file's base (nothing for bases already recorded)."""
        notes = list(notes)
        agg = self.state()
        fresh = [
            n
            for n in notes
            if agg is None
            or agg.bases.get(n.path) != (n.client, n.sha256, list(n.blocks))
            or agg.latest != list(n.blocks)
        ]
        if not fresh:
            return
        body = [[n.path, n.sha256, *n.blocks] for n in fresh]

        def record(a: InstructionSync) -> None:
            for n in fresh:
                a.record_base(n.client, n.path, n.sha256, list(n.blocks))

        self._run(f"bases:{canonical_hash(body)}", record)

    def record_conflicts(self, found: Sequence[InstructionConflict]) -> None:
        """Open the conflicts found now; settle the open ones no longer found."""
        agg = self.state()
        still = {c.conflict_id for c in found}
        gone = [cid for cid in (agg.conflicts if agg is not None else {}) if cid not in still]
        new = [c for c in found if agg is None or c.conflict_id not in agg.conflicts]
        if not gone and not new:
            return

        def record(a: InstructionSync) -> None:
            for cid in gone:
                a.settle(cid)
            for c in new:
                a.find_conflict(
                    c.conflict_id,
                    list(c.clients),
                    list(c.paths),
                    dict(c.sides),
                    dict(c.previews),
                    c.label,
                )

        key = ",".join(sorted(still)) + "|" + ",".join(sorted(gone))
        self._run(f"conflicts:{key}:{agg.version if agg is not None else 0}", record)

    def open_conflicts(self) -> list[dict[str, Any]]:
        """Open conflicts as ``synapse conflicts`` lists them."""
        agg = self.state()
        if agg is None:
            return []
        return [
            InstructionConflict(
                cid,
                tuple(c["clients"]),
                tuple(c["paths"]),
                c["sides"],
                c.get("previews", {}),
                c.get("label", ""),
            ).as_dict()
            for cid, c in agg.conflicts.items()
        ]

    def resolve(
        self,
        conflict_id: str,
        take: str | None = None,
        value: Mapping[str, Any] | None = None,
    ) -> bool:
        """Choose ``take``'s version, or the Markdown in ``value`` (``{"markdown": TEXT}``),
        for an open conflict; False when no such conflict is open.

        Raises:
            ActorError: ``take`` is not one of the conflict's clients, ``value`` is not
                ``{"markdown": TEXT}``, or the text is refused (:func:`chosen_text`:
                empty, credential-looking, or not plain Markdown blocks).
        """
        agg = self.state()
        if agg is None or conflict_id not in agg.conflicts:
            return False
        if value is not None:
            text = value.get("markdown")
            if set(value) != {"markdown"} or not isinstance(text, str):
                msg = f"conflict {conflict_id} is between instruction files: give Markdown text"
                raise ActorError(msg, hint='--value FILE_OR_TEXT (API: {"markdown": TEXT})')
            chosen = chosen_text(text)
            key = canonical_hash(chosen.text)[:16]
            self._run(
                f"resolve:{conflict_id}:text:{key}",
                lambda a: a.settle(conflict_id, text=chosen.text),
            )
            return True
        clients = agg.conflicts[conflict_id]["clients"]
        if take not in clients:
            msg = f"{take!r} is not a side of conflict {conflict_id} ({', '.join(clients)})"
            raise ActorError(msg, hint="take one of the clients listed")
        self._run(f"resolve:{conflict_id}:{take}", lambda a: a.settle(conflict_id, take))
        return True
