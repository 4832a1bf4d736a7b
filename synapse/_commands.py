"""The CLI verbs. Each takes the parsed arguments and returns an exit code.

Verbs that read (``status``, ``events``, ``sql``, ``export``) talk to the running system over
HTTP; when nothing is running they open the event log and the DuckDB projections in this
process instead, so the data is reachable either way.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from events.errors import UserInputError
from serve.users import UserStore
from synapse import bootstrap
from synapse._client import ApiClient
from synapse._output import ProgressBar, format_rows
from synapse.settings import Settings, load_settings, remote_bind_warning

__all__ = [
    "demo",
    "down",
    "events",
    "export",
    "replay",
    "running_client",
    "settings_of",
    "sql",
    "status",
    "up",
]

EXT = {"csv": "csv", "json": "ndjson", "parquet": "parquet"}
API_FORMAT: dict[str, Literal["csv", "ndjson", "parquet"]] = {
    "csv": "csv",
    "json": "ndjson",
    "parquet": "parquet",
}


def settings_of(args: argparse.Namespace, **overrides: Any) -> Settings:
    """The settings a verb runs with: ``--home`` (when the verb has it) over the environment."""
    home = getattr(args, "home", None)
    return load_settings(home=Path(home) if home else None, **overrides)


def running_client(settings: Settings) -> ApiClient | None:
    """A client of the Synapse running on this home, or None when none runs."""
    system = bootstrap.running_system(settings)
    if system is None:
        return None
    return ApiClient(system.url, system.token)


def up(args: argparse.Namespace) -> int:
    """Join (or start) Ray, spawn the actors, deploy HTTP and print where it answers."""
    settings = settings_of(args, allow_remote=True if args.allow_remote else None)
    warning = remote_bind_warning(settings)
    if warning is not None:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"home: {settings.home}")
    system = bootstrap.start_system(
        settings, detached=True, address=args.address, port=args.port, grpc_port=args.grpc_port
    )
    print(f"Synapse is up at {system.url} (Ray at {system.ray_address})")
    if system.grpc_port:
        print(
            f"gRPC synapse.v1.Gateway on port {system.grpc_port} (metadata: application=synapse,"
            " authorization=Bearer <token>)"
        )
    print(f"open in a browser: {system.browser_url}")
    print("API token: $SYNAPSE_HOME/token  |  stop with: synapse down")
    if not UserStore(settings.users_path).users():
        print("sign-in users: none yet; add one with: synapse users add NAME --role admin")
    return 0


def down(args: argparse.Namespace) -> int:
    """Stop what ``up`` started."""
    settings = settings_of(args)
    steps = bootstrap.stop_system(settings)
    print("\n".join(steps) if steps else "nothing was running")
    return 0


def status(args: argparse.Namespace) -> int:
    """Print the health of each component."""
    settings = settings_of(args)
    client = running_client(settings)
    if client is None:
        store = bootstrap.open_store(settings)
        head = store.head()
        store.close_quietly()
        report = {"running": False, "home": str(settings.home), "log_head": head}
        print(
            json.dumps(report)
            if args.json
            else f"not running (log head {head}); start with `synapse up`"
        )
        return 3
    try:
        response = client.request("GET", "/health")
    except UserInputError:
        if args.json:
            print(json.dumps({"running": False}))
        raise
    health = response.json()
    if args.json:
        print(json.dumps(health))
    else:
        print(f"Synapse at {client.base_url}: {health.get('status', '?')}")
        for name, comp in sorted(health.get("components", {}).items()):
            print(f"  {name:10s} {comp['status']:9s} {comp.get('detail', '')}")
    return 0 if health.get("status") == "ok" else 1


def _print_event(row: dict[str, Any]) -> None:
    raw = row.get("body", {})
    if isinstance(raw, str):
        with contextlib.suppress(ValueError):
            raw = json.loads(raw)
    body = json.dumps(raw, separators=(",", ":"), default=str)
    if len(body) > 120:
        body = body[:119] + "…"
    print(f"{row['position']:>8} {str(row['timestamp'])[:23]:23s} {row['type']:32s} {body}")


def events(args: argparse.Namespace) -> int:
    """``events tail`` and ``events show``."""
    settings = settings_of(args)
    client = running_client(settings)
    if client is None:
        return _events_offline(settings, args)
    if args.events_verb == "show":
        page = client.get_json(f"/api/v1/events/{args.position}")
        print(json.dumps(page, indent=2, default=str))
        return 0
    result = client.post_json("/api/v1/sql", {"query": _tail_sql(args), "limit": 1000})
    after = int(client.get_json("/api/v1/head")["position"])
    for position, ts, type_, body in reversed(result["rows"]):
        _print_event({"position": position, "timestamp": ts, "type": type_, "body": body})
    if args.follow:
        _follow(client, after, args)
    return 0


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _tail_sql(args: argparse.Namespace) -> str:
    where = []
    if args.type:
        prefix = args.type.rstrip("*")
        where.append(
            f"(starts_with(type, {_quote(prefix)}) OR starts_with(topic, {_quote(prefix)}))"
        )
    if args.aggregate:
        where.append(f"aggregate_id = {_quote(args.aggregate)}")
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    return (
        f"SELECT position, ts, type, body FROM events {clause}"
        f"ORDER BY position DESC LIMIT {max(1, min(int(args.n), 1000))}"
    )


def _follow(client: ApiClient, after: int, args: argparse.Namespace) -> None:
    deadline = time.monotonic() + args.seconds if args.seconds else None
    while deadline is None or time.monotonic() < deadline:
        page = client.get_json(
            "/api/v1/events", after=after, limit=1000, type=args.type, aggregate=args.aggregate
        )
        for row in page["items"]:
            _print_event(row)
            after = row["position"]
        sys.stdout.flush()
        time.sleep(0.5)


def _events_offline(settings: Settings, args: argparse.Namespace) -> int:
    projector = bootstrap.local_projector(settings)
    try:
        if args.events_verb == "show":
            rows = projector.query(
                "SELECT position, ts, aggregate_id, type, topic, body FROM events "
                "WHERE position = ?",
                [args.position],
            )
            if not rows:
                msg = f"no event at position {args.position}"
                raise UserInputError(msg, hint="see `synapse events tail`")
            r = rows[0]
            event = {
                "position": r[0],
                "timestamp": str(r[1]),
                "aggregate_id": r[2],
                "type": r[3],
                "topic": r[4],
                "body": json.loads(r[5]),
            }
            print(json.dumps(event, indent=2))
            return 0
        rows = projector.query(
            "SELECT position, ts, type, body FROM events ORDER BY position DESC LIMIT ?",
            [args.n],
        )
        for r in reversed(rows):
            _print_event(
                {"position": r[0], "timestamp": r[1], "type": r[2], "body": json.loads(r[3])}
            )
        return 0
    finally:
        projector.close()


def sql(args: argparse.Namespace) -> int:
    """Run a read-only query and print the rows."""
    settings = settings_of(args)
    client = running_client(settings)
    if client is not None:
        result = client.post_json("/api/v1/sql", {"query": args.query, "limit": args.limit})
        columns, rows, truncated = result["columns"], result["rows"], result.get("truncated")
    else:
        from projections.sql_guard import run_query

        projector = bootstrap.local_projector(settings)
        try:
            with projector.cursor() as cur:
                res = run_query(cur, args.query, limit=args.limit, timeout_s=settings.sql_timeout_s)
        finally:
            projector.close()
        columns, rows, truncated = res.columns, res.rows, res.truncated
    sys.stdout.write(format_rows(columns, rows, args.format))
    if truncated:
        print(f"(truncated at {args.limit} rows; use --limit)", file=sys.stderr)
    return 0


def export(args: argparse.Namespace) -> int:
    """Export a table or query to a file, or to S3-compatible storage (``-o s3://...``)."""
    if (args.table is None) == (args.query is None):
        msg = "give a table name or --query, not both and not neither"
        raise UserInputError(msg, hint="e.g. `synapse export events --format parquet`")
    settings = settings_of(args)
    fmt = _export_format(args.format, args.output)
    if args.output and args.output.lower().startswith("s3://"):
        return _export_s3(settings, args, fmt)
    name = args.table or "query"
    dest = Path(args.output) if args.output else settings.exports_dir / f"{name}.{EXT[fmt]}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    rows = _export_local(settings, args, API_FORMAT[fmt], dest)
    print(f"wrote {dest} ({rows} rows)")
    return 0


def _export_format(given: str | None, output: str | None) -> str:
    """``--format`` when given, else the output's suffix (``.parquet``, ``.ndjson``), else csv."""
    if given:
        return str(given)
    suffix = Path(output).suffix.lower() if output else ""
    return {".parquet": "parquet", ".ndjson": "json", ".jsonl": "json", ".json": "json"}.get(
        suffix, "csv"
    )


def _export_local(
    settings: Settings,
    args: argparse.Namespace,
    fmt: Literal["csv", "ndjson", "parquet"],
    dest: Path,
) -> str:
    """Write the export to ``dest`` through the running system, or in-process; return rows."""
    client = running_client(settings)
    if client is not None:
        if args.table:
            response = client.request(
                "GET", f"/api/v1/exports/{args.table}", params={"format": fmt}
            )
        else:
            body = {"query": args.query, "format": fmt}
            response = client.request("POST", "/api/v1/exports", json=body)
        dest.write_bytes(response.content)
        return str(response.headers.get("x-export-rows", "?"))
    from projections.exports import export as do_export

    projector = bootstrap.local_projector(settings)
    try:
        with projector.cursor() as cur:
            result = do_export(cur, args.table or args.query, fmt, dest)
    finally:
        projector.close()
    return str(result.rows)


def _export_s3(settings: Settings, args: argparse.Namespace, fmt: str) -> int:
    """Export to a local file in the exports folder, then upload it (see projections.s3_target).

    Success is printed only after the object is complete at its key; on any failure nothing
    is there and the local file is removed.
    """
    from projections.s3_target import S3Target, upload_file
    from synapse.settings import s3_config

    target = S3Target.parse(args.output)
    config = s3_config()
    settings.exports_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    local = settings.exports_dir / f".s3-{uuid.uuid4().hex}.{EXT[fmt]}"
    try:
        rows = _export_local(settings, args, API_FORMAT[fmt], local)
        upload = upload_file(local, target, config, API_FORMAT[fmt])
    finally:
        local.unlink(missing_ok=True)
    print(f"wrote {target.url} ({rows} rows, {upload.bytes:,} bytes, sha256 {upload.sha256})")
    return 0


def replay(args: argparse.Namespace) -> int:
    """Replay an aggregate, a past state, or rebuild the projections."""
    settings = settings_of(args)
    if args.aggregate:
        return _replay_aggregate(settings, args)
    if args.at is not None:
        return _replay_at(settings, args)
    return _rebuild(settings)


def _replay_aggregate(settings: Settings, args: argparse.Namespace) -> int:
    from projections.replay import aggregate_at

    try:
        agg_id = uuid.UUID(args.aggregate)
    except ValueError as exc:
        msg = f"not an aggregate id: {args.aggregate!r}"
        raise UserInputError(
            msg,
            hint="aggregate ids are UUIDs; see `synapse sql "
            '"select distinct aggregate_id, aggregate_type from events"`',
        ) from exc
    store = bootstrap.open_store(settings)
    try:
        replayed = aggregate_at(store, agg_id, args.version)
    finally:
        store.close_quietly()
    for ev in replayed.events:
        print(f"v{ev['version']:<5} {ev['type']:34s} {json.dumps(ev['body'], default=str)}")
    print(f"state at version {replayed.version}:")
    print(json.dumps(replayed.state, indent=2, default=str))
    return 0


def _replay_at(settings: Settings, args: argparse.Namespace) -> int:
    from projections.replay import state_as_of
    from projections.sql_guard import run_query

    store = bootstrap.open_store(settings)
    try:
        projector = state_as_of(store, args.at)
    finally:
        store.close_quietly()
    query = args.sql or "SELECT type, count(*) AS events FROM events GROUP BY 1 ORDER BY 2 DESC"
    try:
        with projector.cursor() as cur:
            res = run_query(cur, query, limit=10_000, timeout_s=settings.sql_timeout_s)
    finally:
        projector.close()
    print(f"state as of log position {args.at}:")
    sys.stdout.write(format_rows(res.columns, res.rows, args.format))
    return 0


def _rebuild(settings: Settings) -> int:
    bar = ProgressBar("rebuilding")
    system = bootstrap.running_system(settings)
    if system is not None:
        position = bootstrap.rebuild_running(settings, system, progress=bar)
    else:
        projector = bootstrap.local_projector(settings)
        store = bootstrap.open_store(settings)
        try:
            head = store.head()
            projector.rebuild(store, progress=lambda position, _applied: bar(position, head))
            position = projector.position
        finally:
            projector.close()
            store.close_quietly()
    bar.close()
    print(f"projections rebuilt up to log position {position}")
    return 0


def demo(args: argparse.Namespace) -> int:
    """Run the whole system in a sandbox home and show it working."""
    from synapse._demo import run_demo

    return run_demo(
        home=Path(args.home) if args.home else None,
        seconds=args.seconds,
        port=args.port,
        keep=args.keep,
    )
