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
from events.runtime import Alert
from events.store import EventStore, aggregate_id
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
    from synapse._demo_sync import seed_sandbox

    seed_sandbox(home[0] / "sandbox-home")  # eight clients' files, for the dashboard to show
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


SCREENS = Path(__file__).resolve().parents[1] / "output" / "screens"


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
        self.notifications: list[dict] = []  # protocol events (console, log) seen so far

    def call(self, method: str, **params: object) -> dict:
        import json

        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == self._id:
                return message.get("result", {})
            if "method" in message:
                self.notifications.append(message)

    def evaluate(self, expression: str) -> object:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, what: str, timeout: float = 60) -> object:
        """Evaluate ``expression`` until it is truthy (the page renders asynchronously)."""
        deadline = time.monotonic() + timeout
        # !! because a DOM node comes back by value as {}, which reads as false here.
        while not (value := self.evaluate(f"!!({expression})")):
            if time.monotonic() > deadline:
                self.screenshot("failed")
                page = self.evaluate("document.body.innerText")
                raise AssertionError(f"{what} never showed; the page read: {page!r:.1500}")
            time.sleep(0.1)
        return value

    def click_nav(self, label: str) -> None:
        """Click a link of the page's main ``nav`` landmark, as a person would."""
        clicked = self.evaluate(
            "(() => { const a = [...document.querySelectorAll('nav[aria-label=Main] a')]"
            f".find(l => l.textContent === {label!r}); if (a) a.click(); return !!a; }})()"
        )
        assert clicked, f"no nav link {label!r}"

    def type_into(self, selector: str, text: str) -> None:
        """Focus the field and type ``text`` as keyboard input (React sees real events)."""
        assert self.evaluate(
            f"(() => {{ const f = document.querySelector({selector!r});"
            " if (f) { f.focus(); f.select?.(); } return !!f; })()"
        ), selector
        self.call("Input.insertText", text=text)

    def click(self, selector: str) -> None:
        """Click the first element matching ``selector``."""
        assert self.evaluate(
            f"(() => {{ const b = document.querySelector({selector!r});"
            " if (b) b.click(); return !!b; })()"
        ), selector

    def screenshot(self, name: str) -> Path:
        import base64

        SCREENS.mkdir(parents=True, exist_ok=True)
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path = SCREENS / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def problems(self) -> list[str]:
        """Console errors and browser log errors (CSP violations among them) seen so far."""
        found = []
        for note in self.notifications:
            params = note.get("params", {})
            if note["method"] == "Runtime.consoleAPICalled" and params.get("type") == "error":
                found.append(str(params.get("args")))
            if note["method"] == "Runtime.exceptionThrown":
                found.append(str(params.get("exceptionDetails")))
            if note["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(f"{params['entry']['text']} {params['entry'].get('url', '')}".strip())
        return found

    def close(self) -> None:
        self._connection.__exit__(None, None, None)
        self.proc.kill()
        self.proc.wait(timeout=30)


def _rows(browser: _Browser, table: str) -> str:
    # textContent: a long body sits in a closed <details>, which innerText leaves out.
    return str(browser.evaluate(f"document.querySelector('{table} tbody')?.textContent ?? ''"))


@pytest.mark.browser
def test_dashboard_in_a_real_browser(system, tmp_path: Path) -> None:
    """Log in by the token URL, read the matrix, go to Events by the nav, see an append live.

    The appended alert carries markup: it must arrive without a reload and stay text. Every
    view is screenshotted into tests/output/screens; no console error or CSP violation occurs.
    """
    binary = _chromium()
    if binary is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium)")
    settings, running = system
    store = bootstrap.open_store(settings)
    browser = _Browser(binary, tmp_path / "profile")
    try:
        for domain in ("Page", "Runtime", "Log"):
            browser.call(f"{domain}.enable")
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        browser.call("Page.navigate", url=running.browser_url)
        browser.wait_for("location.pathname === '/' && !location.search", "the redirect to /")
        browser.wait_for(
            "document.querySelectorAll('#sync-matrix tbody tr').length >= 8", "the sync matrix"
        )
        browser.wait_for(
            "document.querySelector('#sync-matrix td[data-state=\"in-sync\"]')",
            "a synced cell in the matrix",
        )
        browser.wait_for("document.getElementById('live')?.textContent === 'live'", "live")
        browser.wait_for("document.getElementById('health')?.textContent === 'ok'", "health")
        browser.screenshot("overview")

        browser.evaluate("window.__sameDocument = true")
        browser.click_nav("Events")
        browser.wait_for("document.querySelector('#events tbody tr td')", "the event log")
        browser.wait_for("document.querySelector('#live-tail')", "the live tail")
        payload = '<img src=x onerror="document.title=1">'
        tag = f"xss-probe-{uuid.uuid4().hex[:6]}"
        raise_alert(store, alert_id=tag, severity="info", source="browser", message=payload)
        deadline = time.monotonic() + 60
        while tag not in (tail := _rows(browser, "#live-tail")):
            assert time.monotonic() < deadline, f"the append never arrived live: {tail[:500]!r}"
            time.sleep(0.1)
        assert browser.evaluate("window.__sameDocument") is True  # no reload happened
        html = str(browser.evaluate("document.querySelector('#live-tail tbody').innerHTML"))
        assert "Alert.Raised" in tail
        assert "&lt;img src=x" in html  # the payload is text
        assert "<img" not in html  # and never markup
        assert browser.evaluate("document.title") == "Synapse"  # onerror never ran
        browser.screenshot("events")

        browser.click_nav("Clients")
        browser.wait_for("document.querySelector('table[aria-label=\"cursor files\"]')", "clients")
        browser.screenshot("clients")
        browser.click_nav("Conflicts")
        browser.wait_for("document.getElementById('history-title')", "the conflicts view")
        browser.wait_for("!document.body.innerText.includes('Loading…')", "conflicts loaded")
        browser.screenshot("conflicts")

        browser.click_nav("Approvals")
        browser.wait_for("document.getElementById('breakers-title')", "the approvals view")
        browser.wait_for("!document.body.innerText.includes('Loading…')", "approvals loaded")
        if browser.evaluate("!!document.getElementById('action-token')"):  # no login session
            browser.type_into("#action-token", running.token)
            browser.click(".token-form button[type=submit]")
            browser.wait_for("document.querySelector('.token-state')", "actions unlocked")
        browser.screenshot("approvals")

        from synapse._demo_sync import demo_edit

        demo_edit(settings.home / "sandbox-home")  # observe mode: it waits for an apply
        browser.click_nav("Sync")  # the token stays in the tab's memory across views
        browser.wait_for("document.querySelector('table[aria-label=\"Write history\"]')", "history")
        browser.click("#plan-title ~ .actions button")
        browser.wait_for("document.querySelector('#plan-preview table.diff')", "a diff of the plan")
        browser.screenshot("sync")
        for _ in range(3):  # a plan gone stale (409) is planned again by the page
            browser.click("#plan-title ~ .actions button:nth-of-type(2)")
            done = "document.body.innerText.includes('Applied: wrote')"
            stale = "document.body.innerText.includes('plan was stale')"
            browser.wait_for(f"{done} || {stale}", "the apply")
            if browser.evaluate(done):
                break
            browser.wait_for("document.querySelector('#plan-preview code[title]')", "the new plan")
        browser.wait_for(done, "the apply")
        browser.wait_for(
            "document.querySelector('#sync-log tbody button')", "a write with its Revert"
        )
        browser.screenshot("sync-applied")
        browser.click("#sync-log tbody button")
        browser.wait_for("document.body.innerText.includes('Reverted ')", "the revert")

        browser.click_nav("Agents")
        browser.wait_for("document.getElementById('agents-table')", "the agents view")
        browser.wait_for("document.getElementById('task-title')", "the task runner")
        browser.wait_for("!document.body.innerText.includes('Loading…')", "agents loaded")
        browser.screenshot("agents")
        browser.click_nav("Workflows")
        browser.wait_for("document.getElementById('workflows-title')", "the workflows view")
        browser.wait_for("!document.body.innerText.includes('Loading…')", "workflows loaded")
        browser.screenshot("workflows")

        browser.click_nav("Logs")  # the actors' structured logs, beside the events
        browser.wait_for("document.querySelector('#logs tbody tr td')", "log lines")
        assert "started" in _rows(browser, "#logs")  # each actor logs its start
        browser.screenshot("logs")
        browser.click_nav("Alerts")
        ack = f'button[aria-label="Acknowledge alert {tag}"]'
        browser.wait_for(f"document.querySelector({ack!r})", "the probe alert, open")
        alerts_html = str(browser.evaluate("document.querySelector('#alerts tbody').innerHTML"))
        assert "&lt;img src=x" in alerts_html
        assert "<img" not in alerts_html
        browser.screenshot("alerts")
        browser.click(ack)
        browser.wait_for(f"!document.querySelector({ack!r})", "the acknowledgement")
        acked = [
            e
            for n in store.read(0, 100_000)
            if isinstance(e := store.decode(n), Alert.Acknowledged)
            and e.originator_id == aggregate_id("alert", tag)
        ]
        assert len(acked) == 1  # recorded as an event, once

        browser.click_nav("SQL")
        browser.wait_for("document.getElementById('sql-query')", "the SQL console")
        browser.type_into("#sql-query", "SELECT type, count(*) AS n FROM events GROUP BY type")
        browser.click(".sql-form button[type=submit]")
        browser.wait_for("document.querySelector('#sql-result tbody tr td')", "the query result")
        browser.wait_for(
            "document.querySelector('a[href=\"/api/v1/exports/events?format=csv\"]')",
            "the table exports",
        )
        assert "Alert.Raised" in _rows(browser, "#sql-result")
        browser.screenshot("sql")

        browser.call("Page.navigate", url=running.url + "/docs")  # offline: no CDN is reachable
        browser.wait_for("document.querySelector('#swagger-ui .opblock')", "Swagger UI")
        browser.screenshot("docs")
        assert browser.problems() == []
    finally:
        browser.close()
        store.close_quietly()
