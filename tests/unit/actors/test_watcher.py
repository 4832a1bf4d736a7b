"""ClientWatcher on a real watchdog observer over tmp_path."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from actors._sync_io import ScanReport
from actors.watcher import Change, ClientConfigFilter, ClientWatcher, watcher_name
from adapters.files import sha256_hex
from adapters.gemini_cli import GeminiCliAdapter
from synapse._demo_sync import DEMO_ARG, demo_edit, seed_sandbox

TIMEOUT = 10.0
KINDS = frozenset({"mcp_server"})


class Sink:
    """Hands each report on (optionally), then collects it; ``wait_for`` blocks (bounded)
    until ``count`` reports arrived."""

    def __init__(self, forward: Callable[[ScanReport], object] | None = None) -> None:
        self.reports: list[ScanReport] = []
        self._forward = forward
        self._cond = threading.Condition()

    def __call__(self, report: ScanReport) -> None:
        if self._forward is not None:
            self._forward(report)
        with self._cond:
            self.reports.append(report)
            self._cond.notify_all()

    def wait_for(self, count: int) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.reports) >= count, TIMEOUT)


def watcher(home: Path, sink: Sink, **kw: object) -> ClientWatcher:
    return ClientWatcher(
        GeminiCliAdapter(), home, sink, roots=[home], kinds=KINDS, debounce_s=0.05, **kw
    )


def args_of(report: ScanReport) -> str:
    return str(report.entities[("mcp_server", "filesystem")]["args"])


def test_an_edit_is_noticed_and_rescanned(tmp_path: Path) -> None:
    """Editing Gemini's settings produces a scan holding the edit."""
    seed_sandbox(tmp_path)
    sink = Sink()
    w = watcher(tmp_path, sink)
    try:
        assert sink.wait_for(1), "initial scan"
        demo_edit(tmp_path)
        assert sink.wait_for(2)
        assert DEMO_ARG in args_of(sink.reports[-1])
    finally:
        w.stop()


def test_a_burst_of_edits_is_debounced(tmp_path: Path) -> None:
    """Many events on one file within the debounce window make one rescan."""
    seed_sandbox(tmp_path)
    sink = Sink()
    w = watcher(tmp_path, sink, start=False)
    w.debounce_s = 0.5
    w.start()
    try:
        assert sink.wait_for(1)
        path = str(tmp_path / ".gemini/settings.json")
        for _ in range(50):
            w.notify(Change.modified, path)
        assert sink.wait_for(2)
        assert len(sink.reports) == 2
    finally:
        w.stop()


def test_own_writes_temp_files_and_noise_are_ignored(tmp_path: Path) -> None:
    """The orchestrator's own write (by hash), .synapse temps and noise files cause no scan."""
    seed_sandbox(tmp_path)
    sink = Sink()
    w = watcher(tmp_path, sink)
    try:
        assert sink.wait_for(1)
        settings = tmp_path / ".gemini/settings.json"
        new = settings.read_text().replace('"theme": "GitHub"', '"theme": "Dark"')
        w.expect_write(str(settings), sha256_hex(new.encode()))
        settings.write_text(new)
        (settings.parent / ".synapse.settings.json.x.tmp").write_text("{")
        (settings.parent / "settings.json.orig").write_text("{")
        suppressed = threading.Event()
        for _ in range(200):  # bounded wait for the worker to classify the echo
            if w.suppressed:
                suppressed.set()
                break
            suppressed.wait(0.05)
        assert suppressed.is_set()
        assert len(sink.reports) == 1
        # A real edit afterwards is the next thing reported.
        demo_edit(tmp_path)
        assert sink.wait_for(2)
        assert DEMO_ARG in args_of(sink.reports[1])
    finally:
        w.stop()


def test_filter_passes_only_config_files() -> None:
    """The filter keeps the watched files and drops temp and noise names."""
    f = ClientConfigFilter([Path("/h/.gemini/settings.json")])
    assert f(Change.modified, "/h/.gemini/settings.json")
    assert not f(Change.modified, "/h/.gemini/.synapse.settings.json.a.tmp")
    assert not f(Change.modified, "/h/.gemini/settings.json.orig")
    assert not f(Change.modified, "/h/.gemini/history")


def test_restarted_watcher_sees_a_change_made_while_it_was_down(tmp_path: Path) -> None:
    """A watcher started after an edit reports it in its initial rescan."""
    seed_sandbox(tmp_path)
    sink = Sink()
    first = watcher(tmp_path, sink)
    first.stop()
    demo_edit(tmp_path)
    second = watcher(tmp_path, sink)
    try:
        assert sink.wait_for(2)
        assert DEMO_ARG in args_of(sink.reports[-1])
    finally:
        second.stop()


def test_watcher_names_include_the_host() -> None:
    """Watcher actors are named per client and host."""
    assert watcher_name("codex", "box1") == "watcher:codex:box1"


def test_a_finished_write_is_scanned_without_waiting_the_whole_debounce(tmp_path: Path) -> None:
    """A file closed after writing is scanned at once, even with a one-minute debounce."""
    seed_sandbox(tmp_path)
    sink = Sink()
    w = watcher(tmp_path, sink, start=False)
    w.debounce_s = 60.0  # far beyond TIMEOUT: only the writer-done path can scan in time
    w.start()
    try:
        assert sink.wait_for(1), "initial scan"
        demo_edit(tmp_path)  # open, write, close → IN_CLOSE_WRITE
        assert sink.wait_for(2)
        assert DEMO_ARG in args_of(sink.reports[-1])
    finally:
        w.stop()


def test_a_write_still_in_progress_waits_for_the_debounce(tmp_path: Path) -> None:
    """A bare "modified" event (the writer may not be done) keeps the full debounce."""
    seed_sandbox(tmp_path)
    sink = Sink()
    w = watcher(tmp_path, sink, start=False)
    w.debounce_s = 60.0
    path = str(tmp_path / ".gemini/settings.json")
    w.notify(Change.modified, path)
    modified_due = w._pending[path]
    w.notify(Change.written, path)
    assert w._pending[path] < modified_due - 50  # the writer is done: settle, not debounce
