"""CLI verbs for the agent gateway: ``agents``, ``ask``, ``workflow run|status|approve``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from events.errors import UserInputError
from synapse import bootstrap
from synapse._client import ApiClient
from synapse.settings import load_settings

__all__ = ["agents", "ask", "workflow"]

TERMINAL = {"completed", "failed", "rejected"}


def _client(args: argparse.Namespace) -> ApiClient:
    from pathlib import Path

    settings = load_settings(home=Path(args.home) if getattr(args, "home", None) else None)
    system = bootstrap.running_system(settings)
    if system is None:
        msg = "Synapse is not running"
        raise UserInputError(msg, hint="start it with `synapse up` (agents run inside it)")
    return ApiClient(system.url, system.token, timeout_s=600)


def agents(args: argparse.Namespace) -> int:
    """List agents with breaker state, latency and load."""
    data = _client(args).get_json("/api/v1/agents")
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(
        f"{'agent':16s} {'backend':9s} {'breaker':10s} {'err%':>5s} {'ewma ms':>8s} "
        f"{'load':>4s}  capabilities"
    )
    for a in data["agents"]:
        print(
            f"{a['name']:16s} {a['backend']:9s} {a['breaker']:10s} "
            f"{100 * a['error_rate']:5.1f} {a['ewma_latency_ms']:8.1f} {a['in_flight']:4d}  "
            f"{','.join(a['capabilities'])}{'' if a['enabled'] else '  (disabled)'}"
            f"{'  NEEDS LOGIN' if a.get('needs_login') else ''}"
        )
    for a in data["agents"]:
        if a.get("needs_login"):
            print(f"{a['name']}: {a.get('alert', 'needs login')}", file=sys.stderr)
    return 0


def ask(args: argparse.Namespace) -> int:
    """Send one task to the gateway; stream the answer as it arrives."""
    client = _client(args)
    body: dict[str, Any] = {
        "capability": args.capability,
        "prompt": args.prompt,
        "agent": args.agent,
        "context": args.context or "",
    }
    if args.no_stream:
        answer = client.post_json("/api/v1/tasks", body)
        print(answer["text"])
        _summary(answer)
        return 0 if answer.get("ok", True) else 1
    summary: dict[str, Any] = {}
    for line in client.stream_lines("POST", "/api/v1/tasks", json={**body, "stream": True}):
        if not line.startswith("data:"):
            continue
        event = json.loads(line[5:].strip())
        kind = event.get("kind")
        if kind == "delta":
            sys.stdout.write(event.get("text", ""))
            sys.stdout.flush()
        elif kind == "final":
            summary = dict(event.get("data", {}))
        elif kind == "error" and event.get("is_error"):
            summary = {"ok": False, "error": event.get("text", "")}
    print()
    _summary(summary)
    return 0 if summary.get("ok", True) else 1


def _summary(summary: dict[str, Any]) -> None:
    if not summary:
        return
    parts = [f"agent {summary.get('agent', '?')}", f"attempts {summary.get('attempts', '?')}"]
    if summary.get("fallback"):
        parts.append(f"fallback {summary['fallback']}")
    if summary.get("degraded"):
        parts.append("DEGRADED answer")
    print("-- " + ", ".join(parts), file=sys.stderr)


def _print_workflow(status: dict[str, Any]) -> None:
    print(f"workflow {status['workflow_id']}: {status['state']}")
    for step in status["steps"]:
        extra = f" by {step['agent']}" if step.get("agent") else ""
        if step.get("degraded"):
            extra += " (degraded)"
        print(f"  {step['name']:10s} {step['status']:18s}{extra}")
        if step.get("output") and step["status"] == "done":
            first = step["output"].strip().splitlines()[0] if step["output"].strip() else ""
            print(f"  {'':10s} {first[:100]}")


def workflow(args: argparse.Namespace) -> int:
    """``workflow run|status|approve``."""
    client = _client(args)
    if args.workflow_verb == "run":
        body: dict[str, Any] = {"prompt": args.prompt, "approval_required": not args.no_approval}
        if args.id:
            body["workflow_id"] = args.id
        status = client.post_json("/api/v1/workflow", body)
        if args.wait:
            status = _wait(client, status["workflow_id"], args.wait)
        _print_workflow(status)
        if status["state"] == "awaiting_approval" or any(
            s["status"] == "awaiting_approval" for s in status["steps"]
        ):
            print(f"approve with: synapse workflow approve {status['workflow_id']}")
        return 0
    if args.workflow_verb == "status":
        _print_workflow(client.get_json(f"/api/v1/workflows/{args.id}"))
        return 0
    status = client.post_json(
        f"/api/v1/workflows/{args.id}/approve", {"step": args.step, "by": args.by}
    )
    if args.wait:
        status = _wait(client, args.id, args.wait)
    _print_workflow(status)
    return 0


def _wait(client: ApiClient, workflow_id: str, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        status: dict[str, Any] = client.get_json(f"/api/v1/workflows/{workflow_id}")
        waiting = any(s["status"] == "awaiting_approval" for s in status["steps"])
        if status["state"] in TERMINAL or status.get("done") or waiting:
            return status
        if time.monotonic() > deadline:
            return status
        time.sleep(0.3)
