"""Remember the last parse of each client file, keyed by the hash of its bytes.

A rescan that finds a file unchanged still has to read and hash it (that is how it knows),
but parsing is the expensive part: 200 MCP servers × 8 clients take ~200 ms to parse and
~5 ms to read and hash. The cache keeps, per file, the sha256 of the bytes last parsed and
what the parse produced, so an unchanged file is parsed once per process.

Entries are stored as JSON bytes (orjson) and decoded afresh on every hit: callers get their
own objects, so nothing they do to a result can change what the next caller gets. Only
successful parses are kept; a failure is re-parsed (and re-reported) every time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import orjson

__all__ = ["ParseCache"]


class ParseCache:
    """A bounded LRU map ``file key → (sha256, JSON value)``; one entry per file.

    Args:
        max_files: most files remembered; the least recently used is dropped beyond it.
    """

    def __init__(self, max_files: int = 512) -> None:
        self.max_files = max_files
        self._entries: OrderedDict[Hashable, tuple[str, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, sha256: str) -> Any | None:
        """Return a fresh copy of what was stored for ``key`` at ``sha256`` (None: nothing)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != sha256:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
        return orjson.loads(entry[1])

    def put(self, key: Hashable, sha256: str, value: Any) -> None:
        """Remember ``value`` (JSON-serialisable) as the parse of ``key`` at ``sha256``."""
        blob = orjson.dumps(value)
        with self._lock:
            self._entries[key] = (sha256, blob)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_files:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        """Number of files remembered."""
        return len(self._entries)
