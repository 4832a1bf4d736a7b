"""This install's private key for fingerprinting literal secrets.

Every process that parses client files for sync (the orchestrator, each watcher, the offline
CLI) must fingerprint with the same key: fingerprints are how sync tells "the same secret"
from "a changed one" without storing the secret.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["fingerprint_key"]


def fingerprint_key(home: Path) -> bytes:
    """This install's secret key for secret fingerprints (``fingerprint.key``, mode 0600).

    Fingerprints let sync notice that a literal secret changed without storing it; with a
    public constant key a short secret could be brute-forced from its fingerprint.

    Args:
        home: the Synapse home (created if missing).

    Returns:
        The 32-byte key, created on first use.
    """
    path = home / "fingerprint.key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(os.urandom(32))
    return path.read_bytes()
