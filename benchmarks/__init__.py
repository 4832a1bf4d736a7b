"""Synapse benchmarks: ``./run bench`` (or ``python -m benchmarks``)."""
