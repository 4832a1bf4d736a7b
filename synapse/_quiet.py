"""Keeping Ray's own output off the user's terminal while Synapse's lines stay on it.

Ray 2.60 has no switch for the lines a newcomer sees during ``demo`` / ``up`` / ``down``
(ray-project/ray#63800): its C++ core worker writes warnings straight to file descriptor 2
(``core_worker.cc … constructor arguments in the object store``), its ``ray`` logger writes
to whatever ``sys.stderr`` is at each record (``Token authentication is enabled…``), and the
driver thread that relays raylet errors
(``(raylet) WARNING: N PYTHON worker processes…``, ``(raylet) Task … graceful_shutdown
failed``) prints to ``sys.stdout`` from a thread named ``ray_listen_error_messages``.

:func:`ray_output_to` therefore points descriptor 2 at a log file and puts routers in front
of ``sys.stdout`` / ``sys.stderr``: writes from Ray's threads (named ``ray_…``) go to the
file, every other write to the terminal as before; the ``ray`` logger's handlers are swapped
for one writing to the file, and so is :data:`logging.lastResort` (Ray's loggers do not
propagate, and a record that finds no handler, as Ray's token-auth warning does once
``ray.init`` has reset them, is printed by that last resort).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

__all__ = ["ray_output_to"]

_DEPTH = [0]  # nesting of ray_output_to in this process (start_system inside the demo's)


class _Router:
    """A text stream sending Ray threads' writes to ``diverted``, the rest to ``primary``."""

    def __init__(self, primary: TextIO, diverted: TextIO) -> None:
        self.primary = primary
        self.diverted = diverted

    def _target(self) -> TextIO:
        name = threading.current_thread().name
        return self.diverted if name.startswith("ray_") else self.primary

    def write(self, text: str) -> int:
        """Write ``text`` to the stream the calling thread belongs to."""
        return self._target().write(text)

    def flush(self) -> None:
        """Flush both streams."""
        self.primary.flush()
        self.diverted.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.primary, name)


@contextlib.contextmanager
def ray_output_to(path: Path) -> Iterator[None]:
    """Divert Ray's output to ``path`` (0600, appended) for the ``with`` block; reentrant.

    Args:
        path: the file, e.g. ``$SYNAPSE_HOME/logs/ray-driver.log``.
    """
    if _DEPTH[0]:
        _DEPTH[0] += 1
        try:
            yield
        finally:
            _DEPTH[0] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    diverted = os.fdopen(fd, "a", buffering=1, encoding="utf-8", errors="replace")
    old_out, old_err = sys.stdout, sys.stderr
    old_out.flush()
    old_err.flush()
    saved = os.dup(2)
    terminal = os.fdopen(os.dup(saved), "w", buffering=1, encoding="utf-8", errors="replace")
    os.dup2(diverted.fileno(), 2)
    sys.stdout = _Router(old_out, diverted)  # type: ignore[assignment]
    sys.stderr = _Router(terminal, diverted)  # type: ignore[assignment]
    ray_logger = logging.getLogger("ray")
    ray_handlers = list(ray_logger.handlers)
    to_file = logging.StreamHandler(diverted)
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s -- %(message)s"))
    ray_logger.handlers = [to_file]
    last_resort = logging.lastResort
    logging.lastResort = to_file
    _DEPTH[0] = 1
    try:
        yield
    finally:
        _DEPTH[0] = 0
        ray_logger.handlers = ray_handlers
        logging.lastResort = last_resort
        sys.stdout, sys.stderr = old_out, old_err
        with contextlib.suppress(OSError, ValueError):
            terminal.flush()
            old_err.flush()
        os.dup2(saved, 2)
        os.close(saved)
        terminal.close()
        diverted.close()
