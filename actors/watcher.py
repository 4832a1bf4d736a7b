"""ClientWatcher: watch one client's config files and hand scans to the orchestrator.

Shaped like watchfiles' ``watch(*paths, watch_filter=..., stop_event=...)``: a watchdog observer
feeds raw events through :class:`ClientConfigFilter`; a worker thread debounces them per file,
drops the echo of the orchestrator's own writes (by content hash, never by time), rescans the
client and calls ``sink(report)``. A full rescan also runs at start (so a change made while
the watcher was down is seen) and every ``rescan_interval_s`` (so a dropped event is harmless).

Besides the config files, files in the client's entity folders count (a new command, subagent
or skill file), and so do each project's instruction files (``AGENTS.md``, ``CLAUDE.md``,
``GEMINI.md`` …): their parent is watched non-recursively, and an edit rescans the client,
whose hand-off re-runs placement. A folder that does not exist yet is covered by watching
its nearest existing ancestor; once it appears it is watched itself and the client rescanned.
Client folders are never created.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from actors._sync_io import ScanReport, scan_client, synced_files
from actors._watch_targets import (
    NOISE,
    ClientConfigFilter,
    entity_dirs,
    instruction_paths,
    personal_paths,
    watch_plan,
)
from actors.install_key import fingerprint_key
from adapters.base import ClientAdapter
from adapters.files import MAX_LARGE_CONFIG_BYTES, read_regular, sha256_hex
from adapters.registry import load_adapters
from events.errors import AdapterError

__all__ = [
    "NOISE",
    "Change",
    "ClientConfigFilter",
    "ClientWatcher",
    "WatcherActor",
    "watcher_name",
]


def watcher_name(client: str, host: str) -> str:
    """The actor name of ``client``'s watcher on ``host``."""
    return f"watcher:{client}:{host}"


class Change(StrEnum):
    """What happened to a path."""

    added = "added"
    modified = "modified"
    deleted = "deleted"
    #: The writer is done: the file was closed after writing, or renamed into place.
    written = "written"


class _Handler(FileSystemEventHandler):
    def __init__(
        self, on_event: Callable[[Change, str], None], on_folder: Callable[[], None]
    ) -> None:
        self._on_event = on_event
        self._on_folder = on_folder

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            if event.event_type in {"created", "deleted", "moved"}:
                self._on_folder()
            return
        kinds = {"created": Change.added, "modified": Change.modified, "deleted": Change.deleted}
        if event.event_type == "moved":
            # Editors save by renaming a temp file over the target: complete at once.
            self._on_event(Change.written, os.fsdecode(event.dest_path))
            return
        change = kinds.get(event.event_type)
        if change is None and event.event_type == "closed":
            change = Change.written  # IN_CLOSE_WRITE: the writer closed the file
        if change is not None:
            self._on_event(change, os.fsdecode(event.src_path))


class ClientWatcher:
    """Watch one client's files; debounce; suppress own writes; rescan; report.

    Args:
        adapter: the client's adapter.
        home: the home directory whose configs are watched.
        sink: receives each :class:`ScanReport` (the orchestrator's ``submit``).
        roots: directories reads may reach.
        kinds: synced entity kinds.
        projects: project roots to include.
        debounce_s: quiet time after the last event on a file before it is rescanned.
        settle_s: the shorter wait once the writer is done with the file (closed after
            writing, or renamed into place): nothing more is coming, so waiting the whole
            debounce would only add latency. A later event pushes the scan out again.
        rescan_interval_s: time between full rescans (0 = never).
        watch_filter: decides which events count (default: :class:`ClientConfigFilter`).
        start: start watching immediately (an initial full scan runs first).
    """

    def __init__(
        self,
        adapter: ClientAdapter,
        home: Path,
        sink: Callable[[ScanReport], Any],
        *,
        roots: Sequence[Path],
        kinds: frozenset[str],
        projects: Sequence[Path] = (),
        debounce_s: float = 0.3,
        settle_s: float = 0.005,
        rescan_interval_s: float = 600.0,
        watch_filter: Callable[[Change, str], bool] | None = None,
        start: bool = True,
    ) -> None:
        self.adapter = adapter
        self.client = str(adapter.client)
        self.home = home
        self.sink = sink
        self.roots = tuple(roots)
        self.kinds = kinds
        self.projects = tuple(projects)
        self.debounce_s = debounce_s
        self.settle_s = min(settle_s, debounce_s)
        self.rescan_interval_s = rescan_interval_s
        files = synced_files(adapter, home, self.projects, kinds)
        paths = [f.path for f in files] + instruction_paths(adapter, self.projects, kinds)
        paths += personal_paths(adapter, home, kinds)
        watched = paths + [p.resolve() for p in paths]
        folders = entity_dirs(adapter, home, self.projects, kinds)
        self.watch_filter = watch_filter or ClientConfigFilter(watched, folders)
        self._wanted = sorted(
            {(p.parent, False) for p in watched} | {(d.path, d.recursive) for d in folders}
        )
        self._bounds = (home, *self.projects)
        self._watches: dict[str, tuple[bool, Any]] = {}
        self._folders_changed = False
        self._own: dict[str, str] = {}
        self._pending: dict[str, float] = {}
        self._cond = threading.Condition()
        self.stop_event = threading.Event()
        self.scans = 0
        self.suppressed = 0
        self._observer: Any = None
        self._thread: threading.Thread | None = None
        self._retry = False
        if start:
            self.start()

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        """Scan once, then watch (idempotent)."""
        if self._thread is not None:
            return
        observer = Observer()
        self._handler = _Handler(self.notify, self._folder_event)
        observer.daemon = True
        observer.start()
        self._observer = observer
        self._rewatch()
        # Watches first, then the scan: nothing written in between goes unseen.
        try:
            self.rescan()
        except Exception:  # noqa: BLE001 - the orchestrator may be restarting; retry soon
            self._retry = True
        self._thread = threading.Thread(target=self._run, name=f"watch-{self.client}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and wait for the threads."""
        self.stop_event.set()
        with self._cond:
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- which folders are watched ----------------------------------------------------

    def watched_folders(self) -> dict[str, bool]:
        """Folders watched right now → recursive."""
        return {path: recursive for path, (recursive, _) in self._watches.items()}

    def _folder_event(self) -> None:
        with self._cond:
            self._folders_changed = True
            self._cond.notify_all()

    def _rewatch(self) -> bool:
        """Watch what :func:`watch_plan` says now; True when a wanted folder got its own watch.

        Runs on the worker thread (and once at start), never on watchdog's.
        """
        plan = watch_plan(self._wanted, self._bounds)
        for path, (recursive, watch) in list(self._watches.items()):
            if plan.get(path) != recursive:
                with contextlib.suppress(KeyError, OSError):
                    self._observer.unschedule(watch)
                del self._watches[path]
        wanted = {str(p) for p, _ in self._wanted}
        appeared = False
        for path, recursive in plan.items():
            if path in self._watches:
                continue
            try:
                watch = self._observer.schedule(self._handler, path, recursive=recursive)
            except OSError:
                continue  # vanished meanwhile: the next folder event or rescan retries
            self._watches[path] = (recursive, watch)
            appeared = appeared or path in wanted
        return appeared

    # -- inputs -----------------------------------------------------------------------

    def notify(self, change: Change, path: str) -> None:
        """Take one raw event (the watchdog handler calls this; tests may too)."""
        if not self.watch_filter(change, path):
            return
        wait = self.settle_s if change is Change.written else self.debounce_s
        with self._cond:
            self._pending[path] = time.monotonic() + wait
            self._cond.notify_all()

    def expect_write(self, path: str, sha256: str) -> None:
        """The orchestrator wrote ``sha256`` into ``path``: its echo is not a change."""
        with self._cond:
            self._own[path] = sha256
            with contextlib.suppress(OSError):
                self._own[str(Path(path).resolve())] = sha256

    def rescan(self) -> ScanReport:
        """Scan every file of the client now and hand the report to the sink."""
        report = scan_client(
            self.adapter, self.home, projects=self.projects, roots=self.roots, kinds=self.kinds
        )
        self.scans += 1
        self.sink(report)
        return report

    def watch_filter_paths(self) -> list[str]:
        """Paths to retry when a hand-off failed (the client's config files)."""
        files = synced_files(self.adapter, self.home, self.projects, self.kinds)
        return [str(f.path) for f in files]

    # -- the worker -------------------------------------------------------------------

    def _due(self) -> list[str]:
        now = time.monotonic()
        due = [p for p, t in self._pending.items() if t <= now]
        for path in due:
            del self._pending[path]
        return due

    def _is_own_echo(self, path: str) -> bool:
        expected = self._own.get(path)
        if expected is None:
            return False
        try:
            # Never a plain read: a FIFO put where we wrote would block this thread forever.
            data = read_regular(Path(os.path.realpath(path)), max_bytes=MAX_LARGE_CONFIG_BYTES)
        except (AdapterError, OSError):
            return False
        current = None if data is None else sha256_hex(data)
        return current == expected

    def _run(self) -> None:
        next_full = time.monotonic() + self.rescan_interval_s
        while not self.stop_event.is_set():
            with self._cond:
                deadlines = [*self._pending.values()]
                if self.rescan_interval_s > 0:
                    deadlines.append(next_full)
                timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                if not self._folders_changed:
                    self._cond.wait(timeout)
                due = self._due()
                folders_changed, self._folders_changed = self._folders_changed, False
            if self.stop_event.is_set():
                return
            periodic = self.rescan_interval_s > 0 and time.monotonic() >= next_full
            # A folder that just appeared may already hold files written before its watch.
            appeared = self._rewatch() if folders_changed or periodic else False
            full = self._retry or periodic or appeared
            self._retry = False
            changed = [p for p in due if not self._is_own_echo(p)]
            self.suppressed += len(due) - len(changed)
            if changed or full:
                try:
                    self.rescan()
                except Exception:  # noqa: BLE001 - a failed hand-off retries after a debounce
                    with self._cond:
                        for path in changed or self.watch_filter_paths():
                            self._pending.setdefault(path, time.monotonic() + self.debounce_s)
            if full:
                next_full = time.monotonic() + self.rescan_interval_s


#: Per-file debounce of the production watchers. Short is safe: a half-written file parses as
#: an incomplete scan (never a deletion) and is re-read when its writer finishes.
PRODUCTION_DEBOUNCE_S = 0.05


class WatcherActor(ClientWatcher):
    """The Ray-facing watcher: built from picklable arguments (one per client per host).

    Args:
        client: the client id (``"codex"``).
        home: the home directory whose configs are watched.
        sink: picklable callable receiving each :class:`ScanReport`.
        extra_roots: directories besides ``home`` reads may reach.
        kinds: synced entity kinds.
        projects: project roots whose project-scope files are watched too.
        rescan_interval_s: time between full rescans.
        debounce_s: quiet time after the last event on a file before it is rescanned.
        key_home: the Synapse home whose ``fingerprint.key`` fingerprints literal secrets.
            It must be the orchestrator's: a scan fingerprinted with another key reads as a
            changed secret, and the orchestrator would copy a secret it cannot reveal.
        start: start watching at once (tests drive :meth:`rescan` themselves).
    """

    def __init__(
        self,
        client: str,
        home: str,
        sink: Callable[[ScanReport], Any],
        *,
        key_home: str,
        extra_roots: Sequence[str] = (),
        kinds: frozenset[str] = frozenset({"mcp_server"}),
        projects: Sequence[str] = (),
        rescan_interval_s: float = 600.0,
        debounce_s: float = PRODUCTION_DEBOUNCE_S,
        start: bool = True,
    ) -> None:
        adapter = load_adapters(fingerprint_key=fingerprint_key(Path(key_home)))[client]
        root = Path(home)
        project_roots = [Path(p) for p in projects]
        super().__init__(
            adapter,
            root,
            sink,
            roots=[root, *project_roots, *(Path(r) for r in extra_roots)],
            kinds=kinds,
            projects=project_roots,
            rescan_interval_s=rescan_interval_s,
            debounce_s=debounce_s,
            start=start,
        )

    def status(self) -> dict[str, Any]:
        """Scans made, echoes suppressed and folders watched so far."""
        return {
            "client": self.client,
            "scans": self.scans,
            "suppressed": self.suppressed,
            "watched": self.watched_folders(),
        }
