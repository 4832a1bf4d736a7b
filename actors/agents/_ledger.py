"""At-most-once bookkeeping for the execute runner.

A command with an idempotency key runs only if :meth:`ExecuteLedger.claim` wins. The outcome
is recorded afterwards; a key that was claimed but never recorded (the runner crashed mid-run)
has an *unknown* outcome forever and is never run again automatically (reliability.md B6).
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel

from adapters.files import write_durably

__all__ = ["ExecuteLedger", "FileExecuteLedger", "InMemoryExecuteLedger"]

OutcomeT = TypeVar("OutcomeT", bound=BaseModel)


class ExecuteLedger(ABC, Generic[OutcomeT]):
    """Where idempotency keys are claimed and outcomes recorded."""

    @abstractmethod
    def claim(self, key: str) -> bool:
        """Atomically claim ``key``; True only for the first claim ever."""

    @abstractmethod
    def record(self, key: str, outcome: OutcomeT) -> None:
        """Record the outcome of a claimed key."""

    @abstractmethod
    def lookup(self, key: str) -> OutcomeT | None:
        """The recorded outcome, or None if unclaimed or claimed but unrecorded."""


class InMemoryExecuteLedger(ExecuteLedger[OutcomeT]):
    """A ledger for one process's lifetime (tests, the demo)."""

    def __init__(self) -> None:
        """Start empty."""
        self._claimed: set[str] = set()
        self._outcomes: dict[str, OutcomeT] = {}

    def claim(self, key: str) -> bool:
        """Claim ``key`` if nobody has."""
        if key in self._claimed:
            return False
        self._claimed.add(key)
        return True

    def record(self, key: str, outcome: OutcomeT) -> None:
        """Remember the outcome."""
        self._outcomes[key] = outcome

    def lookup(self, key: str) -> OutcomeT | None:
        """The outcome, if recorded."""
        return self._outcomes.get(key)


class FileExecuteLedger(ExecuteLedger[OutcomeT]):
    """A ledger in a directory: survives crashes and restarts, safe across processes.

    A claim is an ``O_CREAT | O_EXCL`` marker file (atomic on POSIX); an outcome is written to
    a temp file and renamed into place.
    """

    def __init__(self, directory: str | os.PathLike[str], outcome_type: type[OutcomeT]) -> None:
        """Use ``directory`` (created 0700) and parse outcomes as ``outcome_type``."""
        self._dir = Path(directory)
        self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._type = outcome_type

    def _path(self, key: str, suffix: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self._dir / f"{digest}.{suffix}"

    def claim(self, key: str) -> bool:
        """Create the claim marker; False if it already exists."""
        try:
            fd = os.open(self._path(key, "claim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    def record(self, key: str, outcome: OutcomeT) -> None:
        """Write the outcome atomically."""
        # fsynced file and folder: a recorded outcome must survive a power cut, or a
        # command could be reported "unknown" (or worse, run again) after it finished.
        write_durably(self._path(key, "outcome"), outcome.model_dump_json().encode())

    def lookup(self, key: str) -> OutcomeT | None:
        """Read the outcome, if recorded."""
        path = self._path(key, "outcome")
        if not path.exists():
            return None
        return self._type.model_validate_json(path.read_text())
