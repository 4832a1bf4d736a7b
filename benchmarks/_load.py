"""A closed-loop load generator and percentiles, stdlib only.

It is shared by the gateway benchmark and the LiteLLM load script, which runs in a separate
virtualenv where only the standard library and LiteLLM are guaranteed.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["LoadResult", "percentile", "run_load"]


@dataclass(frozen=True)
class LoadResult:
    """Latencies (ms) of the requests that succeeded, the failures and the wall time."""

    latencies_ms: list[float]
    failures: int
    elapsed_s: float

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + self.failures

    @property
    def rate(self) -> float:
        """Completed requests per second."""
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def pct(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


async def run_load(
    send: Callable[[int], Awaitable[bool]], requests: int, concurrency: int
) -> LoadResult:
    """Send ``requests`` requests from ``concurrency`` workers, each waiting for its answer.

    ``send(i)`` performs request ``i`` and returns whether it succeeded; an exception counts
    as a failure.
    """
    latencies: list[float] = []
    failures = 0
    next_index = 0

    async def worker() -> None:
        nonlocal next_index, failures
        while next_index < requests:
            i = next_index
            next_index += 1
            t0 = time.perf_counter()
            try:
                ok = await send(i)
            except Exception:  # noqa: BLE001 - any error is one failed request
                ok = False
            if ok:
                latencies.append((time.perf_counter() - t0) * 1000)
            else:
                failures += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return LoadResult(latencies, failures, time.perf_counter() - t0)
