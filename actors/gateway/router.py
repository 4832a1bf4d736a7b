"""The gateway router: one logical request over many backends, delivered exactly once.

For each request the router picks an agent with the balancer among those whose breaker
admits calls, streams one attempt under adaptive TTFT/total and fixed idle timeouts,
classifies a failure, and then retries the same agent (backoff, retry budget), falls back to
another agent, to a cached answer, or to a degraded default. It is the single retry owner:
retries an agent CLI reports in-band are charged to the same budget.

A failure after the first token never restarts the visible text: the next attempt resumes
the agent's session or gets a continuation prompt, and a re-emitted prefix is dropped.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable, Sequence

from actors.agent_stream import (
    AgentRequest,
    Capability,
    FailureKind,
    StreamEvent,
    StreamKind,
)
from actors.gateway._attempt import AttemptResult, RequestState, stream_attempt
from actors.gateway._hedge import hedge_delay, hedged_attempt
from actors.gateway._notices import Notifier
from actors.gateway.balancer import Slot, make_balancer
from actors.gateway.breaker import CircuitBreaker
from actors.gateway.checkpoint import (
    PrefixDeduplicator,
    ResumeMode,
    StreamCheckpointer,
    resume_plan,
)
from actors.gateway.clock import Clock, MonotonicClock
from actors.gateway.config import AgentEntry, GatewayConfig
from actors.gateway.fallback import FallbackChain, FallbackKind, failure_note
from actors.gateway.hedging import HedgePolicy
from actors.gateway.report import GatewayEvent, GatewayEventKind, GatewayMetrics, RequestSummary
from actors.gateway.retry import RetryBudget, RetryPolicy
from actors.gateway.rto import Phase, RtoTable

__all__ = ["Gateway"]


class Gateway(Notifier):
    """Routes logical requests over agent backends with breakers, retries and fallback.

    Args:
        agents: the agents to route to.
        clock: source of time (a :class:`~actors.gateway.clock.VirtualClock` in tests).
        rng: source of jitter and random picks.
        config: routing and resilience settings.
        rto: adaptive timeout table.
        fallback: cache and degraded-default rungs.
        on_event: receives every :class:`GatewayEvent`.
        hedge: when and how often to hedge idempotent requests; None = never hedge.
    """

    def __init__(
        self,
        agents: Sequence[AgentEntry],
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        config: GatewayConfig | None = None,
        rto: RtoTable | None = None,
        fallback: FallbackChain | None = None,
        on_event: Callable[[GatewayEvent], None] | None = None,
        hedge: HedgePolicy | None = None,
    ) -> None:
        self.clock = clock or MonotonicClock()
        self.rng = rng or random.Random()  # noqa: S311 - jitter and picks, not cryptography
        self.config = config or GatewayConfig()
        self.rto = rto or RtoTable()
        self.fallback = fallback or FallbackChain()
        self.metrics = GatewayMetrics()
        self.hedge = hedge
        self._on_event = on_event
        self._balancer = make_balancer(self.config.balancer)
        self._route_balancers = {
            cap: make_balancer(name) for cap, name in self.config.route_balancers.items()
        }
        self.agents = {a.name: a for a in agents}
        self.slots = {a.name: Slot(a.name, a.weight) for a in agents}
        self.breakers: dict[str, CircuitBreaker] = {}
        self.budgets: dict[str, RetryBudget] = {}
        self._retry: dict[str, RetryPolicy] = {}
        for a in agents:
            own = self.config.resilience(a.name)
            breaker = own.breaker if own else self.config.breaker
            self.breakers[a.name] = CircuitBreaker(a.name, self.clock, breaker, self._on_transition)
            self.budgets[a.name] = RetryBudget(
                own.budget_max_tokens if own else self.config.budget_max_tokens,
                own.budget_token_ratio if own else self.config.budget_token_ratio,
            )
            self._retry[a.name] = own.retry if own else self.config.retry
            if own is not None:
                self.rto.configure(a.name, own.ttft, own.total, own.idle_s)
        for a in agents:
            self._emit(
                GatewayEventKind.AGENT_REGISTERED,
                agent=a.name,
                backend=a.backend_kind,
                capabilities=tuple(sorted(c.value for c in a.capabilities)),
                weight=a.weight,
            )

    # -- public API ---------------------------------------------------------------------------

    async def stream(
        self,
        request_id: str,
        capability: Capability,
        prompt: str,
        *,
        context: str = "",
        agent_hint: str | None = None,
        live: bool = True,
    ) -> AsyncIterator[StreamEvent]:
        """Serve one logical request; yield normalised events ending with one ``final``.

        The ``final`` event's ``data`` is a :class:`RequestSummary` dict (agent, attempts,
        fallback, degraded, ok). ``live=False`` (nobody sees events before the answer) lets
        agent actors batch events after the first token for ``config.batch_window_s``.
        """
        ctx = RequestState(
            request_id,
            capability,
            prompt,
            context,
            self.clock.now(),
            StreamCheckpointer(
                request_id,
                self.clock,
                every_events=self.config.checkpoint_every_events,
                every_s=self.config.checkpoint_every_s,
                on_checkpoint=lambda cp: self._on_checkpoint(ctx, cp),
            ),
            live=live,
            agent_hint=agent_hint,
        )
        self.metrics.requests += 1
        if self.hedge is not None and capability in self.hedge.config.capabilities:
            self.hedge.on_primary()
        self._emit(
            GatewayEventKind.SUBMITTED,
            request_id=request_id,
            capability=capability.value,
            prompt=prompt,
            agent_hint=agent_hint,
        )
        tried: list[str] = []
        while len(tried) < self.config.max_agents:
            entry = self._pick(capability, set(tried), agent_hint if not tried else None)
            if entry is None:
                break
            if tried:
                self.metrics.fallbacks += 1
                self._emit_fallback(ctx, FallbackKind.OTHER_AGENT, entry.name)
            tried.append(entry.name)
            async for event in self._serve_with(ctx, entry):
                yield event
            if ctx.done or capability is Capability.EXECUTE:
                break  # execute runs at most once: its side effects cannot be undone
        if not ctx.done:
            async for event in self._last_resort(ctx):
                yield event

    async def run(
        self,
        request_id: str,
        capability: Capability,
        prompt: str,
        *,
        context: str = "",
        agent_hint: str | None = None,
    ) -> tuple[str, RequestSummary]:
        """Serve one request to completion; return the delivered text and the summary."""
        parts: list[str] = []
        summary: RequestSummary | None = None
        async for event in self.stream(
            request_id, capability, prompt, context=context, agent_hint=agent_hint, live=False
        ):
            if event.kind is StreamKind.DELTA:
                parts.append(event.text)
            elif event.kind is StreamKind.FINAL:
                summary = RequestSummary(**event.data)
        assert summary is not None  # stream() always ends with a final event
        return "".join(parts), summary

    # -- one agent: first attempt plus retries ------------------------------------------------

    async def _serve_with(self, ctx: RequestState, entry: AgentEntry) -> AsyncIterator[StreamEvent]:
        name = entry.name
        budget = self.budgets[name]
        policy = self._retry[name]
        for agent_attempt in range(1, policy.max_attempts + 1):
            if agent_attempt > 1 and not self.breakers[name].allow():
                return
            result = AttemptResult()
            delay = hedge_delay(self, ctx, entry) if agent_attempt == 1 else None
            owner = [entry]  # a hedged attempt may be won by another agent
            if delay is None:
                ctx.attempts += 1
                self.metrics.attempts += 1
                attempt = self._attempt(ctx, entry, result)
            else:
                attempt = hedged_attempt(self, ctx, entry, result, delay, owner)
            async for event in attempt:
                yield event
            if result.ok:
                self._on_success(ctx, owner[0], result)
                yield self._final(ctx, owner[0].name, ok=True)
                return
            kind = result.failure or FailureKind.UNKNOWN
            self._on_failure(ctx, owner[0], result, kind)
            if not policy.should_retry(
                kind, agent_attempt, ctx.capability, budget, result.retry_after_s
            ):
                return
            delay = policy.backoff.delay(agent_attempt - 1, self.rng, result.retry_after_s)
            self.metrics.retries += 1
            self._emit(
                GatewayEventKind.RETRY_SCHEDULED,
                request_id=ctx.request_id,
                agent=name,
                attempt=ctx.attempts,
                delay_s=delay,
            )
            await self.clock.sleep(delay)

    async def _attempt(
        self, ctx: RequestState, entry: AgentEntry, result: AttemptResult
    ) -> AsyncIterator[StreamEvent]:
        request, dedupe = self._request(ctx, entry)
        async for raw in self._raw(entry, request, result):
            out = self._relay(ctx, entry, raw, dedupe)
            if out is not None:
                yield out
        if dedupe is not None:
            dedupe.flush()

    def _request(
        self, ctx: RequestState, entry: AgentEntry
    ) -> tuple[AgentRequest, PrefixDeduplicator | None]:
        """Build the next attempt's request (resuming where the stream stopped)."""
        cp = ctx.checkpointer
        last = cp.checkpoint() if cp.first_token else None
        plan = resume_plan(
            last,
            cp.text,
            supports_resume=entry.supports_resume and ctx.session_agent == entry.name,
        )
        if plan.mode is not ResumeMode.RETRY:
            self.metrics.resumes += 1
        timeouts = self.rto.timeouts(entry.name, ctx.capability.value)
        request = AgentRequest(
            request_id=f"{ctx.request_id}:{ctx.attempts}",
            capability=ctx.capability,
            prompt=ctx.prompt,
            context=ctx.context,
            resume_session_id=plan.session_id,
            continuation_of=plan.continuation_of,
            ttft_timeout_s=timeouts.ttft_s,
            idle_timeout_s=timeouts.idle_s,
            total_timeout_s=timeouts.total_s,
            batch_window_s=0.0 if ctx.live else self.config.batch_window_s,
        )
        self._emit(
            GatewayEventKind.ATTEMPT_STARTED,
            request_id=ctx.request_id,
            agent=entry.name,
            attempt=ctx.attempts,
        )
        dedupe = PrefixDeduplicator(cp.text) if plan.mode is not ResumeMode.RETRY else None
        return request, dedupe

    async def _raw(
        self, entry: AgentEntry, request: AgentRequest, result: AttemptResult
    ) -> AsyncIterator[StreamEvent]:
        slot = self.slots[entry.name]
        slot.in_flight += 1
        try:
            async for raw in stream_attempt(entry.backend, request, self.clock, result):
                yield raw
        finally:
            slot.in_flight -= 1

    def _relay(
        self,
        ctx: RequestState,
        entry: AgentEntry,
        event: StreamEvent,
        dedupe: PrefixDeduplicator | None,
    ) -> StreamEvent | None:
        """Turn one backend event into the client's event (renumbered, de-duplicated)."""
        cp = ctx.checkpointer
        if event.kind is StreamKind.START:
            if event.session_id:
                ctx.session_agent = entry.name
                cp.session_id = event.session_id
            if ctx.sent_start:
                return None
            ctx.sent_start = True
            return event.model_copy(update={"seq": ctx.next_seq(), "data": {"agent": entry.name}})
        if event.kind is StreamKind.RETRY:
            ctx.nested_retries += 1
            self.metrics.nested_retries += 1
            self.budgets[entry.name].record_nested_retry()
            return event.model_copy(update={"seq": ctx.next_seq()})
        text = event.text
        if event.kind is StreamKind.DELTA:
            text = dedupe.feed(text) if dedupe is not None else text
            if not text:
                return None
        seq = ctx.next_seq()
        is_token = event.kind in (StreamKind.TOOL_CALL, StreamKind.TOOL_RESULT)
        cp.observe(
            seq, entry.name, text=text if event.kind is StreamKind.DELTA else "", token=is_token
        )
        return event.model_copy(update={"seq": seq, "text": text})

    # -- outcomes -----------------------------------------------------------------------------

    def _on_success(self, ctx: RequestState, entry: AgentEntry, result: AttemptResult) -> None:
        name = entry.name
        if self.hedge is not None and result.ttft_s is not None:
            self.hedge.record_ttft(ctx.capability, result.ttft_s)
        self.breakers[name].record_success(result.duration_s)
        self.budgets[name].record_success()
        self.slots[name].observe(result.ttft_s if result.ttft_s is not None else result.duration_s)
        retried = ctx.attempts > 1  # Karn's rule: a retried request's timing is ambiguous
        if result.ttft_s is not None:
            self.rto.estimator(name, ctx.capability.value, Phase.TTFT).observe(
                result.ttft_s, retried=retried
            )
        self.rto.estimator(name, ctx.capability.value, Phase.TOTAL).observe(
            result.duration_s, retried=retried
        )
        self.fallback.remember(ctx.cache_key(), ctx.capability, ctx.checkpointer.text, name)
        self.metrics.successes += 1
        ctx.done = True
        self._emit_done(ctx, name, degraded=False)

    def _on_failure(
        self, ctx: RequestState, entry: AgentEntry, result: AttemptResult, kind: FailureKind
    ) -> None:
        name = entry.name
        ctx.failures[name] = kind.value
        self.breakers[name].record_failure(kind, result.duration_s)
        self.budgets[name].record_failure()
        if kind is FailureKind.TIMEOUT:
            self.metrics.timeouts += 1
            if result.timeout_phase in ("ttft", "total"):
                phase = Phase.TTFT if result.timeout_phase == "ttft" else Phase.TOTAL
                self.rto.estimator(name, ctx.capability.value, phase).on_timeout()
        self._emit(
            GatewayEventKind.ATTEMPT_FAILED,
            request_id=ctx.request_id,
            agent=name,
            attempt=ctx.attempts,
            failure=kind.value,
            detail=result.detail,
        )

    async def _last_resort(self, ctx: RequestState) -> AsyncIterator[StreamEvent]:
        emitted = ctx.checkpointer.text
        cached = self.fallback.cached(ctx.cache_key(), ctx.capability)
        if cached is not None and cached.text.startswith(emitted):
            self.metrics.cache_hits += 1
            self.metrics.successes += 1
            self._emit_fallback(ctx, FallbackKind.CACHE, cached.agent)
            rest = cached.text[len(emitted) :]
            if rest:
                yield StreamEvent(seq=ctx.next_seq(), kind=StreamKind.DELTA, text=rest)
            self._emit_done(ctx, cached.agent, degraded=False, fallback=FallbackKind.CACHE)
            age = max(0.0, self.clock.now() - cached.stored_at)
            yield self._final(ctx, cached.agent, ok=True, fallback=FallbackKind.CACHE, age=age)
            return
        why = failure_note(ctx.failures)
        default = self.fallback.degraded(ctx.capability, ctx.prompt)
        if default is not None and not emitted:
            self.metrics.degraded += 1
            self._emit_fallback(ctx, FallbackKind.DEGRADED, None)
            text = f"{default} {why}" if why else default
            yield StreamEvent(seq=ctx.next_seq(), kind=StreamKind.DELTA, text=text)
            self._emit_done(ctx, None, degraded=True)
            yield self._final(ctx, None, ok=False, fallback=FallbackKind.DEGRADED, degraded=True)
            return
        self.metrics.failures += 1
        reason = "no agent could serve the request" + (f": {why}" if why else "")
        self._emit(GatewayEventKind.FAILED, request_id=ctx.request_id, reason=reason)
        yield StreamEvent(
            seq=ctx.next_seq(),
            kind=StreamKind.ERROR,
            text=reason,
            is_error=True,
            failure=FailureKind.AUTH
            if FailureKind.AUTH in ctx.failures.values()
            else FailureKind.UNKNOWN,
        )
        yield self._final(ctx, None, ok=False, degraded=bool(emitted))

    def _final(
        self,
        ctx: RequestState,
        agent: str | None,
        *,
        ok: bool,
        fallback: FallbackKind | None = None,
        degraded: bool = False,
        age: float | None = None,
    ) -> StreamEvent:
        summary = RequestSummary(
            request_id=ctx.request_id,
            agent=agent,
            attempts=ctx.attempts,
            fallback=fallback.value if fallback else None,
            degraded=degraded,
            ok=ok,
            nested_retries=ctx.nested_retries,
            failures=dict(ctx.failures),
            cache_age_s=None if age is None else round(age, 3),
        )
        return StreamEvent(
            seq=ctx.next_seq(), kind=StreamKind.FINAL, is_error=not ok, data=summary.as_dict()
        )

    # -- picking ------------------------------------------------------------------------------

    def _pick(
        self, capability: Capability, exclude: set[str], hint: str | None
    ) -> AgentEntry | None:
        """Choose an available agent with the capability and take a breaker permit."""
        excluded = set(exclude)
        while True:
            route = self.config.route_agents.get(capability.value) or ()
            slots = [
                self.slots[name]
                for name, entry in self.agents.items()
                if capability in entry.capabilities
                and (not route or name in route)
                and name not in excluded
                and self.breakers[name].is_available()
            ]
            if not slots:
                return None
            hinted = [s for s in slots if s.name == hint]
            balancer = self._route_balancers.get(capability.value, self._balancer)
            slot = hinted[0] if hinted else balancer.pick(slots, self.rng)
            if slot is None:
                return None
            if self.breakers[slot.name].allow():
                return self.agents[slot.name]
            excluded.add(slot.name)
