"""Each install fingerprints secrets with its own private key."""

from __future__ import annotations

from pathlib import Path

from actors.sync_actor import fingerprint_key


def test_key_is_private_stable_and_per_install(tmp_path: Path) -> None:
    """The key file is 0600, reused on the next call, and differs between installs."""
    a = fingerprint_key(tmp_path / "a")
    assert (tmp_path / "a" / "fingerprint.key").stat().st_mode & 0o777 == 0o600
    assert fingerprint_key(tmp_path / "a") == a
    assert fingerprint_key(tmp_path / "b") != a
    assert len(a) == 32
