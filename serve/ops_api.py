"""The operator routes under ``/api/v1``: alerts (list, acknowledge), the audit export and
exports to S3-compatible storage.

Acknowledging an alert appends ``Alert.Acknowledged`` with the signed-in user; the list reads
the ``alerts`` read model through the guarded SQL path, masked like every answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request

from events.errors import UserInputError
from serve._redact import redact_rows
from serve.auth import needs, principal_of
from serve.schemas import (
    AlertAcknowledged,
    AlertList,
    AlertRow,
    AuditExportRequest,
    AuditExportRun,
    S3ExportDone,
    S3ExportRequest,
)
from serve.services import Services
from serve.users import Role

__all__ = ["ops_api_router"]


def _alert(columns: Sequence[str], row: Sequence[Any]) -> AlertRow:
    return AlertRow.model_validate(dict(zip(columns, row, strict=True)))


def ops_api_router(services: Services) -> APIRouter:
    """Build the alert and audit-export routes over ``services``."""
    router = APIRouter(prefix="/api/v1")

    @router.get("/alerts", response_model=AlertList, tags=["alerts"])
    async def alerts(
        open_only: Annotated[bool, Query(alias="open")] = False,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> AlertList:
        """Alerts from the ``alerts`` read model, newest first (``open=true``: unacknowledged)."""
        where = "WHERE NOT acknowledged " if open_only else ""
        result = await services.sql(
            "SELECT alert_id, severity, source, message, raised_at, acknowledged, "
            f"acknowledged_by, acknowledged_at FROM alerts {where}"
            "ORDER BY raised_at DESC NULLS LAST, alert_id",
            limit,
        )
        rows = redact_rows(result.columns, result.rows)
        return AlertList(
            alerts=[
                AlertRow.model_validate(dict(zip(result.columns, r, strict=True))) for r in rows
            ]
        )

    @router.post(
        "/alerts/{alert_id}/acknowledge",
        response_model=AlertAcknowledged,
        tags=["alerts"],
        **needs(Role.OPERATOR),
    )
    async def acknowledge(
        request: Request, alert_id: Annotated[str, Path(max_length=300)]
    ) -> AlertAcknowledged:
        """Record that the signed-in user saw the alert (an event; a repeat changes nothing)."""
        principal = principal_of(request)
        by = principal.name if principal is not None else "unknown"
        if not await services.acknowledge_alert(alert_id, by):
            raise HTTPException(404, f"no alert {alert_id!r}")
        return AlertAcknowledged(alert_id=alert_id, acknowledged_by=by)

    @router.post(
        "/audit-exports", response_model=AuditExportRun, tags=["exports"], **needs(Role.ADMIN)
    )
    async def audit_export(request: Annotated[AuditExportRequest, Body()]) -> AuditExportRun:
        """Run the audit export now: what is new since the last run, with its manifest."""
        return await services.audit_export(request.target, request.tables)

    @router.post("/exports/s3", response_model=S3ExportDone, tags=["exports"], **needs(Role.ADMIN))
    async def export_s3(request: Annotated[S3ExportRequest, Body()]) -> S3ExportDone:
        """Export a table or read-only query to S3-compatible storage (admin: it writes with
        the server's credentials); answers once the object is complete at its key."""
        if (request.table is None) == (request.query is None):
            raise UserInputError("give a table or a query, not both and not neither")
        return await services.export_s3(request)

    return router
