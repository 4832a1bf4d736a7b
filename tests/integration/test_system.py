"""The whole spine on a real local Ray cluster with Ray Serve, SQLite and DuckDB.

One system is started for the module (Ray and Serve take ~10 s to start); its home sits on a
small real tmpfs so the last test can fill the disk for real.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from actors.lifecycle import raise_alert
from events.store import EventStore
from synapse import bootstrap
from synapse.settings import Settings, load_settings

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, bool]]:
    path = tmp_path_factory.mktemp("home")
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(path)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    yield path, mounted
    if mounted:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture(scope="module")
def system(home: tuple[Path, bool]) -> Iterator[tuple[Settings, bootstrap.RunningSystem]]:
    settings = load_settings(
        # A 30 s safety poll: anything visible sooner arrived through a push hint.
        {},
        home=home[0],
        namespace=f"it-{uuid.uuid4().hex[:6]}",
        poll_interval_s=30,
    )
    running = bootstrap.start_system(
        settings, detached=False, port=0, sync_home=settings.home / "sandbox-home"
    )
    try:
        yield settings, running
    finally:
        bootstrap.stop_attached()


@pytest.fixture
def api(system: tuple[Settings, bootstrap.RunningSystem]) -> Iterator[httpx.Client]:
    _, running = system
    with httpx.Client(
        base_url=running.url, headers={"Authorization": f"Bearer {running.token}"}, timeout=30
    ) as client:
        yield client


def _wait_visible(settings: Settings, position: int) -> None:
    projector = bootstrap.projector_handle(settings)
    from actors.supervision import get

    assert get(projector.wait_for.remote(position, 30.0), timeout=60)


def _append_alerts(store: EventStore, n: int, tag: str) -> int:
    for i in range(n):
        raise_alert(store, alert_id=f"{tag}-{i}", severity="info", source="test", message="m")
    return store.head()


def test_health_reports_every_component(api: httpx.Client) -> None:
    """GET /health answers 200 with store, projector and ray all ok."""
    response = api.get("/health")
    assert response.status_code == 200, response.text
    components = response.json()["components"]
    assert {components[c]["status"] for c in ("store", "projector", "ray")} == {"ok"}


def test_the_api_replica_answers_on_the_configured_port_itself(
    system: tuple[Settings, bootstrap.RunningSystem], api: httpx.Client
) -> None:
    """Direct ingress: Serve routes the app to its replica's own port, not through the proxy.

    The process listening on the API's port is the replica, and the proxy sits elsewhere.
    """
    from serve.deployments import routed_port

    _, running = system
    port = int(running.url.rsplit(":", 1)[1])
    assert routed_port("synapse", "HTTP", direct=True) == port
    owners = subprocess.run(
        ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    assert "ServeRepli" in owners, owners
    assert "ProxyActor" not in owners, owners
    assert api.get("/health").status_code == 200


def test_appended_events_become_queryable(system, api: httpx.Client) -> None:
    """Events appended to the log show up in /api/v1/events and in SQL."""
    settings, _ = system
    store = bootstrap.open_store(settings)
    head = _append_alerts(store, 5, f"vis-{uuid.uuid4().hex[:4]}")
    _wait_visible(settings, head)
    page = api.get("/api/v1/events", params={"after": head - 5, "limit": 100}).json()
    assert [row["position"] for row in page["items"]][:5] == list(range(head - 4, head + 1))
    rows = api.post("/api/v1/sql", json={"query": "SELECT max(position) FROM events"}).json()
    assert rows["rows"][0][0] >= head
    store.close_quietly()


def test_appends_in_another_process_are_pushed_to_the_projector(system, api) -> None:
    """An append made through the system's store config hints the projector: visible fast."""
    import dataclasses

    from actors.supervision import ProjectorHint

    settings, _ = system
    config = dataclasses.replace(
        bootstrap.store_config(settings),
        on_append=ProjectorHint(bootstrap.PROJECTOR, settings.namespace),
    )
    store = EventStore(config)
    head = _append_alerts(store, 1, f"hint-{uuid.uuid4().hex[:4]}")
    deadline = time.monotonic() + 10  # the safety poll is 30 s
    while True:
        rows = api.post(
            "/api/v1/sql", json={"query": f"SELECT count(*) FROM events WHERE position = {head}"}
        ).json()["rows"]
        if rows[0][0] == 1:
            break
        assert time.monotonic() < deadline, "the append was not pushed to the projector"
        time.sleep(0.05)
    store.close_quietly()


def test_kill_9_of_projector_loses_and_doubles_nothing(system, api: httpx.Client) -> None:
    """SIGKILL of the projector mid-stream: Ray restarts it, DuckDB rows equal the log."""
    settings, _ = system
    from actors.supervision import get

    store = bootstrap.open_store(settings)
    projector = bootstrap.projector_handle(settings)
    pid = get(projector.ping.remote(), timeout=30)
    tag = f"kill-{uuid.uuid4().hex[:4]}"
    _append_alerts(store, 200, tag)
    os.kill(pid, signal.SIGKILL)
    head = _append_alerts(store, 200, tag + "b")
    _wait_visible(settings, head)
    assert get(projector.ping.remote(), timeout=60) != pid
    result = api.post(
        "/api/v1/sql",
        json={"query": "SELECT count(*), count(DISTINCT position), max(position) FROM events"},
    ).json()
    count, distinct, top = result["rows"][0]
    assert count == distinct == top == store.head()
    restarts = api.post(
        "/api/v1/sql",
        json={"query": "SELECT restarts FROM actors WHERE name = 'projector'"},
    ).json()["rows"]
    assert restarts
    assert restarts[0][0] >= 1
    store.close_quietly()


def test_dead_actor_raises_an_alert(system, api: httpx.Client) -> None:
    """An actor whose restarts are exhausted is recorded and alerted by the supervisor."""
    settings, _ = system
    from actors import supervision
    from actors.supervisor import Supervisor

    store_config = bootstrap.store_config(settings)
    name = f"fragile-{uuid.uuid4().hex[:4]}"
    fragile = supervision.spawn(
        Supervisor,
        supervision.RestartPolicy(max_restarts=0, max_task_retries=0),
        name=name,
        namespace=settings.namespace,
        args=(store_config, [], lambda n: "alive"),
        store_config=store_config,
    )
    supervision.get(fragile.ping.remote(), timeout=60)
    supervisor = supervision.lookup(bootstrap.SUPERVISOR, settings.namespace)
    supervision.get(supervisor.watch.remote(name), timeout=30)
    supervision.kill(name, settings.namespace, no_restart=True)
    supervision.get(supervisor.check.remote(), timeout=30)
    store = bootstrap.open_store(settings)
    _wait_visible(settings, store.head())
    rows = api.post(
        "/api/v1/sql",
        json={"query": f"SELECT severity, message FROM alerts WHERE source = '{name}'"},
    ).json()["rows"]
    assert rows
    assert rows[0][0] == "critical"
    status = api.post(
        "/api/v1/sql", json={"query": f"SELECT status FROM actors WHERE name = '{name}'"}
    ).json()["rows"]
    assert status == [["dead"]]
    store.close_quietly()


def test_full_disk_answers_503_then_recovers(system, home, api: httpx.Client) -> None:
    """With the home's disk full the API answers 503; once space returns it answers 200."""
    path, mounted = home
    if not mounted:
        pytest.skip("cannot mount a tmpfs for the home here")
    filler = path / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    finally:
        os.close(fd)
    try:
        response = api.get("/health")
        assert response.status_code == 503
        assert "disk" in response.text.lower()
    finally:
        filler.unlink()
    deadline = time.monotonic() + 30
    while api.get("/health").status_code != 200:
        assert time.monotonic() < deadline, "health did not recover"
        time.sleep(0.2)


def _chromium() -> str | None:
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


class _Browser:
    """Headless Chromium driven over the DevTools protocol (a real browser, no mocks)."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.proc = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline, "chromium did not start"
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        pages = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        from websockets.sync.client import connect

        url = next(p for p in pages if p["type"] == "page")["webSocketDebuggerUrl"]
        self._connection = connect(url, max_size=None)
        self.ws = self._connection.__enter__()
        self._id = 0

    def call(self, method: str, **params: object) -> dict:
        import json

        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == self._id:
                return message.get("result", {})

    def evaluate(self, expression: str) -> object:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def close(self) -> None:
        self._connection.__exit__(None, None, None)
        self.proc.kill()
        self.proc.wait(timeout=30)


@pytest.mark.browser
def test_dashboard_renders_live_events_in_a_real_browser(system, tmp_path: Path) -> None:
    """Headless Chromium logs in with the one-time URL and renders events; XSS stays text."""
    binary = _chromium()
    if binary is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium)")
    settings, running = system
    store = bootstrap.open_store(settings)
    payload = '<img src=x onerror="document.title=1">'
    raise_alert(store, alert_id="xss-probe", severity="info", source="browser", message=payload)
    _wait_visible(settings, store.head())
    browser = _Browser(binary, tmp_path / "profile")
    try:
        browser.call("Page.enable")
        browser.call("Page.navigate", url=running.browser_url)
        deadline = time.monotonic() + 60
        rows = ""
        while "xss-probe" not in rows:
            assert time.monotonic() < deadline, f"events never rendered: {rows[:500]!r}"
            rows = str(browser.evaluate("document.querySelector('#events tbody').innerText"))
            time.sleep(0.2)
        html = str(browser.evaluate("document.querySelector('#events tbody').innerHTML"))
        assert "Alert.Raised" in rows
        assert "&lt;img src=x" in html  # the payload is text
        assert "<img" not in html  # and never markup
        assert browser.evaluate("document.title") == "Synapse"  # onerror never ran
        health = browser.evaluate("document.getElementById('health').textContent")
        assert health == "ok"
        browser.call("Page.captureScreenshot")  # exercises rendering; not asserted
    finally:
        browser.close()
