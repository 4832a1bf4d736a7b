"""The aggregate recording what sync *placed*: skill copies, instruction shims and pointers.

Placement is how one skill or one ``AGENTS.md`` becomes visible to every client without
merging values (see ``actors._sync_placement``). Each placement is one
:class:`SyncPlacement` aggregate (id ``aggregate_id("placement", placement_id)``): created
by :class:`SyncPlacement.Placed` when the files land, closed by
:class:`SyncPlacement.Reverted`. The events carry paths and hashes only, never file content.
"""

from __future__ import annotations

from typing import Any

from events.domain import Aggregate
from events.store import aggregate_id

__all__ = ["SyncPlacement", "placement_aggregate_id"]


def placement_aggregate_id(placement_id: str) -> Any:
    """Return the aggregate id of one placement."""
    return aggregate_id("placement", placement_id)


class SyncPlacement(Aggregate):
    """One placement sync applied to disk, and whether it was reverted."""

    class Placed(Aggregate.Created):
        """Files landed: a skill directory copy, a new file, or an edited settings file.

        Attributes:
            placement_id: the id shown in plans and accepted by ``revert``.
            action: ``copy_skill``, ``create_shim``, ``copy_instructions`` or
                ``point_context``.
            subject: what was placed (``skill:pdf``, ``instructions``).
            path: the file or skill directory written.
            clients: the clients this placement serves.
            sha256: the new file's hash, or the skill's content digest for a directory.
            pre_sha256: the hash the file had before (None: it did not exist).
            pre_image_ref: where the exact previous bytes are kept (None: nothing to keep).
            created_dirs: directories the placement created, deepest last.
        """

        placement_id: str
        action: str
        subject: str
        path: str
        clients: list[str]
        sha256: str
        pre_sha256: str | None
        pre_image_ref: str | None
        created_dirs: list[str]

    class Reverted(Aggregate.Event):
        """What the placement created was removed (or the pre-image restored)."""

        def apply(self, aggregate: SyncPlacement) -> None:
            """Mark the placement reverted."""
            aggregate.reverted = True

    def __init__(
        self,
        placement_id: str,
        action: str,
        subject: str,
        path: str,
        clients: list[str],
        sha256: str,
        pre_sha256: str | None,
        pre_image_ref: str | None,
        created_dirs: list[str],
    ) -> None:
        self.placement_id = placement_id
        self.action = action
        self.subject = subject
        self.path = path
        self.clients = list(clients)
        self.sha256 = sha256
        self.pre_sha256 = pre_sha256
        self.pre_image_ref = pre_image_ref
        self.created_dirs = list(created_dirs)
        self.reverted = False

    @classmethod
    def place(cls, *, command_id: str, **fields: Any) -> SyncPlacement:
        """Create the record of a placement that landed (fields as in :class:`Placed`)."""
        return cls._create(
            cls.Placed,
            id=placement_aggregate_id(fields["placement_id"]),
            command_id=command_id,
            **fields,
        )

    def revert(self) -> None:
        """Record the revert (a no-op when already reverted)."""
        if not self.reverted:
            self.trigger_event(self.Reverted)
