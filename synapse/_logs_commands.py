"""``synapse logs``: every process's structured log, merged by time, filtered, followed.

Also the CLI driver's own logging (:func:`cli_logging`): its records go to
``$SYNAPSE_HOME/logs/cli.jsonl``, and its warnings still reach the terminal as one line
each, as they did before anything configured logging.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from time import monotonic, sleep
from typing import Any

from events import logs
from events.errors import SynapseError, UserInputError
from events.log_reader import LEVELS, LogFilter, LogFollower, read_logs
from events.logs import CORRELATION
from synapse.settings import load_settings

__all__ = ["add_logs_parser", "cli_logging", "format_line", "logs_verb"]

#: How often ``-f`` looks for new lines.
POLL_S = 0.5


def add_logs_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``synapse logs`` on the CLI's sub-parsers."""
    p = sub.add_parser("logs", help="structured logs of every process, merged by time")
    p.add_argument("--home", help="Synapse home (default: $SYNAPSE_HOME or ~/.synapse)")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    p.add_argument("--actor", help="only this process (e.g. gateway; `watcher` = all watchers)")
    p.add_argument("--level", type=str.upper, choices=LEVELS, help="lowest level shown")
    p.add_argument("--since", help="only lines at or after this ISO-8601 time (naive = UTC)")
    p.add_argument("--json", action="store_true", help="print the raw JSON lines")
    p.add_argument("--seconds", type=float, help="with -f: stop following after this long")


def format_line(line: dict[str, Any]) -> str:
    """``ts level actor msg`` plus correlation fields, and an exception indented below."""
    text = f"{line.get('ts', '')} {line.get('level', ''):8s} {line.get('actor', '')} "
    text += str(line.get("msg", ""))
    fields = [f"{k}={line[k]}" for k in CORRELATION if line.get(k) is not None]
    if fields:
        text += "  " + " ".join(fields)
    if line.get("exc"):
        text += "\n" + "\n".join("    " + ln for ln in str(line["exc"]).splitlines())
    return text


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        msg = f"not an ISO-8601 time: {text!r}"
        raise UserInputError(msg, hint="e.g. --since 2026-12-07T23:00:00Z") from exc


def logs_verb(args: argparse.Namespace) -> int:
    """Print the merged lines that pass the filters; with ``-f``, then the new ones."""
    settings = load_settings(home=Path(args.home) if args.home else None)
    folder = logs.log_dir(settings.home)
    where = LogFilter(actor=args.actor, level=args.level, since=_since(args.since))
    follower = LogFollower(folder, where) if args.follow else None  # before reading: no gap

    def show(line: dict[str, Any]) -> None:
        out = json.dumps(line, ensure_ascii=False) if args.json else format_line(line)
        sys.stdout.write(out + "\n")

    for line in read_logs(folder, where):
        show(line)
    sys.stdout.flush()
    if follower is None:
        return 0
    deadline = None if args.seconds is None else monotonic() + args.seconds
    with contextlib.suppress(KeyboardInterrupt):
        while deadline is None or monotonic() < deadline:
            for line in follower.poll():
                show(line)
            sys.stdout.flush()
            sleep(POLL_S)  # other processes' files: nothing to wait on but time
    return 0


class _Console(logging.Handler):
    """Warnings of Synapse's own loggers on the terminal, one ``message`` line each.

    What :data:`logging.lastResort` printed before the structured log took the root logger:
    so, like it, silent when someone else (a test harness, an embedding app) handles records.
    Resolves ``sys.stderr`` at each record, so a redirected stderr (the quiet block around
    Ray) still leads to the terminal.
    """

    def _alone(self) -> bool:
        return all(
            h is self or isinstance(h.formatter, logs.JsonFormatter)
            for h in logging.getLogger().handlers
        )

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(logs.FIRST_PARTY) or not self._alone():
            return
        try:
            sys.stderr.write(record.getMessage() + "\n")
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)


@contextlib.contextmanager
def cli_logging(args: argparse.Namespace) -> Iterator[None]:
    """Log this CLI run to ``$SYNAPSE_HOME/logs/cli.jsonl`` for the ``with`` block.

    The demo's home is its sandbox, known only once it starts: it installs its own (see
    ``bootstrap.quiet_ray``). Everything installed here is removed on exit.
    """
    console = _Console(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(console)
    try:
        if args.verb != "demo":
            home = getattr(args, "home", None)
            try:
                settings = load_settings(home=Path(home) if home else None)
            except (SynapseError, ValueError):
                pass  # the verb loads its settings (with its own overrides) and reports
            else:
                logs.install(logs.log_dir(settings.home), "cli")
        yield
    finally:
        root.removeHandler(console)
        logs.uninstall()
