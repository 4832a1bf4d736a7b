"""Local users: names, roles and argon2 password hashes in ``$SYNAPSE_HOME/users.json`` (0600).

The file is the only place a password hash lives (never an event, a log line or an answer).
It is rewritten whole through :func:`adapters.files.write_durably` (temp, fsync, rename), so a
crash leaves the old or the new file. The HTTP replica and the CLI share it: the replica
re-reads it when its inode, size or modification time change, so ``synapse users add`` takes
effect without a restart, and every user has a ``generation`` that grows on ``passwd``,
role changes and removal, which is what expires the sessions issued before.
"""

from __future__ import annotations

import re
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from adapters.files import write_durably
from events.errors import UserInputError

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "NAME_PATTERN",
    "RESERVED_NAMES",
    "Role",
    "User",
    "UserStore",
    "check_name",
    "check_password",
]

#: User names: what a person types, safe in a log line, a cookie and a file name.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{0,31}$")
#: ``cli`` is who the per-install token acts as (audit ``actor``); no user may take the name.
RESERVED_NAMES = frozenset({"cli"})
MIN_PASSWORD = 8
#: Bounded so a huge "password" cannot make argon2 (or the request parser) work hard.
MAX_PASSWORD = 1024
_FORMAT = 1


class Role(StrEnum):
    """What a user may do, each role including the ones before it."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """0 for viewer, 1 for operator, 2 for admin."""
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        """Return True when this role may do what ``needed`` may."""
        return self.rank >= needed.rank


@dataclass(frozen=True)
class User:
    """One local user as stored (``password_hash`` is an argon2id hash, never shown)."""

    name: str
    role: Role
    password_hash: str
    generation: int = 1

    def as_row(self) -> dict[str, Any]:
        """The user without the hash (what ``users list`` and the API may show)."""
        return {"name": self.name, "role": str(self.role), "generation": self.generation}


def check_name(name: str) -> str:
    """Return ``name`` when it is a valid user name.

    Raises:
        UserInputError: it is not (lower-case letter first, then ``a-z 0-9 . _ -``, ≤32).
    """
    if name in RESERVED_NAMES:
        raise UserInputError(
            f"the user name {name} is reserved", hint="it names the per-install token's caller"
        )
    if not NAME_PATTERN.fullmatch(name):
        raise UserInputError(
            f"invalid user name {name[:40]!r}",
            hint="use 1-32 of a-z 0-9 . _ - starting with a letter, e.g. alice",
        )
    return name


def check_password(password: str) -> str:
    """Return ``password`` when it is long enough and not absurdly long.

    Raises:
        UserInputError: shorter than :data:`MIN_PASSWORD` or longer than :data:`MAX_PASSWORD`.
    """
    if len(password) < MIN_PASSWORD:
        raise UserInputError(f"the password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserInputError(f"the password may have at most {MAX_PASSWORD} characters")
    return password


class UserStore:
    """The users file: read, verified against, and rewritten durably.

    Args:
        path: ``$SYNAPSE_HOME/users.json`` (absent = no users yet; None = never any users,
            e.g. an app built without a home).
        hasher: the argon2 hasher (tests pass cheaper parameters).
    """

    def __init__(self, path: Path | None, hasher: PasswordHasher | None = None) -> None:
        self.path = path
        self._hasher = hasher or PasswordHasher()
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._users: dict[str, User] = {}
        # Verifying an unknown name costs as much as a known one, so timing tells nothing.
        self._dummy = self._hasher.hash("synapse-no-such-user")

    # -- reading ---------------------------------------------------------------------------

    def _load(self) -> dict[str, User]:
        if self.path is None:
            return {}
        try:
            info = self.path.lstat()
        except FileNotFoundError:
            self._stamp, self._users = None, {}
            return self._users
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
        if stamp == self._stamp:
            return self._users
        if not stat.S_ISREG(info.st_mode):
            raise UserInputError(f"users file {self.path} is not a regular file")
        if info.st_mode & 0o077:
            raise UserInputError(
                f"users file {self.path} is readable by other users", hint=f"chmod 600 {self.path}"
            )
        try:
            raw = orjson.loads(self.path.read_bytes())
            users = {
                u["name"]: User(u["name"], Role(u["role"]), u["password_hash"], u["generation"])
                for u in raw["users"]
            }
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            msg = f"users file {self.path} is damaged ({type(e).__name__})"
            raise UserInputError(msg, hint="restore it from a backup, or remove it") from e
        self._stamp, self._users = stamp, users
        return users

    def get(self, name: str) -> User | None:
        """Return the user called ``name``, or None."""
        with self._lock:
            return self._load().get(name)

    def users(self) -> list[User]:
        """Every user, by name."""
        with self._lock:
            return sorted(self._load().values(), key=lambda u: u.name)

    def verify(self, name: str, password: str) -> User | None:
        """Return the user when ``password`` is theirs, else None (same cost either way)."""
        user = self.get(name) if NAME_PATTERN.fullmatch(name) else None
        try:
            self._hasher.verify(user.password_hash if user else self._dummy, password)
        except (VerificationError, InvalidHashError):
            return None
        return user

    # -- writing ---------------------------------------------------------------------------

    def add(self, name: str, role: Role, password: str) -> User:
        """Create a user.

        Raises:
            UserInputError: bad name or password, or the name is taken.
        """
        check_name(name)
        hashed = self._hasher.hash(check_password(password))
        with self._edit() as users:
            if name in users:
                raise UserInputError(
                    f"user {name} already exists", hint=f"synapse users passwd {name}"
                )
            users[name] = User(name, role, hashed)
            return users[name]

    def set_password(self, name: str, password: str) -> User:
        """Replace a user's password; sessions issued before stop working.

        Raises:
            UserInputError: no such user, or a bad password.
        """
        hashed = self._hasher.hash(check_password(password))
        with self._edit() as users:
            user = self._existing(users, name)
            users[name] = replace(user, password_hash=hashed, generation=user.generation + 1)
            return users[name]

    def set_role(self, name: str, role: Role) -> User:
        """Change a user's role; sessions issued before stop working.

        Raises:
            UserInputError: no such user.
        """
        with self._edit() as users:
            user = self._existing(users, name)
            users[name] = replace(user, role=role, generation=user.generation + 1)
            return users[name]

    def remove(self, name: str) -> User:
        """Delete a user (their sessions stop working at once).

        Raises:
            UserInputError: no such user.
        """
        with self._edit() as users:
            return users.pop(self._existing(users, name).name)

    @staticmethod
    def _existing(users: dict[str, User], name: str) -> User:
        user = users.get(name)
        if user is None:
            raise UserInputError(f"no user named {name[:40]!r}", hint="see `synapse users list`")
        return user

    @contextmanager
    def _edit(self) -> Iterator[dict[str, User]]:
        """Hold the lock, hand out a copy of the users, save it when the block succeeds."""
        with self._lock:
            users = dict(self._load())
            yield users
            self._save(users)

    def _save(self, users: dict[str, User]) -> None:
        if self.path is None:
            msg = "this user store has no file"
            raise UserInputError(msg)
        body = {
            "format": _FORMAT,
            "users": [
                {**u.as_row(), "password_hash": u.password_hash}
                for u in sorted(users.values(), key=lambda u: u.name)
            ],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_durably(self.path, orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n")
        self._stamp = None  # re-read (and re-stamp) on the next access

    def __repr__(self) -> str:
        return f"UserStore({str(self.path)!r})"
