"""``synapse demo``: the whole system in a sandbox home, with activity you can watch.

It starts a local Ray cluster in this process, spawns the supervised actors, deploys the
HTTP app on loopback, then drives real activity through the system while printing the live
event feed: alerts raised and acknowledged, and a projector crash that Ray restarts with
nothing lost. At the end it answers a SQL query, writes a Parquet export, checks that the
projections hold exactly the events in the log, and shuts everything down.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from actors.lifecycle import raise_alert
from events.runtime import Alert
from events.store import EventStore, aggregate_id
from synapse import bootstrap
from synapse._client import ApiClient
from synapse._output import format_rows
from synapse.settings import Settings, load_settings

__all__ = ["run_demo"]


class _Feed:
    """Prints new events from the API as they become visible."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self.after = 0
        self.seen = 0

    def poll(self) -> None:
        page = self.client.get_json("/api/v1/events", after=self.after, limit=1000)
        for row in page["items"]:
            body = json.dumps(row.get("body", {}), separators=(",", ":"), default=str)
            body = body if len(body) <= 100 else body[:99] + "…"
            print(f"  event {row['position']:>5}  {row['type']:34s} {body}", flush=True)
            self.after = row["position"]
            self.seen += 1


def _step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def _alerts(store: EventStore, n: int) -> Callable[[], None]:
    counter = iter(range(n))

    def act() -> None:
        i = next(counter, None)
        if i is None:
            return
        alert_id = f"demo-{i}"
        raise_alert(
            store, alert_id=alert_id, severity="info", source="demo", message=f"demo activity #{i}"
        )
        if i % 2 == 0:
            store.execute(
                Alert,
                aggregate_id("alert", alert_id),
                f"ack:{alert_id}",
                lambda a: a.acknowledge(by="demo"),
            )

    return act


def run_demo(home: Path | None, seconds: float, port: int, keep: bool) -> int:
    """Run the demo; return the CLI exit code."""
    sandbox = home or Path(tempfile.mkdtemp(prefix="synapse-demo-"))
    settings = load_settings(
        home=sandbox, namespace=f"synapse-demo-{uuid.uuid4().hex[:8]}", poll_interval_s=0.5
    )
    _step(f"starting Synapse in the sandbox {sandbox}")
    system = bootstrap.start_system(settings, detached=False, port=port)
    try:
        return _drive(settings, system, seconds, keep)
    finally:
        _step("shutting down")
        bootstrap.stop_attached()
        print("done; the sandbox stays at", sandbox)


def _drive(settings: Settings, system: bootstrap.RunningSystem, seconds: float, keep: bool) -> int:
    print(f"HTTP API: {system.url}   (browser: {system.browser_url})")
    client = ApiClient(system.url, system.token)
    feed = _Feed(client)
    store = bootstrap.open_store(settings)
    projector = bootstrap.projector_handle(settings)
    store.add_listener(lambda head: projector.hint.remote(head))
    activity = _alerts(store, 10_000)
    crashed = False
    start = time.monotonic()
    _step("live event feed (the projector follows the log; Ray supervises the actors)")
    while keep or time.monotonic() - start < seconds:
        activity()
        elapsed = time.monotonic() - start
        if not crashed and elapsed > min(4.0, seconds / 3):
            _step("crashing the projector actor on purpose: Ray restarts it from its log")
            bootstrap.crash_actor(settings, bootstrap.PROJECTOR)
            crashed = True
        with contextlib.suppress(Exception):
            feed.poll()
        time.sleep(0.4)
    return _summary(settings, client, store, feed)


def _summary(settings: Settings, client: ApiClient, store: EventStore, feed: _Feed) -> int:
    head = store.head()
    deadline = time.monotonic() + 30
    count = -1
    while time.monotonic() < deadline:
        res = client.post_json(
            "/api/v1/sql", {"query": "SELECT count(*), max(position) FROM events"}
        )
        count = int(res["rows"][0][0] or 0)
        if count >= head:
            break
        time.sleep(0.2)
    _step("SQL on the DuckDB projections: POST /api/v1/sql  (or `synapse sql`)")
    res = client.post_json(
        "/api/v1/sql",
        {"query": "SELECT type, count(*) AS events FROM events GROUP BY type ORDER BY 2 DESC"},
    )
    print(format_rows(res["columns"], res["rows"], "table"), end="")
    res = client.post_json(
        "/api/v1/sql", {"query": "SELECT name, status, restarts FROM actors ORDER BY name"}
    )
    print(format_rows(res["columns"], res["rows"], "table"), end="")
    response = client.request("GET", "/api/v1/exports/events", params={"format": "parquet"})
    dest = settings.exports_dir / "events.parquet"
    dest.write_bytes(response.content)
    print(f"\nexported the events table to {dest} ({len(response.content):,} bytes)")
    ok = count == head
    verdict = "nothing lost, nothing doubled" if ok else "MISMATCH"
    print(f"log head {head}, rows in DuckDB {count}: {verdict}")
    store.close_quietly()
    client.close()
    return 0 if ok else 1
