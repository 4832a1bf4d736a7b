"""A running Synapse (``synapse demo --keep`` on real Ray), watched from outside.

A real Prometheus scrapes it with ``monitoring/``: after the demo's acts (a crashed projector,
a failing agent, a workflow, client sync) every metric the Grafana dashboards and the alert
rules select exists in what Prometheus scraped, and Prometheus evaluates every rule without
error. The scheduled audit export, configured by environment as a user would, runs in the
projector actor on its own and on demand through the API.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from tests.integration.test_s3_export import BUCKET, SECRET, Moto, moto
from tests.unit.monitoring._monitoring import (
    dashboard_expressions,
    metric_names,
    prepared_config,
    rule_expressions,
    tool,
)

pytestmark = pytest.mark.ray
__all__ = ["moto"]  # the S3 server fixture, used by name

REPO = Path(__file__).resolve().parents[2]
DONE = "the rule reached all"  # the demo's last act ended


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lines(stream: IO[str], into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


def _wait(predicate: Any, what: str, timeout_s: float = 90) -> Any:
    """Poll an outside server (Prometheus has no push to await) until ``predicate`` answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            answer = predicate()
        except httpx.HTTPError:
            answer = None
        if answer:
            return answer
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def audit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audit")


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, audit_dir: Path, moto: Moto
) -> Iterator[tuple[str, str]]:
    """``synapse demo --keep`` after its acts: (host:port, token); stopped with Ctrl-C after."""
    home = tmp_path_factory.mktemp("demo")
    port = _free_port()
    audit = {
        "SYNAPSE_AUDIT_TARGET": str(audit_dir),
        "SYNAPSE_AUDIT_INTERVAL_S": "2",
        "SYNAPSE_AUDIT_TABLES": "events,sync_log",
        # S3 exports from the API run in the projector actor with the server's credentials.
        **moto.environ(),
    }
    command = [sys.executable, "-m", "synapse.cli", "demo", "--keep", "--home", str(home)]
    proc = subprocess.Popen(
        [*command, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
        env={**os.environ, **audit},
    )
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + 420
    try:
        while not any(DONE in line for line in seen):
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "demo exited early:\n" + "".join(seen[-80:])
            assert "FAILED" not in line, "".join(seen[-80:])
            seen.append(line)
        token = (home / "synapse" / "token").read_text().strip()
        yield f"127.0.0.1:{port}", token
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def prometheus(
    demo: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """Debian's Prometheus on a free loopback port, with monitoring/'s config and rules."""
    target, token = demo
    work = tmp_path_factory.mktemp("prometheus")
    config = prepared_config(work / "monitoring", target, token, interval="1s")
    port = _free_port()
    proc = subprocess.Popen(
        [
            tool("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(work / "prometheus.log", "w"),  # noqa: SIM115 - closed with the process
        env={**os.environ, "HOME": str(work)},
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            _wait(lambda: client.get("/-/ready").status_code == 200, "Prometheus to be ready")
            yield client
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _scraped_names(client: httpx.Client) -> set[str]:
    def up() -> bool:
        targets = client.get("/api/v1/targets").json()["data"]["activeTargets"]
        return any(t["labels"]["job"] == "synapse" and t["health"] == "up" for t in targets)

    def three_scrapes() -> bool:
        query = {"query": 'count_over_time(up{job="synapse"}[5m])'}
        result = client.get("/api/v1/query", params=query).json()["data"]["result"]
        return bool(result) and float(result[0]["value"][1]) >= 3

    _wait(up, "Prometheus to scrape Synapse")
    _wait(three_scrapes, "three stored scrapes")  # every source has answered by then
    return set(client.get("/api/v1/label/__name__/values").json()["data"])


def test_every_dashboard_and_rule_metric_was_scraped(prometheus: httpx.Client) -> None:
    """Each metric name a panel or a rule selects is among the series Prometheus stored."""
    names = _scraped_names(prometheus)
    assert "synapse_events_appended_total" in names
    used = [*rule_expressions(), *dashboard_expressions()]
    missing = sorted(
        {f"{where}: {name}" for where, expr in used for name in metric_names(expr) - names}
    )
    assert missing == []


def test_prometheus_evaluates_every_rule_without_error(prometheus: httpx.Client) -> None:
    """The rule file loads in the running server and each rule's last evaluation was healthy."""

    def evaluated() -> list[dict[str, Any]] | None:
        groups = prometheus.get("/api/v1/rules").json()["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        done = rules and all(not r["lastEvaluation"].startswith("0001") for r in rules)
        return rules if done else None

    rules = _wait(evaluated, "every rule to be evaluated")
    assert sorted(r["name"] for r in rules) == sorted(name for name, _ in rule_expressions())
    assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []


def test_the_scheduled_audit_export_runs_in_the_projector_and_on_demand(
    demo: tuple[str, str], audit_dir: Path
) -> None:
    """The schedule records an ``AuditExport.Exported`` by itself; an on-demand run through the
    API continues where it stopped; every object on disk matches its manifest hash."""
    target, token = demo
    with httpx.Client(
        base_url=f"http://{target}", headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as api:

        def scheduled() -> list[dict[str, Any]]:
            page = api.get("/api/v1/events", params={"type": "AuditExport.Exported"}).json()
            return list(page["items"])

        first = _wait(scheduled, "a scheduled audit export", timeout_s=120)[0]["body"]
        assert {o["table"] for o in first["objects"]} == {"events", "sync_log"}
        now = api.post("/api/v1/audit-exports", json={})
        assert now.status_code == 200, now.text
        run = now.json()
        refused = api.post("/api/v1/audit-exports", json={"target": "/etc"})
        assert refused.status_code == 422  # a folder is never chosen over HTTP
        recorded = [e["body"] for e in scheduled()]  # every run so far, scheduled or asked
    if run["objects"]:
        assert run["run_id"] in {m["run_id"] for m in recorded}
    for manifest in recorded:
        for obj in manifest["objects"]:
            assert Path(obj["url"]).is_relative_to(audit_dir)
            assert hashlib.sha256(Path(obj["url"]).read_bytes()).hexdigest() == obj["sha256"]
    positions = [
        (o["from_position"], o["to_position"])
        for m in recorded
        for o in m["objects"]
        if o["table"] == "events"
    ]
    assert positions[0][0] == 0
    assert all(b[0] == a[1] for a, b in itertools.pairwise(positions))  # no gap, no overlap


def test_an_export_to_s3_from_the_api_runs_in_the_projector_actor(
    demo: tuple[str, str], moto: Moto
) -> None:
    """On real Ray: the object lands at its key with the answered hash, credentials coming
    from the actor's environment; none of them appears in the answer."""
    target, token = demo
    headers = {"Authorization": f"Bearer {token}"}
    body = {"table": "events", "target": f"s3://{BUCKET}/live/events.parquet"}
    done = httpx.post(f"http://{target}/api/v1/exports/s3", json=body, headers=headers, timeout=60)
    assert done.status_code == 200, done.text
    assert SECRET not in done.text
    with moto.fs().open_input_stream(f"{BUCKET}/live/events.parquet") as f:
        assert hashlib.sha256(f.read()).hexdigest() == done.json()["sha256"]
    assert done.json()["rows"] > 100
