"""Gateway overhead and resilience against a fake OpenAI upstream (and LiteLLM's Router).

(a) direct: streamed chat completions straight to the fake server with aiohttp (kept-alive
connections, as real servers allow);
(b) Synapse: the same load on ``POST /api/v1/tasks`` of a real system (Serve, gateway actor,
two ``openai`` agent actors pointing at the fake server); added latency = Synapse − direct,
per run; (c) LiteLLM's Router with the same two deployments, run in LiteLLM's own virtualenv
(installed on first use) so its dependencies never touch ours; (d) Synapse with 5 % of
upstream requests failing with 503: logical success rate and upstream attempts per request;
(e) three floor apps in the same run, doing none of Synapse's work: a Serve replica that
forwards to the upstream, one that streams the completion from an actor, and Synapse's shape
(replica → relay actor → streaming actor), so the added latency splits into what the
transport costs and what Synapse's routing and events cost (benchmarks/_serve_floor.py).

Everything listens on 127.0.0.1; every load loop is bounded by its request count.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks._harness import OUT, Figure, save
from benchmarks._load import LoadResult, percentile, run_load
from benchmarks._serve_floor import ROUTE, deploy_floor, proxy_url, route
from tests.fakes.fake_openai import FakeOpenAIServer, Faults, serve_fake_openai

LEVELS = (1, 16, 64)
#: Floor apps by actor hops behind the replica (benchmarks/_serve_floor.py).
HOPS = (0, 1, 2)
#: How HTTP reaches the API replica (serve/ingress.py); the Serve floor app uses the same.
INGRESS = "proxy" if os.environ.get("SYNAPSE_SERVE_INGRESS") == "proxy" else "direct"
HERE = Path(__file__).resolve().parent
_fault_rng = random.Random(5)


@dataclass(frozen=True)
class _RateFaults(Faults):
    """Fails each request with probability ``rate`` (503), seeded, instead of the first N."""

    rate: float = 0.0

    def with_header(self, header: str | None) -> Faults:
        fail = self.rate > 0 and _fault_rng.random() < self.rate
        # fail_first is compared with the request count: "huge" fails this one, 0 never does.
        return replace(self, fail_first=1 << 62 if fail else 0)


# -- the three ways to send one request ----------------------------------------------------


def _session(concurrency: int, url: str | None = None, **kwargs: Any) -> aiohttp.ClientSession:
    """The load generator's client: aiohttp, one pooled connection per concurrent request.

    (httpx costs 4-10x more CPU per request here, and its pool slows down with many kept-alive
    connections, encode/httpx#3215: CPU the load generator would take from the system measured.)
    """
    return aiohttp.ClientSession(
        base_url=url,
        connector=aiohttp.TCPConnector(limit=concurrency),
        timeout=aiohttp.ClientTimeout(total=60),
        **kwargs,
    )


async def _direct_once(session: aiohttp.ClientSession, base: str, i: int) -> bool:
    body = {"model": "fake", "stream": True, "messages": [{"role": "user", "content": f"ping {i}"}]}
    async with session.post(f"{base}/chat/completions", json=body) as response:
        if response.status != 200:
            return False
        done = False
        async for line in response.content:
            done = done or line.rstrip() == b"data: [DONE]"
        return done


async def _direct(base: str, requests: int, concurrency: int) -> LoadResult:
    async with _session(concurrency) as session:
        return await run_load(lambda i: _direct_once(session, base, i), requests, concurrency)


async def _answered(session: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> bool:
    async with session.post(path, json=body) as response:
        return response.status == 200 and bool((await response.json()).get("ok"))


async def _floor(url: str, requests: int, concurrency: int, path: str = ROUTE) -> LoadResult:
    """The same load on a floor app (:mod:`benchmarks._serve_floor`) at ``path``."""
    async with _session(concurrency, url) as session:
        return await run_load(
            lambda i: _answered(session, path, {"prompt": f"ping {i}"}), requests, concurrency
        )


async def _synapse(url: str, token: str, requests: int, concurrency: int) -> LoadResult:
    headers = {"Authorization": f"Bearer {token}"}
    async with _session(concurrency, url, headers=headers) as session:
        return await run_load(
            lambda i: _answered(
                session, "/api/v1/tasks", {"capability": "analyze", "prompt": f"ping {i}"}
            ),
            requests,
            concurrency,
        )


# -- systems under test ----------------------------------------------------------------------


@contextmanager
def _synapse_system(base: str) -> Iterator[tuple[str, str, str]]:
    """Start Synapse with two openai agents on ``base``; yield (url, token, namespace)."""
    from synapse import bootstrap
    from synapse.settings import load_settings

    with tempfile.TemporaryDirectory() as home:
        agents = "".join(
            f'[[agents]]\nname = "{name}"\nbackend = "openai"\nbase_url = "{base}"\n'
            f'model = "fake"\ncapabilities = ["analyze", "review", "plan"]\n\n'
            for name in ("fake-a", "fake-b")
        )
        (Path(home) / "agents.toml").write_text(agents)
        settings = load_settings(
            {}, home=Path(home), namespace=f"bench-gw-{uuid.uuid4().hex[:6]}", serve_ingress=INGRESS
        )
        running = bootstrap.start_system(settings, detached=False, port=0)
        try:
            yield running.url, running.token, running.namespace
        finally:
            bootstrap.stop_attached()


def _litellm_python() -> tuple[Path | None, str]:
    """An interpreter with LiteLLM: $SYNAPSE_BENCH_LITELLM_PYTHON, else a venv made here."""
    given = os.environ.get("SYNAPSE_BENCH_LITELLM_PYTHON")
    if given:
        return Path(given), "from $SYNAPSE_BENCH_LITELLM_PYTHON"
    venv = OUT / ".litellm-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", "litellm"],
                check=True,
                timeout=900,
                capture_output=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return None, f"LiteLLM could not be installed: {exc}"
    return python, f"installed in {venv}"


def _litellm(base: str, requests: int, runs: int) -> tuple[dict[int, list[LoadResult]], str]:
    python, how = _litellm_python()
    if python is None:
        return {}, how
    levels = ",".join(str(c) for c in LEVELS)
    try:
        out = subprocess.run(
            [str(python), str(HERE / "_litellm_load.py"), base, str(requests), str(runs), levels],
            check=True,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        data = json.loads(out.stdout.strip().splitlines()[-1])
        version = subprocess.run(
            [str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
        return {}, f"LiteLLM run failed: {exc}"
    results = {
        int(c): [LoadResult(r[0], int(r[1]), float(r[2])) for r in rs] for c, rs in data.items()
    }
    return results, f"litellm {version} Router, 2 deployments, num_retries=2, {how}"


# -- figures -----------------------------------------------------------------------------------


def _pcts(results: list[LoadResult]) -> str:
    qs = {q: statistics.median(r.pct(q) for r in results) for q in (50, 95, 99)}
    return f"p50 {qs[50]:.2f} / p95 {qs[95]:.2f} / p99 {qs[99]:.2f} ms"


def _added(ours: list[LoadResult], base: list[LoadResult], q: float) -> list[float]:
    return [o.pct(q) - b.pct(q) for o, b in zip(ours, base, strict=True)]


def _level_figures(
    c: int,
    direct: list[LoadResult],
    syn: list[LoadResult],
    lite: list[LoadResult],
    lite_note: str,
) -> list[Figure]:
    added = {q: _added(syn, direct, q) for q in (50, 95, 99)}
    med = {q: statistics.median(v) for q, v in added.items()}
    target = {16: ("<= 5", "<= 25")}.get(c, ("", ""))
    failures = sum(r.failures for r in syn)
    figures = [
        Figure(
            f"direct upstream latency p50, c={c}",
            "ms",
            [r.pct(50) for r in direct],
            higher_is_better=False,
            note=_pcts(direct),
        ),
        Figure(
            f"Synapse added latency p50, c={c}",
            "ms",
            added[50],
            target=target[0],
            higher_is_better=False,
            note=f"added p95 {med[95]:.2f} / p99 {med[99]:.2f} ms; Synapse {_pcts(syn)}",
        ),
        Figure(
            f"Synapse added latency p99, c={c}",
            "ms",
            added[99],
            target=target[1],
            higher_is_better=False,
            note=f"failed requests: {failures}",
        ),
        Figure(
            f"Synapse throughput, c={c}",
            "req/s",
            [r.rate for r in syn],
            floor_name="direct to the fake upstream",
            floor_runs=[r.rate for r in direct],
        ),
    ]
    if lite:
        lite_added = {q: _added(lite, direct, q) for q in (50, 99)}
        figures += [
            Figure(
                f"LiteLLM Router added latency p50, c={c}",
                "ms",
                lite_added[50],
                higher_is_better=False,
                note=f"{lite_note}; LiteLLM {_pcts(lite)}",
            ),
            Figure(
                f"Synapse ÷ LiteLLM end-to-end p50, c={c}",
                "x",
                [s.pct(50) / max(x.pct(50), 1e-9) for s, x in zip(syn, lite, strict=True)],
                higher_is_better=False,
                note=_ratio_note(syn, lite),
            ),
        ]
    return figures


_FLOORS = {
    0: ("Ray Serve floor", "a Serve app that only forwards to the upstream"),
    1: (
        "Serve + agent actor floor",
        "the replica streams the completion from one actor (the least the design card allows)",
    ),
    2: (
        "Synapse-shape floor",
        "replica → relay actor → streaming leaf actor, as Synapse's replica → gateway → agent",
    ),
}


def _deploy_floors(base: str, url: str) -> dict[int, str]:
    """Deploy the floor apps and warm them up; return hops → URL."""
    floors = {h: deploy_floor(base, url, direct=INGRESS == "direct", hops=h) for h in HOPS}
    for hops, floor_url in floors.items():
        asyncio.run(_floor(floor_url, 50, 8, route(hops)))
    return floors


def _floor_figures(
    c: int,
    direct: list[LoadResult],
    floor: list[LoadResult],
    through: str = INGRESS,
    hops: int = 0,
) -> list[Figure]:
    """The floor's added p50 (and p99 at the target's concurrency)."""
    added = {q: statistics.median(_added(floor, direct, q)) for q in (95, 99)}
    name, what = _FLOORS[hops]
    if through != INGRESS:
        name = f"{name} through the {through}"
    figures = [
        Figure(
            f"{name} added latency p50, c={c}",
            "ms",
            _added(floor, direct, 50),
            higher_is_better=False,
            note=f"{what} (no gateway work, {through} ingress): added p95 {added[95]:.2f} / "
            f"p99 {added[99]:.2f} ms, {statistics.median(r.rate for r in floor):.0f} req/s",
        )
    ]
    if c == 16 and through == INGRESS:
        figures.append(
            Figure(
                f"{name} added latency p99, c={c}",
                "ms",
                _added(floor, direct, 99),
                higher_is_better=False,
            )
        )
    return figures


def _ratio_note(syn: list[LoadResult], lite: list[LoadResult]) -> str:
    pairs = list(zip(syn, lite, strict=True))
    p99 = statistics.median(s.pct(99) / x.pct(99) for s, x in pairs)
    rate = statistics.median(s.rate / x.rate for s, x in pairs)
    return f"p99 ratio {p99:.2f}; req/s ratio {rate:.2f}"


def _actor_p50(namespace: str, n: int) -> float:
    """p50 of sequential ``run_task`` calls made straight to the gateway actor.

    Every call has a fresh request id: a repeated one is answered from the gateway's
    idempotency cache without reaching an agent, which would measure the cache.
    """
    from actors import supervision

    gateway = supervision.lookup("gateway", namespace)
    latencies = []
    for i in range(n):
        request_id = f"actor-{uuid.uuid4().hex}"
        t0 = time.perf_counter()
        supervision.get(gateway.run_task.remote(request_id, "analyze", f"ping {i}"), 60)
        latencies.append((time.perf_counter() - t0) * 1000)
    return percentile(latencies, 50)


def _fault_figures(
    server: FakeOpenAIServer, url: str, token: str, n: int, runs: int
) -> list[Figure]:
    server.faults = _RateFaults(rate=0.05)
    success: list[float] = []
    attempts: list[float] = []
    for _ in range(runs):
        before = server.requests
        result = asyncio.run(_synapse(url, token, n, 16))
        success.append(100 * len(result.latencies_ms) / n)
        attempts.append((server.requests - before) / n)
    server.faults = _RateFaults(rate=0.0)
    return [
        Figure(
            "Synapse success rate with 5 % upstream 503s, c=16",
            "%",
            success,
            target=">= 99.5",
            note=f"{n} logical requests per run",
        ),
        Figure(
            "upstream attempts per logical request with 5 % 503s",
            "attempts",
            attempts,
            target="<= 1.2",
            higher_is_better=False,
            note="counted at the fake server",
        ),
    ]


def main(quick: bool = False) -> list[Figure]:
    runs = 2 if quick else 3
    n = 100 if quick else 300
    with serve_fake_openai(keep_alive=True) as server:
        server.faults = _RateFaults()
        base = server.base_url
        direct: dict[int, list[LoadResult]] = {c: [] for c in LEVELS}
        syn: dict[int, list[LoadResult]] = {c: [] for c in LEVELS}
        floor: dict[tuple[int, int], list[LoadResult]] = {(c, h): [] for c in LEVELS for h in HOPS}
        via_proxy: dict[int, list[LoadResult]] = {c: [] for c in LEVELS}
        with _synapse_system(base) as (url, token, namespace):
            floors = _deploy_floors(base, url)
            old_path = proxy_url(url) if INGRESS == "direct" else ""
            asyncio.run(_synapse(url, token, 50, 8))  # warm-up: actors, connections
            asyncio.run(_direct(base, 50, 8))
            for c in LEVELS:
                for _ in range(runs):  # interleaved, so drift hits every side alike
                    direct[c].append(asyncio.run(_direct(base, n, c)))
                    syn[c].append(asyncio.run(_synapse(url, token, n, c)))
                    for hops, floor_url in floors.items():
                        floor[c, hops].append(asyncio.run(_floor(floor_url, n, c, route(hops))))
                    if old_path:
                        via_proxy[c].append(asyncio.run(_floor(old_path, n, c)))
            faults = _fault_figures(server, url, token, n, runs)
            actor_ms = [_actor_p50(namespace, n) for _ in range(runs)]
        lite, lite_note = _litellm(base, n, runs)
    figures: list[Figure] = []
    for c in LEVELS:
        figures += _level_figures(c, direct[c], syn[c], lite.get(c, []), lite_note)
        for hops in HOPS:
            figures += _floor_figures(c, direct[c], floor[c, hops], hops=hops)
        if via_proxy[c]:
            figures += _floor_figures(c, direct[c], via_proxy[c], through="proxy")
    figures.append(
        Figure(
            "gateway actor run_task p50 (no Serve), c=1",
            "ms",
            actor_ms,
            higher_is_better=False,
            note="driver → GatewayService.run_task → agent actor → fake upstream; splits the "
            "added latency into the Serve ingress part and the actor part",
        )
    )
    if not lite:
        figures.append(Figure("LiteLLM Router comparison", "-", [0.0], note=lite_note))
    figures += faults
    save("gateway", figures)
    return figures


def _descendants_cpu() -> dict[str, float]:
    """CPU seconds used so far by each process under this one, by title (Linux only)."""
    parents: dict[int, int] = {}
    stats: dict[int, tuple[str, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
            title = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        fields = raw.rsplit(")", 1)[1].split()
        parents[int(entry.name)] = int(fields[1])
        stats[int(entry.name)] = (title, (int(fields[11]) + int(fields[12])) / tick)
    ours: dict[str, float] = {}
    for pid, (title, cpu) in stats.items():
        p = pid
        while p > 1 and p != os.getpid():
            p = parents.get(p, 1)
        if p == os.getpid() or pid == os.getpid():
            name = title.split(".")[0] if title.startswith("ray::") else Path(title).name
            ours[name] = ours.get(name, 0.0) + cpu
    return ours


def compare(
    levels: tuple[int, ...] = (16,), requests: int = 200, runs: int = 1, cpu: bool = False
) -> None:
    """Print direct vs Synapse latency at ``levels`` without saving (for iterating on speed).

    ``python -m benchmarks.bench_gateway [concurrency ...] [--requests N] [--runs R] [--cpu]``;
    ``--cpu`` adds the CPU milliseconds per request each process of the system spent.
    """
    with serve_fake_openai(keep_alive=True) as server:
        server.faults = _RateFaults()
        base = server.base_url
        with _synapse_system(base) as (url, token, _namespace):
            floors = _deploy_floors(base, url)
            asyncio.run(_synapse(url, token, 50, 8))  # warm-up: actors, connections
            asyncio.run(_direct(base, 50, 8))
            for c in levels:
                for _ in range(runs):
                    d = asyncio.run(_direct(base, requests, c))
                    before = _descendants_cpu()
                    s = asyncio.run(_synapse(url, token, requests, c))
                    after = _descendants_cpu()
                    print(
                        f"c={c:<3d} direct {_pcts([d])} | Synapse {_pcts([s])} "
                        f"{s.rate:.1f} req/s, {s.failures} failed | added p50 "
                        f"{s.pct(50) - d.pct(50):.2f} / p99 {s.pct(99) - d.pct(99):.2f} ms",
                        flush=True,
                    )
                    for hops, floor_url in floors.items():
                        f = asyncio.run(_floor(floor_url, requests, c, route(hops)))
                        print(
                            f"      floor, {hops} hops {_pcts([f])} {f.rate:.1f} req/s | added "
                            f"p50 {f.pct(50) - d.pct(50):.2f} / p99 {f.pct(99) - d.pct(99):.2f} ms",
                            flush=True,
                        )
                    if cpu:
                        spent = {
                            k: (v - before.get(k, 0.0)) * 1000 / requests for k, v in after.items()
                        }
                        top = sorted(spent.items(), key=lambda kv: -kv[1])[:10]
                        print("  CPU ms/request:", ", ".join(f"{k} {v:.1f}" for k, v in top))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="benchmarks.bench_gateway")
    parser.add_argument("levels", nargs="*", type=int, default=[16])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--cpu", action="store_true")
    args = parser.parse_args()
    compare(tuple(args.levels), args.requests, args.runs, args.cpu)
