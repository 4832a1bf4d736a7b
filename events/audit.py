"""Who did it: the acting user of the command being handled, stamped on its events.

The HTTP layer sets the authenticated user (``alice``, or ``cli`` for the per-install token)
for the task serving one request; :meth:`events.domain.Aggregate.trigger_event` copies it into
every event that has an ``actor`` field and was not given one. Events without the field are
untouched, and an old stored event without it loads with its default (None: no person, or
recorded before users existed). A context variable rather than a parameter on every command:
``asyncio.to_thread`` and new tasks copy it, so it reaches the code that records the events
without threading a name through each signature. Across a process boundary (a Ray actor call)
it is passed explicitly and set again with :func:`acting_as`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["acting_as", "current_actor", "set_actor"]

_ACTOR: ContextVar[str | None] = ContextVar("synapse_actor", default=None)


def current_actor() -> str | None:
    """The user the current command is handled for, or None."""
    return _ACTOR.get()


def set_actor(actor: str | None) -> None:
    """Set the acting user for the rest of the current task (one HTTP request)."""
    _ACTOR.set(actor)


@contextmanager
def acting_as(actor: str | None) -> Iterator[None]:
    """Handle the block's commands for ``actor`` (None: keep whoever is acting already)."""
    if actor is None:
        yield
        return
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)
