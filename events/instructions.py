"""The aggregate recording by-content sync of instruction files: bases and conflicts.

Personal instruction files (``~/.claude/CLAUDE.md``, ``~/.codex/AGENTS.md``, …) are merged
block by block (see ``actors._sync_personal``). One :class:`InstructionSync` aggregate per
group of files that sync together (id ``aggregate_id("instructions", group)``, the group
``user`` for personal files) keeps, per file, the base of the next three-way merge: the
file's hash when it was last in sync and the digests of its synced blocks. Bases carry
hashes and block digests only, never block text (a block holding a credential is never
synced, so not even its digest is recorded). The text a conflict shows is the exception:
``ConflictFound`` keeps a short preview of each side (synced blocks only, masked by
:mod:`events.secrets`), and ``ConflictSettled`` the Markdown a person gave to settle it
(refused when it looks like a credential).
"""

from __future__ import annotations

from typing import Any, ClassVar

from events.domain import Aggregate
from events.store import aggregate_id

__all__ = ["InstructionSync", "instruction_sync_id"]


def instruction_sync_id(group: str) -> Any:
    """Return the aggregate id of one group of instruction files."""
    return aggregate_id("instructions", group)


class InstructionSync(Aggregate):
    """The synced state of one group of instruction files, and its open conflicts."""

    class Started(Aggregate.Created):
        """The group was synced for the first time.

        Attributes:
            group: ``user`` (personal files) or ``project:<root>``.
        """

        group: str

    class BaseRecorded(Aggregate.Event):
        """A file was seen in sync with the rest of its group.

        Attributes:
            client: the client whose file it is.
            path: the file.
            sha256: the file's hash at that moment.
            blocks: digests of its synced blocks, in order (the merge base).
        """

        client: str
        path: str
        sha256: str
        blocks: list[str]

        def apply(self, aggregate: InstructionSync) -> None:
            """Keep the file's new base, and the group's latest."""
            aggregate.bases[self.path] = (self.client, self.sha256, list(self.blocks))
            aggregate.latest = list(self.blocks)

    class ConflictFound(Aggregate.Event):
        """Two files changed the same blocks differently; neither was written.

        Attributes:
            conflict_id: the id ``synapse conflicts`` shows and ``resolve`` takes.
            clients: the clients whose files disagree.
            paths: their files.
            sides: client → digest of its version of the blocks in conflict.
            previews: client → a short, masked preview of its version (version 2; an
                older event is upcast to ``{}``).
            label: the heading the blocks sit under, or their first words (version 2;
                ``""`` before).
        """

        class_version: ClassVar[int] = 2

        conflict_id: str
        clients: list[str]
        paths: list[str]
        sides: dict[str, str]
        previews: dict[str, str]
        label: str = ""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 kept no preview and no label."""
            state.update(previews={}, label="")

        def apply(self, aggregate: InstructionSync) -> None:
            """Open the conflict."""
            aggregate.conflicts[self.conflict_id] = {
                "clients": list(self.clients),
                "paths": list(self.paths),
                "sides": dict(self.sides),
                "previews": dict(self.previews),
                "label": self.label,
            }

    class ConflictSettled(Aggregate.Event):
        """The conflict is gone: the files came to agree, or a person chose a side or text.

        Attributes:
            conflict_id: the conflict.
            take: the client whose version was chosen (``""``: the files came to agree, or
                ``text`` was given).
            text: the Markdown a person gave for the blocks in conflict (version 2).
            actor: who settled it (version 2; stamped from :mod:`events.audit`).
        """

        class_version: ClassVar[int] = 2

        conflict_id: str
        take: str
        text: str | None = None
        actor: str | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 had no text and named no actor."""
            state.update(text=None, actor=None)

        def apply(self, aggregate: InstructionSync) -> None:
            """Close the conflict; remember a chosen side or text until the files agree."""
            aggregate.conflicts.pop(self.conflict_id, None)
            if self.take:
                aggregate.resolutions[self.conflict_id] = self.take
            if self.text is not None:
                aggregate.texts[self.conflict_id] = self.text

    def __init__(self, group: str) -> None:
        self.group = group
        self.bases: dict[str, tuple[str, str, list[str]]] = {}
        self.latest: list[str] | None = None
        self.conflicts: dict[str, dict[str, Any]] = {}
        self.resolutions: dict[str, str] = {}
        self.texts: dict[str, str] = {}

    @classmethod
    def start(cls, group: str, *, command_id: str) -> InstructionSync:
        """Create the group's record."""
        return cls._create(
            cls.Started, id=instruction_sync_id(group), command_id=command_id, group=group
        )

    def record_base(self, client: str, path: str, sha256: str, blocks: list[str]) -> None:
        """Record a file's base (a no-op when it is already that)."""
        if self.bases.get(path) != (client, sha256, blocks) or self.latest != blocks:
            self.trigger_event(
                self.BaseRecorded, client=client, path=path, sha256=sha256, blocks=blocks
            )

    def find_conflict(
        self,
        conflict_id: str,
        clients: list[str],
        paths: list[str],
        sides: dict[str, str],
        previews: dict[str, str] | None = None,
        label: str = "",
    ) -> None:
        """Open a conflict (a no-op when it is open already)."""
        if conflict_id not in self.conflicts:
            self.trigger_event(
                self.ConflictFound,
                conflict_id=conflict_id,
                clients=clients,
                paths=paths,
                sides=sides,
                previews=dict(previews or {}),
                label=label,
            )

    def settle(self, conflict_id: str, take: str = "", text: str | None = None) -> None:
        """Close a conflict (and remember ``take`` or ``text``, when given)."""
        fresh = (take and self.resolutions.get(conflict_id) != take) or (
            text is not None and self.texts.get(conflict_id) != text
        )
        if conflict_id in self.conflicts or fresh:
            self.trigger_event(self.ConflictSettled, conflict_id=conflict_id, take=take, text=text)
