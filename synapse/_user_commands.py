"""CLI verbs of local users: ``synapse users add|list|remove|passwd|role``.

They work offline, on ``$SYNAPSE_HOME/users.json`` (0600; argon2 hashes only), and a running
system picks the change up at its next request, no restart. Each change is also recorded in
the event log as ``events.user:UserAccount.*`` (who ran it, never the password or its hash).
A password is never an argument (argv is visible to every local user in ``ps``): it is asked
twice on a terminal, or read as one line from standard input (``echo "$PW" | synapse users
add bob --role viewer``). Arguments: ``name`` (positional) for every verb but ``list``;
``role`` (``--role``) for ``add``, positional for ``role``; ``json`` (``--json``) for ``list``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import uuid
from pathlib import Path

from events.errors import UserInputError
from events.user import UserAccount, user_account_id
from serve.users import Role, UserStore, check_name
from synapse import bootstrap
from synapse.settings import Settings, load_settings

__all__ = ["users_add", "users_list", "users_passwd", "users_remove", "users_role"]


def _settings(args: argparse.Namespace) -> Settings:
    home = getattr(args, "home", None)
    settings = load_settings(home=Path(home) if home else None)
    bootstrap.prepare_home(settings)
    return settings


def _store(settings: Settings) -> UserStore:
    return UserStore(settings.users_path)


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's uid): still record something
        return "unknown"


def _password(name: str) -> str:
    """The new password: asked twice on a terminal, else one line of standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != first:
            raise UserInputError("the two passwords differ", hint="run the command again")
        return first
    line = sys.stdin.readline()
    if not line:
        raise UserInputError(
            "no password on standard input", hint="pipe one line in, or run it in a terminal"
        )
    return line.rstrip("\r\n")


def _record(settings: Settings, name: str, change: str, role: str = "") -> None:
    """Append the audit event for ``change`` (never anything about the password itself)."""
    by = _operator()
    store = bootstrap.open_store(settings)
    try:

        def act(account: UserAccount) -> None:
            if change == "add":
                if not account.present:  # a removed name, added again (else just created)
                    account.readd(role, by)
            elif change == "role":
                account.change_role(role, by)
            elif change == "passwd":
                account.change_password(by)
            else:
                account.remove(by)

        def create(command_id: str) -> UserAccount:
            return UserAccount.add(name, role, by, command_id=command_id)

        store.execute(
            UserAccount,
            user_account_id(name),
            f"user:{uuid.uuid4().hex}",
            act,
            create=create if change == "add" else None,
        )
    finally:
        store.close_quietly()


def users_add(args: argparse.Namespace) -> int:
    """Create a user with a role; the password comes from a prompt or standard input."""
    settings = _settings(args)
    store = _store(settings)
    name = check_name(args.name)
    if store.get(name) is not None:
        raise UserInputError(f"user {name} already exists", hint=f"synapse users passwd {name}")
    user = store.add(name, Role(args.role), _password(name))
    _record(settings, name, "add", str(user.role))
    print(f"added {name} ({user.role})")
    return 0


def users_list(args: argparse.Namespace) -> int:
    """Print every user and their role (never a hash)."""
    rows = [u.as_row() for u in _store(_settings(args)).users()]
    if args.json:
        print(json.dumps(rows))
    elif not rows:
        print("no users yet; add one with: synapse users add NAME --role admin")
    for row in [] if args.json else rows:
        print(f"{row['name']:32}  {row['role']}")
    return 0


def users_remove(args: argparse.Namespace) -> int:
    """Delete a user; their sessions end at their next request."""
    settings = _settings(args)
    _store(settings).remove(args.name)
    _record(settings, args.name, "remove")
    print(f"removed {args.name}")
    return 0


def users_passwd(args: argparse.Namespace) -> int:
    """Replace a user's password; sessions issued before end."""
    settings = _settings(args)
    store = _store(settings)
    if store.get(args.name) is None:
        raise UserInputError(f"no user named {args.name[:40]!r}", hint="see `synapse users list`")
    store.set_password(args.name, _password(args.name))
    _record(settings, args.name, "passwd")
    print(f"changed the password of {args.name}")
    return 0


def users_role(args: argparse.Namespace) -> int:
    """Give a user another role; sessions issued before end."""
    settings = _settings(args)
    user = _store(settings).set_role(args.name, Role(args.role))
    _record(settings, args.name, "role", str(user.role))
    print(f"{args.name} is now {user.role}")
    return 0
