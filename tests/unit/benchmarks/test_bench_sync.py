"""The sync benchmark's pieces run end to end on tiny sizes (no timing is asserted)."""

from __future__ import annotations

from pathlib import Path

from adapters.registry import load_adapters
from benchmarks._sync_home import mcp_file, seed_many
from benchmarks.bench_sync import (
    _noop_service,
    edit_latencies_ms,
    noop_floor_ms,
    noop_rescan_ms,
    percentiles,
)


def test_three_edits_each_become_visible_in_the_seven_other_clients() -> None:
    """Three rotating edits through real watchers each yield one latency sample."""
    samples, stalls = edit_latencies_ms(3, debounce_s=0.02)
    assert len(samples) + len(stalls) == 3
    assert all(s > 0 for s in samples)


def test_seed_many_gives_every_client_the_same_number_of_servers(tmp_path: Path) -> None:
    """Every client's user file ends up holding exactly the requested number of servers."""
    seed_many(tmp_path / "home", 6)
    for adapter in load_adapters().values():
        cfg = mcp_file(adapter, tmp_path / "home")
        assert len(adapter.parse(cfg, cfg.path.read_text())) == 6, adapter.client


def test_noop_rescan_after_a_full_sync_writes_nothing(tmp_path: Path) -> None:
    """A rescan of an already synced home plans and writes nothing (else it raises)."""
    seed_many(tmp_path / "home", 6)
    service = _noop_service(tmp_path)
    try:
        assert noop_rescan_ms(service) > 0
        assert noop_floor_ms(tmp_path / "home") > 0
    finally:
        service.store.close()


def test_percentiles_are_ordered() -> None:
    """p50 ≤ p95 ≤ p99 for any sample."""
    p50, p95, p99 = percentiles([5.0, 1.0, 3.0, 2.0, 4.0])
    assert p50 <= p95 <= p99
