"""Metric families computed at scrape time, rendered by prometheus_client itself.

Figures that live in another process (the gateway actor's counters, the DuckDB read models)
arrive as plain values on each scrape. They are turned into prometheus_client metric families
here and rendered by :func:`prometheus_client.generate_latest`, so escaping, ``_total`` and
histogram ``_bucket``/``_sum``/``_count`` series follow the exposition format without a
hand-written writer.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

__all__ = [
    "counter",
    "gauge",
    "histogram",
    "render_families",
]

Labelled = Iterable[tuple[Sequence[str], float]]


def gauge(name: str, help_text: str, labels: Sequence[str], samples: Labelled) -> Metric:
    """A gauge family with one sample per label-value tuple."""
    family = GaugeMetricFamily(name, help_text, labels=list(labels))
    for values, value in samples:
        family.add_metric(list(values), float(value))
    return family


def counter(name: str, help_text: str, labels: Sequence[str], samples: Labelled) -> Metric:
    """A counter family; ``name`` is given without ``_total`` (the renderer appends it)."""
    family = CounterMetricFamily(name.removesuffix("_total"), help_text, labels=list(labels))
    for values, value in samples:
        family.add_metric(list(values), float(value))
    return family


def histogram(
    name: str,
    help_text: str,
    labels: Sequence[str],
    series: Iterable[tuple[Sequence[str], Sequence[float], float, float]],
    bounds: Sequence[float],
) -> Metric:
    """A histogram family from per-bucket counts already computed elsewhere (SQL).

    Args:
        name: the family name (``…_seconds``).
        help_text: the HELP line.
        labels: label names.
        series: per label-value tuple: cumulative counts for each of ``bounds``, the total
            count (the ``+Inf`` bucket) and the sum of observed values.
        bounds: the finite upper bounds, ascending.

    Raises:
        ValueError: a series has the wrong number of buckets or is not cumulative.
    """
    family = HistogramMetricFamily(name, help_text, labels=list(labels))
    for values, cumulative, count, total in series:
        if len(cumulative) != len(bounds):
            msg = f"{name}: {len(cumulative)} bucket counts for {len(bounds)} bounds"
            raise ValueError(msg)
        counts = [*cumulative, count]
        if any(b < a for a, b in itertools.pairwise(counts)):
            msg = f"{name}: bucket counts are not cumulative: {counts}"
            raise ValueError(msg)
        buckets = [(_le(b), float(c)) for b, c in zip(bounds, cumulative, strict=True)]
        buckets.append(("+Inf", float(count)))
        family.add_metric(list(values), buckets, float(total))
    return family


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else f"{bound:g}"


class _Families(Collector):
    def __init__(self, families: Sequence[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families


def render_families(families: Iterable[Metric]) -> bytes:
    """Render metric families in the Prometheus text format.

    Raises:
        ValueError: two families share a name (Prometheus rejects such a scrape).
    """
    listed = list(families)
    names = [f.name for f in listed]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        msg = f"duplicate metric families: {', '.join(duplicates)}"
        raise ValueError(msg)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(listed))
    return generate_latest(registry)
