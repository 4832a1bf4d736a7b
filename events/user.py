"""The audit trail of local users: added, role changed, password changed, removed.

One ``UserAccount`` per name (id ``aggregate_id("user", name)``). The users file
(``serve/users.py``) is what logins are checked against; these events record who changed it
and when. They never hold a password or its hash, in any form: ``PasswordChanged`` says only
that it happened. ``by`` is the operating-system user who ran ``synapse users``.
"""

from __future__ import annotations

from typing import Any

from events.domain import Aggregate
from events.store import aggregate_id

__all__ = ["UserAccount", "user_account_id"]


def user_account_id(name: str) -> Any:
    """Return the aggregate id of the user called ``name``."""
    return aggregate_id("user", name)


class UserAccount(Aggregate):
    """One local user name, through every add and removal."""

    class Added(Aggregate.Created):
        """The user was created with ``role``."""

        name: str
        role: str
        by: str

    class Readded(Aggregate.Event):
        """A removed name was given to a user again, with ``role``."""

        role: str
        by: str

        def apply(self, aggregate: UserAccount) -> None:
            """The name is in use again."""
            aggregate.role, aggregate.present = self.role, True

    class RoleChanged(Aggregate.Event):
        """The user's role changed from ``old`` to ``role``."""

        old: str
        role: str
        by: str

        def apply(self, aggregate: UserAccount) -> None:
            """Remember the new role."""
            aggregate.role = self.role

    class PasswordChanged(Aggregate.Event):
        """The user's password was replaced (what it is, or hashes to, is never recorded)."""

        by: str

    class Removed(Aggregate.Event):
        """The user was deleted; their sessions ended."""

        by: str

        def apply(self, aggregate: UserAccount) -> None:
            """The name is free."""
            aggregate.present = False

    def __init__(self, name: str, role: str) -> None:
        self.name = name
        self.role = role
        self.present = True

    @classmethod
    def add(cls, name: str, role: str, by: str, *, command_id: str) -> UserAccount:
        """Create the account (command: add)."""
        return cls._create(
            cls.Added, id=user_account_id(name), command_id=command_id, name=name, role=role, by=by
        )

    def readd(self, role: str, by: str) -> None:
        """Record that the removed name was added again."""
        self.trigger_event(self.Readded, role=role, by=by)

    def change_role(self, role: str, by: str) -> None:
        """Record a role change (nothing when the role is the same)."""
        if role != self.role:
            self.trigger_event(self.RoleChanged, old=self.role, role=role, by=by)

    def change_password(self, by: str) -> None:
        """Record that the password was replaced."""
        self.trigger_event(self.PasswordChanged, by=by)

    def remove(self, by: str) -> None:
        """Record the removal."""
        self.trigger_event(self.Removed, by=by)
