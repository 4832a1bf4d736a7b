"""Safe reads and atomic, compare-and-swap writes of client config files.

Reads refuse oversize, binary and out-of-root files and never return a torn read. Writes go to
a ``.synapse.*`` temp file in the target's own directory, are fsynced, re-check that the target
still holds what we planned against, then ``os.replace`` it and fsync the directory; a
symlinked target is written through so dotfile-manager links stay links.

The remaining race (a client writing between our final hash check and the rename) is the one
Unison documents; it is a few system calls wide and no advisory lock binds the clients.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from adapters._paths import has_control_chars, resolve_under_roots
from events.errors import AdapterError, UnsafeInputError, WriteConflictError

__all__ = [
    "MAX_CONFIG_BYTES",
    "TEMP_PREFIX",
    "FileSnapshot",
    "WriteFailedError",
    "WriteResult",
    "atomic_write",
    "check_entity_name",
    "find_case_collisions",
    "read_config",
    "sha256_hex",
    "sweep_stale_temps",
]

MAX_CONFIG_BYTES: Final = 1024 * 1024
TEMP_PREFIX: Final = ".synapse."
_MAX_NAME: Final = 128
_READ_ATTEMPTS: Final = 5
_ERRNO_WORDS: Final = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EIO: "I/O error",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


class WriteFailedError(AdapterError):
    """Writing a client file failed (disk full, I/O error, read-only); the original is intact.

    Attributes:
        errno: the operating-system error number, when there was one.
    """

    def __init__(self, message: str, *, errno_: int | None = None) -> None:
        super().__init__(message, hint="free space or fix permissions; nothing was changed")
        self.errno = errno_


@dataclass(frozen=True)
class FileSnapshot:
    """The bytes of a config file as read, with the hash later writes compare against."""

    path: Path
    real_path: Path
    data: bytes
    sha256: str
    mode: int


@dataclass(frozen=True)
class WriteResult:
    """Outcome of :func:`atomic_write`; ``pre_image`` is the previous content for revert."""

    path: Path
    written: bool
    pre_image: bytes | None
    sha256: str


def sha256_hex(data: bytes) -> str:
    """Return the lowercase hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _read_fd(fd: int, display: Path) -> tuple[bytes, os.stat_result]:
    before = os.fstat(fd)
    if not stat.S_ISREG(before.st_mode):
        raise UnsafeInputError(f"refusing {display}: not a regular file")
    if before.st_size > MAX_CONFIG_BYTES:
        raise UnsafeInputError(
            f"refusing {display}: {before.st_size} bytes is over the {MAX_CONFIG_BYTES} byte limit"
        )
    chunks: list[bytes] = []
    total = 0
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
        total += len(chunk)
        if total > MAX_CONFIG_BYTES:
            raise UnsafeInputError(f"refusing {display}: over the {MAX_CONFIG_BYTES} byte limit")
    return b"".join(chunks), before


def _read_current(real: Path, display: Path) -> tuple[bytes, os.stat_result] | None:
    """Read ``real`` (no symlink following) consistently; None if it does not exist."""
    for _ in range(_READ_ATTEMPTS):
        try:
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise UnsafeInputError(f"refusing {display}: it became a symlink") from e
            raise
        try:
            data, before = _read_fd(fd, display)
            after = os.fstat(fd)
        finally:
            os.close(fd)
        # A client that truncates and rewrites in place changes size or mtime under us.
        if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns) and len(
            data
        ) == after.st_size:
            return data, after
    raise UnsafeInputError(f"refusing {display}: it kept changing while being read")


def read_config(
    path: Path,
    *,
    allowed_roots: Sequence[Path],
    _before_open: Callable[[Path], None] | None = None,
) -> FileSnapshot | None:
    """Read a client config file safely.

    Args:
        path: the file as the client names it (may be a symlink).
        allowed_roots: directories the file and its link target must stay under.
        _before_open: test hook called with the resolved path just before it is opened.

    Returns:
        The snapshot, or None when the file does not exist (also when it vanishes mid-read).

    Raises:
        UnsafeInputError: oversize, binary (NUL bytes), not a regular file, outside the roots
            (itself or its symlink target), or a name with ``..``, NUL or control characters.
    """
    real = resolve_under_roots(path, allowed_roots)
    if _before_open is not None:
        _before_open(real)
    current = _read_current(real, path)
    if current is None:
        return None
    data, info = current
    if b"\x00" in data:
        raise UnsafeInputError(f"refusing {path}: it contains NUL bytes (binary content)")
    return FileSnapshot(path, real, data, sha256_hex(data), stat.S_IMODE(info.st_mode))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_failed(path: Path, error: OSError) -> WriteFailedError:
    words = _ERRNO_WORDS.get(error.errno or 0, error.strerror or "error")
    return WriteFailedError(f"{words} while writing {path}", errno_=error.errno)


def _check_expected(real: Path, display: Path, expected_sha256: str | None) -> bytes | None:
    current = _read_current(real, display)
    data = None if current is None else current[0]
    found = None if data is None else sha256_hex(data)
    if found != expected_sha256:
        state = "absent" if found is None else f"sha256 {found[:12]}"
        planned = "absent" if expected_sha256 is None else f"sha256 {expected_sha256[:12]}"
        raise WriteConflictError(
            f"{display} changed since it was read (expected {planned}, found {state}); "
            "nothing was written",
            hint="rescan and plan again",
        )
    return data


def atomic_write(
    path: Path,
    data: bytes,
    *,
    expected_sha256: str | None,
    allowed_roots: Sequence[Path],
    new_file_mode: int = 0o600,
    _before_replace: Callable[[Path], None] | None = None,
) -> WriteResult:
    """Replace ``path`` with ``data`` atomically, only if it still holds what we planned on.

    Args:
        path: the target; a symlink is written through (its target is replaced, the link stays).
        data: the complete new content.
        expected_sha256: hash of the content we planned against; None means "must be absent".
        allowed_roots: directories the target (and its link target) must stay under.
        new_file_mode: permission bits for a file that did not exist; existing files keep theirs.
        _before_replace: test hook called with the temp path right before ``os.replace``.

    Returns:
        What happened; ``written`` is False (and nothing touched) when the bytes were equal.

    Raises:
        WriteConflictError: the target changed since it was read; nothing was written.
        WriteFailedError: disk full or another OS error; the original is byte-identical.
        UnsafeInputError: the target is outside the roots or its name is unsafe.
    """
    real = resolve_under_roots(path, allowed_roots)
    previous = _check_expected(real, path, expected_sha256)
    digest = sha256_hex(data)
    if previous == data:
        return WriteResult(path, False, previous, digest)
    try:
        old = os.stat(real, follow_symlinks=False) if previous is not None else None
        real.parent.mkdir(parents=True, exist_ok=True)
        prefix = f"{TEMP_PREFIX}{real.name}."
        fd, temp_name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=real.parent)
    except OSError as e:
        raise _write_failed(path, e) from e
    temp = Path(temp_name)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, stat.S_IMODE(old.st_mode) if old is not None else new_file_mode)
            if old is not None and os.geteuid() == 0:
                os.fchown(fd, old.st_uid, old.st_gid)
            os.fsync(fd)
        finally:
            os.close(fd)
        if _before_replace is not None:
            _before_replace(temp)
        _check_expected(real, path, expected_sha256)
        os.replace(temp, real)
    except OSError as e:
        temp.unlink(missing_ok=True)
        raise _write_failed(path, e) from e
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    try:
        _fsync_dir(real.parent)
    except OSError as e:  # the rename is done; a failed directory fsync only weakens durability
        raise _write_failed(path, e) from e
    return WriteResult(path, True, previous, digest)


def sweep_stale_temps(directory: Path, *, min_age_seconds: float = 0.0) -> list[Path]:
    """Remove ``TEMP_PREFIX`` files a crashed write left in ``directory``.

    Args:
        directory: where to look (not recursive).
        min_age_seconds: keep temps younger than this, in case a write is still in flight.

    Returns:
        The paths removed (empty when the directory does not exist).
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return removed
    now = time.time()
    for entry in entries:
        if not entry.name.startswith(TEMP_PREFIX) or not entry.is_file(follow_symlinks=False):
            continue
        if now - entry.stat(follow_symlinks=False).st_mtime < min_age_seconds:
            continue
        Path(entry.path).unlink(missing_ok=True)
        removed.append(Path(entry.path))
    return sorted(removed)


def check_entity_name(name: str) -> str:
    """Validate a name that becomes a file name or key (server, command, agent, skill).

    Returns:
        ``name`` unchanged.

    Raises:
        UnsafeInputError: empty, ``.``/``..``, a ``/`` or ``\\``, NUL or control characters, a
            leading ``-`` or ``.``, or longer than 128 characters.
    """
    problem = None
    if not name:
        problem = "it is empty"
    elif len(name) > _MAX_NAME:
        problem = f"it is longer than {_MAX_NAME} characters"
    elif "/" in name or "\\" in name:
        problem = "it contains a path separator"
    elif has_control_chars(name):
        problem = "it contains NUL or control characters"
    elif name.startswith(("-", ".")):
        problem = "it starts with '-' or '.'"
    if problem is not None:
        raise UnsafeInputError(f"refusing name {name!r}: {problem}")
    return name


def find_case_collisions(names: Iterable[str]) -> list[tuple[str, str]]:
    """Return pairs of distinct names that would be the same file on a case-insensitive disk.

    Names are compared after Unicode NFC normalisation and case folding; each pair is
    (first seen, later one).
    """
    seen: dict[str, str] = {}
    collisions: list[tuple[str, str]] = []
    for name in names:
        folded = unicodedata.normalize("NFC", name).casefold()
        first = seen.setdefault(folded, name)
        if first != name and (first, name) not in collisions:
            collisions.append((first, name))
    return collisions
