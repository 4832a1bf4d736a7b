"""The gateway's execute lane: one allow-listed command, at most once, recorded as a Task.

Execute never goes through the router: a command's side effects cannot be undone, so it is
never retried, never hedged and never sent to a second agent. The request id is the
idempotency key of :class:`~actors.agents.execute.ExecuteRunner`, whose file ledger lives
under ``$SYNAPSE_HOME``; a repeat of the same request returns the first outcome (or
``unknown``), never a second run. The Task events carry only the redacted argv.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from actors.agents.errors import ExecuteRefusedError
from actors.agents.execute import (
    ExecuteLedger,
    ExecutePolicy,
    ExecuteResult,
    ExecuteRunner,
    FileExecuteLedger,
    InMemoryExecuteLedger,
    redact_argv,
)
from actors.gateway.report import GatewayEvent, GatewayEventKind

__all__ = [
    "EXECUTE_AGENT",
    "ExecuteLane",
    "Refusal",
    "refusal",
]

#: The name execute outcomes are recorded under (it is not an agent).
EXECUTE_AGENT = "execute"
Refusal = dict[str, Any]
_K = GatewayEventKind


def refusal(status: int, code: str, detail: str) -> Refusal:
    """Return the JSON shape of a refused request."""
    return {"refused": {"status": status, "code": code, "detail": detail}}


class ExecuteLane:
    """Runs execute requests through an :class:`ExecuteRunner` and reports them.

    Args:
        policy: the execute policy (``enabled=False`` refuses everything).
        ledger_dir: directory of the idempotency ledger (None: in memory, tests only).
        report: receives the Task notices (the gateway's event sink).
    """

    def __init__(
        self,
        policy: ExecutePolicy,
        ledger_dir: Path | None,
        report: Callable[[GatewayEvent], None],
    ) -> None:
        self.enabled = policy.enabled
        self._report = report
        self._ledger: ExecuteLedger[ExecuteResult] = (
            FileExecuteLedger(ledger_dir, ExecuteResult)
            if ledger_dir is not None
            else InMemoryExecuteLedger()
        )
        self._runner: ExecuteRunner | None = None
        self._error = ""
        if policy.enabled:
            try:
                self._runner = ExecuteRunner(policy, ledger=self._ledger)
            except ExecuteRefusedError as exc:
                self._error = exc.message  # an allowed command is missing: refuse, say why

    def check(self, argv: Sequence[str], cwd: str | None) -> Refusal | None:
        """Return why a request would be refused before anything runs, or None."""
        if not self.enabled:
            return refusal(403, "execute_disabled", "execute is disabled in the agents config")
        if self._runner is None:
            return refusal(503, "execute_unavailable", self._error)
        if not argv or not cwd:
            return refusal(422, "execute_needs_command", "execute needs argv and cwd")
        try:
            self._runner.resolve(argv, cwd)
        except ExecuteRefusedError as exc:
            return refusal(403, "execute_refused", exc.message)
        return None

    def lookup(self, key: str) -> ExecuteResult | None:
        """Return the recorded outcome of the request ``key``, if any."""
        return self._ledger.lookup(key)

    async def run(self, request_id: str, argv: Sequence[str], cwd: str | None) -> dict[str, Any]:
        """Run once and return the JSON answer (or a refusal); record it as a Task."""
        refused = self.check(argv, cwd)
        if refused is not None:
            return refused
        assert self._runner is not None  # check() passed
        assert cwd is not None
        shown = " ".join(redact_argv(list(argv)))
        self._report(
            GatewayEvent(_K.SUBMITTED, request_id=request_id, capability="execute", prompt=shown)
        )
        self._report(
            GatewayEvent(_K.ATTEMPT_STARTED, request_id=request_id, agent=EXECUTE_AGENT, attempt=1)
        )
        try:
            result = await self._runner.run(argv, cwd=cwd, key=request_id)
        except ExecuteRefusedError as exc:
            self._report(GatewayEvent(_K.FAILED, request_id=request_id, reason=exc.message))
            return refusal(403, "execute_refused", exc.message)
        ok = result.status == "completed" and result.exit_code == 0
        if ok:
            self._report(
                GatewayEvent(
                    _K.COMPLETED,
                    request_id=request_id,
                    agent=EXECUTE_AGENT,
                    attempt=1,
                    duration_ms=int(result.duration * 1000),
                )
            )
        else:
            detail = f"status={result.status} exit={result.exit_code}"
            self._report(
                GatewayEvent(
                    _K.ATTEMPT_FAILED,
                    request_id=request_id,
                    agent=EXECUTE_AGENT,
                    attempt=1,
                    failure="unknown",
                    detail=detail,
                )
            )
            self._report(GatewayEvent(_K.FAILED, request_id=request_id, reason=detail))
        return {
            "request_id": request_id,
            "text": result.stdout,
            "agent": EXECUTE_AGENT,
            "attempts": 1,
            "fallback": None,
            "degraded": False,
            "ok": ok,
            "execute": result.model_dump(mode="json"),
        }
