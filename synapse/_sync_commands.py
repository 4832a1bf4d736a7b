"""CLI verbs of sync: ``synapse sync status|plan|apply|revert|resume`` and ``synapse conflicts``.

Each function takes the parsed ``argparse.Namespace`` and returns an exit code. With a running
system they call its HTTP API; otherwise they run the orchestrator in this process (observe
mode: only ``apply``, ``revert`` and ``conflicts resolve`` write). Arguments each expects:

* every verb: ``home`` (``--home``, optional SYNAPSE_HOME), ``sync_home`` (``--sync-home``,
  the home whose client configs are synced; default the real home; offline only).
* ``sync_status(args)``: nothing more.
* ``sync_plan(args)``: nothing more (prints redacted unified diffs and ``plan: <hash>``).
* ``sync_apply(args)``: ``plan`` (``--plan HASH``, required).
* ``sync_revert(args)``: ``write_id`` (positional ``ID``, from ``sync_log``).
* ``sync_resume(args)``: ``client`` (positional): close its open write breakers.

The policy (clients, kinds, projects, ...) comes from ``$SYNAPSE_HOME/sync.toml``, created
with commented defaults on first use; offline runs always observe (``sync status`` says so,
and which mode a running system would use).
* ``conflicts(args)``: nothing more.
* ``conflicts_resolve(args)``: ``conflict_id`` (positional), and exactly one of ``take``
  (``--take CLIENT``) or ``value`` (``--value JSON``, e.g. ``'{"command": "npx"}'``; for a
  conflict between instruction files a Markdown file or text, sent as ``{"markdown": …}``).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

from actors._sync_breaker import WriteBreaker
from actors.sync_actor import fingerprint_key
from actors.sync_service import SyncService
from adapters.registry import load_adapters
from events.errors import ActorError, UserInputError
from projections.projector import Projector
from serve.sync_services import CONFLICT_SQL, InProcessSyncServices
from synapse import bootstrap
from synapse._approval_commands import approval_hint
from synapse._client import ApiClient
from synapse.settings import Settings, SyncSettings, load_settings, load_sync_settings

__all__ = [
    "conflicts",
    "conflicts_resolve",
    "sync_apply",
    "sync_plan",
    "sync_resume",
    "sync_revert",
    "sync_status",
]


def _settings(args: argparse.Namespace) -> Settings:
    home = getattr(args, "home", None)
    return load_settings(home=Path(home) if home else None)


def _call(args: argparse.Namespace, method: str, path: str, body: dict[str, Any] | None) -> Any:
    """Call the running API, or the same operation on an in-process orchestrator."""
    settings = _settings(args)
    system = bootstrap.running_system(settings)
    if system is not None:
        client = ApiClient(system.url, system.token)
        try:
            if method == "GET":
                return client.get_json(path)
            return client.post_json(path, body or {})
        finally:
            client.close()
    return asyncio.run(_offline(settings, args, path, body))


async def _offline(
    settings: Settings, args: argparse.Namespace, path: str, body: dict[str, Any] | None
) -> Any:
    bootstrap.prepare_home(settings)
    sync = load_sync_settings(settings)
    store = bootstrap.open_store(settings)
    sync_home = Path(getattr(args, "sync_home", None) or Path.home())
    adapters = load_adapters(fingerprint_key=fingerprint_key(settings.home))
    # Offline always observes: only apply, revert and resolve write, and only when asked.
    policy = dataclasses.replace(sync.policy(list(adapters)), mode="observe")
    service = SyncService(
        store,
        {c: a for c, a in adapters.items() if str(c) in policy.clients},
        home=sync_home,
        preimage_dir=settings.home / "preimages",
        policy=policy,
        projects=sync.projects,
        breaker=WriteBreaker(sync.breaker_limits()),
    )
    projector = Projector(settings.duckdb_path)
    services = InProcessSyncServices(service, store, projector)
    try:
        service.scan()
        body = body or {}
        if path == "/api/v1/sync/status":
            status = await services.status()
            return {**status, "mode_reason": _offline_reason(settings, sync)}
        if path == "/api/v1/sync/plan":
            return await services.plan()
        if path == "/api/v1/sync/apply":
            result = await services.apply(str(body["plan_hash"]))
            if result.get("stale"):
                msg = "the plan changed since it was made"
                raise UserInputError(msg, hint="run `synapse sync plan` again")
            return result
        if path.startswith("/api/v1/sync/revert/"):
            return await services.revert(path.rsplit("/", 1)[-1])
        if path.startswith("/api/v1/sync/resume/"):
            return await services.resume(path.rsplit("/", 1)[-1])
        if path.startswith("/api/v1/sync/approvals"):
            return await _offline_approvals(services, path)
        if path == "/api/v1/conflicts":
            return {"conflicts": await services.rows(CONFLICT_SQL), "open": service.conflicts()}
        conflict_id = path.split("/")[-2]
        return await services.resolve(conflict_id, body.get("take"), body.get("value"))
    finally:
        projector.close()
        store.close_quietly()


async def _offline_approvals(services: InProcessSyncServices, path: str) -> Any:
    """``GET /api/v1/sync/approvals`` and ``POST .../{id}/approve|reject``, in process."""
    if path == "/api/v1/sync/approvals":
        return {"approvals": await services.approvals()}
    approval_id, verdict = path.split("/")[-2:]
    try:
        return await services.judge(approval_id, approve=verdict == "approve")
    except ActorError as e:
        raise UserInputError(e.message, hint=e.hint or "see `synapse sync approvals`") from e


def _offline_reason(settings: Settings, sync: SyncSettings) -> str:
    """Why an offline run observes, and where the configured mode comes from."""
    if settings.mode is not None:
        source = "SYNAPSE_MODE"
    elif "mode" in sync.model_fields_set:
        source = "sync.toml"
    else:
        source = "the default"
    return (
        "offline: nothing runs, so nothing is written on its own; "
        "`synapse sync apply --plan HASH` writes; "
        f'mode = "{sync.mode}" ({source}) applies while `synapse up` runs'
    )


def _file_lines(client: str, f: dict[str, Any]) -> list[str]:
    sha = (f.get("sha256") or "-")[:12]
    lines = [f"  {client:12} {sha:12} {f['path']}"]
    if f.get("error"):
        where = [f"line {f['line']}"] if f.get("line") else []
        if f.get("since"):
            where.append(f"since {f['since']}")
        lines.append(f"      error ({', '.join(where) or 'no line'}): {f['error']}")
    return lines


def sync_status(args: argparse.Namespace) -> int:
    """Print the mode and why, the effective policy, each client's files with their read
    errors (line, since when), open decisions and write breakers."""
    status = _call(args, "GET", "/api/v1/sync/status", None)
    reason = status.get("mode_reason")
    print(f"mode: {status['mode']}" + (f" ({reason})" if reason else ""))
    for line in _policy_lines(status.get("policy")):
        print(line)
    for b in status.get("breakers", []):
        print(f"  breaker open: {b['client']} {b['path']} (`synapse sync resume {b['client']}`)")
    errors = 0
    for client, files in sorted(status["clients"].items()):
        for f in files:
            errors += bool(f.get("error"))
            for line in _file_lines(client, f):
                print(line)
    if errors:
        print(f"  {errors} file(s) could not be read: nothing in them is synced or deleted")
    for d in status["open"]:
        ref = d.get("conflict_id") or d.get("reason", "")
        print(f"  open: {d['type']} {d['kind']}:{d['name']} ({ref}){approval_hint(d)}")
    return 0


def _policy_lines(policy: dict[str, Any] | None) -> list[str]:
    if not policy:
        return []

    def listed(values: list[str], empty: str) -> str:
        return ", ".join(values) if values else empty

    direction = policy["direction"]
    if policy.get("source"):
        direction += f" from {policy['source']}"
    conflict = policy["conflict"]
    if policy.get("priority"):
        conflict += f" ({' > '.join(policy['priority'])})"
    return [
        "policy:",
        f"  clients:       {listed(policy['clients'], 'none')}",
        f"  kinds:         {listed(policy['kinds'], 'all')}",
        f"  direction:     {direction}",
        f"  conflict:      {conflict}",
        f"  include:       {listed(policy['include'], 'all')}",
        f"  exclude:       {listed(policy['exclude'], 'none')}",
        f"  projects:      {listed(_projects(policy), 'none')}",
        f"  max_deletions: {policy['max_deletions']}",
    ]


def _projects(policy: dict[str, Any]) -> list[str]:
    trusted = set(policy.get("trusted_projects", []))
    return [p + (' (trust = "auto")' if p in trusted else "") for p in policy.get("projects", [])]


def sync_resume(args: argparse.Namespace) -> int:
    """Close the write breakers of ``args.client`` so Synapse writes its files again."""
    result = _call(args, "POST", f"/api/v1/sync/resume/{args.client}", {})
    for path in result.get("resumed", []):
        print(f"resumed {path}")
    if not result.get("resumed"):
        print(f"no open write breaker for {args.client}")
    for path in result.get("written", []):
        print(f"wrote {path}")
    return 0


def sync_plan(args: argparse.Namespace) -> int:
    """Print the plan's redacted unified diffs, pending decisions and its hash."""
    plan = _call(args, "POST", "/api/v1/sync/plan", {})
    for change in plan["changes"]:
        print(change["diff"], end="" if change["diff"].endswith("\n") else "\n")
        for loss in change["losses"]:
            print(f"# {change['client']} cannot express {loss}")
    for d in plan["decisions"]:
        note = f"{d.get('reason', '')}{approval_hint(d)}"
        print(f"# {d['type']}: {d['kind']}:{d['name']} {note}".rstrip())
    print(f"plan: {plan['plan_hash']}")
    return 0


def sync_apply(args: argparse.Namespace) -> int:
    """Apply the plan ``args.plan``; refuse (exit 1) when anything changed since."""
    result = _call(args, "POST", "/api/v1/sync/apply", {"plan_hash": args.plan})
    for path in result.get("written", []):
        print(f"wrote {path}")
    for path in result.get("abandoned", []):
        print(f"left alone (changed meanwhile) {path}")
    return 0 if not result.get("abandoned") else 1


def sync_revert(args: argparse.Namespace) -> int:
    """Restore the exact bytes write ``args.write_id`` replaced."""
    result = _call(args, "POST", f"/api/v1/sync/revert/{args.write_id}", {})
    for path in result.get("written", []):
        print(f"restored {path}")
    return 0


def conflicts(args: argparse.Namespace) -> int:
    """List open conflicts, held deletions and pending approvals."""
    body = _call(args, "GET", "/api/v1/conflicts", None)
    for d in body["open"]:
        sides = ", ".join(f"{c}={(v or 'deleted')[:8]}" for c, v in d.get("sides", {}).items())
        ref = d.get("conflict_id") or d.get("approval_id", "-")
        print(f"{ref:16} {d['type']:14} {d['kind']}:{d['name']} {sides}{approval_hint(d)}")
    if not body["open"]:
        print("no open conflicts")
    return 0


def _resolve_value(raw: str) -> dict[str, Any]:
    """``--value``: a JSON object as given, else Markdown (the file's text when ``raw`` names
    a file, else ``raw`` itself) for an instruction conflict."""
    text = raw
    try:
        named = "\n" not in raw and Path(raw).expanduser().is_file()
    except (OSError, ValueError):
        named = False  # too long or odd for a file name: it is the text itself (never echoed)
    if named:
        try:
            text = Path(raw).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            msg = f"--value: cannot read {raw}: {e}"
            raise UserInputError(msg) from e
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    return parsed if isinstance(parsed, dict) else {"markdown": text}


def conflicts_resolve(args: argparse.Namespace) -> int:
    """Resolve ``args.conflict_id`` by ``--take CLIENT`` or ``--value JSON|FILE|TEXT``."""
    take = getattr(args, "take", None)
    raw = getattr(args, "value", None)
    if (take is None) == (raw is None):
        msg = "give exactly one of --take CLIENT or --value JSON|FILE|TEXT"
        raise UserInputError(msg)
    value = _resolve_value(raw) if raw is not None else None
    body = {"take": take, "value": value}
    _call(args, "POST", f"/api/v1/conflicts/{args.conflict_id}/resolve", body)
    print(f"resolved {args.conflict_id}")
    return 0
