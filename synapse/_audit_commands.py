"""``synapse audit-export``: run the audit export now (the schedule runs it by itself).

Through the running system when it is up (the projector actor owns the DuckDB file; only an
``s3://`` target can be given over HTTP), in this process otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from actors.audit_exporter import AuditPolicy, export_once, tables_of
from events.errors import UserInputError
from synapse import bootstrap
from synapse._commands import running_client, settings_of

__all__ = ["audit_export"]


def audit_export(args: argparse.Namespace) -> int:
    """Export what is new since the last run to the target, print the manifest."""
    settings = settings_of(args)
    configured = settings.audit_policy()
    target = args.target or (configured.target if configured else "")
    if not target:
        msg = "no audit export target"
        raise UserInputError(
            msg, hint="give --target s3://bucket/prefix (or a folder), or set SYNAPSE_AUDIT_TARGET"
        )
    tables = tables_of(args.tables) if args.tables else None
    client = running_client(settings)
    if client is not None:
        if args.target and not args.target.lower().startswith("s3://"):
            msg = "a running Synapse exports only to s3:// targets given here"
            raise UserInputError(
                msg, hint="set SYNAPSE_AUDIT_TARGET to a folder before `synapse up`"
            )
        body = {"target": args.target, "tables": list(tables) if tables else None}
        run: dict[str, Any] = client.post_json("/api/v1/audit-exports", body)
    else:
        policy = AuditPolicy(
            target=target,
            tables=tables or (configured.tables if configured else ("events",)),
            fmt=configured.fmt if configured else "parquet",
        )
        store = bootstrap.open_store(settings)
        projector = bootstrap.local_projector(settings)
        try:
            run = dataclasses.asdict(export_once(store, projector, policy, settings.exports_dir))
        finally:
            projector.close()
            store.close_quietly()
    if not run["objects"]:
        print(f"nothing new since the last audit export to {target}")
        return 0
    for obj in run["objects"]:
        print(
            f"wrote {obj['url']} ({obj['mode']}, positions {obj['from_position'] + 1}-"
            f"{obj['to_position']}, {obj['rows']} rows, sha256 {obj['sha256']})"
        )
    print(f"manifest {run['manifest_url']} (recorded as AuditExport.Exported)")
    return 0
