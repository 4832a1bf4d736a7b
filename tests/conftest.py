"""Fixtures shared by the whole suite: a tiny real filesystem, PostgreSQL, a Ray cluster."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from serve.ingress import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")

# Hypothesis fails an example slower than 200 ms by default: a wall-clock assertion, which
# the suite never makes (on a busy 2-core CI machine a YAML round trip took 385 ms).
# SYNAPSE_HYPOTHESIS=deep runs 20x the examples, for a bug hunt rather than every commit.
settings.register_profile("synapse", deadline=None)
settings.register_profile("deep", deadline=None, max_examples=2000)
settings.load_profile("deep" if os.environ.get("SYNAPSE_HYPOTHESIS") == "deep" else "synapse")


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MiB tmpfs, so "disk full" is the kernel's ENOSPC, not a simulation."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill_disk(path: Path) -> Path:
    """Fill the filesystem holding ``path`` until the kernel says ENOSPC; return the filler."""
    filler = path / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
    finally:
        os.close(fd)
    return filler


@pytest.fixture
def fill_disk() -> object:
    """Return a function that fills a filesystem until ENOSPC and returns the filler file."""
    return _fill_disk


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[dict[str, str | int]]:
    """A throwaway PostgreSQL 15 on 127.0.0.1, stopped at the end of the session."""
    initdb = PG_BIN / "initdb"
    pg_ctl = PG_BIN / "pg_ctl"
    if not initdb.exists() or shutil.which("runuser") is None or os.geteuid() != 0:
        pytest.skip("PostgreSQL 15 binaries or root are not available")
    root = Path(tempfile.mkdtemp(prefix="synapse-pg-"))
    shutil.chown(root, "postgres", "postgres")
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    shutil.chown(sock, "postgres", "postgres")
    port = free_port()

    def as_pg(*argv: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv],
            capture_output=True,
            check=False,
            timeout=120,
        )

    result = as_pg(str(initdb), "-D", str(data), "-U", "postgres", "--auth=trust")
    if result.returncode != 0:
        pytest.skip(f"initdb failed: {result.stderr.decode()[-300:]}")
    with (data / "postgresql.conf").open("a") as fh:
        fh.write(f"listen_addresses='127.0.0.1'\nport={port}\nunix_socket_directories='{sock}'\n")
    result = as_pg(str(pg_ctl), "-D", str(data), "-l", str(root / "log"), "-w", "start")
    if result.returncode != 0:
        pytest.skip(f"PostgreSQL did not start: {result.stderr.decode()[-300:]}")
    try:
        as_pg(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-c",
            "create database synapse",
        )
        yield {"host": "127.0.0.1", "port": port, "user": "postgres", "dbname": "synapse"}
    finally:
        as_pg(str(pg_ctl), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)
