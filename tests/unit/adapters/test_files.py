"""Safe reads, atomic compare-and-swap writes, crash recovery and name checks."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from adapters import files
from adapters.files import (
    MAX_CONFIG_BYTES,
    TEMP_PREFIX,
    WriteFailedError,
    atomic_write,
    check_entity_name,
    find_case_collisions,
    read_config,
    remove_recorded_temps,
    sha256_hex,
    write_temp_path,
)
from events.errors import AdapterError, UnsafeInputError, WriteConflictError

REPO = Path(__file__).resolve().parents[3]


def _temps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(TEMP_PREFIX))


def test_read_returns_snapshot_with_hash_and_mode(tmp_path: Path) -> None:
    """A read returns the exact bytes, their sha256 and the mode bits."""
    target = tmp_path / "settings.json"
    target.write_bytes(b'{"a": 1}\n')
    target.chmod(0o640)
    snap = read_config(target, allowed_roots=[tmp_path])
    assert snap is not None
    assert (snap.data, snap.sha256, snap.mode) == (b'{"a": 1}\n', sha256_hex(b'{"a": 1}\n'), 0o640)
    assert snap.real_path == target.resolve()


def test_read_missing_file_is_none(tmp_path: Path) -> None:
    """A file that does not exist reads as None."""
    assert read_config(tmp_path / "absent.json", allowed_roots=[tmp_path]) is None


def test_file_vanishing_between_check_and_open_is_none(tmp_path: Path) -> None:
    """A file deleted after the path checks but before the open reads as None, not an error."""
    target = tmp_path / "x.json"
    target.write_text("{}")
    snap = read_config(target, allowed_roots=[tmp_path], _before_open=lambda p: p.unlink())
    assert snap is None


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"x" * (MAX_CONFIG_BYTES + 1), "over the 1048576 byte limit"),
        (b'{"a": "\x00"}', "NUL bytes"),
    ],
)
def test_oversize_and_binary_files_are_refused(
    tmp_path: Path, content: bytes, pattern: str
) -> None:
    """Files over 1 MiB or with NUL bytes raise UnsafeInputError naming the problem."""
    target = tmp_path / "big.json"
    target.write_bytes(content)
    with pytest.raises(UnsafeInputError, match=pattern):
        read_config(target, allowed_roots=[tmp_path])


def test_symlink_escaping_the_roots_is_refused(tmp_path: Path) -> None:
    """A config symlinked to /etc/passwd is refused for read and write."""
    root = tmp_path / "home"
    root.mkdir()
    link = root / "settings.json"
    link.symlink_to("/etc/passwd")
    with pytest.raises(UnsafeInputError, match="outside the allowed directories"):
        read_config(link, allowed_roots=[root])
    with pytest.raises(UnsafeInputError, match="outside the allowed directories"):
        atomic_write(link, b"x", expected_sha256=None, allowed_roots=[root])


@pytest.mark.parametrize("name", ["../x.json", "a/../../x.json", "a\x00b.json", "a\x07.json"])
def test_hostile_path_names_are_refused(tmp_path: Path, name: str) -> None:
    """Paths with '..', NUL or control characters are refused before touching the disk."""
    with pytest.raises(UnsafeInputError, match=r"'\.\.'|control"):
        read_config(tmp_path / name, allowed_roots=[tmp_path])


def test_path_outside_roots_is_refused(tmp_path: Path) -> None:
    """A plain path outside every allowed root is refused."""
    (tmp_path / "a").mkdir()
    with pytest.raises(UnsafeInputError, match="outside"):
        read_config(tmp_path / "b.json", allowed_roots=[tmp_path / "a"])


def test_new_file_is_created_0600_with_no_pre_image(tmp_path: Path) -> None:
    """A new file gets mode 0600 and pre_image None."""
    target = tmp_path / "new.json"
    result = atomic_write(target, b"{}", expected_sha256=None, allowed_roots=[tmp_path])
    assert result.written
    assert result.pre_image is None
    assert target.read_bytes() == b"{}"
    assert target.stat().st_mode & 0o777 == 0o600
    assert _temps(tmp_path) == []


def test_existing_mode_is_preserved_and_pre_image_returned(tmp_path: Path) -> None:
    """A 0644 project file stays 0644 after a write; pre_image holds the old bytes."""
    target = tmp_path / ".mcp.json"
    target.write_bytes(b"old")
    target.chmod(0o644)
    result = atomic_write(
        target, b"new", expected_sha256=sha256_hex(b"old"), allowed_roots=[tmp_path]
    )
    assert (result.written, result.pre_image, result.sha256) == (True, b"old", sha256_hex(b"new"))
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o644


def test_identical_bytes_do_not_write(tmp_path: Path) -> None:
    """Writing the bytes already there is a no-op: same inode, same mtime, written=False."""
    target = tmp_path / "a.json"
    target.write_bytes(b"same")
    before = target.stat()
    result = atomic_write(
        target, b"same", expected_sha256=sha256_hex(b"same"), allowed_roots=[tmp_path]
    )
    after = target.stat()
    assert not result.written
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_symlinked_target_is_written_through_and_link_kept(tmp_path: Path) -> None:
    """Writing via a dotfiles symlink updates the real file and leaves the link a link."""
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "CLAUDE.md"
    real.write_bytes(b"old")
    link = tmp_path / "home" / "CLAUDE.md"
    link.parent.mkdir()
    link.symlink_to(real)
    atomic_write(link, b"new", expected_sha256=sha256_hex(b"old"), allowed_roots=[tmp_path])
    assert link.is_symlink()
    assert real.read_bytes() == b"new"
    assert _temps(dotfiles) == []
    assert _temps(link.parent) == []


def test_cas_conflict_when_file_changed_after_snapshot(tmp_path: Path) -> None:
    """A user edit after our read makes the write fail; the user's content is kept."""
    target = tmp_path / "a.json"
    target.write_bytes(b"v1")
    snap = read_config(target, allowed_roots=[tmp_path])
    assert snap is not None
    target.write_bytes(b"user edit")
    with pytest.raises(WriteConflictError, match="changed since it was read"):
        atomic_write(target, b"ours", expected_sha256=snap.sha256, allowed_roots=[tmp_path])
    assert target.read_bytes() == b"user edit"
    assert _temps(tmp_path) == []


def test_cas_conflict_detected_right_before_rename(tmp_path: Path) -> None:
    """An edit landing between our temp write and the rename is caught by the re-hash."""
    target = tmp_path / "a.json"
    target.write_bytes(b"v1")

    def user_edits(_temp: Path) -> None:
        target.write_bytes(b"racing edit")

    with pytest.raises(WriteConflictError):
        atomic_write(
            target,
            b"ours",
            expected_sha256=sha256_hex(b"v1"),
            allowed_roots=[tmp_path],
            _before_replace=user_edits,
        )
    assert target.read_bytes() == b"racing edit"
    assert _temps(tmp_path) == []


def test_expected_absent_but_file_exists_is_a_conflict(tmp_path: Path) -> None:
    """expected_sha256=None means 'create'; an existing file is never overwritten."""
    target = tmp_path / "a.json"
    target.write_bytes(b"someone else's")
    with pytest.raises(WriteConflictError, match="expected absent"):
        atomic_write(target, b"ours", expected_sha256=None, allowed_roots=[tmp_path])
    assert target.read_bytes() == b"someone else's"


@pytest.mark.parametrize("failing", ["write", "fsync"])
def test_injected_enospc_keeps_original_and_removes_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """ENOSPC from os.write or os.fsync: clear 'disk full' error, original intact, no temp."""
    target = tmp_path / "a.json"
    target.write_bytes(b"original")

    def full(*_args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, failing, full)
    with pytest.raises(WriteFailedError, match=r"disk full while writing .*a\.json") as caught:
        atomic_write(
            target, b"x" * 1000, expected_sha256=sha256_hex(b"original"), allowed_roots=[tmp_path]
        )
    monkeypatch.undo()
    assert isinstance(caught.value, AdapterError)
    assert caught.value.errno == errno.ENOSPC
    assert target.read_bytes() == b"original"
    assert _temps(tmp_path) == []


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> object:
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_real_disk_full_keeps_original(small_tmpfs: Path) -> None:
    """On a full 64 KiB tmpfs the write fails with 'disk full', the original is intact."""
    target = small_tmpfs / "config.json"
    target.write_bytes(b"original")
    with pytest.raises(WriteFailedError, match="disk full"):
        atomic_write(
            target,
            b"x" * 200_000,
            expected_sha256=sha256_hex(b"original"),
            allowed_roots=[small_tmpfs],
        )
    assert target.read_bytes() == b"original"
    assert _temps(small_tmpfs) == []


_KILL_SCRIPT = """
import os, signal, sys
from pathlib import Path
from adapters.files import atomic_write, sha256_hex, write_temp_path
target = Path(sys.argv[1])
atomic_write(
    target, b'{"new": true}', expected_sha256=sha256_hex(target.read_bytes()),
    allowed_roots=[target.parent], temp=write_temp_path(target, "c0ffee"),
    _before_replace=lambda temp: os.kill(os.getpid(), signal.SIGKILL),
)
"""


def test_kill_minus_nine_before_rename_leaves_old_file_and_the_named_temp(tmp_path: Path) -> None:
    """SIGKILL right before the rename leaves the old valid file and exactly the temp the
    write was told to use, which removing the recorded temps then clears."""
    target = tmp_path / "config.json"
    target.write_bytes(b'{"old": true}')
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", _KILL_SCRIPT, str(target)], env=env, check=False, timeout=60
    )
    assert done.returncode == -signal.SIGKILL
    assert target.read_bytes() == b'{"old": true}'
    assert _temps(tmp_path) == [".synapse.config.json.c0ffee.tmp"]
    recorded = write_temp_path(target, "c0ffee")
    assert remove_recorded_temps([recorded]) == [recorded]
    assert _temps(tmp_path) == []


def test_temp_names_carry_a_random_token_next_to_the_resolved_file(tmp_path: Path) -> None:
    """Each write's temp is ``.synapse.<name>.<token>.tmp`` beside the file a link points to."""
    real = tmp_path / "dotfiles" / "config.json"
    real.parent.mkdir()
    link = tmp_path / "config.json"
    link.symlink_to(real)
    first, second = write_temp_path(link), write_temp_path(link)
    assert first != second
    assert first.parent == real.parent
    assert first.name.startswith(".synapse.config.json.")
    assert first.name.endswith(".tmp")


def test_only_recorded_temps_named_like_ours_are_removed(tmp_path: Path) -> None:
    """Removal touches only the listed paths, and of those only regular ``.synapse.*.tmp``
    files: a user's ``.synapse.notes.txt``, a config, a link or a folder stay, even listed."""
    ours = tmp_path / ".synapse.a.json.1234.tmp"
    unlisted = tmp_path / ".synapse.a.json.9999.tmp"
    notes = tmp_path / ".synapse.notes.txt"
    config = tmp_path / "settings.json"
    for path in (ours, unlisted, notes, config):
        path.write_text("x")
    link = tmp_path / ".synapse.link.tmp"
    link.symlink_to(config)
    folder = tmp_path / ".synapse.dir.tmp"
    folder.mkdir()
    listed = [ours, notes, config, link, folder, tmp_path / ".synapse.gone.tmp"]
    assert remove_recorded_temps(listed) == [ours]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (unlisted, notes, config, link, folder)
    )


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "../x", "a/b", "a\\b", "a\x00b", "a\nb", "-rf", ".hidden", "x" * 129],
)
def test_unsafe_entity_names_are_refused(name: str) -> None:
    """Names that could escape a directory or confuse tools are refused."""
    with pytest.raises(UnsafeInputError, match="refusing name"):
        check_entity_name(name)


@pytest.mark.parametrize("name", ["github", "my-server_2", "a.b", "x" * 128, "café"])
def test_safe_entity_names_pass_unchanged(name: str) -> None:
    """Ordinary server and command names are returned unchanged."""
    assert check_entity_name(name) == name


def test_case_collisions_are_found() -> None:
    """Foo/foo and NFC/NFD spellings collide; distinct names and exact repeats do not."""
    names = ["Foo", "bar", "foo", "FOO", "caf\u00e9", "cafe\u0301", "bar"]
    assert find_case_collisions(names) == [
        ("Foo", "foo"),
        ("Foo", "FOO"),
        ("caf\u00e9", "cafe\u0301"),
    ]
