"""CLI verbs of sync approvals: ``synapse sync approvals|approve ID|reject ID``.

A new or changed project MCP server ``command`` / ``args`` / ``url`` runs code a repository
chose, so it waits for a person; so do deletions past ``max_deletions``. These verbs list
what waits (the file it came from, the command line it would run, the clients that would get
it) and release or refuse one by id. Like the other sync verbs they call the running system,
or run the orchestrator in this process (observe mode: an approval is recorded at once and
written by the next ``synapse sync apply``). Arguments: ``approval_id`` (positional ``ID``)
for ``approve`` and ``reject``; ``home`` / ``sync_home`` as for every sync verb.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["approval_hint", "sync_approvals", "sync_approve", "sync_reject"]

_DONE = {"approve": "approved", "reject": "rejected"}


def _call(args: argparse.Namespace, method: str, path: str, body: dict[str, Any] | None) -> Any:
    # Imported here: the sync verbs' module imports approval_hint from this one.
    from synapse._sync_commands import _call as call

    return call(args, method, path, body)


def approval_hint(decision: dict[str, Any]) -> str:
    """`` run: synapse sync approve ID`` for an open decision that has an approval id."""
    aid = decision.get("approval_id")
    return f" run: synapse sync approve {aid}" if aid else ""


def _item_lines(item: dict[str, Any]) -> list[str]:
    what = f"{item['kind']}:{item['name']}"
    lines = [f"{item['id']}  {item['type']:8}  {what}  {item['scope']}  ({item['reason']})"]
    source = f"{item['client']} {item.get('file') or '(no file)'}"
    if item["type"] == "deletion":
        source += " (deleted there)"
    lines.append(f"    from:    {source}")
    if item.get("command"):
        lines.append(f"    runs:    {item['command']}")
    if item.get("url"):
        lines.append(f"    reaches: {item['url']}")
    verb = "removed from" if item["type"] == "deletion" else "goes to"
    lines.append(f"    {verb + ':':8} {', '.join(item['clients']) or 'no other client'}")
    lines.extend(f"    loses:   {loss}" for loss in item.get("losses", []))
    lines.append(f"    approve: {item['approve']}    reject: {item['reject']}")
    return lines


def sync_approvals(args: argparse.Namespace) -> int:
    """List every pending approval with what it would run and who would get it."""
    body = _call(args, "GET", "/api/v1/sync/approvals", None)
    for item in body["approvals"]:
        for line in _item_lines(item):
            print(line)
    if not body["approvals"]:
        print("no pending approvals")
    return 0


def _judge(args: argparse.Namespace, verdict: str) -> int:
    path = f"/api/v1/sync/approvals/{args.approval_id}/{verdict}"
    result = _call(args, "POST", path, {})
    print(f"{_DONE[verdict]} {args.approval_id}")
    for written in result.get("written", []):
        print(f"wrote {written}")
    for left in result.get("abandoned", []):
        print(f"left alone (changed meanwhile) {left}")
    if not result.get("applied"):
        print("recorded; `synapse sync plan` shows what it writes, `synapse sync apply` writes it")
    return 0 if not result.get("abandoned") else 1


def sync_approve(args: argparse.Namespace) -> int:
    """Approve ``args.approval_id``: its value (or deletion) reaches the other clients."""
    return _judge(args, "approve")


def sync_reject(args: argparse.Namespace) -> int:
    """Reject ``args.approval_id``: not asked again until the value changes (a rejected
    deletion is undone: the entity is written back where it was deleted)."""
    return _judge(args, "reject")
