"""Turns gateway notices into ``Agent`` and ``Task`` commands on the event store.

Command ids are deterministic — ``f"{request_id}:{attempt}:{kind}"`` for task events and
``f"{agent}:{epoch}:{seq}:{kind}"`` for breaker transitions — so a notice delivered twice
(an actor retried by Ray) appends nothing the second time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from actors.gateway.report import GatewayEvent, GatewayEventKind
from events.agent import Agent, Task, agent_id, task_id
from events.batch import Command, execute_one
from events.store import EventStore

__all__ = ["GatewayEventSink"]

_K = GatewayEventKind


class GatewayEventSink:
    """A ``Gateway(on_event=...)`` callback that records domain events, one commit each.

    :class:`~actors.gateway.batch_sink.BatchingEventSink` writes the same commands from a
    background thread in batches instead.

    Args:
        store: the event store.
        epoch: distinguishes breaker transition numbers across process restarts; pass the
            actor incarnation id, or leave it to a random token.
    """

    def __init__(self, store: EventStore, epoch: str | None = None) -> None:
        self.store = store
        self.epoch = epoch or uuid.uuid4().hex[:12]

    def __call__(self, event: GatewayEvent) -> None:
        """Record one notice."""
        self.write(self.command(event))

    def write(self, command: Command[Any]) -> None:
        """Run ``command`` now, in its own transaction."""
        execute_one(self.store, command)

    def command(self, event: GatewayEvent) -> Command[Any]:
        """The store command that records ``event`` (pure: nothing is written)."""
        if event.kind is _K.AGENT_REGISTERED:
            return self._register(event)
        if event.kind in (_K.CIRCUIT_OPENED, _K.CIRCUIT_HALF_OPENED, _K.CIRCUIT_CLOSED):
            return self._circuit(event)
        if event.kind is _K.SUBMITTED:
            return Command(
                Task,
                task_id(event.request_id),
                f"{event.request_id}:0:{event.kind.value}",
                lambda _t: None,
                create=lambda cid: Task.submit(
                    event.request_id,
                    event.capability,
                    event.prompt,
                    event.agent_hint,
                    command_id=cid,
                    actor=event.actor,
                ),
            )
        return self._task(event)

    def _register(self, e: GatewayEvent) -> Command[Agent]:
        name = e.agent or ""
        return Command(
            Agent,
            agent_id(name),
            f"{name}:registered",
            lambda _a: None,
            create=lambda cid: Agent.register(
                name, e.backend, e.capabilities, e.weight, command_id=cid
            ),
        )

    def _circuit(self, e: GatewayEvent) -> Command[Agent]:
        name = e.agent or ""

        def act(agent: Agent) -> None:
            if e.kind is _K.CIRCUIT_OPENED:
                agent.open_circuit(e.reason, e.open_for_s)
            elif e.kind is _K.CIRCUIT_HALF_OPENED:
                agent.half_open_circuit(e.reason)
            else:
                agent.close_circuit(e.reason)

        return Command(Agent, agent_id(name), f"{name}:{self.epoch}:{e.seq}:{e.kind.value}", act)

    def _task(self, e: GatewayEvent) -> Command[Task]:
        suffix = e.kind.value
        if e.kind is _K.CHECKPOINTED:
            suffix = f"{suffix}@{e.seq}"
        elif e.kind is _K.FALLBACK_USED:
            suffix = f"{suffix}@{e.fallback}"
        actions: dict[GatewayEventKind, Callable[[Task], None]] = {
            _K.ATTEMPT_STARTED: lambda t: t.start_attempt(e.attempt, e.agent or ""),
            _K.ATTEMPT_FAILED: lambda t: t.fail_attempt(
                e.attempt, e.agent or "", e.failure, e.detail
            ),
            _K.RETRY_SCHEDULED: lambda t: t.schedule_retry(e.attempt, e.delay_s),
            _K.FALLBACK_USED: lambda t: t.use_fallback(e.fallback, e.agent),
            _K.CHECKPOINTED: lambda t: t.checkpoint(e.seq, e.session_id, e.text_sha256),
            _K.COMPLETED: lambda t: t.complete(e.agent, e.attempt, e.degraded, e.duration_ms),
            _K.FAILED: lambda t: t.fail(e.reason),
        }
        return Command(
            Task, task_id(e.request_id), f"{e.request_id}:{e.attempt}:{suffix}", actions[e.kind]
        )
