"""Read models ``workflows`` and ``steps``: durable workflows and each of their steps.

Contract (``events.workflow:Workflow.*``; the workflow id is in ``Started`` and, for every
later event, the command id minus its last three ``:``-separated parts, as written by
:class:`~actors.workflow.WorkflowRunner`):

===========================  ===================================================================
``Started``                  status ``running``, ``started_at``; one ``pending`` row per step
``StepStarted``              step ``running``, ``attempts``; ``current_step``
``StepCompleted``            step ``done`` with ``agent``, ``degraded``
``StepFailed``               step ``failed``
``ReviewRequestedChanges``   ``review_loops`` = ``loop``; the review step ``pending`` again
``ApprovalRequested``        workflow and step ``awaiting_approval``; ``current_step``
``Approved``                 workflow ``running``, step ``pending``
``Rejected``                 step ``failed``
``Completed`` / ``Failed``   status ``completed`` / ``failed``, ``completed_at``
===========================  ===================================================================
"""

from __future__ import annotations

from typing import Any, ClassVar

import duckdb

from projections._upsert import load_rows, replace_rows
from projections.read_model import ProjectedEvent, ReadModel

__all__ = ["WorkflowsReadModel", "workflow_id_of"]

_WF_COLUMNS = (
    "workflow_id",
    "status",
    "current_step",
    "started_at",
    "completed_at",
    "review_loops",
)
_STEP_COLUMNS = ("workflow_id", "step", "status", "attempts", "agent", "degraded")
_STEP_STATUS = {
    "StepStarted": "running",
    "StepCompleted": "done",
    "StepFailed": "failed",
    "ReviewRequestedChanges": "pending",
    "ApprovalRequested": "awaiting_approval",
    "Approved": "pending",
    "Rejected": "failed",
}


def workflow_id_of(row: ProjectedEvent) -> str:
    """Return the workflow id of a Workflow event."""
    wid = row.body.get("workflow_id")
    return str(wid) if isinstance(wid, str) else row.command_id.rsplit(":", 3)[0]


class WorkflowsReadModel(ReadModel):
    """Maintains ``workflows(workflow_id PK, ...)`` and ``steps((workflow_id, step) PK, ...)``."""

    name = "workflows"
    topics: ClassVar[tuple[str, ...]] = ("events.workflow:Workflow.",)
    SCHEMA = (
        """CREATE TABLE IF NOT EXISTS workflows (
            workflow_id VARCHAR PRIMARY KEY,
            status VARCHAR NOT NULL,
            current_step VARCHAR,
            started_at TIMESTAMP,
            completed_at TIMESTAMP,
            review_loops BIGINT NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS steps (
            workflow_id VARCHAR NOT NULL,
            step VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            attempts BIGINT NOT NULL,
            agent VARCHAR,
            degraded BOOLEAN NOT NULL,
            PRIMARY KEY (workflow_id, step)
        )""",
    )

    def apply_batch(self, con: duckdb.DuckDBPyConnection, rows: list[ProjectedEvent]) -> None:
        """Fold workflows and steps per key over their current rows, then replace them."""
        ids = [workflow_id_of(r) for r in rows]
        wf_keys = list(dict.fromkeys((i,) for i in ids))
        current = load_rows(con, "workflows", ("workflow_id",), wf_keys)
        wfs = {k: dict(v) for k, v in current.items()}
        step_keys = list(
            dict.fromkeys(
                (i, str(r.body["step"])) for i, r in zip(ids, rows, strict=True) if "step" in r.body
            )
        )
        loaded = load_rows(con, "steps", ("workflow_id", "step"), step_keys)
        steps = {k: dict(v) for k, v in loaded.items()}
        for wid, row in zip(ids, rows, strict=True):
            self._fold(wid, row, wfs, steps)
        replace_rows(con, "workflows", ("workflow_id",), _WF_COLUMNS, list(wfs.values()))
        replace_rows(con, "steps", ("workflow_id", "step"), _STEP_COLUMNS, list(steps.values()))

    @staticmethod
    def _fold(
        wid: str,
        row: ProjectedEvent,
        wfs: dict[tuple[str], dict[str, Any]],
        steps: dict[tuple[str, str], dict[str, Any]],
    ) -> None:
        kind, body = row.type.rsplit(".", 1)[-1], row.body
        if kind == "Started":
            wfs[(wid,)] = {
                "workflow_id": wid,
                "status": "running",
                "current_step": None,
                "started_at": row.timestamp or None,
                "completed_at": None,
                "review_loops": 0,
            }
            for spec in body.get("steps") or ():
                name = str(spec.get("name"))
                steps.setdefault(
                    (wid, name),
                    {
                        "workflow_id": wid,
                        "step": name,
                        "status": "pending",
                        "attempts": 0,
                        "agent": None,
                        "degraded": False,
                    },
                )
            return
        wf = wfs.get((wid,))
        if wf is None:
            return  # a workflow whose Started was never seen (cannot happen in one log)
        step = body.get("step")
        state = steps.get((wid, str(step))) if isinstance(step, str) else None
        if state is not None and kind in _STEP_STATUS:
            state["status"] = _STEP_STATUS[kind]
            if kind == "StepStarted":
                state["attempts"] = int(body.get("attempt") or state["attempts"])
                wf["current_step"] = step
            elif kind == "StepCompleted":
                state.update(agent=body.get("agent"), degraded=bool(body.get("degraded")))
        if kind == "ApprovalRequested":
            wf.update(status="awaiting_approval", current_step=step)
        elif kind == "Approved":
            wf["status"] = "running"
        elif kind == "ReviewRequestedChanges":
            wf["review_loops"] = int(body.get("loop") or wf["review_loops"])
        elif kind in ("Completed", "Failed"):
            wf.update(status=kind.lower(), completed_at=row.timestamp or None)
