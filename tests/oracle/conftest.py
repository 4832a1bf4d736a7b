"""Fixtures of the oracle tier: the installed client CLIs and a sealed home to run them in.

Every test module here sets ``pytestmark = pytest.mark.oracle``. Install failures skip only
the client concerned, with the npm error as the visible reason (``pytest -ra``). The CLIs
take about 1.1 GB in the cache; ``SYNAPSE_ORACLE=off`` (or ``-m "not oracle"``) skips the
tier without installing anything.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from events.client_config import ClientId
from tests.oracle._clis import CliFor, CliSpec, Sandbox, cache_dir, install, node_major, specs


@pytest.fixture(scope="session")
def cli_specs() -> dict[ClientId, CliSpec]:
    """Pinned CLI packages for the ``node`` on PATH (skip when node is missing)."""
    if os.environ.get("SYNAPSE_ORACLE", "").lower() in {"0", "off", "false", "no"}:
        pytest.skip("oracle tier: switched off by SYNAPSE_ORACLE")
    major = node_major()
    if major is None:
        pytest.skip("oracle tier: node is not on PATH, cannot run the client CLIs")
    return specs(major)


@pytest.fixture(scope="session")
def cli_for(cli_specs: dict[ClientId, CliSpec]) -> CliFor:
    """Return a function giving a client's CLI path, installing it once per session."""
    cache = cache_dir()
    results: dict[ClientId, Path | str] = {}

    def get(client: ClientId) -> Path:
        if client not in results:
            results[client] = install(cli_specs[client], cache)
        found = results[client]
        if isinstance(found, str):
            pytest.skip(f"oracle tier: {client} CLI unavailable: {found}")
        return found

    return get


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    """An empty, offline ``HOME`` for one test."""
    return Sandbox(tmp_path / "home")
