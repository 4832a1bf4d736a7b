"""Two-way sync speed: edit→visible latency across eight clients, and a no-op rescan.

* Latency: a real edit on disk in one client → watchdog event → debounce → scan → merge →
  seven surgical atomic writes, timed until the seven other files hold the new value. The
  waiter wakes on every orchestrator write (its ``on_written`` callback) and then reads the
  files, so the figure is what a reader of those files sees.
* No-op rescan: eight clients × 200 MCP servers after a full sync; ``scan()`` + ``plan()``
  producing no writes. Floor: reading and parsing the same eight files with the format layer.
* rulesync's ``generate --watch`` on the same kind of edit, when it can be installed and run
  (see :mod:`benchmarks._rulesync`).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from actors.sync_service import SyncService, default_policy
from adapters.formats import load
from adapters.registry import load_adapters
from benchmarks._harness import Figure, repeat, save
from benchmarks._rulesync import RulesyncOutcome, rulesync_latency_ms
from benchmarks._sync_home import System, mcp_file, running_system, seed_many
from events.store import EventStore, StoreConfig

__all__ = ["edit_latencies_ms", "main", "noop_floor_ms", "noop_rescan_ms", "percentiles"]

#: The seeded ``filesystem`` server's last argument; each edit replaces the current one.
FIRST_VALUE = "/tmp"
#: Give up on one edit after this long (a stuck round must not hang the suite).
EDIT_TIMEOUT_S = 10.0


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 of ``samples`` (inclusive method, so small samples work)."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94], cuts[98]


def _edit(path: Path, old: str, new: str) -> float:
    """Replace the quoted ``old`` argument by ``new`` in ``path``; return the start time."""
    text = path.read_text()
    if f'"{old}"' not in text:
        msg = f"{path} does not hold the argument {old!r}"
        raise RuntimeError(msg)
    body = text.replace(f'"{old}"', f'"{new}"', 1)
    t0 = time.perf_counter()
    path.write_text(body)
    return t0


def _visible(system: System, others: list[str], new: str, t0: float) -> float | None:
    """Wait until every file in ``others`` holds ``new``; ms since ``t0``, None on timeout."""
    needle = f'"{new}"'
    while True:
        seen = system.done.writes
        if all(needle in system.paths[c].read_text() for c in others):
            return (time.perf_counter() - t0) * 1000
        if time.perf_counter() - t0 > EDIT_TIMEOUT_S:
            return None
        system.done.wait_after(seen, 0.005)


def edit_latencies_ms(
    edits: int, debounce_s: float, tag: str = "e"
) -> tuple[list[float], list[str]]:
    """Run ``edits`` edits, rotating the source client; return each edit→visible time.

    Between edits the system is left to settle (the watchers' echo checks run) for
    ``debounce_s + 20 ms``, so each edit starts on a quiet system as a person's would.
    An edit not visible within :data:`EDIT_TIMEOUT_S` is a *stall*: it is left out of the
    latencies, reported in the second list, and recovered by a full ``scan()``.
    """
    latencies: list[float] = []
    stalls: list[str] = []
    with (
        tempfile.TemporaryDirectory() as d,
        running_system(Path(d), debounce_s) as system,
    ):
        clients = list(system.paths)
        value = FIRST_VALUE
        for i in range(edits):
            source = clients[i % len(clients)]
            new = f"/tmp/{tag}{i}"
            t0 = _edit(system.paths[source], value, new)
            others = [c for c in clients if c != source]
            ms = _visible(system, others, new, t0)
            if ms is None:
                stalls.append(f"edit {i} from {source}")
                system.service.scan()
                if _visible(system, others, new, time.perf_counter()) is None:
                    msg = f"edit {new!r} from {source} not visible even after a full scan"
                    raise RuntimeError(msg)
            else:
                latencies.append(ms)
            value = new
            time.sleep(debounce_s + 0.02)
    return latencies, stalls


def _noop_service(root: Path) -> SyncService:
    adapters = load_adapters()
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=root / "events.sqlite"))
    service = SyncService(
        store,
        adapters,
        home=root / "home",
        preimage_dir=root / "preimages",
        policy=default_policy(list(adapters), "apply"),
    )
    service.scan()  # the full sync the no-op rescan follows
    return service


def noop_rescan_ms(service: SyncService) -> float:
    """Time one full ``scan()`` + ``plan()`` and insist it wrote and planned nothing."""
    t0 = time.perf_counter()
    result = service.scan()
    view = service.plan(rescan=False)
    dt = (time.perf_counter() - t0) * 1000
    if result.written or view.changes:
        msg = f"the rescan was not a no-op: wrote {result.written}, planned {view.changes}"
        raise RuntimeError(msg)
    return dt


def noop_floor_ms(home: Path) -> float:
    """Read and parse the same eight files with the format layer alone."""
    files = [mcp_file(a, home) for a in load_adapters().values()]
    t0 = time.perf_counter()
    for cfg in files:
        load(cfg.fmt, cfg.path.read_text())
    return (time.perf_counter() - t0) * 1000


def _latency_figures(runs: int, edits: int, debounce_s: float) -> list[Figure]:
    results = [edit_latencies_ms(edits, debounce_s, f"r{r}e") for r in range(runs)]
    samples = [r[0] for r in results]
    stalls = [s for r in results for s in r[1]]
    per_run = [percentiles(s) for s in samples]
    p50s, p95s, p99s = ([p[i] for p in per_run] for i in range(3))
    # Whether a round gets slower as history accumulates: first vs last tenth of each run.
    tenth = max(1, edits // 10)
    first = statistics.median(statistics.median(s[:tenth]) for s in samples)
    last = statistics.median(statistics.median(s[-tenth:]) for s in samples)
    setting = (
        f"{runs} run(s) of {edits} edits, 8 clients, source client rotating; "
        f"watcher debounce {debounce_s * 1000:.0f} ms (included); median of the first "
        f"{tenth} edits {first:.0f} ms, of the last {tenth} {last:.0f} ms; "
        f"stalls (> {EDIT_TIMEOUT_S:.0f} s, excluded, recovered by a full scan): "
        f"{len(stalls)} {stalls[:3]}"
    )
    return [
        Figure(
            "edit→visible in 7 other clients, p50",
            "ms",
            p50s,
            target="<= 100",
            higher_is_better=False,
            note=f"{setting}; p95 {statistics.median(p95s):.1f} ms (median of runs)",
        ),
        Figure(
            "edit→visible in 7 other clients, p99",
            "ms",
            p99s,
            target="<= 500",
            higher_is_better=False,
            note=setting,
        ),
    ]


def _noop_figure(runs: int, servers: int) -> Figure:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        seed_many(root / "home", servers)
        service = _noop_service(root)
        ours = repeat(lambda: noop_rescan_ms(service), runs)
        floor = repeat(lambda: noop_floor_ms(root / "home"), runs)
        service.store.close()
    return Figure(
        f"no-op rescan, 8 clients × {servers} MCP servers (scan + plan)",
        "ms",
        ours,
        target="<= 200",
        floor_name="read + parse the 8 files (adapters.formats.load)",
        floor_runs=floor,
        higher_is_better=False,
    )


def _rulesync_figure(ours_p50: float, outcome: RulesyncOutcome) -> Figure:
    p50, p95, p99 = percentiles(outcome.latencies)
    return Figure(
        f"rulesync {outcome.version} generate --watch, edit→visible in {outcome.targets} "
        "targets, p50",
        "ms",
        [p50],
        higher_is_better=False,
        note=(
            f"p95 {p95:.1f} ms, p99 {p99:.1f} ms over {len(outcome.latencies)} edits; "
            f"Synapse p50 ÷ rulesync p50 = {ours_p50 / p50:.2f}. rulesync is one-way "
            "(.rulesync/mcp.jsonc → targets; its fixed 300 ms watch debounce included), "
            "Synapse's edit starts in any of the 8 clients. " + outcome.note
        ),
    )


def main(quick: bool = False, debounce_s: float = 0.05) -> list[Figure]:
    """Run the sync suite and save ``benchmarks/out/sync.json``."""
    runs, edits = (1, 40) if quick else (3, 200)
    figures = _latency_figures(runs, edits, debounce_s)
    figures.append(_noop_figure(3 if quick else 5, 200))
    outcome = rulesync_latency_ms(20 if quick else 100)
    if outcome.latencies:
        figures.append(_rulesync_figure(figures[0].median, outcome))
    else:
        print(f"rulesync: no figure: {outcome.note}")
        figures[0].note += f"; rulesync not measured: {outcome.note}"
    save("sync", figures)
    return figures


if __name__ == "__main__":
    main()
