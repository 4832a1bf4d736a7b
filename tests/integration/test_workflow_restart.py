"""A workflow survives stopping the whole Ray cluster: a new cluster resumes it from the log."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from synapse import bootstrap
from synapse.settings import load_settings

pytestmark = pytest.mark.ray


def _start(home: Path, namespace: str) -> tuple[Any, httpx.Client]:
    settings = load_settings({}, home=home, namespace=namespace, poll_interval_s=0.5)
    running = bootstrap.start_system(
        settings, detached=False, port=0, sync_home=home / "sandbox-home"
    )
    client = httpx.Client(
        base_url=running.url, headers={"Authorization": f"Bearer {running.token}"}, timeout=60
    )
    return settings, client


def _status(api: httpx.Client, workflow_id: str, until: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        status: dict[str, Any] = api.get(f"/api/v1/workflows/{workflow_id}").json()
        steps = {s["name"]: s["status"] for s in status["steps"]}
        if until == "gate" and steps.get("execute") == "awaiting_approval":
            return status
        if until == "end" and status["state"] in ("completed", "failed"):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.2)


def test_workflow_resumes_on_a_new_cluster_without_rerunning_steps(tmp_path: Path) -> None:
    """Stop Ray at the approval gate; a fresh cluster approves and finishes; no step twice."""
    workflow_id = f"wf-{uuid.uuid4().hex[:8]}"
    _, api = _start(tmp_path, f"wfr1-{uuid.uuid4().hex[:4]}")
    try:
        api.post("/api/v1/workflow", json={"prompt": "add a cache", "workflow_id": workflow_id})
        before = _status(api, workflow_id, "gate")
    finally:
        api.close()
        bootstrap.stop_attached()  # the whole cluster goes away mid-workflow
    _, api = _start(tmp_path, f"wfr2-{uuid.uuid4().hex[:4]}")
    try:
        resumed = _status(api, workflow_id, "gate")
        assert [s["status"] for s in resumed["steps"]] == [s["status"] for s in before["steps"]]
        api.post(f"/api/v1/workflows/{workflow_id}/approve", json={"step": "execute"})
        done = _status(api, workflow_id, "end")
        assert done["state"] == "completed"
        attempts = {s["name"]: s["attempts"] for s in done["steps"]}
        assert attempts == {"plan": 1, "code": 1, "review": 1, "execute": 1}
    finally:
        api.close()
        bootstrap.stop_attached()
