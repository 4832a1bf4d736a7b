"""Which agents need a login, from the gateway's notices; recorded as events and an alert.

An attempt that failed with ``auth`` (Claude's ``authentication_failed``, Gemini's exit 41,
an HTTP 401) means a human must log the CLI in or fix its credentials; retrying cannot
help, and the breaker has already opened. The agent is then marked: ``Agent.HealthChanged``
(healthy false, a fixed message) and one warning ``Alert`` per episode. The next answer the
agent itself gives (not one from the cache) clears the mark with ``HealthChanged`` (healthy
true). No text from the CLI goes into these events: it could carry anything.

A restarted gateway reads the mark back from the agent's last ``HealthChanged``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from actors.gateway.report import GatewayEvent, GatewayEventKind
from events.agent import Agent, agent_id
from events.batch import Command
from events.runtime import Alert
from events.store import EventStore, aggregate_id

__all__ = ["NEEDS_LOGIN", "LoginTracker"]

#: How a ``HealthChanged`` detail starts when it marks a missing or rejected login.
NEEDS_LOGIN = "needs login"


def _message(agent: str, backend: str) -> str:
    if backend in ("claude", "gemini", "codex", "qwen"):
        how = f"log in with `{backend}` (or set the agent's credential_env)"
    else:
        how = "check the agent's api_key_env / credentials"
    return f"{NEEDS_LOGIN}: agent {agent} was refused for its credentials; {how}"


class LoginTracker:
    """Marks and clears agents whose credentials are missing or rejected.

    Args:
        write: accepts a store command (the gateway's batching sink).
        backends: agent name → backend kind, for the message.
        epoch: makes command and alert ids unique per gateway incarnation.
    """

    def __init__(
        self, write: Callable[[Command[Any]], None], backends: dict[str, str], epoch: str
    ) -> None:
        self._write = write
        self._backends = backends
        self._epoch = epoch
        self._changes = 0
        #: Agent → the message shown while it needs a login.
        self.needs_login: dict[str, str] = {}

    def restore(self, store: EventStore, names: Iterable[str]) -> None:
        """Adopt each agent's mark from its last ``HealthChanged`` in the log."""
        for name in names:
            for event in store.events.get(agent_id(name), desc=True):
                if isinstance(event, Agent.HealthChanged):
                    if not event.healthy and event.detail.startswith(NEEDS_LOGIN):
                        self.needs_login[name] = event.detail
                    break
                if isinstance(event, Agent.Registered):
                    break

    def observe(self, event: GatewayEvent) -> None:
        """Look at one router notice (called before the sink records it)."""
        name = event.agent
        if name is None or name not in self._backends:
            return
        if event.kind is GatewayEventKind.ATTEMPT_FAILED and event.failure == "auth":
            if name not in self.needs_login:
                self._mark(name)
        elif (
            event.kind is GatewayEventKind.COMPLETED
            and not event.fallback
            and name in self.needs_login
        ):
            del self.needs_login[name]
            self._health(name, healthy=True, detail="answered again")

    def _mark(self, name: str) -> None:
        message = self.needs_login[name] = _message(name, self._backends[name])
        self._health(name, healthy=False, detail=message)
        alert_id = f"agent-login:{name}:{self._epoch}:{self._changes}"
        agg = aggregate_id("alert", alert_id)

        def build(command_id: str) -> Alert:
            return Alert._create(  # type: ignore[no-any-return]
                Alert.Raised,
                id=agg,
                command_id=command_id,
                alert_id=alert_id,
                severity="warning",
                source=f"agent-{name}",
                message=message,
            )

        self._write(Command(Alert, agg, f"raise:{alert_id}", lambda _a: None, create=build))

    def _health(self, name: str, *, healthy: bool, detail: str) -> None:
        self._changes += 1
        command_id = f"{name}:{self._epoch}:health:{self._changes}"
        self._write(
            Command(Agent, agent_id(name), command_id, lambda a: a.change_health(healthy, detail))
        )
