"""Reads never block, read only regular files, say why they fail, and take large files only
where the caller opts in."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from adapters.files import (
    MAX_CONFIG_BYTES,
    MAX_LARGE_CONFIG_BYTES,
    ReadFailedError,
    read_config,
    read_regular,
)
from events.errors import UnsafeInputError


@pytest.mark.timeout(30)
def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    """Opening a FIFO nobody writes to would block forever; the read refuses it instead."""
    fifo = tmp_path / "cmd.md"
    os.mkfifo(fifo)
    with pytest.raises(UnsafeInputError, match=r"not a regular file \(fifo\)"):
        read_config(fifo, allowed_roots=[tmp_path])
    with pytest.raises(UnsafeInputError, match=r"not a regular file \(fifo\)"):
        read_regular(fifo)


@pytest.mark.timeout(30)
def test_a_unix_socket_and_a_device_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bound unix socket (open(2) says ENXIO) and a character device are named as such."""
    monkeypatch.chdir(tmp_path)  # a socket path is limited to 108 bytes: bind a short name
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind("s.md")
        with pytest.raises(UnsafeInputError, match=r"not a regular file \(socket\)"):
            read_config(tmp_path / "s.md", allowed_roots=[tmp_path])
    with pytest.raises(UnsafeInputError, match=r"not a regular file \(character device\)"):
        read_regular(Path("/dev/zero"))


def test_large_files_only_where_the_caller_opts_in(tmp_path: Path) -> None:
    """A 2 MiB file is over the default limit and read whole under the large one."""
    path = tmp_path / ".claude.json"
    data = b'{"pad": "' + b"x" * (2 * MAX_CONFIG_BYTES) + b'"}'
    path.write_bytes(data)
    with pytest.raises(UnsafeInputError, match="byte limit"):
        read_config(path, allowed_roots=[tmp_path])
    snap = read_config(path, allowed_roots=[tmp_path], max_bytes=MAX_LARGE_CONFIG_BYTES)
    assert snap is not None
    assert snap.data == data


_READ_AS_NOBODY = """
import sys
from pathlib import Path
from adapters.files import ReadFailedError, read_config
import os
os.setgid(65534)
os.setuid(65534)
path = Path(sys.argv[1])
try:
    read_config(path, allowed_roots=[path.parent])
except ReadFailedError as e:
    print(type(e).__name__, e.message, e.errno)
"""


def test_an_unreadable_file_says_permission_denied() -> None:
    """chmod 000 (read by ``nobody``: root ignores modes): a ReadFailedError, an
    AdapterError that every scan and write path reports, saying "permission denied"."""
    base = Path(tempfile.mkdtemp(prefix="synapse-perm-"))
    try:
        path = base / "settings.json"
        path.write_text("{}")
        path.chmod(0)
        for p in (base, path):
            os.chown(p, 65534, 65534)
        run = subprocess.run(
            [sys.executable, "-c", _READ_AS_NOBODY, str(path)],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[3],
            timeout=60,
            check=False,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        assert run.stdout.split()[0] == ReadFailedError.__name__
        assert f"cannot read {path}: permission denied 13" in run.stdout
    finally:
        path.unlink()
        base.rmdir()
