"""Map Synapse errors to HTTP answers: a code and one line, never a traceback."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from events.errors import (
    QueryRejectedError,
    StoreUnavailableError,
    SynapseError,
    UserInputError,
)
from serve._redact import redact

__all__ = ["RETRY_AFTER_S", "install_error_handlers", "status_for"]

RETRY_AFTER_S = 5
_STATUS: tuple[tuple[type[SynapseError], int, str], ...] = (
    (QueryRejectedError, 400, "query_rejected"),
    (UserInputError, 400, "invalid_input"),
    (StoreUnavailableError, 503, "store_unavailable"),
)


def status_for(error: SynapseError) -> tuple[int, str]:
    """Return the HTTP status and machine code for ``error`` (500/``internal`` by default)."""
    for kind, status, code in _STATUS:
        if isinstance(error, kind):
            return status, code
    return 500, "internal"


async def _synapse_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SynapseError)  # registered for SynapseError only
    status, code = status_for(exc)
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None
    # Messages are ours, but they can quote user input; redact as defence in depth.
    return JSONResponse({"error": code, "detail": redact(exc.message)}, status, headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the Synapse error mapping on ``app``."""
    app.add_exception_handler(SynapseError, _synapse_error)
