"""The gateway's event sink, written from a background thread in batches (group commit).

The router calls its ``on_event`` callback synchronously on the actor's event loop. With
:class:`~actors.gateway.sink.GatewayEventSink` each notice is one SQLite commit
(``synchronous=FULL``) on that loop, four or five per request, and every other request on
the loop waits for them. :class:`BatchingEventSink` turns the notice into its store command
on the caller's thread (cheap, pure) and hands it to one writer thread, which saves
everything queued so far in one transaction (:func:`events.batch.execute_batch`).

Durability contract:

* A notice is *accepted* when the callback returns: it is in the queue, in order, and will
  be written unless the process dies first. The router emits a task's ``completed`` notice
  before it yields the ``final`` event, so no answer leaves the gateway before its fact is
  accepted. Only a process crash loses accepted notices — at most one queue's worth,
  normally one batch of a few milliseconds — and they are observability (Task/Agent
  history), not state the gateway needs to behave correctly.
* The queue is bounded: when the writer falls ``max_pending`` notices behind, the callback
  blocks until there is room (backpressure on the whole gateway, at the store's speed).
  Nothing is ever dropped to make room.
* A batch that fails (a concurrent writer, a missing aggregate) is re-run command by
  command through :meth:`EventStore.execute`; a command that still fails is logged with its
  id and counted in :attr:`BatchingEventSink.failed` — never dropped silently.
* :meth:`flush` waits until everything accepted is written; :meth:`close` flushes and stops
  the thread; notices after ``close`` are written synchronously.

The execute lane's idempotency ledger is not written here: it stays synchronous in
:mod:`actors._execute_task`, so an execute never runs twice.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Final

from actors.gateway.sink import GatewayEventSink
from events.batch import AggregateCache, Command, execute_batch, execute_one
from events.store import EventStore

__all__ = ["BatchingEventSink"]

log = logging.getLogger(__name__)

#: Commands written in one transaction at most.
MAX_BATCH: Final = 256
#: Accepted but unwritten commands before the callback blocks (backpressure).
MAX_PENDING: Final = 8192
#: How long the writer gathers more commands after the first one of a batch. A request's
#: notices come a few milliseconds apart; gathering them costs one transaction, one
#: projector hint and one burst of Python work instead of several, each of which competes
#: with the request path for the GIL and the CPU.
LINGER_S: Final = 0.01
_STOP: Final = object()


class BatchingEventSink(GatewayEventSink):
    """A :class:`GatewayEventSink` whose writes happen on a background thread, batched.

    Args:
        store: the event store.
        epoch: see :class:`GatewayEventSink`.
        max_batch: commands per transaction at most.
        max_pending: queued commands before the callback blocks.
        linger_s: how long to gather more commands after the first of a batch.
    """

    def __init__(
        self,
        store: EventStore,
        epoch: str | None = None,
        *,
        max_batch: int = MAX_BATCH,
        max_pending: int = MAX_PENDING,
        linger_s: float = LINGER_S,
    ) -> None:
        super().__init__(store, epoch)
        self.max_batch = max_batch
        self.linger_s = linger_s
        #: Commands written, transactions used, and commands that could not be written.
        self.written = 0
        self.batches = 0
        self.failed = 0
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        # A request's notices span two batches or more: keep what the last one saved.
        self._cache = AggregateCache()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="gateway-event-writer", daemon=True)
        self._thread.start()

    def write(self, command: Command[Any]) -> None:
        """Accept ``command`` for the writer thread (blocks while the queue is full)."""
        if self._closed:
            super().write(command)
            return
        self._queue.put(command)

    def flush(self, timeout_s: float | None = None) -> bool:
        """Wait until every accepted command is written; False when ``timeout_s`` ran out."""
        done = self._queue.all_tasks_done
        with done:
            return done.wait_for(lambda: self._queue.unfinished_tasks == 0, timeout_s)

    def close(self, timeout_s: float = 30.0) -> None:
        """Write what is queued, then stop the writer thread."""
        if self._closed:
            return
        self._closed = True  # later notices are written synchronously, never queued behind _STOP
        self._queue.put(_STOP)
        self._thread.join(timeout_s)

    def stats(self) -> dict[str, int]:
        """Written commands, transactions, failed commands and the current queue length."""
        return {
            "written": self.written,
            "batches": self.batches,
            "failed": self.failed,
            "pending": self._queue.qsize(),
        }

    # -- the writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        stop = False
        while not stop:
            batch: list[Command[Any]] = []
            item = self._queue.get()
            taken = 1
            deadline = time.monotonic() + self.linger_s
            while True:
                if item is _STOP:
                    stop = True
                else:
                    batch.append(item)
                if stop or len(batch) >= self.max_batch:
                    break
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                taken += 1
            try:
                if batch:
                    self._write_batch(batch)
            finally:
                for _ in range(taken):
                    self._queue.task_done()

    def _write_batch(self, batch: list[Command[Any]]) -> None:
        try:
            execute_batch(self.store, batch, self._cache)
        except Exception:
            log.warning("event batch of %d failed; writing one by one", len(batch), exc_info=True)
            for command in batch:
                try:
                    execute_one(self.store, command)
                except Exception:
                    self.failed += 1
                    log.exception("gateway event %s could not be recorded", command.command_id)
                else:
                    self.written += 1
                self.batches += 1
            return
        self.written += len(batch)
        self.batches += 1
