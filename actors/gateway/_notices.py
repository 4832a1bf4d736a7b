"""Turning router decisions into :class:`~actors.gateway.report.GatewayEvent` notices."""

from __future__ import annotations

from collections.abc import Callable

from actors.gateway._attempt import RequestState
from actors.gateway.breaker import BreakerState, BreakerTransition
from actors.gateway.checkpoint import StreamCheckpoint
from actors.gateway.clock import Clock
from actors.gateway.fallback import FallbackKind
from actors.gateway.report import GatewayEvent, GatewayEventKind

__all__ = [
    "Notifier",
]

_CIRCUIT_KINDS = {
    BreakerState.OPEN: GatewayEventKind.CIRCUIT_OPENED,
    BreakerState.HALF_OPEN: GatewayEventKind.CIRCUIT_HALF_OPENED,
    BreakerState.CLOSED: GatewayEventKind.CIRCUIT_CLOSED,
}


class Notifier:
    """Mixin of the router: builds notices and hands them to ``on_event``."""

    clock: Clock
    _on_event: Callable[[GatewayEvent], None] | None

    def _emit(self, kind: GatewayEventKind, **fields: object) -> None:
        if self._on_event is not None:
            self._on_event(GatewayEvent(kind, **fields))  # type: ignore[arg-type]

    def _emit_fallback(self, ctx: RequestState, kind: FallbackKind, agent: str | None) -> None:
        self._emit(
            GatewayEventKind.FALLBACK_USED,
            request_id=ctx.request_id,
            attempt=ctx.attempts,
            fallback=kind.value,
            agent=agent,
        )

    def _emit_done(
        self,
        ctx: RequestState,
        agent: str | None,
        *,
        degraded: bool,
        fallback: FallbackKind | None = None,
    ) -> None:
        # ``fallback`` tells an answer from the cache (named after the agent that gave it
        # earlier) from one the agent just gave.
        self._emit(
            GatewayEventKind.COMPLETED,
            request_id=ctx.request_id,
            agent=agent,
            attempt=ctx.attempts,
            degraded=degraded,
            fallback=fallback.value if fallback else "",
            duration_ms=round((self.clock.now() - ctx.started) * 1000),
        )

    def _on_checkpoint(self, ctx: RequestState, cp: StreamCheckpoint) -> None:
        self._emit(
            GatewayEventKind.CHECKPOINTED,
            request_id=ctx.request_id,
            agent=cp.agent,
            attempt=ctx.attempts,
            seq=cp.seq,
            session_id=cp.session_id,
            text_sha256=cp.text_sha256,
        )

    def _on_transition(self, t: BreakerTransition) -> None:
        self._emit(
            _CIRCUIT_KINDS[t.state],
            agent=t.name,
            seq=t.seq,
            reason=t.reason,
            open_for_s=t.open_for_s,
        )
