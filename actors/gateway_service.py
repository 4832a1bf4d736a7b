"""The gateway as a service: one :class:`~actors.gateway.router.Gateway` for the whole system.

It runs as its own async Ray actor rather than inside the Serve replica: breaker state,
EWMA latencies, retry budgets and the answer cache then survive a replica restart, there is
exactly one breaker per agent however many replicas Serve runs, and the supervisor watches
it like any other actor. Its calls are not retried by Ray (``AT_MOST_ONCE``): the router is
the single retry owner, and a client repeats a request with the same idempotency key.

Backends are injected: production passes one
:class:`~actors._remote_backend.RemoteAgentBackend` per enabled agent (streaming from its
:class:`~actors.agent_actor.AgentActor`), unit tests pass in-process backends directly.
Every gateway notice is recorded through :class:`~actors.gateway.batch_sink.BatchingEventSink`
(batched on a writer thread, so no commit blocks the actor's event loop).

Resilience settings (breakers, retries, timeouts, per agent) and the answer cache come from
the agents config (:mod:`actors.agents.resilience`); the cache is the fallback rung before
the rule-based default and lives in this actor's memory only.
"""

from __future__ import annotations

import dataclasses
import random
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from actors._agent_login import LoginTracker
from actors._execute_task import ExecuteLane, Refusal, refusal
from actors._gateway_settings import fallback_chain, with_resilience
from actors.agent_stream import AgentBackend, Capability, StreamEvent, StreamKind
from actors.agents.config import AgentsConfig
from actors.agents.factory import execute_policy
from actors.gateway.batch_sink import BatchingEventSink
from actors.gateway.clock import Clock, MonotonicClock
from actors.gateway.config import AgentEntry, GatewayConfig
from actors.gateway.hedging import HedgePolicy
from actors.gateway.report import GatewayEvent
from actors.gateway.restore import restore_breakers
from actors.gateway.router import Gateway
from actors.gateway.rto import Phase
from events.audit import set_actor
from events.errors import ActorError
from events.store import EventStore, StoreConfig

__all__ = [
    "GatewayService",
    "with_routes",
]

#: Completed answers kept for idempotent repeats of the same request id.
ANSWER_CACHE = 512
_RESUMABLE = frozenset({"claude", "codex", "gemini", "qwen", "scripted"})


#: The agents config's route strategy names → the router's balancer names.
STRATEGIES = {
    "weighted": "smooth_weighted",
    "smooth_weighted": "smooth_weighted",
    "round_robin": "round_robin",
    "least_connections": "least_connections",
    "least_response_time": "least_response_time",
    "power_of_two_choices": "power_of_two_choices",
    "p2c": "power_of_two_choices",
}


def with_routes(config: GatewayConfig, agents: AgentsConfig) -> GatewayConfig:
    """Add the agents config's per-capability routes (strategy, agent list) to ``config``.

    Raises:
        ActorError: a route names an unknown strategy.
    """
    balancers: dict[str, str] = dict(config.route_balancers)
    members: dict[str, tuple[str, ...]] = dict(config.route_agents)
    for capability, route in agents.routes.items():
        if route.strategy not in STRATEGIES:
            msg = f"route {capability}: unknown strategy {route.strategy!r}"
            raise ActorError(msg, hint=f"use one of {', '.join(sorted(STRATEGIES))}")
        key = str(getattr(capability, "value", capability))
        balancers[key] = STRATEGIES[route.strategy]
        if route.agents:
            members[key] = tuple(route.agents)
    return dataclasses.replace(config, route_balancers=balancers, route_agents=members)


class GatewayService:
    """Routes tasks over the configured agents; records everything as events.

    Args:
        store_config: where events go.
        agents: the agents config (which agents exist, execute policy).
        backends: agent name → backend, for the enabled agents.
        execute_dir: directory of the execute idempotency ledger (under ``$SYNAPSE_HOME``);
            None keeps it in memory (tests).
        incarnation: distinguishes breaker transitions of successive incarnations.
        clock: time source for the router (a virtual clock in tests).
        gateway_config: routing and resilience settings that replace the agents config's
            ``[defaults]`` and per-agent tables (tests); None = from the agents config.
        seed: seeds the router's jitter (tests).
    """

    def __init__(
        self,
        store_config: StoreConfig,
        agents: AgentsConfig,
        backends: Mapping[str, AgentBackend],
        *,
        execute_dir: str | None = None,
        incarnation: str | None = None,
        clock: Clock | None = None,
        gateway_config: GatewayConfig | None = None,
        seed: int | None = None,
    ) -> None:
        self._config = agents
        self._store = EventStore(store_config)
        # Task/Agent events are written in batches off the event loop (see batch_sink).
        self._sink = BatchingEventSink(self._store, epoch=incarnation)
        entries = [
            AgentEntry(
                backend=backends[a.name],
                capabilities=frozenset(a.capabilities) - {Capability.EXECUTE},
                weight=max(1, round(a.weight)),
                supports_resume=a.backend in _RESUMABLE,
                backend_kind=a.backend,
            )
            for a in agents.enabled_agents()
            if a.name in backends
        ]
        self._login = LoginTracker(
            self._sink.write, {e.name: e.backend_kind for e in entries}, self._sink.epoch
        )
        clock = clock or MonotonicClock()
        config = gateway_config or with_resilience(GatewayConfig(), agents)
        self.gateway = Gateway(
            entries,
            clock=clock,
            rng=random.Random(seed),  # noqa: S311 - jitter, not cryptography
            config=with_routes(config, agents),
            fallback=fallback_chain(agents.cache, clock),
            on_event=self._notice,
            # Hedging only ever applies to idempotent analyze/review, within a 10 % budget.
            hedge=HedgePolicy(),
        )
        # Ray re-runs __init__ on a restart: breakers resume from the log instead of CLOSED.
        restore_breakers(self.gateway.breakers, self._store)
        self._login.restore(self._store, self.gateway.agents)
        self._execute = ExecuteLane(
            execute_policy(agents.execute),
            Path(execute_dir) if execute_dir else None,
            self._sink,
        )
        self._answers: OrderedDict[str, dict[str, Any]] = OrderedDict()

    # -- queries ------------------------------------------------------------------------------

    def agents(self) -> list[dict[str, Any]]:
        """One row per configured agent: backend, capabilities, breaker and load."""
        rows = []
        for agent in self._config.agents:
            row: dict[str, Any] = {
                "name": agent.name,
                "backend": agent.backend,
                "capabilities": sorted(c.value for c in agent.capabilities),
                "weight": agent.weight,
                "enabled": agent.name in self.gateway.agents,
                "needs_login": agent.name in self._login.needs_login,
                "resilience": self._config.resilience(agent.name).model_dump(mode="json"),
            }
            if agent.name in self._login.needs_login:
                row["alert"] = self._login.needs_login[agent.name]
            if agent.name in self.gateway.agents:
                snap = self.gateway.breakers[agent.name].snapshot()
                slot = self.gateway.slots[agent.name]
                row.update(
                    breaker=snap.state.value,
                    times_opened=snap.times_opened,
                    error_rate=snap.failure_rate,
                    ewma_latency_ms=round(slot.ewma_s * 1000, 3),
                    in_flight=slot.in_flight,
                    retry_budget_tokens=round(self.gateway.budgets[agent.name].tokens, 3),
                )
            else:
                row.update(breaker="disabled", times_opened=0, error_rate=0.0)
                row.update(ewma_latency_ms=0.0, in_flight=0)
            rows.append(row)
        return rows

    def agent_kinds(self) -> dict[str, str]:
        """Enabled agent name → backend kind."""
        return {name: e.backend_kind for name, e in self.gateway.agents.items()}

    def metrics(self) -> dict[str, Any]:
        """Gateway counters, per-agent breaker state and the event writer (for ``/metrics``)."""
        cache = self.gateway.fallback.cache
        return {
            "gateway": asdict(self.gateway.metrics),
            "agents": self.agents(),
            "events": self._sink.stats(),
            "cache": {}
            if cache is None
            else {"entries": len(cache), "chars": cache.chars, "hits": cache.hits},
            "ttft": self._ttft_rows(),
        }

    def _ttft_rows(self) -> list[dict[str, Any]]:
        """Per enabled agent and capability: smoothed TTFT (None before a sample) and timeout.

        ``estimator`` creates a missing estimator exactly as the router's first attempt would.
        """
        rows = []
        for name, entry in sorted(self.gateway.agents.items()):
            for cap in sorted(c.value for c in entry.capabilities):
                est = self.gateway.rto.estimator(name, cap, Phase.TTFT)
                rows.append(
                    {"agent": name, "capability": cap, "srtt_s": est.srtt, "rto_s": est.rto}
                )
        return rows

    def execute_outcome(self, key: str) -> dict[str, Any] | None:
        """The recorded execute outcome for request ``key`` (JSON), if any."""
        result = self._execute.lookup(key)
        return None if result is None else result.model_dump(mode="json")

    # -- tasks --------------------------------------------------------------------------------

    def check_task(
        self,
        capability: str,
        agent: str = "any",
        argv: Sequence[str] = (),
        cwd: str | None = None,
    ) -> Refusal | None:
        """Return why a task would be refused (JSON), or None when it may run."""
        try:
            cap = Capability(capability)
        except ValueError:
            return refusal(422, "unknown_capability", f"unknown capability {capability!r}")
        if cap is Capability.EXECUTE:
            return self._execute.check(argv, cwd)
        if agent != "any":
            entry = self.gateway.agents.get(agent)
            if entry is None:
                return refusal(404, "unknown_agent", f"no enabled agent named {agent!r}")
            if cap not in entry.capabilities:
                return refusal(422, "not_capable", f"agent {agent!r} cannot {capability}")
        elif not any(cap in e.capabilities for e in self.gateway.agents.values()):
            return refusal(503, "no_agent", f"no enabled agent can {capability}")
        return None

    async def run_task(
        self,
        request_id: str,
        capability: str,
        prompt: str,
        context: str = "",
        agent: str = "any",
        argv: Sequence[str] = (),
        cwd: str | None = None,
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Serve one task to completion (for ``actor``, the user the HTTP replica serves).

        Returns:
            ``{request_id, text, agent, attempts, fallback, degraded, ok}``, the same answer
            again for a repeated ``request_id``, or ``{"refused": {status, code, detail}}``.
        """
        _act_for(actor)
        if request_id in self._answers:
            return self._answers[request_id]
        refused = self.check_task(capability, agent, argv, cwd)
        if refused is not None:
            return refused
        if capability == Capability.EXECUTE:
            answer = await self._execute.run(request_id, argv, cwd)
        else:
            text, summary = await self.gateway.run(
                request_id,
                Capability(capability),
                prompt,
                context=context,
                agent_hint=None if agent == "any" else agent,
            )
            answer = {"text": text, **summary.as_dict()}
        self._remember(request_id, answer)
        return answer

    async def stream_task(
        self,
        request_id: str,
        capability: str,
        prompt: str,
        context: str = "",
        agent: str = "any",
        argv: Sequence[str] = (),
        cwd: str | None = None,
        actor: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Serve one task, yielding StreamEvent dicts (``seq`` increasing, one ``final``).

        A refused task yields one ``error`` event whose data holds the refusal.
        """
        _act_for(actor)
        refused = self.check_task(capability, agent, argv, cwd)
        if refused is not None:
            yield _event(0, StreamKind.ERROR, text=refused["refused"]["detail"], data=refused)
            return
        if capability == Capability.EXECUTE:
            answer = await self.run_task(request_id, capability, prompt, context, agent, argv, cwd)
            yield _event(0, StreamKind.START, data={"agent": answer.get("agent")})
            yield _event(1, StreamKind.DELTA, text=str(answer.get("text", "")))
            yield _event(2, StreamKind.FINAL, data=answer)
            return
        async for event in self.gateway.stream(
            request_id,
            Capability(capability),
            prompt,
            context=context,
            agent_hint=None if agent == "any" else agent,
        ):
            yield event.model_dump(mode="json")

    def _notice(self, event: GatewayEvent) -> None:
        self._login.observe(event)
        self._sink(event)

    def _remember(self, request_id: str, answer: dict[str, Any]) -> None:
        self._answers[request_id] = answer
        while len(self._answers) > ANSWER_CACHE:
            self._answers.popitem(last=False)

    def flush_events(self, timeout_s: float | None = 30.0) -> bool:
        """Wait until every Task/Agent event so far is in the store; False on timeout."""
        return self._sink.flush(timeout_s)

    def close(self) -> None:
        """Write the queued events, then release the event store."""
        self._sink.close()
        self._store.close_quietly()


def _event(seq: int, kind: StreamKind, **fields: Any) -> dict[str, Any]:
    return StreamEvent(seq=seq, kind=kind, **fields).model_dump(mode="json")


def _act_for(actor: str | None) -> None:
    """Make ``actor`` the acting user of this call's notices (events/audit.py).

    Set, not reset: Ray runs each call to an async actor as its own task, so the value ends
    with the call; an in-process caller passes its own acting user, or None (kept as is).
    """
    if actor is not None:
        set_actor(actor)
