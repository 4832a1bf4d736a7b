"""The supervisor: watches named actors and records deaths the restart policy cannot fix.

Starts and restarts are recorded by each actor's own constructor (see
:mod:`actors.supervision`); what an actor cannot record is its own permanent death. The
supervisor probes every watched actor on a slow tick and, when one is dead for good, appends
``ActorLifecycle.RestartsExhausted`` and raises a critical ``Alert`` (once per death).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from actors.lifecycle import record_exhausted
from events.store import EventStore, StoreConfig

__all__ = ["ActorStatus", "Supervisor"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActorStatus:
    """What the supervisor last learned about one actor."""

    name: str
    state: str


class Supervisor:
    """Probe watched actors; record exhausted restarts as events and alerts.

    Args:
        store_config: where the event log lives.
        watched: names of the actors to watch.
        probe: returns "alive", "dead", "unresponsive" or "missing" for an actor name.
        interval_s: seconds between probe rounds.
    """

    def __init__(
        self,
        store_config: StoreConfig,
        watched: Sequence[str],
        probe: Callable[[str], str],
        interval_s: float = 2.0,
    ) -> None:
        self._store = EventStore(store_config)
        self._watched = list(watched)
        self._probe = probe
        self._interval = interval_s
        self._status: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="supervisor", daemon=True)
        self._thread.start()

    def watch(self, name: str) -> str:
        """Add an actor to the watch list and probe it once; return its state."""
        if name not in self._watched:
            self._watched.append(name)
        state = self._probe(name)
        self._status[name] = state
        return state

    def check(self) -> list[ActorStatus]:
        """Probe every watched actor once; record permanent deaths."""
        result = []
        for name in list(self._watched):
            state = self._probe(name)
            self._status[name] = state
            if state == "dead":
                record_exhausted(self._store, name)
            result.append(ActorStatus(name, state))
        return result

    def status(self) -> list[ActorStatus]:
        """Return the last known state of each watched actor."""
        return [ActorStatus(n, self._status.get(n, "unknown")) for n in self._watched]

    def stop(self) -> None:
        """Stop the probe loop."""
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the loop must survive any probe failure
                _log.exception("supervisor probe round failed")
