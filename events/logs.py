"""Structured logs: one JSON object per line, one rotated file per process, secrets masked.

Every Synapse process (each actor, the API replica, the CLI driver) calls :func:`install`
once with its role; records then land in ``<log dir>/<role>.jsonl`` as::

    {"ts": "2026-12-07T23:41:02.123Z", "level": "WARNING", "logger": "actors.supervisor",
     "actor": "supervisor", "msg": "...", "task_id": "..."}

Correlation fields (:data:`CORRELATION`) come from ``extra=`` on the logging call. Every
string, the message, the fields and the exception text, passes through
:func:`events.secrets.mask` first. It lives in ``events`` (the lowest layer, stdlib only), so
actors, the API and the CLI all install the same formatter.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any, Final, TextIO

from events.secrets import mask

__all__ = [
    "CORRELATION",
    "FIRST_PARTY",
    "JsonFormatter",
    "format_ts",
    "install",
    "installed_dir",
    "log_dir",
    "safe_name",
    "uninstall",
]

#: Record attributes copied into the line when a logging call passes them in ``extra=``.
CORRELATION: Final = ("position", "task_id", "write_id", "request_id")
#: Synapse's own loggers: raised to the installed level (records of other libraries keep
#: their own levels and reach the file through the root logger).
FIRST_PARTY: Final = ("synapse", "events", "adapters", "projections", "actors", "serve")
MAX_BYTES: Final = 10 * 1024 * 1024
BACKUPS: Final = 5
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def log_dir(home: Path) -> Path:
    """The logs folder of the Synapse home ``home`` (``$SYNAPSE_HOME/logs``)."""
    return home / "logs"


def format_ts(moment: datetime) -> str:
    """``moment`` as the logs write it: ISO-8601 UTC with milliseconds and ``Z``.

    One fixed width and zone, so the text order of two stamps is their time order.
    """
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def safe_name(actor: str) -> str:
    """The file stem for ``actor`` (``watcher:codex:host`` → ``watcher_codex_host``)."""
    return _UNSAFE.sub("_", actor).strip("._") or "process"


def _masked(value: object) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    return mask(value if isinstance(value, str) else str(value))


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line with ``ts level logger actor msg`` and correlation."""

    def __init__(self, actor: str) -> None:
        super().__init__()
        self.actor = actor

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of JSON, every string masked."""
        line: dict[str, Any] = {
            "ts": format_ts(datetime.fromtimestamp(record.created, UTC)),
            "level": record.levelname,
            "logger": record.name,
            "actor": self.actor,
            "msg": mask(record.getMessage()),
        }
        for key in CORRELATION:
            value = record.__dict__.get(key)
            if value is not None:
                line[key] = _masked(value)
        if record.exc_info:
            line["exc"] = mask(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exc"] = mask(record.exc_text)
        if record.stack_info:
            line["stack"] = mask(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class _PrivateRotatingHandler(RotatingFileHandler):
    """A rotating handler whose folder (0700) and files (0600) are made on first write.

    Nothing is created until something is logged, so installing logging in a command that
    logs nothing leaves the home untouched.
    """

    def _open(self) -> TextIO:  # type: ignore[override]
        path = Path(self.baseFilename)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return os.fdopen(fd, "a", encoding="utf-8")


def _ours(handler: logging.Handler) -> bool:
    return isinstance(handler, _PrivateRotatingHandler)


def install(
    log_dir: Path,
    actor: str,
    *,
    level: int = logging.INFO,
    max_bytes: int = MAX_BYTES,
    backups: int = BACKUPS,
) -> logging.Handler:
    """Send this process's log records to ``log_dir/<actor>.jsonl`` (idempotent).

    A second call with the same file keeps the handler; with another file it replaces it.
    One file per process role, so two processes never rotate the same file.

    Args:
        log_dir: ``$SYNAPSE_HOME/logs`` (created 0700 on the first record).
        actor: the process role (``projector``, ``gateway``, ``watcher:codex:host``, ``api``).
        level: the lowest level written; Synapse's own loggers are raised to it.
        max_bytes: size at which the file rotates.
        backups: rotated files kept (``.1`` newest … ``.N`` oldest).

    Returns:
        The handler on the root logger.
    """
    path = Path(log_dir) / f"{safe_name(actor)}.jsonl"
    root = logging.getLogger()
    for handler in list(root.handlers):
        if _ours(handler):
            if getattr(handler, "baseFilename", None) == str(path.absolute()):
                return handler
            root.removeHandler(handler)
            handler.close()
    handler = _PrivateRotatingHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True
    )
    handler.setLevel(level)
    handler.setFormatter(JsonFormatter(actor))
    root.addHandler(handler)
    for name in FIRST_PARTY:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(level)
    return handler


def installed_dir() -> Path | None:
    """The folder this process's structured log writes to, or None before :func:`install`."""
    for handler in logging.getLogger().handlers:
        if _ours(handler):
            return Path(getattr(handler, "baseFilename", "")).parent
    return None


def uninstall() -> None:
    """Remove (and close) the handler :func:`install` added, if any."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if _ours(handler):
            root.removeHandler(handler)
            handler.close()
