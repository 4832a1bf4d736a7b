"""Find unfinished workflows from the log alone (no in-memory state survives a restart)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import PersistenceError

from events.errors import StoreUnavailableError
from events.store import EventStore, topics_of
from events.workflow import Workflow

__all__ = ["unfinished_workflows"]

_PAGE = 1000
_STARTED, _COMPLETED, _FAILED = topics_of([Workflow.Started, Workflow.Completed, Workflow.Failed])


def unfinished_workflows(store: EventStore, names: dict[UUID, str]) -> list[str]:
    """Return ids of workflows started but neither completed nor failed, oldest first.

    Reads only the ``Started`` / ``Completed`` / ``Failed`` notifications, so the cost is
    three small rows per workflow however long the workflows ran.

    Args:
        store: the event store.
        names: cache of aggregate id → workflow id, filled as ``Started`` bodies are decoded.

    Raises:
        StoreUnavailableError: the log could not be read.
    """
    started: list[UUID] = []
    finished: set[UUID] = set()
    after = 0
    while True:
        try:
            notes = store.recorder.select_notifications(
                start=after,
                limit=_PAGE,
                topics=(_STARTED, _COMPLETED, _FAILED),
                inclusive_of_start=False,
            )
        except PersistenceError as exc:
            msg = f"event store read failed: {exc}"
            raise StoreUnavailableError(msg) from exc
        for note in notes:
            uid = UUID(str(note.originator_id))
            if note.topic == _STARTED:
                started.append(uid)
                if uid not in names:
                    names[uid] = str(store.decode_body(note)["workflow_id"])
            else:
                finished.add(uid)
        if len(notes) < _PAGE:
            break
        after = notes[-1].id
    return [names[uid] for uid in started if uid not in finished]
