"""The write-rate cap per client file (reliability E7): stop an echo storm or a tool fight.

:class:`WriteBreaker` is the pure rule (an injected clock, no I/O): more than ``max_writes``
write attempts on one file within ``window_s`` opens that file's breaker; an open breaker
refuses every write until ``resume(client)`` or, when ``cooldown_s > 0``, until the cooldown
has passed (then the file starts a fresh window). :class:`WriteGate` puts it on the sync write
path: it raises an :class:`~events.runtime.Alert` and records ``WriteAbandoned`` on the
entity ledgers once, when the breaker trips, and acknowledges the alerts on resume.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from actors._sync_record import record_ledger
from actors._sync_write import FileChange
from actors.lifecycle import raise_alert
from events.runtime import Alert
from events.store import EventStore, aggregate_id
from events.sync import SyncLedger

__all__ = ["BreakerLimits", "Verdict", "WriteBreaker", "WriteGate"]


class Verdict(StrEnum):
    """What the breaker says about one write attempt."""

    ALLOW = "allow"
    TRIPPED = "tripped"  # this attempt opened the breaker
    OPEN = "open"  # the breaker was already open


@dataclass(frozen=True)
class BreakerLimits:
    """The cap: more than ``max_writes`` in ``window_s`` opens a file's breaker.

    Attributes:
        max_writes: write attempts allowed per file within one window.
        window_s: the sliding window, in seconds.
        cooldown_s: an open breaker closes by itself after this long (0 = only on resume).
    """

    max_writes: int = 20
    window_s: float = 60.0
    cooldown_s: float = 900.0


@dataclass
class _Opened:
    client: str
    at: float
    attempts: int


class WriteBreaker:
    """Per-file sliding-window write cap with a manual or timed reset.

    Args:
        limits: the cap.
        clock: monotonic seconds (injected by tests).
    """

    def __init__(
        self, limits: BreakerLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or BreakerLimits()
        self._clock = clock
        self._recent: dict[str, deque[float]] = {}
        self._open: dict[str, _Opened] = {}
        # Resume arrives from the API while the write path runs.
        self._lock = threading.Lock()

    def check(self, client: str, path: str) -> Verdict:
        """Count one write attempt of ``client`` on ``path`` and say whether it may go ahead."""
        with self._lock:
            return self._check(client, path, self._clock())

    def _check(self, client: str, path: str, now: float) -> Verdict:
        opened = self._open.get(path)
        if opened is not None:
            cooldown = self.limits.cooldown_s
            if cooldown <= 0 or now - opened.at < cooldown:
                opened.attempts += 1
                return Verdict.OPEN
            del self._open[path]
            self._recent.pop(path, None)
        recent = self._recent.setdefault(path, deque())
        while recent and now - recent[0] >= self.limits.window_s:
            recent.popleft()
        recent.append(now)
        if len(recent) > self.limits.max_writes:
            self._open[path] = _Opened(client, now, 1)
            recent.clear()
            return Verdict.TRIPPED
        return Verdict.ALLOW

    def resume(self, client: str) -> list[str]:
        """Close every open breaker of ``client``; return the paths it frees."""
        with self._lock:
            paths = sorted(p for p, o in self._open.items() if o.client == client)
            for path in paths:
                del self._open[path]
                self._recent.pop(path, None)
            return paths

    def open_files(self) -> list[dict[str, Any]]:
        """The open breakers: client, path, seconds open and attempts refused."""
        now = self._clock()
        cooldown = self.limits.cooldown_s
        with self._lock:
            opened = sorted(self._open.items())
        return [
            {"client": o.client, "path": p, "open_s": round(now - o.at, 1), "refused": o.attempts}
            for p, o in opened
            # Past its cooldown a breaker is closed; the next write attempt forgets it.
            if cooldown <= 0 or now - o.at < cooldown
        ]


class WriteGate:
    """The breaker on the sync write path, recording trips in the event store.

    Args:
        store: where alerts and ledger events go.
        breaker: the rule (default limits, real clock).
    """

    def __init__(self, store: EventStore, breaker: WriteBreaker | None = None) -> None:
        self.store = store
        self.breaker = breaker or WriteBreaker()
        self._alerts: dict[str, str] = {}

    def admit(self, change: FileChange) -> bool:
        """Whether ``change`` may be written; a trip is recorded once, when it happens."""
        verdict = self.breaker.check(change.client, change.path)
        if verdict is Verdict.TRIPPED:
            self._record_trip(change)
        return verdict is Verdict.ALLOW

    def _record_trip(self, change: FileChange) -> None:
        # Unique per trip: a file that trips again after a resume raises a new alert.
        trip = uuid.uuid4().hex[:12]
        alert_id = self._alerts[change.path] = f"sync-breaker:{change.client}:{trip}"
        limits = self.breaker.limits
        reason = (
            f"write breaker open: more than {limits.max_writes} writes in {limits.window_s:g}s "
            f"(an echo loop or another tool rewriting it?); resume with "
            f"`synapse sync resume {change.client}`"
        )
        if limits.cooldown_s > 0:
            reason += f" or wait {limits.cooldown_s:g}s"
        raise_alert(
            self.store,
            alert_id=alert_id,
            severity="error",
            source=f"sync:{change.client}",
            message=f"stopped writing {change.path}: {reason}",
        )
        record_ledger(
            self.store,
            [w.key for w in change.writes],
            f"breaker:{trip}",
            SyncLedger.WriteAbandoned,
            client=change.client,
            path=change.path,
            reason=reason,
        )

    def resume(self, client: str, *, by: str = "user") -> list[str]:
        """Close ``client``'s open breakers and acknowledge their alerts; return the paths."""
        paths = self.breaker.resume(client)
        for path in paths:
            alert_id = self._alerts.pop(path, None)
            if alert_id is not None:
                agg = aggregate_id("alert", alert_id)
                self.store.execute(Alert, agg, f"resume:{alert_id}", lambda a: a.acknowledge(by))
        return paths
