"""The ``synapse`` command line: argument parsing and error presentation.

Every user mistake ends as one ``error:`` line plus a ``hint:`` line and exit code 2; other
Synapse failures exit 1; nothing a user can cause prints a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from events.errors import SynapseError, UserInputError
from synapse._logs_commands import add_logs_parser, cli_logging, logs_verb

__all__ = ["build_parser", "main"]


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--home", help="Synapse home (default: $SYNAPSE_HOME or ~/.synapse)")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser for every verb."""
    parser = argparse.ArgumentParser(
        prog="synapse",
        description="Event-sourced AI client sync and agent gateway on Ray.",
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB")

    p = sub.add_parser("up", help="join a Ray cluster (or start a local one) and deploy")
    _add_common(p)
    p.add_argument(
        "--address",
        help="Ray address to join (default: a running `ray start` cluster, else start a local one)",
    )
    p.add_argument("--port", type=int, help="HTTP port (default 8765)")
    p.add_argument("--grpc-port", type=int, help="also serve synapse.v1.Gateway over gRPC here")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback SYNAPSE_HTTP_HOST (token still required; prints a warning)",
    )

    p = sub.add_parser("down", help="stop Synapse (and the local Ray it started)")
    _add_common(p)

    p = sub.add_parser("status", help="health of the store, projector, actors and Ray")
    _add_common(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("demo", help="run the whole system in a sandbox home with activity")
    p.add_argument("--home", help="sandbox folder (default: a new temporary folder)")
    p.add_argument("--seconds", type=float, default=20.0, help="how long to run (default 20)")
    p.add_argument("--port", type=int, default=0, help="HTTP port (default: a free port)")
    p.add_argument("--keep", action="store_true", help="keep running until Ctrl-C")

    p = sub.add_parser("events", help="read the event log")
    _add_common(p)
    esub = p.add_subparsers(dest="events_verb", metavar="tail|show", required=True)
    t = esub.add_parser("tail", help="print the newest events (and follow with -f)")
    t.add_argument("-n", type=int, default=20, help="how many (default 20)")
    t.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
    t.add_argument("--type", help="only events whose type starts with this")
    t.add_argument("--aggregate", help="only events of this aggregate id")
    t.add_argument("--seconds", type=float, help="stop following after this long")
    s = esub.add_parser("show", help="print one event in full")
    s.add_argument("position", type=int)

    p = sub.add_parser("replay", help="replay the log: an aggregate, a past state, a rebuild")
    _add_common(p)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--aggregate", help="aggregate id (uuid) to replay")
    g.add_argument("--at", type=int, metavar="POSITION", help="the state as of log position P")
    g.add_argument("--rebuild", action="store_true", help="rebuild the projections from scratch")
    p.add_argument("--version", type=int, help="with --aggregate: stop at this version")
    p.add_argument("--sql", help="with --at: query to run on that past state")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")

    p = sub.add_parser("sql", help="run a read-only SQL query on the projections")
    _add_common(p)
    p.add_argument("query")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--limit", type=int, default=1000)

    p = sub.add_parser("export", help="export a table or query to CSV, JSON lines or Parquet")
    _add_common(p)
    p.add_argument("table", nargs="?", help="table name (or use --query)")
    p.add_argument("--query", help="a read-only SELECT to export instead of a table")
    p.add_argument(
        "--format",
        choices=["csv", "json", "parquet"],
        help="output format (default: from the output's suffix, else csv)",
    )
    p.add_argument(
        "-o",
        "--output",
        help="file, or s3://bucket/prefix/name, to write (default: <home>/exports/<name>.<ext>)",
    )

    leaf = argparse.ArgumentParser(add_help=False)
    _add_common(leaf)
    leaf.add_argument("--sync-home", help="home whose client configs to read when offline")
    p = sub.add_parser("sync", help="two-way sync of AI client configuration")
    ssub = p.add_subparsers(
        dest="sync_verb",
        metavar="status|plan|apply|revert|resume|approvals|approve|reject",
        required=True,
    )
    ssub.add_parser("status", parents=[leaf], help="each client: in sync, drifted, conflict, error")
    ssub.add_parser("plan", parents=[leaf], help="what a sync would write: diffs, secrets redacted")
    s = ssub.add_parser("apply", parents=[leaf], help="apply a plan; refused if anything changed")
    s.add_argument("--plan", required=True, metavar="HASH", help="the hash `sync plan` printed")
    s = ssub.add_parser("revert", parents=[leaf], help="restore the exact bytes a write replaced")
    s.add_argument("write_id")
    s = ssub.add_parser("resume", parents=[leaf], help="let Synapse write a client again")
    s.add_argument("client", help="the client whose write breakers to close (e.g. codex)")
    ssub.add_parser(
        "approvals", parents=[leaf], help="changes waiting for approval: what they would run"
    )
    s = ssub.add_parser("approve", parents=[leaf], help="let one waiting change (or deletion) sync")
    s.add_argument("approval_id", metavar="ID", help="the id `sync approvals` printed")
    s = ssub.add_parser("reject", parents=[leaf], help="refuse one; asked again only if it changes")
    s.add_argument("approval_id", metavar="ID", help="the id `sync approvals` printed")

    p = sub.add_parser("conflicts", parents=[leaf], help="open sync conflicts (and resolve them)")
    csub = p.add_subparsers(dest="conflicts_verb", metavar="resolve")
    c = csub.add_parser("resolve", parents=[leaf], help="take one side, or give a value")
    c.add_argument("conflict_id")
    g = c.add_mutually_exclusive_group(required=True)
    g.add_argument("--take", metavar="CLIENT", help="keep this client's version everywhere")
    g.add_argument(
        "--value",
        metavar="JSON|FILE|TEXT",
        help="the server definition (JSON) to use everywhere; for an instruction conflict, "
        "the Markdown (a file or the text) to write in place of the blocks in conflict",
    )

    p = sub.add_parser("agents", help="agents with breaker state, latency and load")
    _add_common(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("ask", help="send one task to the gateway and stream the answer")
    _add_common(p)
    p.add_argument("capability", choices=["plan", "code", "analyze", "review", "execute"])
    p.add_argument("prompt")
    p.add_argument("--agent", default="any", help="agent name (default: any with the capability)")
    p.add_argument("--context", help="extra context for the agent")
    p.add_argument("--no-stream", action="store_true", help="wait for the whole answer")

    p = sub.add_parser("workflow", help="durable multi-agent workflows")
    _add_common(p)
    wsub = p.add_subparsers(dest="workflow_verb", metavar="run|status|approve", required=True)
    w = wsub.add_parser("run", help="start plan -> code -> review -> (approval) -> execute")
    w.add_argument("prompt")
    w.add_argument("--id", help="workflow id (default: generated); reusing one is idempotent")
    w.add_argument("--no-approval", action="store_true", help="skip the gate before execute")
    w.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the gate")
    w = wsub.add_parser("status", help="show a workflow's steps")
    w.add_argument("id")
    w = wsub.add_parser("approve", help="approve the gated step (execute) and continue")
    w.add_argument("id")
    w.add_argument("--step", default="execute")
    w.add_argument("--by", default="cli")
    w.add_argument("--wait", type=float, default=60.0)

    p = sub.add_parser("backup", help="online backup of the event log (SQLite)")
    _add_common(p)
    p.add_argument("-o", "--output", help="file or folder (default: <home>/backups/)")
    p.add_argument(
        "--since-last", action="store_true", help="only events after the newest backup there"
    )
    p = sub.add_parser(
        "audit-export", help="export what is new since the last audit export, with a manifest"
    )
    _add_common(p)
    p.add_argument("--target", help="s3://bucket/prefix or a folder (default SYNAPSE_AUDIT_TARGET)")
    p.add_argument("--tables", help="comma-separated tables (default SYNAPSE_AUDIT_TABLES: events)")
    p = sub.add_parser("restore", help="restore the log from a backup; rebuilds projections")
    _add_common(p)
    p.add_argument("path", help="the backup file (its .manifest.json sits beside it)")
    p.add_argument("--force", action="store_true", help="even over a newer log (it is kept)")

    _add_users(sub)
    add_logs_parser(sub)
    return parser


def _add_users(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("users", help="local users of the dashboard and API, with roles")
    _add_common(p)
    usub = p.add_subparsers(dest="users_verb", metavar="add|list|remove|passwd|role", required=True)
    roles = ["viewer", "operator", "admin"]
    u = usub.add_parser("add", help="add a user (password from a prompt or stdin, never argv)")
    u.add_argument("name")
    u.add_argument("--role", choices=roles, required=True)
    u = usub.add_parser("list", help="users and their roles")
    u.add_argument("--json", action="store_true", help="machine-readable output")
    u = usub.add_parser("remove", help="delete a user (their sessions end)")
    u.add_argument("name")
    u = usub.add_parser("passwd", help="set a new password (prompt or stdin)")
    u.add_argument("name")
    u = usub.add_parser("role", help="give a user another role")
    u.add_argument("name")
    u.add_argument("role", choices=roles)


def _dispatch(args: argparse.Namespace) -> int:
    from synapse import (
        _agent_commands,
        _approval_commands,
        _audit_commands,
        _backup_commands,
        _commands,
        _sync_commands,
        _user_commands,
    )

    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "up": _commands.up,
        "down": _commands.down,
        "status": _commands.status,
        "demo": _commands.demo,
        "events": _commands.events,
        "replay": _commands.replay,
        "sql": _commands.sql,
        "export": _commands.export,
        "backup": _backup_commands.backup,
        "audit-export": _audit_commands.audit_export,
        "logs": logs_verb,
        "restore": _backup_commands.restore,
        "sync": lambda a: {
            "status": _sync_commands.sync_status,
            "plan": _sync_commands.sync_plan,
            "apply": _sync_commands.sync_apply,
            "revert": _sync_commands.sync_revert,
            "resume": _sync_commands.sync_resume,
            "approvals": _approval_commands.sync_approvals,
            "approve": _approval_commands.sync_approve,
            "reject": _approval_commands.sync_reject,
        }[a.sync_verb](a),
        "conflicts": lambda a: (
            _sync_commands.conflicts_resolve(a)
            if a.conflicts_verb == "resolve"
            else _sync_commands.conflicts(a)
        ),
        "agents": _agent_commands.agents,
        "ask": _agent_commands.ask,
        "workflow": _agent_commands.workflow,
        "users": lambda a: {
            "add": _user_commands.users_add,
            "list": _user_commands.users_list,
            "remove": _user_commands.users_remove,
            "passwd": _user_commands.users_passwd,
            "role": _user_commands.users_role,
        }[a.users_verb](a),
    }
    return handlers[args.verb](args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if not args.verb:
        parser.print_help()
        return 2
    try:
        with cli_logging(args):
            return _dispatch(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except UserInputError as exc:
        _print_error(exc)
        return 2
    except SynapseError as exc:
        _print_error(exc)
        return 1


def _print_error(exc: SynapseError) -> None:
    print(f"error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"hint: {exc.hint}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
